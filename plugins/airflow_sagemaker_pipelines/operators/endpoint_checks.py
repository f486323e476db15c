"""After a deployment: did it take, does the model answer as its package promised, and the way back if not.

A failing check pushes its reason (XCom `failure`) before it fails, for the rollback and the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from ..hooks.endpoint_hosting import EndpointHostingHook
from ..run_failures import FAILURE_KEY, failed_tasks, failure_reason

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..payloads import DeploymentPlan, SmokeTestResult

ROLLED_BACK = "Rolled back:"  # how a rollback's reason says the previous model serves again
SMOKE_TEST_ROWS = 400  # held-out rows invoked, at most
ROWS_PER_REQUEST = 50


def read_holdout(operator: AwsBaseOperator, uri: str, limit: int) -> tuple[list[float], list[str]]:
    """The held-out rows at `uri` (labels, feature rows), read through the operator's connection."""
    from ..hooks.provider_clients import S3Hook
    from ..smoke_metrics import SmokeTestError, holdout_rows

    s3 = S3Hook(aws_conn_id=operator.aws_conn_id, region_name=operator.region_name, verify=operator.verify,
                config=operator.hook.config)
    bucket, key = s3.parse_s3_url(uri)
    if not s3.check_for_key(key, bucket):
        raise SmokeTestError(f"the held-out rows {uri} do not exist ([deploy] holdout of the declaration)")
    return holdout_rows(s3.read_key(key, bucket), limit)


def _fail(context: Context, reason: str) -> AirflowFailException:
    context["ti"].xcom_push(key=FAILURE_KEY, value=reason)
    return AirflowFailException(reason)


class VerifyEndpointOperator(AwsBaseOperator[EndpointHostingHook]):
    """The endpoint is InService and serves the plan's config; a failed update (back InService on the old
    config, which SageMaker reports as a success to the waiter) fails here with SageMaker's FailureReason.

    :param plan: the DeploymentPlan (templated; an XComArg).
    """

    aws_hook_class = EndpointHostingHook
    template_fields: Sequence[str] = aws_template_fields("plan")

    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan

    def execute(self, context: Context) -> str:
        plan: DeploymentPlan = self.plan
        endpoint = self.hook.find_endpoint(plan["endpoint_name"])
        if endpoint is None:
            raise _fail(context, f"Endpoint {plan['endpoint_name']} does not exist after its deployment")
        serving, status = endpoint["EndpointConfigName"], endpoint["EndpointStatus"]
        if status != "InService" or serving != plan["config_name"]:
            raise _fail(context, f"The deployment of version {plan['model_package_version']} did not take: endpoint "
                                 f"{plan['endpoint_name']} is {status} on {serving}, not {plan['config_name']}: "
                                 f"{endpoint.get('FailureReason') or 'no reason given'}")
        self.log.info("Endpoint %s is InService on %s", plan["endpoint_name"], serving)
        return serving


class SmokeTestOperator(AwsBaseOperator[EndpointHostingHook]):
    """Invoke the endpoint with held-out rows of the package's own day: every answer must parse, the metric of
    the answers must be within the tolerance of the package's (on its worse side only), the median latency
    within the budget. Returns a SmokeTestResult.

    :param plan: the DeploymentPlan (templated; an XComArg).
    """

    aws_hook_class = EndpointHostingHook
    template_fields: Sequence[str] = aws_template_fields("plan")

    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.plan = plan

    def execute(self, context: Context) -> SmokeTestResult:
        from ..smoke_metrics import METRICS, SmokeTestError, median, parse_scores

        plan: DeploymentPlan = self.plan
        name, metric = plan["endpoint_name"], plan["metric"]
        try:
            labels, rows = read_holdout(self, plan["holdout_uri"], SMOKE_TEST_ROWS)
            scores, latencies = [], []
            for start in range(0, len(rows), ROWS_PER_REQUEST):
                batch = rows[start:start + ROWS_PER_REQUEST]
                body, content_type, seconds = self.hook.invoke(name, "\n".join(batch))
                scores += parse_scores(body, content_type, len(batch))
                latencies.append(seconds * 1000)
            value = METRICS[metric["name"]](labels, scores)
        except SmokeTestError as error:
            raise _fail(context, f"Smoke test of {name}: {error}") from None
        except Exception as error:  # an invocation refused (ModelError, throttling past retries): the model is not serving
            raise _fail(context, f"Smoke test of {name}: an invocation failed: {error}") from None
        result: SmokeTestResult = {
            "endpoint_name": name, "metric": metric["name"], "value": value, "package_value": plan["package_value"],
            "tolerance": plan["tolerance"], "p50_ms": median(latencies), "p50_budget_ms": plan["p50_budget_ms"],
            "rows": len(rows), "requests": len(latencies), "sample_row": rows[0], "sample_prediction": scores[0],
        }
        self.log.info("Smoke test of %s: %s %.4f on %d held-out rows (the package's %.4f, tolerance %g), p50 %.1f ms "
                      "(budget %g ms)", name, metric["name"].upper(), value, len(rows), plan["package_value"],
                      plan["tolerance"], result["p50_ms"], plan["p50_budget_ms"])
        shortfall = (plan["package_value"] - value) if metric["better"] == "higher" else (value - plan["package_value"])
        if shortfall > plan["tolerance"]:
            context["ti"].xcom_push(key="return_value", value=result)
            raise _fail(context, f"Smoke test of {name}: {metric['name'].upper()} {value:.4f} of the endpoint's answers "
                                 f"is worse than the package's {plan['package_value']:.4f} by more than "
                                 f"{plan['tolerance']:g}")
        if result["p50_ms"] > plan["p50_budget_ms"]:
            context["ti"].xcom_push(key="return_value", value=result)
            raise _fail(context, f"Smoke test of {name}: median latency {result['p50_ms']:.1f} ms is over the budget "
                                 f"of {plan['p50_budget_ms']:g} ms")
        return result


