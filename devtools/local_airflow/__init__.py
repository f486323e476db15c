"""Airflow on this machine against the local SageMaker endpoint: environment, DB, connection, Variables."""
