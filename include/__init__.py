"""What a deployment bakes into its image beside dags/ and plugins/: the pipelines the DAGs run (include/pipelines)."""
