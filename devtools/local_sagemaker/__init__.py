"""A local, AWS-compatible SageMaker endpoint that executes pipeline definitions for real.

moto serves S3, SNS, SQS, CloudWatch Logs, STS/IAM and the SageMaker registry; the engine in
engine/ runs pipeline executions on local processes. See docs/local-endpoint.md.
"""
