"""Airflow operators, sensor, trigger, hooks, links and notifiers for SageMaker Pipelines.

Each module subclasses the Amazon provider's class it extends and closes one of its gaps
(docs/design.md): idempotent starts, deferrable sensing with step-by-step logs, stopping on
kill or timeout, reading the evaluation report, approving or rejecting the model package, a
console link, and upserting a pipeline from its compiled definition. Nothing here imports the
SageMaker SDK or makes an AWS client at import time. Installed with pip, the package is an
Airflow provider (get_provider_info.py); copied into a plugins folder, it works as a plugin.
"""

__version__ = "0.5.0"
