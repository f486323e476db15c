"""Where a person looks at a pipeline execution: the SageMaker console, or, for a local one, the local endpoint's page.

Import-free: the links and the notifications build their URLs from these, and the local SageMaker
endpoint (devtools) serves its page at LOCAL_EXECUTION_PAGE, so the two cannot drift apart.
"""

# After the console's origin (the provider's BASE_AWS_CONSOLE_LINK: partition-aware).
SAGEMAKER_EXECUTION_PAGE = "/sagemaker/home?region={region_name}#/pipelines/{pipeline_name}/executions/{execution_id}"
SAGEMAKER_ENDPOINT_PAGE = "/sagemaker/home?region={region_name}#/endpoints/{endpoint_name}"
# After a local endpoint's URL.
LOCAL_EXECUTION_PAGE = "/local-console/pipelines/{pipeline_name}/executions/{execution_id}"


def local_execution_url(endpoint_url: str, pipeline_name: str, execution_id: str) -> str:
    return endpoint_url.rstrip("/") + LOCAL_EXECUTION_PAGE.format(pipeline_name=pipeline_name, execution_id=execution_id)
