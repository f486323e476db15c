"""Models, endpoint configs and endpoints, served for real by local model server processes.

moto records endpoints as InService the instant they are created, has no UpdateEndpoint and
answers InvokeEndpoint with canned text. This mixin of the SageMaker backend keeps moto's
records (so persistence saves them) and gives them AWS's behaviour:
- CreateModel from a PrimaryContainer or from an approved ModelPackageName; a name in use, a
  missing or unapproved package are refused. CreateEndpointConfig refuses a taken name, a
  repeated variant name and a missing model.
- CreateEndpoint is `Creating` while its variants' instances start (engine/hosting/), then
  `InService`, or `Failed` with the FailureReason (a bad artifact, an unknown image, a model
  that does not load, with the log's last lines).
- UpdateEndpoint is blue/green: `Updating` while the new config's instances start and the old
  ones serve; then the new ones serve and the old ones stop. A failed update leaves the old
  config serving, `InService`, with a FailureReason saying why (as AWS does).
- DeleteEndpoint stops the processes. Invocations reach the fleet through runtime.py.
- DataCaptureConfig is validated (data_capture_config.py) and sampled invocations are captured
  to S3 in the background (data_capture.py); the capture config follows the config that serves.
After a restart (persistence/), endpoints that served serve again: `resume_endpoints()`.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig
from moto.sagemaker.utils import arn_formatter

from .data_capture import capture_invocation
from .data_capture_config import capture_summary, validate_data_capture_config
from .engine.hosting.fleet import Fleet, Invocation, VariantSpec, spec_from_saved
from .engine.hosting.serving_container import serving_container
from .engine.hosting.serving_errors import DeploymentFailure, InvocationRefused, ModelFailure
from .engine.interruption import RESTART_REASON
from .engine.job_store import now
from .engine.jobs.lifecycle import FAILURE_REASON_LIMIT, JobContext
from .pagination import paginate
from .persistence.changes import state_changes

SERVING_STATUSES = ("InService", "Updating")  # an updating endpoint serves its old config
IN_PROGRESS_STATUSES = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
STOP_TIMEOUT_SECONDS = 30.0


class Hosting:
    """Mixin of LocalSageMakerBackend (before moto's class): the hosting APIs on real processes."""

    account_id: str
    region_name: str
    _models: dict[str, Any]
    endpoint_configs: dict[str, FakeEndpointConfig]
    endpoints: dict[str, FakeEndpoint]

    def job_context(self) -> JobContext:  # provided by the backend
        raise NotImplementedError

    fleets: dict[str, Fleet]  # the running fleets by endpoint name: processes, never saved (the backend's __getstate__)

    # --- models -----------------------------------------------------------------------------
    def create_model(self, model_name: str, execution_role_arn: str, primary_container: dict[str, Any] | None,
                     vpc_config: dict[str, Any] | None, containers: list[dict[str, Any]] | None,
                     tags: list[dict[str, str]] | None) -> Any:
        if model_name in self._models:
            raise ValidationError(f'Cannot create already existing model "{self._arn("model", model_name)}".')
        container = primary_container or (containers[0] if containers else None)
        if not container:
            raise ValidationError("CreateModel needs a PrimaryContainer or Containers: a model without a container "
                                  "cannot be served")
        if container.get("ModelPackageName"):
            self._approved_package(container["ModelPackageName"])
        elif not container.get("Image"):
            raise ValidationError("PrimaryContainer.Image is required unless the container names a ModelPackageName")
        return super().create_model(model_name, execution_role_arn, primary_container, vpc_config,  # type: ignore[misc]
                                    containers, tags)

    def _approved_package(self, name: str) -> Any:
        package = self.describe_model_package(name)  # type: ignore[attr-defined]  # moto's: ValidationException when unknown
        if package.model_package_group_name and package.model_approval_status != "Approved":
            raise ValidationError(
                f"Model package {package.arn} has ModelApprovalStatus {package.model_approval_status}: only an "
                "Approved model package version can be deployed (UpdateModelPackage ModelApprovalStatus=Approved)"
            )
        return package

    # --- endpoint configs ----------------------------------------------------------------------
    def create_endpoint_config(self, endpoint_config_name: str, production_variants: list[dict[str, Any]],
                               data_capture_config: dict[str, Any], async_inference_config: dict[str, Any],
                               tags: list[dict[str, str]], kms_key_id: str) -> FakeEndpointConfig:
        if endpoint_config_name in self.endpoint_configs:
            arn = FakeEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
            raise ValidationError(f'Cannot create already existing endpoint configuration "{arn}".')
        names = [variant.get("VariantName") for variant in production_variants or []]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValidationError(f"The variant name(s) {', '.join(map(str, repeated))} must be unique within "
                                  f"endpoint configuration '{endpoint_config_name}'")
        validate_data_capture_config(data_capture_config)
        if async_inference_config:
            raise NotImplementedError("AsyncInferenceConfig: the local endpoint serves real-time endpoints only")
        return super().create_endpoint_config(  # type: ignore[misc]  # moto refuses a missing model
            endpoint_config_name, production_variants, data_capture_config, async_inference_config, tags, kms_key_id)

    def _config(self, endpoint_config_name: str) -> FakeEndpointConfig:
        config = self.endpoint_configs.get(endpoint_config_name)
        if config is None:
            arn = FakeEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
            raise ValidationError(f'Could not find endpoint configuration "{arn}".')
        return config

    # --- endpoints -----------------------------------------------------------------------------
    def create_endpoint(self, endpoint_name: str, endpoint_config_name: str, tags: list[dict[str, str]]) -> FakeEndpoint:
        if endpoint_name in self.endpoints:
            arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            # The provider's SageMakerEndpointOperator turns this wording into an update.
            raise ValidationError(f'Cannot create already existing endpoint "{arn}".')
        config = self._config(endpoint_config_name)
        endpoint = FakeEndpoint(self.account_id, self.region_name, endpoint_name, endpoint_config_name,
                                config.production_variants, config.data_capture_config, tags)
        endpoint.endpoint_status = "Creating"
        endpoint.serving_variants = []  # type: ignore[attr-defined]  # saved: what serves, to start again after a restart
        _set_pending(endpoint, endpoint_config_name)
        self.endpoints[endpoint_name] = endpoint
        self._start_deployment(endpoint, endpoint_config_name, update=False)
        return endpoint

    def update_endpoint(self, endpoint_name: str, endpoint_config_name: str) -> str:
        endpoint = self._endpoint(endpoint_name)
        if endpoint.endpoint_status in IN_PROGRESS_STATUSES:
            raise ValidationError(f'Cannot update in-progress endpoint "{endpoint.arn}".')
        if endpoint.endpoint_status == "Failed":
            raise ValidationError(f'Cannot update failed endpoint "{endpoint.arn}": DeleteEndpoint is the only '
                                  "operation a Failed endpoint allows")
        self._config(endpoint_config_name)
        endpoint.endpoint_status = "Updating"  # before answering: a waiter's first poll must not see InService
        endpoint.failure_reason = None
        _set_pending(endpoint, endpoint_config_name)
        endpoint.last_modified_time = now()
        self._start_deployment(endpoint, endpoint_config_name, update=True)
        return endpoint.arn

    def update_endpoint_weights_and_capacities(self, endpoint_name: str,
                                               desired_weights_and_capacities: list[dict[str, Any]]) -> str:
        """New variant weights apply to the next invocations; a new instance count is not emulated (refused)."""
        endpoint = self._endpoint(endpoint_name)
        if endpoint.endpoint_status != "InService":
            raise ValidationError(f'Cannot update in-progress endpoint "{endpoint.arn}".')
        serving = {spec.name: spec for spec in (spec_from_saved(saved) for saved in endpoint.serving_variants)}  # type: ignore[attr-defined]
        names = [str(change.get("VariantName")) for change in desired_weights_and_capacities]
        for name in names:
            if names.count(name) > 1:
                raise ValidationError(f'The variant name "{name}" was non-unique within the request.')
            if name not in serving:
                raise ValidationError(f'The variant name(s) "{name}" is/are not present within endpoint configuration '
                                      f'"{endpoint.endpoint_config_name}".')
        for change in desired_weights_and_capacities:
            count = change.get("DesiredInstanceCount")
            if count is not None and int(count) != serving[change["VariantName"]].instance_count:
                raise NotImplementedError("UpdateEndpointWeightsAndCapacities DesiredInstanceCount: the local endpoint "
                                          "does not scale a variant; UpdateEndpoint to a config with the new count")
        weights = {change["VariantName"]: float(change["DesiredWeight"]) for change in desired_weights_and_capacities
                   if change.get("DesiredWeight") is not None}
        specs = self.fleets[endpoint_name].reweigh(weights)
        endpoint.serving_variants = [dataclasses.asdict(spec) for spec in specs]  # type: ignore[attr-defined]
        endpoint.last_modified_time = now()
        return endpoint.arn

    def describe_endpoint(self, endpoint_name: str) -> dict[str, Any]:
        endpoint = self._endpoint(endpoint_name)
        fleet = self.fleets.get(endpoint_name)
        ready = fleet.ready_counts() if fleet else {}
        description: dict[str, Any] = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "EndpointStatus": endpoint.endpoint_status,
            "CreationTime": endpoint.creation_time,
            "LastModifiedTime": endpoint.last_modified_time,
        }
        serving = [spec_from_saved(saved) for saved in getattr(endpoint, "serving_variants", [])]
        if serving:
            description["ProductionVariants"] = [
                _variant_summary(spec, ready.get(spec.name, 0), endpoint.last_modified_time) for spec in serving]
        summary = capture_summary(endpoint.data_capture_config)
        if summary:
            description["DataCaptureConfig"] = summary
        if endpoint.failure_reason:
            description["FailureReason"] = endpoint.failure_reason
        pending = getattr(endpoint, "pending_config_name", None)
        if pending and endpoint.endpoint_status in ("Creating", "Updating"):
            config = self.endpoint_configs.get(pending)
            description["PendingDeploymentSummary"] = {
                "EndpointConfigName": pending,
                "StartTime": getattr(endpoint, "pending_started", endpoint.last_modified_time),
                "ProductionVariants": [
                    {"VariantName": variant["VariantName"], "CurrentInstanceCount": 0,
                     "DesiredInstanceCount": int(variant.get("InitialInstanceCount") or 1),
                     "CurrentWeight": float(variant.get("InitialVariantWeight", 1.0)),
                     "DesiredWeight": float(variant.get("InitialVariantWeight", 1.0)),
                     "InstanceType": variant.get("InstanceType"), "VariantStatus": [
                         {"Status": "Creating", "StartTime": getattr(endpoint, "pending_started", endpoint.last_modified_time)}]}
                    for variant in (config.production_variants if config else [])],
            }
        return description

    def delete_endpoint(self, endpoint_name: str) -> None:
        endpoint = self._endpoint(endpoint_name)
        endpoint.endpoint_status = "Deleting"
        fleet = self.fleets.pop(endpoint_name, None)
        if fleet:
            fleet.stop()
        self.endpoints.pop(endpoint_name, None)

    def delete_model(self, model_name: str) -> None:
        if model_name not in self._models:
            raise ValidationError(f'Could not find model "{self._arn("model", model_name)}".')
        del self._models[model_name]

    def list_model_summaries(self, options: dict[str, Any]) -> dict[str, Any]:
        """ListModels with its filters, sort and pages (moto's lists every model whatever the request asks)."""
        contains = (options.get("NameContains") or "").lower()
        after, before = options.get("CreationTimeAfter"), options.get("CreationTimeBefore")
        summaries = [{"ModelName": model.model_name, "ModelArn": model.arn, "CreationTime": _aware(model.creation_time)}
                     for model in list(self._models.values())]
        summaries = [summary for summary in summaries
                     if contains in summary["ModelName"].lower()
                     and (after is None or summary["CreationTime"] > _aware(after))
                     and (before is None or summary["CreationTime"] < _aware(before))]
        sort_by = options.get("SortBy") or "CreationTime"
        summaries.sort(key=lambda summary: summary["ModelName" if sort_by == "Name" else "CreationTime"],
                       reverse=(options.get("SortOrder") or "Descending") == "Descending")
        page, token = paginate(summaries, options.get("MaxResults"), options.get("NextToken"))
        return {"Models": page, **({"NextToken": token} if token else {})}

    def _endpoint(self, endpoint_name: str) -> FakeEndpoint:
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise ValidationError(f'Could not find endpoint "{arn}".')
        return endpoint

    # --- invocations (sagemaker-runtime) ----------------------------------------------------------
    def invoke_local_endpoint(self, endpoint_name: str, body: bytes, headers: dict[str, str],
                              target_variant: str | None) -> Invocation:
        """Forward one InvokeEndpoint to the endpoint's fleet; InvocationRefused or ModelFailure as AWS answers."""
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            raise InvocationRefused(f"Endpoint {endpoint_name} of account {self.account_id} not found.")
        fleet = self.fleets.get(endpoint_name)
        if endpoint.endpoint_status not in SERVING_STATUSES or fleet is None:
            raise InvocationRefused(f"Endpoint {endpoint_name} of account {self.account_id} is not in service: its "
                                    f"status is {endpoint.endpoint_status}.")
        log_group = f"/aws/sagemaker/Endpoints/{endpoint_name}"
        log_arn = f"arn:aws:logs:{self.region_name}:{self.account_id}:log-group:{log_group}"

        def model_error(status: int, message: str) -> ModelFailure:
            where = (f"See https://{self.region_name}.console.aws.amazon.com/cloudwatch/home?region={self.region_name}"
                     f"#logEventViewer:group={log_group} in account {self.account_id} for more information.")
            if not status:
                text = ("Your invocation timed out while waiting for a response from container primary. Review the "
                        f"latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again. {where}")
            else:
                kind = "client" if status < 500 else "server"
                text = f'Received {kind} error ({status}) from primary with message "{message}". {where}'
            return ModelFailure(text, status, message, log_arn)

        answer = fleet.invoke(body, headers, target_variant, model_error)
        # After the answer, on the caller's thread only to queue it: S3 is written in the background.
        capture_invocation(endpoint.data_capture_config, self.job_context().clients.s3, endpoint_name, answer.variant,
                           body, headers.get("Content-Type", ""), answer.body, answer.content_type)
        return answer

    # --- deployments ------------------------------------------------------------------------------
    def _start_deployment(self, endpoint: FakeEndpoint, config_name: str, update: bool) -> None:
        fleet = self.fleets.get(endpoint.endpoint_name)
        if fleet is None:
            folder = Path(self.job_context().work_dir) / "endpoints" / endpoint.endpoint_name
            fleet = self.fleets[endpoint.endpoint_name] = Fleet(endpoint.endpoint_name, self.job_context(), folder)
        threading.Thread(target=self._deploy, args=(endpoint, fleet, config_name, update), daemon=True,
                         name=f"deploy-{endpoint.endpoint_name}").start()

    def _deploy(self, endpoint: FakeEndpoint, fleet: Fleet, config_name: str, update: bool) -> None:
        """Start the config's variants, then swap them in (blue/green); record how it ended on the endpoint."""
        try:
            specs = self._variant_specs(config_name)
            variants = fleet.launch(specs)
            retired = fleet.serve(variants)
        except Exception as error:
            reason = str(error) if isinstance(error, DeploymentFailure) else f"InternalFailure: {type(error).__name__}: {error}"
            if self.fleets.get(endpoint.endpoint_name) is not fleet:
                return  # deleted meanwhile
            if update:
                reason = (f"Updating to endpoint configuration '{config_name}' failed; the endpoint still serves "
                          f"'{endpoint.endpoint_config_name}'. {reason}")
            self._record(endpoint, "InService" if update else "Failed", reason)
            return
        fleet.retire(retired)
        endpoint.endpoint_config_name = config_name
        config = self.endpoint_configs.get(config_name)
        endpoint.data_capture_config = (config.data_capture_config if config else None) or {}  # capture follows what serves
        endpoint.serving_variants = [dataclasses.asdict(spec) for spec in specs]  # type: ignore[attr-defined]
        endpoint.production_variants = [_variant_summary(spec, spec.instance_count, now()) for spec in specs]
        self._record(endpoint, "InService", None)

    def _record(self, endpoint: FakeEndpoint, status: str, reason: str | None) -> None:
        if self.endpoints.get(endpoint.endpoint_name) is not endpoint:
            return
        endpoint.failure_reason = reason[:FAILURE_REASON_LIMIT] if reason else None
        endpoint.pending_config_name = None  # type: ignore[attr-defined]
        endpoint.last_modified_time = now()
        endpoint.endpoint_status = status
        state_changes.changed("sagemaker")

    def _variant_specs(self, config_name: str) -> list[VariantSpec]:
        config = self.endpoint_configs.get(config_name)
        if config is None:
            raise DeploymentFailure(f"Endpoint configuration '{config_name}' was deleted before the endpoint started")
        specs = []
        for variant in config.production_variants:
            name, model_name = variant["VariantName"], variant["ModelName"]
            model = self._models.get(model_name)
            if model is None:
                raise DeploymentFailure(f"Could not find model '{self._arn('model', model_name)}' of variant {name}.")
            container = dict(model.primary_container or (model.containers or [{}])[0])
            if len(model.containers or []) > 1:
                raise DeploymentFailure(f"Model '{model_name}' has {len(model.containers)} containers: the local "
                                        "endpoint serves single-container models")
            if container.get("ModelPackageName"):
                try:
                    package = self._approved_package(container["ModelPackageName"])
                except ValidationError as error:
                    raise DeploymentFailure(error.message) from None
                packaged = dict(((package.inference_specification or {}).get("Containers") or [{}])[0])
                packaged["Environment"] = {**(packaged.get("Environment") or {}), **(container.get("Environment") or {})}
                container = packaged
            serverless = variant.get("ServerlessConfig")
            specs.append(VariantSpec(
                name=name, model_name=model_name, weight=float(variant.get("InitialVariantWeight", 1.0)),
                instance_count=1 if serverless else int(variant.get("InitialInstanceCount") or 1),
                instance_type=str(variant.get("InstanceType") or "serverless"),
                container=serving_container(container, model_name, name),
            ))
        return specs

    # --- the endpoint's own life: restart, stop ---------------------------------------------------
    def resume_endpoints(self) -> None:
        """After a restart: endpoints that served serve again (their processes died with the endpoint)."""
        for endpoint in list(self.endpoints.values()):
            status = endpoint.endpoint_status
            if status == "Deleting":
                self.endpoints.pop(endpoint.endpoint_name, None)
                continue
            if status == "Updating":  # the update died with the endpoint: the old config serves again
                endpoint.failure_reason = (f"{RESTART_REASON.split(':')[0]} during UpdateEndpoint to "
                                           f"'{endpoint.pending_config_name}': the endpoint serves "  # type: ignore[attr-defined]
                                           f"'{endpoint.endpoint_config_name}'; call UpdateEndpoint again")
                endpoint.endpoint_status = "InService"
                endpoint.pending_config_name = None  # type: ignore[attr-defined]
            if endpoint.endpoint_status == "Creating":
                self._start_deployment(endpoint, endpoint.endpoint_config_name, update=False)
            elif endpoint.endpoint_status == "InService":
                self._restart_serving(endpoint)
        state_changes.changed("sagemaker")

    def _restart_serving(self, endpoint: FakeEndpoint) -> None:
        folder = Path(self.job_context().work_dir) / "endpoints" / endpoint.endpoint_name
        fleet = self.fleets[endpoint.endpoint_name] = Fleet(endpoint.endpoint_name, self.job_context(), folder,
                                                            restarting=True)
        saved = list(getattr(endpoint, "serving_variants", []))

        def restart() -> None:
            try:
                fleet.serve(fleet.launch([spec_from_saved(spec) for spec in saved]))
            except Exception as error:
                if self.fleets.get(endpoint.endpoint_name) is fleet:
                    self._record(endpoint, "Failed", f"{RESTART_REASON.split(':')[0]}: the endpoint's model servers "
                                                     f"could not start again: {error}")

        threading.Thread(target=restart, daemon=True, name=f"restart-{endpoint.endpoint_name}").start()

    def stop_all_endpoints(self) -> None:
        """The endpoint stops: every model server ends (the records stay as they are, for a restart)."""
        fleets = list(self.fleets.values())
        self.fleets.clear()
        for fleet in fleets:
            fleet.stop()

    def _arn(self, kind: str, name: str) -> str:
        return arn_formatter(kind, name, self.account_id, self.region_name)


def _aware(moment: datetime) -> datetime:
    """moto stamps models with naive UTC times; a request's bounds arrive aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _set_pending(endpoint: FakeEndpoint, config_name: str) -> None:
    endpoint.pending_config_name = config_name  # type: ignore[attr-defined]
    endpoint.pending_started = now()  # type: ignore[attr-defined]


def _variant_summary(spec: VariantSpec, ready: int, deployed: Any) -> dict[str, Any]:
    return {
        "VariantName": spec.name,
        "DeployedImages": [{"SpecifiedImage": spec.container.image, "ResolvedImage": spec.container.image,
                            "ResolutionTime": deployed}],
        "CurrentWeight": spec.weight,
        "DesiredWeight": spec.weight,
        "CurrentInstanceCount": ready,
        "DesiredInstanceCount": spec.instance_count,
    }
