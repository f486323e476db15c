"""`python -m include.local_sagemaker --host 127.0.0.1 --port 4566 [--work-dir DIR] [--step-startup-delay S]`

Runs the endpoint in the foreground, prints one line with its URL when it is ready, and
stops cleanly on SIGTERM or Ctrl-C (running step processes are ended first).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import LocalSageMakerEndpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.local_sagemaker", description=__doc__.splitlines()[2])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port to bind; 0 picks a free one (default 4566)")
    parser.add_argument("--work-dir", help="where job sandboxes and logs live (default: a temporary folder removed at exit)")
    parser.add_argument(
        "--step-startup-delay", type=float, default=None, metavar="SECONDS",
        help="keep each pipeline step and job Starting this long before it runs, as SageMaker's start-up does, "
             "to test races (default: $LOCAL_SAGEMAKER_STEP_STARTUP_DELAY, else 0)",
    )
    options = parser.parse_args(argv)
    if options.step_startup_delay is not None and options.step_startup_delay < 0:
        parser.error("--step-startup-delay must be 0 or more seconds")

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        endpoint = LocalSageMakerEndpoint(options.host, options.port, options.work_dir, options.step_startup_delay)
        url = endpoint.start()
    except (OSError, ValueError) as error:
        print(f"Cannot start the local SageMaker endpoint on {options.host}:{options.port}: {error}", file=sys.stderr)
        return 1
    print(f"Local SageMaker endpoint ready at {url} (work dir {endpoint.work_dir})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("Stopping the local SageMaker endpoint...", flush=True)
        endpoint.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
