"""The regression example: pipeline.toml declares it, definition.py builds it, scripts/ run in its steps."""
