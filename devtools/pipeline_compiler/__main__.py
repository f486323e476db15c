"""`make pipelines`: compile include/pipelines into its JSON definition; `--check` only says whether it is current."""

from __future__ import annotations

import argparse
import sys

from .compiler import compile_pipeline, compiled_path, compiled_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.pipeline_compiler", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the compiled definition is stale")
    args = parser.parse_args(argv)
    path, text = compiled_path(), compiled_text(compile_pipeline())
    current = path.read_text() if path.exists() else None
    if args.check:
        if current != text:
            print(f"{path} is stale: run `make pipelines`", file=sys.stderr)
            return 1
        print(f"{path} is current")
        return 0
    if current == text:
        print(f"{path} is current")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
