"""Stand-ins for SageMaker containers, run as job processes inside a job's sandbox."""
