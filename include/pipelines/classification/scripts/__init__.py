"""Scripts that run inside the pipeline's jobs (SageMaker containers or the local endpoint)."""
