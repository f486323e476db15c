"""`make pipelines`: compile every pipeline folder's definition.py into its compiled.json; `--check` only says
whether each is current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .compiler import PIPELINES_ROOT, compile_pipeline, compiled_text, load_source, pipeline_sources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.pipeline_compiler", description=__doc__)
    parser.add_argument("folders", nargs="*", type=Path,
                        help=f"pipeline folders to compile (default: every one under {PIPELINES_ROOT})")
    parser.add_argument("--check", action="store_true", help="exit 1 when a compiled definition is stale")
    args = parser.parse_args(argv)
    sources = [load_source(folder) for folder in args.folders] if args.folders else pipeline_sources()
    stale = 0
    for source in sources:
        path, text = source.compiled_path, compiled_text(compile_pipeline(source))
        current = path.read_text() if path.exists() else None
        if current == text:
            print(f"{path} is current")
        elif args.check:
            print(f"{path} is stale: run `make pipelines`", file=sys.stderr)
            stale += 1
        else:
            path.write_text(text)
            print(f"Wrote {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
