"""The SageMaker pipeline the DAGs run: the article's classification pipeline.

definition.py is its SDK v3 source, compiled by `make pipelines` (where the SDK is installed) into
compiled/classification.json; the DAG upserts that JSON (deployment.py), so Airflow never imports
the SDK. contract.py names what the DAG and the definition share; scripts/ is what the steps run.
"""
