"""Code the DAGs use that is not an Airflow plugin: pipeline definitions, sample data, the local endpoint."""
