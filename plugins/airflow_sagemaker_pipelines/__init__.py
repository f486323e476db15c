"""Airflow operators, sensor, trigger, hooks, links and notifiers for SageMaker Pipelines.

Each module subclasses the Amazon provider's class it extends and closes one of its gaps
(see ../shared/DESIGN.md): idempotent starts, deferrable sensing with step-by-step logs,
stopping on kill or timeout, reading the evaluation report, approving or rejecting the
model package, and a console link. Nothing here imports the SageMaker SDK or makes an AWS
client at import time.
"""
