# Every target installs .venv from requirements-dev.lock first when it is missing or older than the lock.
# requirements.txt names what a deployment runs (the DAGs and the plugin), requirements-dev.txt the local
# tools and the tests on top; requirements.lock and requirements-dev.lock pin every package they pull in,
# with hashes (`make lock` writes both).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements-dev.lock
RUNTIME_LOCK := requirements.lock
STAMP := $(VENV)/.installed
TOOLS := .tools
HOST ?= 127.0.0.1
PORT ?= 4566

# uv installs the lock 2-2.5x faster than pip (parallel downloads). The one on PATH, else this version,
# bootstrapped from PyPI into .tools/; pip installs the lock when uv cannot.
UV_VERSION := 0.13.9
UV ?= $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/uv/bin/uv)
# uv trusts the OS's certificate store, as pip does here: a proxy's CA installed there is trusted too.
export UV_SYSTEM_CERTS ?= 1
# Airflow's own constraints for this Airflow and Python: `make lock` applies them to every package
# requirements-dev.txt does not pin itself (a path works too, for a machine that cannot reach GitHub).
AIRFLOW_CONSTRAINTS ?= https://raw.githubusercontent.com/apache/airflow/constraints-3.3.2/constraints-3.11.txt
# Drops from a constraints file the packages the requirements pin themselves (names compared normalized).
WITHOUT_OWN_PINS := function key(s) { s = tolower(s); sub(/[^a-z0-9._-].*/, "", s); gsub(/[._]/, "-", s); return s } \
  FNR == NR { if ($$0 ~ /^[A-Za-z0-9]/) own[key($$0)] = 1; next } !($$0 ~ /^[A-Za-z0-9]/ && key($$0) in own)
sha256 = $(shell $(PYTHON) -c "import hashlib; print(hashlib.sha256(open('$(1)', 'rb').read()).hexdigest())")
# The header line a lock made from requirements file $(1) carries.
made_from = \# $(1) sha256: $(call sha256,$(1))

.PHONY: venv bytecode uv-tool lock pipelines mwaa-bundle run airflow test test-backfill test-backfill-30 test-pythons lint endpoint seed perf perf-setup clean

venv: $(STAMP)

# Bootstraps uv into .tools/ when it is not on PATH (UV=none installs with pip).
uv-tool:
	@[ "$(UV)" != "$(TOOLS)/uv/bin/uv" ] || [ -x "$(UV)" ] \
	  || $(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(TOOLS)/uv uv==$(UV_VERSION) \
	  || echo "uv $(UV_VERSION) could not be installed from PyPI: installing with pip instead (slower)"

# uv compiles the bytecode, as pip does: else every process started with PYTHONDONTWRITEBYTECODE set
# (CI, some shells) compiles Airflow and the SDK again, ~5 s per `airflow` command.
$(STAMP): $(LOCK) requirements.txt requirements-dev.txt | uv-tool
	@for requirements in requirements.txt requirements-dev.txt; do \
	  grep -q "^# $$requirements sha256: $$($(PYTHON) -c "import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())" $$requirements)$$" $(LOCK) \
	  || { echo "$(LOCK) was not generated from this $$requirements: run 'make lock'" >&2; exit 1; }; \
	done
	@start=$$(date +%s); \
	if [ -x "$(UV)" ] && $(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV) \
	  && $(UV) pip sync --quiet --python $(PY) --require-hashes --compile-bytecode $(LOCK); then \
	  installer="$$($(UV) --version)"; \
	else \
	  [ ! -x "$(UV)" ] || echo "uv could not install $(LOCK): installing it with pip instead" >&2; \
	  installer="pip"; \
	  { test -x $(PY) || $(PYTHON) -m venv $(VENV); } \
	  && { $(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip >/dev/null; } \
	  && $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK) || exit 1; \
	fi; \
	echo "Installed $(VENV) from $(LOCK) with $$installer in $$(( $$(date +%s) - start )) s"
	@touch $(STAMP)

# The package's own sources compiled ahead, as the install does for the libraries: with
# PYTHONDONTWRITEBYTECODE set (CI, some shells) each of the hundreds of Airflow, endpoint and job
# processes a test run starts would compile them again. An edited file is compiled again here.
bytecode: $(STAMP)
	@$(PY) -m compileall -q plugins include devtools dags tests

