"""The pipelines the DAGs run: one folder each (README "Bring your own pipeline").

A folder holds pipeline.toml (what the DAGs need to know: names, schedule, data, metric, registry),
and, for a pipeline this package upserts, definition.py (its SDK v3 source), scripts/ (what its
steps run) and compiled.json (made by `make pipelines` where the SDK is installed, so Airflow never
imports the SDK). sdk_steps.py holds the SDK building blocks the example folders share.
"""
