"""Processing, Training and Transform steps: each creates its job and runs it to its end.

The job is the same one CreateProcessingJob/CreateTrainingJob/CreateTransformJob would run; the
step names it, ties it to the execution (PipelineExecutionArn, ExperimentConfig) and exposes
its description as the step's properties.
"""

from __future__ import annotations

from ..jobs.kinds import PROCESSING, TRAINING, TRANSFORM
from ..jobs.processing import processing_request, run_processing_job
from ..jobs.training import run_training_job, training_request
from ..jobs.transform import run_transform_job, transform_request
from ..outcome import StepOutcome
from .step_runtime import StepRuntime


def run_processing_step(runtime: StepRuntime) -> StepOutcome:
    job = runtime.new_job(PROCESSING, processing_request(runtime.arguments()))
    description, documents = run_processing_job(job, runtime.step.property_files)
    return StepOutcome(description, {"ProcessingJob": {"Arn": job.arn}}, documents)


def run_training_step(runtime: StepRuntime) -> StepOutcome:
    job = runtime.new_job(TRAINING, training_request(runtime.arguments()))
    return StepOutcome(run_training_job(job), {"TrainingJob": {"Arn": job.arn}})


def run_transform_step(runtime: StepRuntime) -> StepOutcome:
    job = runtime.new_job(TRANSFORM, transform_request(runtime.arguments()))
    return StepOutcome(run_transform_job(job), {"TransformJob": {"Arn": job.arn}})
