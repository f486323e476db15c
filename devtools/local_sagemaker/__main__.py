"""`python -m devtools.local_sagemaker [--host 127.0.0.1] [--port 4566] [--work-dir DIR [--fresh]] [--allow-remote] [--enable-reset-api] [--step-startup-delay S]`

Runs the endpoint in the foreground, prints one line with its URL when it is ready, and
stops cleanly on SIGTERM or Ctrl-C (it stops serving, saves its state, then ends the running
step processes). With --work-dir its state is saved there and restored at the next start.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .binding import ALLOW_FLAG
from .control_api import ENABLE_FLAG
from .persistence.state_file import FRESH_FLAG, StateFileError
from .server import LocalSageMakerEndpoint
from .work_dir import WorkDirInUse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.local_sagemaker", description=" ".join(__doc__.split("\n\n")[1].split()))
    parser.add_argument("--host", default="127.0.0.1",
                        help=f"address to bind (default 127.0.0.1); an address that is not loopback needs {ALLOW_FLAG}")
    parser.add_argument("--port", type=int, default=4566, help="port to bind; 0 picks a free one (default 4566)")
    parser.add_argument("--work-dir", help="where job sandboxes, logs and the saved state live; the state is restored "
                                           "from it at start (default: a temporary folder removed at exit, no state kept)")
    parser.add_argument(FRESH_FLAG, action="store_true",
                        help="set the saved state in --work-dir aside (renamed state-discarded-<time>) and start empty")
    parser.add_argument(ALLOW_FLAG, action="store_true",
                        help="allow --host to be an address other hosts can reach: anyone who reaches the port can "
                             "run code on this machine")
    parser.add_argument(ENABLE_FLAG, action="store_true",
                        help="serve moto's control API (/moto-api/reset, seed, recorder, config...), which wipes or "
                             "changes every resource without credentials (default: only GET /moto-api/ answers)")
    parser.add_argument(
        "--step-startup-delay", type=float, default=None, metavar="SECONDS",
        help="keep each pipeline step and job Starting this long before it runs, as SageMaker's start-up does, "
             "to test races (default: $LOCAL_SAGEMAKER_STEP_STARTUP_DELAY, else 0)",
    )
    options = parser.parse_args(argv)
    if options.step_startup_delay is not None and options.step_startup_delay < 0:
        parser.error("--step-startup-delay must be 0 or more seconds")
    if options.fresh and not options.work_dir:
        parser.error(f"{FRESH_FLAG} sets aside the state saved in --work-dir: give --work-dir too")

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        endpoint = LocalSageMakerEndpoint(
            options.host, options.port, options.work_dir, options.step_startup_delay,
            persist=bool(options.work_dir), fresh=options.fresh, allow_remote=options.allow_remote,
            enable_reset_api=options.enable_reset_api,
        )
        url = endpoint.start()
    except (OSError, ValueError, StateFileError, WorkDirInUse) as error:
        print(f"Cannot start the local SageMaker endpoint on {options.host}:{options.port}: {error}", file=sys.stderr)
        return 1
    state = ""
    if endpoint.state:
        state = f"; state saved there, restored: {', '.join(endpoint.restored_services) or 'nothing saved yet'}"
    if endpoint.discarded_state:
        state += f"; the previous state was set aside in {endpoint.discarded_state}"
    print(f"Local SageMaker endpoint ready at {url} (work dir {endpoint.work_dir}{state})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("Stopping the local SageMaker endpoint...", flush=True)
        endpoint.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
