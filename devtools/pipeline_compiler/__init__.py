"""Compiles each pipeline folder's SDK source (include/pipelines/<name>/definition.py) into the compiled.json the DAGs upsert (`make pipelines`)."""
