"""The package's pages in the Airflow UI: a model-quality page per pipeline and a SageMaker-execution tab per run."""
