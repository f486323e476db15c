"""The classification pipeline's contract: every name the DAGs and the pipeline definition share.

Step, output, property-file and parameter names, the metric paths in evaluation.json, the
model package group, the metadata recorded on each package, and where a day's raw data lives.
`definition.py` builds the pipeline from these names and the DAG hands them to the operators,
so renaming a step here renames it everywhere; nothing else spells them out.

Import-free on purpose: the DAG file imports it at parse time.
"""

from __future__ import annotations

from datetime import date

# --- the pipeline and its registry -------------------------------------------------------
PIPELINE_NAME = "ml-classification-pipeline"
# Its definition as `make pipelines` compiles it from definition.py, and the scripts it runs
# (paths relative to this folder).
COMPILED_DEFINITION = "compiled/classification.json"
SCRIPTS_FOLDER = "scripts"
MODEL_PACKAGE_GROUP = "classification-models"

# --- steps ---------------------------------------------------------------------------------
PREPROCESS_STEP = "PreprocessData"
TRAIN_STEP = "TrainModel"
EVALUATE_STEP = "EvaluateModel"
QUALITY_CHECK_STEP = "CheckModelQuality"
REGISTER_STEP = "RegisterModel"
QUALITY_GATE_FAIL_STEP = "ModelQualityTooLow"  # the Fail step: the pipeline's own "no"
STEPS = (PREPROCESS_STEP, TRAIN_STEP, EVALUATE_STEP, QUALITY_CHECK_STEP, REGISTER_STEP, QUALITY_GATE_FAIL_STEP)

# PreprocessData's outputs, and the evaluation report EvaluateModel writes.
SPLITS = ("train", "validation", "test")
EVALUATION_OUTPUT = "evaluation"
EVALUATION_REPORT_FILE = "evaluation.json"
EVALUATION_PROPERTY_FILE = "EvaluationReport"

# --- evaluation.json -----------------------------------------------------------------------
AUC_PATH = ("classification_metrics", "auc_roc", "value")
AUC_JSON_PATH = ".".join(AUC_PATH)  # as the pipeline's JsonGet reads it
# Metric name -> its path in evaluation.json; "auc" is required, the decision rests on it.
METRIC_PATHS = {
    "auc": AUC_PATH,
    **{name: ("classification_metrics", name, "value") for name in ("accuracy", "precision", "recall", "f1")},
}
COUNT_PATHS = {"test_rows": ("rows", "test")}

# --- parameters (SageMaker receives every value as a string) -------------------------------
INPUT_DATA_URL = "InputDataUrl"
PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
EVALUATION_INSTANCE_TYPE = "EvaluationInstanceType"
TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
MODEL_APPROVAL_STATUS = "ModelApprovalStatus"
MIN_AUC_THRESHOLD = "MinAucThreshold"
# Provenance: recorded on the registered package (CustomerMetadataProperties, same keys), so a
# later run knows which day of data, which pipeline definition and which exact objects the
# champion was trained on.
DATA_DAY = "DataDay"
PIPELINE_VERSION = "PipelineVersion"
DATA_FINGERPRINT = "DataFingerprint"
PROVENANCE = {"data_day": DATA_DAY, "pipeline_version": PIPELINE_VERSION, "data_fingerprint": DATA_FINGERPRINT}
# What a package records when its execution was started without them (SageMaker refuses empty
# metadata values); the DAG's operators read it as "not recorded".
UNRECORDED = "unrecorded"
PARAMETER_TYPES = {
    INPUT_DATA_URL: "String",
    PROCESSING_INSTANCE_TYPE: "String",
    EVALUATION_INSTANCE_TYPE: "String",
    TRAINING_INSTANCE_TYPE: "String",
    MODEL_APPROVAL_STATUS: "String",
    MIN_AUC_THRESHOLD: "Float",
    **dict.fromkeys(PROVENANCE.values(), "String"),
}

# The one default of the quality threshold: the pipeline's parameter and the DAG's Param.
DEFAULT_MIN_AUC_THRESHOLD = 0.7

# --- raw data: one partition per day -------------------------------------------------------
RAW_PREFIX = "raw-data"


def partition_prefix(day: date) -> str:
    return f"{RAW_PREFIX}/ds={day.isoformat()}/"


def partition_key(day: date) -> str:
    """Where the sample data puts a day's file (any object under the prefix is read)."""
    return f"{partition_prefix(day)}dataset.csv"


def partition_uri(bucket: str, day: date) -> str:
    """The S3 prefix one DAG run reads: that day's folder."""
    return f"s3://{bucket}/{partition_prefix(day)}"

