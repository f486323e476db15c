"""The article's classification pipeline: pipeline.toml declares it, definition.py builds it, scripts/ run in its steps."""
