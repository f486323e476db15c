"""SDK v3 deploys to the endpoint: ModelBuilder.deploy(), and the generated resource classes it calls.

`sagemaker.core.resources` (Model, EndpointConfig, Endpoint) is what ModelBuilder.deploy() calls
underneath; here each call and its waiter run against the endpoint's real model servers.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from .serving import (
    ROLE,
    XGBOOST_IMAGE,
    csv_body,
    in_process,
    rows,
    server_pids,
    train_booster,
    unique,
    xgboost_artifact,
)

pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="model servers are found through /proc"),
              pytest.mark.usefixtures("delete_endpoints_after")]


def _variant(model: str) -> Any:
    from sagemaker.core.shapes import ProductionVariant

    return [ProductionVariant(variant_name="AllTraffic", model_name=model, initial_instance_count=1,
                              instance_type="ml.m5.large")]


def test_sdk_resource_classes_deploy_invoke_update_and_delete_an_endpoint(boto_session, s3, bucket) -> None:
    from devtools.pipeline_compiler.sdk_session import disable_sdk_side_effects

    disable_sdk_side_effects("us-east-1")
    from sagemaker.core.resources import Endpoint, EndpointConfig, Model
    from sagemaker.core.shapes import ContainerDefinition

    where = {"session": boto_session, "region": "us-east-1"}
    first, second = train_booster(5), train_booster(6)
    models = []
    for booster in (first, second):
        model = Model.create(model_name=unique("sdk-model"), execution_role_arn=ROLE, primary_container=ContainerDefinition(
            image=XGBOOST_IMAGE, model_data_url=xgboost_artifact(s3, bucket, booster)), **where)
        models.append(model)
    configs = [EndpointConfig.create(endpoint_config_name=unique("sdk-config"), production_variants=_variant(model.model_name),
                                     **where) for model in models]
    endpoint = Endpoint.create(endpoint_name=unique("sdk-endpoint"), endpoint_config_name=configs[0].endpoint_config_name, **where)
    endpoint.wait_for_status("InService", poll=1, timeout=120)
    assert endpoint.production_variants[0].current_instance_count == 1
    body = csv_body(rows(20, 12))
    answer = endpoint.invoke(body=body, content_type="text/csv", accept="text/csv", **where)
    assert answer.invoked_production_variant == "AllTraffic"
    assert [float(line) for line in answer.body.read().decode().splitlines()] == in_process(first, body)

    endpoint.endpoint_config_name = configs[1].endpoint_config_name
    endpoint.update()
    endpoint.wait_for_status("InService", poll=1, timeout=120)
    assert endpoint.endpoint_config_name == configs[1].endpoint_config_name
    answer = endpoint.invoke(body=body, content_type="text/csv", **where)
    assert [float(line) for line in answer.body.read().decode().splitlines()] == in_process(second, body)

    endpoint.delete()
    endpoint.wait_for_delete(poll=1, timeout=60)
    assert server_pids(endpoint.endpoint_name) == []
    for config in configs:
        config.delete()
    for model in models:
        model.delete()


def test_model_builder_deploys_an_artifact_and_the_endpoint_predicts(boto_session, s3, bucket) -> None:
    """ModelBuilder(...).build() then .deploy(): the SDK's own deploy path (its waiter polls every 30 s:
    wait=False, then the resource's waiter)."""
    from devtools.pipeline_compiler.sdk_session import disable_sdk_side_effects

    disable_sdk_side_effects("us-east-1")
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.serve.model_builder import ModelBuilder

    sdk = Session(boto_session=boto_session, sagemaker_client=boto_session.client("sagemaker"),
                  sagemaker_runtime_client=boto_session.client("sagemaker-runtime"), default_bucket=bucket)
    sdk._default_bucket = bucket  # given and existing: no bucket lookup
    booster = train_booster(9)
    builder = ModelBuilder(image_uri=XGBOOST_IMAGE, s3_model_data_url=xgboost_artifact(s3, bucket, booster), role_arn=ROLE,
                           sagemaker_session=sdk, instance_type="ml.m5.large")
    builder.build()
    name = unique("builder-endpoint")
    endpoint = builder.deploy(endpoint_name=name, initial_instance_count=1, instance_type="ml.m5.large", wait=False)
    assert endpoint.endpoint_status == "Creating"
    endpoint.wait_for_status("InService", poll=1, timeout=120)
    body = csv_body(rows(5, 14))
    answer = endpoint.invoke(body=body, content_type="text/csv", session=boto_session, region="us-east-1")
    assert [float(line) for line in answer.body.read().decode().splitlines()] == in_process(booster, body)
    endpoint.delete()
    assert server_pids(name) == []
