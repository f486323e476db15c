# The Airflow image for docker-compose.yaml: the official Airflow 3.3 image plus this project's
# pinned requirements (the Amazon provider, the SageMaker SDK, moto and the ML libraries).
FROM apache/airflow:3.3.2-python3.11

USER root
# util-linux gives `unshare`, which the local endpoint uses to give each step its own /opt/ml.
RUN apt-get update \
 && apt-get install -y --no-install-recommends util-linux curl \
 && rm -rf /var/lib/apt/lists/*
USER airflow

COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
