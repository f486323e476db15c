"""Compiles the SDK sources under include/pipelines into the JSON definitions the DAGs upsert (`make pipelines`)."""
