"""Jobs forked from the endpoint's preloaded Python (preloaded_python.py) see what a fresh interpreter would.

The session's endpoint runs in this process (tests/conftest.py), so LOCAL_SAGEMAKER_PRELOADED_JOBS
set here chooses how its next job starts.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from devtools.local_sagemaker.engine import preloaded_python
from devtools.local_sagemaker.engine.preloaded_python import SWITCH
from tests.support.pipelines import put_script, unique

from .test_standalone_jobs import processing_job_log, processing_request, wait_job

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork, namespaces: Linux only")

FORKED = "Forked from the endpoint's preloaded Python"


def forked(lines: list[str]) -> bool:
    """Whether the job's log says it was forked (its line saying how it started is printed, for a failure)."""
    said = [line for line in lines if line.startswith((FORKED, "Not forked"))]
    assert len(said) == 1, lines
    print(said[0])
    return said[0].startswith(FORKED)
PROBE = """
import json, os, random, sys
import numpy

print(json.dumps({
    "argv": sys.argv, "cwd": os.getcwd(), "name": __name__, "path0": sys.path[0],
    "code": sorted(os.listdir("/opt/ml/processing/input/code")),
    "own_session": os.getsid(0) == os.getpid(), "stdin": sys.stdin.read(),
    "probe": os.environ.get("PROBE"), "endpoint_url_set": "AWS_ENDPOINT_URL" in os.environ,
    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    "random": random.random(), "numpy_random": float(numpy.random.rand()),
}))
print("a line on stderr", file=sys.stderr)
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""


def run_probe(sagemaker: Any, s3: Any, bucket: str, endpoint_client: Any, environment: dict[str, str],
              ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The probe as a processing job: its description, what it printed, its log lines."""
    name = unique("probe")
    request = processing_request(bucket, put_script(s3, bucket, PROBE), name)
    request["AppSpecification"]["ContainerArguments"] = ["--flag", "value"]
    sagemaker.create_processing_job(**request, Environment={"PROBE": "yes", **environment})
    job = wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus")
    lines = processing_job_log(endpoint_client, name)
    printed = json.loads(next(line for line in lines if line.startswith("{")))
    return job, printed, lines


def test_a_forked_job_sees_what_a_fresh_interpreter_would_and_draws_its_own_random_numbers(
        sagemaker, s3, bucket, endpoint_client, monkeypatch) -> None:
    first_job, first, first_lines = run_probe(sagemaker, s3, bucket, endpoint_client, {})
    _, second, _ = run_probe(sagemaker, s3, bucket, endpoint_client, {})
    monkeypatch.setenv(SWITCH, "off")
    _, fresh, fresh_lines = run_probe(sagemaker, s3, bucket, endpoint_client, {})

    assert first_job["ProcessingJobStatus"] == "Completed", first_job.get("FailureReason")
    assert forked(first_lines), first_lines
    assert not forked(fresh_lines)
    assert "a line on stderr" in first_lines
    drawn = ("random", "numpy_random")
    assert {key: value for key, value in first.items() if key not in drawn} == \
           {key: value for key, value in fresh.items() if key not in drawn}
    assert first["argv"] == ["/opt/ml/processing/input/code/script.py", "--flag", "value"]
    assert first["cwd"] == "/opt/ml" and first["name"] == "__main__" and first["path0"] == "/opt/ml/processing/input/code"
    assert first["own_session"] and first["stdin"] == "" and first["probe"] == "yes" and first["endpoint_url_set"]
    assert all(first[key] != second[key] for key in drawn), "two forked jobs drew the same random numbers"


def test_a_forked_job_fails_with_its_exit_code_and_its_last_lines(sagemaker, s3, bucket, endpoint_client) -> None:
    job, _, lines = run_probe(sagemaker, s3, bucket, endpoint_client, {"EXIT_CODE": "3"})

    assert forked(lines), lines
    assert job["ProcessingJobStatus"] == "Failed"
    assert "exited with code 3" in job["FailureReason"] and "a line on stderr" in job["FailureReason"]


@pytest.mark.parametrize("environment", [{"OMP_WAIT_POLICY": "ACTIVE"}, {"PYTHONPATH": "/opt/ml/processing/input"},
                                         {"OPENBLAS_NUM_THREADS": "1"}])
def test_a_job_that_sets_what_libraries_read_at_import_starts_a_fresh_interpreter(
        sagemaker, s3, bucket, endpoint_client, environment: dict[str, str]) -> None:
    job, printed, lines = run_probe(sagemaker, s3, bucket, endpoint_client, environment)

    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert not forked(lines)
    [name] = environment
    assert any(line.startswith("Not forked") and f"{name}={environment[name]!r} where the preloaded Python has" in line
               for line in lines), lines
    if "OMP_WAIT_POLICY" in environment:
        assert printed["omp_wait_policy"] == "ACTIVE"


