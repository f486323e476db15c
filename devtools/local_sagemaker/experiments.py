"""SageMaker Experiments as pipelines and jobs use them, with AWS's errors.

moto stores experiments, trials and trial components but answers an unknown name with an
HTML 500 (KeyError) or a ValidationException, overwrites an existing one on create, and lets a
delete orphan what hangs off it. Here, as the API reference documents: an unknown name is
ResourceNotFound; creating an existing name is a ValidationException "... already exists"
(what the SDK's load-or-create looks for); an experiment with trials, a trial with trial
components and an associated trial component cannot be deleted.

Pipelines join Experiments the way SageMaker does (PipelineExperimentConfig): the experiment
(the pipeline name by default) and one trial (run group) per execution are created when
missing and outlive DeletePipeline; every job gets its trial component `<job>-aws-<kind>-job`,
associated with the trial named by its ExperimentConfig.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.models import FakeExperiment, FakeTrial, FakeTrialComponent

from .engine.jobs.kinds import JOB_KINDS


class Experiments:
    """Mixin of LocalSageMakerBackend (a moto SageMakerModelBackend)."""

    experiments: dict[str, FakeExperiment]
    trials: dict[str, FakeTrial]
    trial_components: dict[str, FakeTrialComponent]
    account_id: str
    region_name: str

    def _arn(self, resource: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region_name}:{self.account_id}:{resource}/{name.lower()}"

    def _not_found(self, label: str, resource: str, name: str) -> ResourceNotFound:
        return ResourceNotFound(f"{label} '{self._arn(resource, name)}' does not exist.")

    # --- experiments ------------------------------------------------------------------------
    def create_experiment(self, experiment_name: str) -> dict[str, str]:
        if experiment_name in self.experiments:
            raise ValidationError(f"Experiment '{experiment_name}' already exists.")
        return super().create_experiment(experiment_name)  # type: ignore[misc]

    def describe_experiment(self, experiment_name: str) -> dict[str, Any]:
        if experiment_name not in self.experiments:
            raise self._not_found("Experiment", "experiment", experiment_name)
        return super().describe_experiment(experiment_name)  # type: ignore[misc]

    def delete_experiment(self, experiment_name: str) -> None:
        if experiment_name not in self.experiments:
            raise self._not_found("Experiment", "experiment", experiment_name)
        trials = sorted(name for name, trial in self.trials.items() if trial.experiment_name == experiment_name)
        if trials:
            raise ValidationError(
                f"Experiment '{experiment_name}' still has {len(trials)} trial(s) ({', '.join(trials[:5])}): "
                "delete its trials first (ListTrials with ExperimentName lists them)"
            )
        del self.experiments[experiment_name]

    # --- trials -----------------------------------------------------------------------------
    def create_trial(self, trial_name: str, experiment_name: str) -> dict[str, str]:
        if trial_name in self.trials:
            raise ValidationError(f"Trial '{trial_name}' already exists.")
        if experiment_name not in self.experiments:
            raise self._not_found("Experiment", "experiment", experiment_name)
        return super().create_trial(trial_name, experiment_name)  # type: ignore[misc]

    def describe_trial(self, trial_name: str) -> dict[str, Any]:
        if trial_name not in self.trials:
            raise self._not_found("Trial", "experiment-trial", trial_name)
        description = super().describe_trial(trial_name)  # type: ignore[misc]
        description.pop("TrialComponents", None)
        return description

    def delete_trial(self, trial_name: str) -> None:
        if trial_name not in self.trials:
            raise self._not_found("Trial", "experiment-trial", trial_name)
        components = self.trials[trial_name].trial_components
        if components:
            raise ValidationError(
                f"Trial '{trial_name}' still has {len(components)} trial component(s) ({', '.join(components[:5])}): "
                "disassociate or delete them first"
            )
        del self.trials[trial_name]

    def list_trials(self, experiment_name: str | None = None, trial_component_name: str | None = None, **kwargs: Any) -> Any:
        if experiment_name and experiment_name not in self.experiments:
            raise self._not_found("Experiment", "experiment", experiment_name)
        return super().list_trials(experiment_name=experiment_name, trial_component_name=trial_component_name, **kwargs)  # type: ignore[misc]

    # --- trial components -------------------------------------------------------------------
    def describe_trial_component(self, trial_component_name: str) -> dict[str, Any]:
        if trial_component_name not in self.trial_components:
            raise self._not_found("TrialComponent", "experiment-trial-component", trial_component_name)
        return super().describe_trial_component(trial_component_name)  # type: ignore[misc]

    def delete_trial_component(self, trial_component_name: str) -> None:
        component = self.trial_components.get(trial_component_name)
        if component is None:
            raise self._not_found("TrialComponent", "experiment-trial-component", trial_component_name)
        if component.trial_name:
            raise ValidationError(
                f"Trial component '{trial_component_name}' is associated with trial '{component.trial_name}': "
                "disassociate it first (DisassociateTrialComponent)"
            )
        del self.trial_components[trial_component_name]

    def associate_trial_component(self, trial_name: str, trial_component_name: str) -> dict[str, str]:
        if trial_component_name not in self.trial_components:
            raise self._not_found("TrialComponent", "experiment-trial-component", trial_component_name)
        if trial_name in self.trials and trial_component_name in self.trials[trial_name].trial_components:
            raise ValidationError(f"Trial component '{trial_component_name}' is already associated with trial '{trial_name}'.")
        return super().associate_trial_component(trial_name, trial_component_name)  # type: ignore[misc]

    # --- what pipelines and jobs create ----------------------------------------------------
    def join_pipeline_experiment(self, experiment_name: str, trial_name: str) -> None:
        """PipelineExperimentConfig: the experiment and the execution's trial, created when missing."""
        if experiment_name not in self.experiments:
            super().create_experiment(experiment_name)  # type: ignore[misc]
        if trial_name not in self.trials:
            super().create_trial(trial_name, experiment_name)  # type: ignore[misc]

    def record_job_trial_component(self, kind_key: str, record: dict[str, Any]) -> None:
        """A job was created or ended: its trial component `<job>-aws-<kind>-job` follows it."""
        kind = JOB_KINDS[kind_key]
        name = f"{record[kind.name_field]}-{kind.trial_component_suffix}"
        status = record[kind.status_field]
        primary = {"InProgress": "InProgress", "Stopping": "Stopping"}.get(status, status)
        component = self.trial_components.get(name)
        if component is None:
            super().create_trial_component(  # type: ignore[misc]
                trial_component_name=name, trial_name=None, status={"PrimaryStatus": primary},
                start_time=record.get("CreationTime"), end_time=None, display_name=name, parameters=None,
                input_artifacts=None, output_artifacts=None, metadata_properties=None,
            )
            component = self.trial_components[name]
            component.source = {"SourceArn": record[kind.arn_field], "SourceType": kind.source_type}
            trial = (record.get("ExperimentConfig") or {}).get("TrialName")
            if trial and trial in self.trials:
                super().associate_trial_component(trial, name)  # type: ignore[misc]
        component.status = {"PrimaryStatus": primary, **({"Message": record["FailureReason"]} if "FailureReason" in record else {})}
        if kind.end_field in record:
            component.end_time = record[kind.end_field]
        if record.get("HyperParameters"):
            component.parameters = {key: {"StringValue": value} for key, value in record["HyperParameters"].items()}
