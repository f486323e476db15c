# syntax=docker/dockerfile:1
# Two images from the official Airflow 3.3 image. The default target, `production`, is what a deployment
# runs: the runtime requirements (requirements.lock: Airflow's own pins plus the Amazon provider, with
# hashes), the DAGs, the plugin and include/ (the pipeline's compiled definition and scripts), nothing
# else (.dockerignore lets nothing else in). `development` is docker-compose.yaml's: the local tools'
# requirements on top; compose mounts dags/, plugins/, include/ and devtools/ into it.
#
#   docker build -t sagemaker-pipelines-airflow .                        # production
#   docker build --build-arg PYTHON_VERSION=3.13 -t sagemaker-pipelines-airflow .
#   docker compose up --build                                            # development (target: development)
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.12

# The SageMaker SDK of the local tools needs Python 3.11 beside Airflow 3.3 (README "Troubleshooting").
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11 AS development
USER root
# util-linux gives `unshare`, with which the local endpoint gives each step its own /opt/ml.
RUN apt-get update \
 && apt-get install -y --no-install-recommends util-linux curl \
 && rm -rf /var/lib/apt/lists/*
USER airflow
COPY requirements-dev.lock /opt/airflow/requirements-dev.lock
RUN pip install --no-cache-dir --require-hashes -r /opt/airflow/requirements-dev.lock
ENV PYTHONPATH=/opt/airflow

FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION} AS production
COPY requirements.lock /opt/airflow/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /opt/airflow/requirements.lock
COPY --chown=airflow:root dags/ /opt/airflow/dags/
COPY --chown=airflow:root plugins/ /opt/airflow/plugins/
COPY --chown=airflow:root include/ /opt/airflow/include/
# The DAG files import the pipeline's contract and settings as `include.pipelines`.
ENV PYTHONPATH=/opt/airflow
