"""The local development tools: never imported by the product (dags/, plugins/, include/), never in an image.

The tools use the product where they must agree with it (the local endpoint serves the page the
plugin links to); its plugin package lives under plugins/, which Airflow puts on the path, not
Python: the tools put it there for themselves.
"""

import sys
from pathlib import Path

_PLUGINS = str(Path(__file__).resolve().parents[1] / "plugins")
if _PLUGINS not in sys.path:
    sys.path.append(_PLUGINS)
