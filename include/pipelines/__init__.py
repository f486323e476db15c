"""The SageMaker pipeline the DAGs run: the article's classification pipeline, SDK v3.

Nothing here imports the SageMaker SDK at module level: `definition.build_pipeline` imports
it when called, inside the task that builds the definition.
"""