def test_a_forked_job_keeps_the_default_openmp_policy_of_the_endpoints_jobs(sagemaker, s3, bucket, endpoint_client) -> None:
    _, printed, lines = run_probe(sagemaker, s3, bucket, endpoint_client, {"OMP_WAIT_POLICY": "PASSIVE"})

    assert forked(lines), lines  # the same value as the forker's: nothing a library read differs
    assert printed["omp_wait_policy"] == "PASSIVE"


def test_a_first_job_with_its_own_openmp_policy_does_not_keep_the_later_ones_from_being_forked(
        sagemaker, s3, bucket, endpoint_client) -> None:
    preloaded_python.stop_all()  # the next job starts the endpoint's forker again
    _, _, first = run_probe(sagemaker, s3, bucket, endpoint_client, {"OMP_WAIT_POLICY": "ACTIVE"})
    _, _, later = run_probe(sagemaker, s3, bucket, endpoint_client, {})

    assert not forked(first)
    assert forked(later), later


def test_a_variable_the_preloaded_libraries_set_themselves_keeps_a_job_forked_unless_it_differs(
        sagemaker, s3, bucket, endpoint_client, monkeypatch) -> None:
    monkeypatch.delenv("KMP_DUPLICATE_LIB_OK", raising=False)
    preloaded_python.stop_all()  # the next job starts a forker without it; importing scikit-learn sets it to True
    _, _, first = run_probe(sagemaker, s3, bucket, endpoint_client, {})
    monkeypatch.setenv("KMP_DUPLICATE_LIB_OK", "True")  # as importing scikit-learn in the endpoint's process does
    _, _, inherited = run_probe(sagemaker, s3, bucket, endpoint_client, {})
    _, _, other = run_probe(sagemaker, s3, bucket, endpoint_client, {"KMP_DUPLICATE_LIB_OK": "FALSE"})

    assert forked(first) and forked(inherited)
    assert not forked(other)


AT_EXIT = """
import atexit, concurrent.futures, pickle

class Model:
    pass

pool = concurrent.futures.ThreadPoolExecutor(1)  # never shut down: the interpreter waits for it at exit
pool.submit(print, "from the pool")
unclosed = open("/opt/ml/processing/output/o/unclosed.txt", "w")  # never closed: written when finalized
unclosed.write("written at exit")
atexit.register(lambda: print("atexit pickled", len(pickle.dumps(Model())) > 0))
"""


@pytest.mark.parametrize("how", ["forked", "fresh"])
def test_a_jobs_end_waits_for_its_threads_runs_atexit_and_finalizes_as_an_interpreter_does(
        sagemaker, s3, bucket, endpoint_client, monkeypatch, how: str) -> None:
    if how == "fresh":
        monkeypatch.setenv(SWITCH, "off")
    name, output = unique("at-exit"), f"s3://{bucket}/{unique('at-exit-output')}"
    sagemaker.create_processing_job(**processing_request(bucket, put_script(s3, bucket, AT_EXIT), name,
                                                         outputs={"o": output}))
    job = wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus")
    lines = processing_job_log(endpoint_client, name)

    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert forked(lines) == (how == "forked")
    assert "from the pool" in lines and "atexit pickled True" in lines
    key = output.split(f"{bucket}/", 1)[1] + "/unclosed.txt"
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"written at exit"


def test_a_forked_job_whose_stdout_cannot_flush_ends_alone_and_its_sibling_runs_on(
        sagemaker, s3, bucket, endpoint_client) -> None:
    flag = f"flags/{unique('sibling')}"
    sibling = unique("sibling")
    sagemaker.create_processing_job(**processing_request(bucket, put_script(s3, bucket, f"""
import sys, time, boto3
s3 = boto3.client("s3")
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        s3.head_object(Bucket="{bucket}", Key="{flag}")
        print("sibling saw the flag")
        sys.exit(0)
    except s3.exceptions.ClientError:
        time.sleep(0.2)
sys.exit("no flag")
"""), sibling))
    wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=sibling), "ProcessingJobStatus",
             statuses=("InProgress",))
    broken = unique("no-flush")
    sagemaker.create_processing_job(**processing_request(bucket, put_script(s3, bucket, """
import sys

class Sink:  # a stdout replacement without flush()
    def write(self, text):
        return len(text)

sys.stdout = Sink()
print("swallowed")
"""), broken))
    ended = wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=broken), "ProcessingJobStatus")
    s3.put_object(Bucket=bucket, Key=flag, Body=b"")
    sibling_ended = wait_job(lambda: sagemaker.describe_processing_job(ProcessingJobName=sibling), "ProcessingJobStatus")

    assert forked(processing_job_log(endpoint_client, broken))
    assert ended["ProcessingJobStatus"] == "Completed", ended.get("FailureReason")
    assert sibling_ended["ProcessingJobStatus"] == "Completed", sibling_ended.get("FailureReason")
    assert "sibling saw the flag" in processing_job_log(endpoint_client, sibling)
