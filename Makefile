# Every target creates .venv from requirements.txt first when it is missing or older than it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 4566

.PHONY: venv run airflow test test-backfill lint endpoint seed perf clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# The main job: the training DAG end to end with `airflow dags test` on the local endpoint (no AWS account).
run: $(STAMP)
	$(PY) -m include.local_airflow.run_training_dag

# The docker-compose stack natively: Airflow 3 (SQLite, LocalExecutor) + the endpoint; Ctrl-C stops it.
airflow: $(STAMP)
	$(PY) -m include.local_airflow.stack --port 8080 --endpoint-port $(PORT)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest

# The 7-day backfill on the native stack alone (it is part of `make test` too).
test-backfill: $(STAMP)
	$(PY) -m pytest tests/stack/test_backfill.py

lint: $(STAMP)
	$(PY) -m ruff check .

# The local SageMaker endpoint in the foreground (Ctrl-C stops it and its step processes).
endpoint: $(STAMP)
	$(PY) -m include.local_sagemaker --host $(HOST) --port $(PORT)

# Seed sample partitions into a running endpoint: make seed FROM=2024-01-01 TO=2024-01-07
seed: $(STAMP)
	$(PY) -m include.data --endpoint-url http://$(HOST):$(PORT) --bucket ml-pipeline-data --from $(FROM) --to $(TO)

perf: $(STAMP)
	$(PY) -m pytest tests/perf -s -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .airflow
