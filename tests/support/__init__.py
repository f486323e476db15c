"""Shared test support: constants, endpoint clients, the pipeline's fixtures, DAG runs with dag.test()."""
