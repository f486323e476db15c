"""The three job kinds, by the names their APIs give to the same things."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    key: str  # "processing"
    label: str  # "Processing", as in CreateProcessingJob
    arn_resource: str  # arn:aws:sagemaker:<region>:<account>:<arn_resource>/<name>
    log_group: str
    start_field: str
    end_field: str
    # SageMaker creates a trial component `<job name>-<suffix>` for every job.
    trial_component_suffix: str
    has_secondary_status: bool = False

    @property
    def name_field(self) -> str:
        return f"{self.label}JobName"

    @property
    def arn_field(self) -> str:
        return f"{self.label}JobArn"

    @property
    def status_field(self) -> str:
        return f"{self.label}JobStatus"

    @property
    def source_type(self) -> str:
        return f"SageMaker{self.label}Job"


PROCESSING = JobKind("processing", "Processing", "processing-job", "/aws/sagemaker/ProcessingJobs",
                     "ProcessingStartTime", "ProcessingEndTime", "aws-processing-job")
TRAINING = JobKind("training", "Training", "training-job", "/aws/sagemaker/TrainingJobs",
                   "TrainingStartTime", "TrainingEndTime", "aws-training-job", has_secondary_status=True)
TRANSFORM = JobKind("transform", "Transform", "transform-job", "/aws/sagemaker/TransformJobs",
                    "TransformStartTime", "TransformEndTime", "aws-transform-job")
JOB_KINDS = {kind.key: kind for kind in (PROCESSING, TRAINING, TRANSFORM)}
