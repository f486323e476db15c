"""`make test`'s groups hold: the tests of one stack run on one worker, in order (tests/support/parallel.py).

pytest-xdist names an item's group by rewriting its node id; pytest 9 stopped reading the attribute
it rewrites, and every group was then silently spread over the workers, each starting a stack of
its own and running part of a module's ordered tests on it (three failures and a few extra stacks
per `make test`). This collects the real suite, runs it as `make test` does with every test skipped
before its fixtures, and reads which worker took what.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.conftest import PROJECT_ROOT

RECORDER = '''
import os, pytest

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    with open(os.environ["WORKERS_FILE"], "a") as f:
        f.write(f"{os.environ['PYTEST_XDIST_WORKER']} {item.nodeid}\\n")
    pytest.skip("only where it runs matters")
'''

GROUPS = {"native-stack": "tests/stack/test_clearing_runs.py", "celery-stack": "tests/resilience/test_celery_stack.py",
          "fault-recovery": "tests/resilience/test_fault_recovery.py"}


def test_each_stacks_tests_run_on_one_worker_in_their_modules_order(tmp_path: Path) -> None:
    (tmp_path / "where_tests_run.py").write_text(RECORDER)
    workers_file = tmp_path / "workers.txt"
    env = {**os.environ, "WORKERS_FILE": str(workers_file), "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider",
                           "-p", "where_tests_run", "-q", "tests/stack", "tests/resilience"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    workers_of, order = defaultdict(set), defaultdict(list)
    for worker, nodeid in (line.split(" ", 1) for line in workers_file.read_text().splitlines()):
        test, _, group = nodeid.partition("@")
        workers_of[group].add(worker)
        order[group].append(test)
    for group, module in GROUPS.items():
        assert len(workers_of[group]) == 1, f"{group} ran on {sorted(workers_of[group])}"
        ran = [test.split("::")[1] for test in order[group] if test.startswith(module)]
        defined = re.findall(r"^def (test_\w+)", (PROJECT_ROOT / module).read_text(), re.MULTILINE)
        assert ran and ran == [name for name in defined if name in ran]  # in the order the module defines them
    assert len(workers_of) > 1  # the tests of no stack still spread over both workers