class RollbackEndpointOperator(AwsBaseOperator[EndpointHostingHook]):
    """When a deployment failed its checks: the endpoint back on what it served before, proven to answer, and the
    run failed with the reason. An endpoint this run created (it served nothing before) is deleted, so that no
    client reaches a model that failed its smoke test.

    :param plan: the DeploymentPlan (templated; an XComArg).
    :param checks: the tasks from the deployment on (deploy, verify, smoke test), in order: the first that failed
        says why (its `failure` XCom); when none of them failed, the endpoint was not touched and this is skipped.
    :param poll_seconds: between two looks at the endpoint while it rolls back.
    """

    aws_hook_class = EndpointHostingHook
    template_fields: Sequence[str] = aws_template_fields("plan", "poll_seconds")

    def __init__(self, *, plan: Any, checks: Sequence[str], poll_seconds: Any = 10, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "one_failed")
        super().__init__(**kwargs)
        self.plan = plan
        self.checks = list(checks)
        self.poll_seconds = poll_seconds

    def execute(self, context: Context) -> None:
        from airflow.providers.common.compat.sdk import AirflowSkipException

        plan: DeploymentPlan | None = self.plan
        failed = failed_tasks(context, self.checks)
        if plan is None or not failed:
            raise AirflowSkipException("The endpoint was not changed by this run: nothing to roll back")
        reason = failure_reason(context, failed[0])
        name, previous = plan["endpoint_name"], plan["previous_config"]
        endpoint = self.hook.find_endpoint(name)
        if endpoint is None:
            raise AirflowFailException(f"{reason}. Endpoint {name} does not exist: nothing to roll back")
        if previous is None:
            self.hook.conn.delete_endpoint(EndpointName=name)
            raise AirflowFailException(f"{reason}. Endpoint {name} served nothing before this run: deleted, so that no "
                                       "client reaches the failing model")
        if previous == plan["config_name"]:
            raise AirflowFailException(f"{reason}. Endpoint {name} served this version before the run: nothing older "
                                       "to roll back to; deploy another version (the form's package_version)")
        if endpoint["EndpointConfigName"] != previous:
            self.log.warning("Rolling endpoint %s back to %s: %s", name, previous, reason)
            self.hook.update_endpoint({"EndpointName": name, "EndpointConfigName": previous},
                                      wait_for_completion=True, check_interval=max(1, round(float(self.poll_seconds))))
        endpoint = self.hook.find_endpoint(name) or {}
        if endpoint.get("EndpointConfigName") != previous or endpoint.get("EndpointStatus") != "InService":
            raise AirflowFailException(f"{reason}. The rollback of {name} to {previous} did not take: it is "
                                       f"{endpoint.get('EndpointStatus')} on {endpoint.get('EndpointConfigName')}")
        answer = self._prove_it_answers(plan)
        version = (plan["previous_package_arn"] or "").rsplit("/", 1)[-1]
        raise AirflowFailException(f"{ROLLED_BACK} endpoint {name} serves version {version} again ({previous}), "
                                   f"which answers ({answer}). Why: {reason}")

    def _prove_it_answers(self, plan: DeploymentPlan) -> str:
        from ..smoke_metrics import parse_scores

        _, rows = read_holdout(self, plan["holdout_uri"], 5)
        body, content_type, seconds = self.hook.invoke(plan["endpoint_name"], "\n".join(rows))
        scores = parse_scores(body, content_type, len(rows))
        return f"{len(scores)} held-out rows scored in {seconds * 1000:.0f} ms"
