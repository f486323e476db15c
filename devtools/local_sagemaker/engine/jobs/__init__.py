"""SageMaker jobs run on local processes: processing, training and batch transform.

The same code runs a job created by CreateProcessingJob/CreateTrainingJob/CreateTransformJob
and the job a pipeline step creates; lifecycle.py holds the status lifecycle they share.
"""