# Re-pins both locks; pins already in them are kept where they still fit (UPGRADE=1 takes the newest).
# requirements-dev.lock: Python 3.11 (devtools/dev_lock/pyproject.toml), Linux, macOS and Windows.
# requirements.lock: the runtime at the same versions on 3.11, and resolved for 3.12 and 3.13 too.
lock: | uv-tool
	@test -x "$(UV)" || { echo "make lock needs uv" >&2; exit 1; }
	@mkdir -p $(TOOLS); constraints=$(CURDIR)/$(TOOLS)/airflow-constraints.txt; \
	if { [ -f "$(AIRFLOW_CONSTRAINTS)" ] && cp "$(AIRFLOW_CONSTRAINTS)" $$constraints.all; } \
	  || curl -fsSL --max-time 30 "$(AIRFLOW_CONSTRAINTS)" -o $$constraints.all; then \
	  cat requirements.txt requirements-dev.txt | awk '$(WITHOUT_OWN_PINS)' - $$constraints.all > $$constraints; \
	  status="applied where the requirements do not pin the package: $(AIRFLOW_CONSTRAINTS)"; \
	  constrain="--constraint $$constraints"; \
	else \
	  status="NOT applied, could not be read: $(AIRFLOW_CONSTRAINTS)"; constrain=""; \
	fi; \
	echo "Airflow constraints $$status"; \
	$(UV) pip compile --quiet --directory devtools/dev_lock $(CURDIR)/requirements-dev.txt $$constrain --universal \
	  --python-version 3.11 --generate-hashes --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) \
	  -o $(CURDIR)/$(LOCK) || exit 1; \
	$(UV) pip compile --quiet requirements.txt --constraint $(LOCK) --universal --python-version 3.11 --generate-hashes \
	  --custom-compile-command "make lock" -o $(RUNTIME_LOCK) || exit 1; \
	for lock in $(LOCK) $(RUNTIME_LOCK); do \
	  { head -n 2 $$lock; echo "$(call made_from,requirements.txt)"; \
	    [ $$lock = $(RUNTIME_LOCK) ] || echo "$(call made_from,requirements-dev.txt)"; \
	    echo "# Airflow constraints $$status"; tail -n +3 $$lock; } > $$lock.new && mv $$lock.new $$lock; \
	  echo "Wrote $$lock: $$(grep -c '^[a-z0-9]' $$lock) pins with their hashes"; \
	done

# Compiles each pipeline's SDK source (include/pipelines) into the JSON definition the DAGs upsert, which is
# committed with it: Airflow never imports the SDK. `make test` fails while a compiled definition is stale.
pipelines: bytecode
	$(PY) -m devtools.pipeline_compiler

# What Amazon MWAA takes, in dist/mwaa: the DAGs folder (with include/), plugins.zip, requirements.txt.
mwaa-bundle: $(STAMP)
	$(PY) -m devtools.mwaa_bundle --out dist/mwaa

# The main job: an example pipeline's training DAG end to end with `airflow dags test` on the local endpoint
# (no AWS account). PIPELINE=regression runs the regression example.
PIPELINE ?= classification
run: bytecode
	$(PY) -m devtools.local_airflow.run_training_dag --pipeline $(PIPELINE)

# The docker-compose stack natively: Airflow 3 on a private Postgres, LocalExecutor (EXECUTOR=celery: Redis and
# two Celery workers), and the endpoint; Ctrl-C stops it.
EXECUTOR ?= local
airflow: bytecode
	$(PY) -m devtools.local_airflow.stack --port 8080 --endpoint-port $(PORT) --executor $(EXECUTOR)

# Correctness checks only: the benchmarks (tests/perf) are `make perf`. The 15 slowest tests are listed at the end.
# Workers: one per core, and at least 3: each of the three stacks' groups of tests holds a worker of its
# own for minutes (tests/support/parallel.py), mostly waiting on Airflow, so even 2 cores keep 3 busy.
# TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(max(3, os.cpu_count() or 1))")
test: bytecode
	$(PY) -m ruff check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

# The 7-day backfill on the native stack alone (it is part of `make test` too).
test-backfill: bytecode
	$(PY) -m pytest tests/stack/test_backfill.py

# The 30-day backfill on Postgres + Celery (6-15 min; not in `make test`, .ci/run runs it): prints wall time and peak concurrency.
test-backfill-30: bytecode
	$(PY) -m pytest tests/resilience/test_celery_stack.py -m backfill30 -s -p no:cacheprovider

# The runtime (requirements.lock and the wheel) on Python 3.12 and 3.13: the DAGs load and the training DAG runs
# (not in `make test`: each Python downloads its own wheels; .ci/run runs it).
test-pythons: bytecode
	$(PY) -m pytest tests/packaging/test_python_versions.py -m pythons -p no:cacheprovider

lint: $(STAMP)
	$(PY) -m ruff check .

# The local SageMaker endpoint in the foreground (Ctrl-C stops it and its step processes).
endpoint: bytecode
	$(PY) -m devtools.local_sagemaker --host $(HOST) --port $(PORT)

# Seed sample partitions into a running endpoint: make seed FROM=2024-01-01 TO=2024-01-07 [PIPELINE=regression]
seed: $(STAMP)
	$(PY) -m devtools.sample_data --endpoint-url http://$(HOST):$(PORT) --bucket ml-pipeline-data --from $(FROM) --to $(TO) --pipeline $(PIPELINE)

perf: bytecode
	$(PY) -m pytest tests/perf -m perf -s -p no:cacheprovider

# A fresh clone's `make run` (uv's cache empty), then a warm one: install, phases and totals.
perf-setup:
	$(PYTHON) tests/perf/setup_time.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .airflow
