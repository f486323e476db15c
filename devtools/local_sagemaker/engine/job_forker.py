"""A Python process with the jobs' libraries already imported, which forks one child per job.

Run by preloaded_python.py as a plain script (stdlib only, besides what it preloads):
`python job_forker.py <control socket fd>`. pandas, scikit-learn and XGBoost cost a job ~1.2 s
of CPU to import, most of a small step's run; a forked child starts with them imported.

Each child becomes what `python <script> <args>` would be in its sandbox: its own session, SIGKILL
when this process dies, stdin /dev/null, stdout and stderr the pipe the endpoint reads, its own
mount namespace with the sandbox at /opt/ml (as sandbox.py's `unshare` command does), the job's
environment, working directory and `sys.argv`, fresh random seeds, and a process title that is the
job's command line. Then the script runs in a `__main__` module of its own, and the child ends as
the interpreter would: non-daemon threads joined, atexit handlers run, streams flushed, the script's
objects finalized, C stdio flushed; with the script's exit code (an unhandled Ctrl-C: -SIGINT).

Messages on the control socket are a 4-byte big-endian length and a JSON object. First out:
`{"ready": [preloaded modules], "environment": {...}}`. In: `{"id", "argv",
"env", "cwd", "root"}` with the stdout pipe's write end as SCM_RIGHTS ("root": the sandbox folder to
mount at /opt/ml, or null). Out: `{"id", "pid"}` or `{"id", "error"}`, and `{"exited": pid, "code"}`
(negative: the signal) when a child ends. When the socket closes (the endpoint stopped or died),
the children are killed and this process exits.
"""

from __future__ import annotations

import array
import atexit
import builtins
import contextlib
import ctypes
import gc
import importlib
import importlib.machinery
import io
import json
import os
import random
import selectors
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import types
from typing import Any, NoReturn

# What the local containers and the sample pipeline's scripts import; a module missing here is skipped.
PRELOADED_MODULES = ("numpy", "pandas", "scipy.stats", "sklearn.metrics", "sklearn.model_selection", "xgboost")

_PR_SET_PDEATHSIG = 1
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_CONTAINER_ROOT = "/opt/ml"
_HEADER = struct.Struct(">I")

_libc = ctypes.CDLL(None, use_errno=True)

try:  # imported here, before a job's folder is on sys.path
    import setproctitle
except ImportError:
    setproctitle = None


def send_message(connection: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    payload = _HEADER.pack(len(data)) + data
    sent = 0
    if fds:
        sent = connection.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    connection.sendall(payload[sent:])


def receive_message(connection: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    """The next message and the descriptors that came with it; None at the end of the stream."""
    fds = array.array("i")
    head, ancillary, _, _ = connection.recvmsg(_HEADER.size, socket.CMSG_SPACE(4 * fds.itemsize))
    if not head:
        return None
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    head += _read_exactly(connection, _HEADER.size - len(head))
    (size,) = _HEADER.unpack(head)
    return json.loads(_read_exactly(connection, size)), list(fds)


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = connection.recv(size)
        if not chunk:
            raise EOFError("the control socket closed mid-message")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def preload() -> list[str]:
    loaded = []
    for name in PRELOADED_MODULES:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except ImportError:
            continue
    return loaded


def serve(control: socket.socket, gained: dict[str, str]) -> None:
    """Fork a child per request until the control socket closes; report each child's end.

    `gained`: the variables the imports set (a new interpreter's imports would set them too)."""
    children: set[int] = set()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd hears SIGCHLD
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, "request")
    selector.register(wake_read, selectors.EVENT_READ, "signal")
    try:
        while True:
            for key, _ in selector.select():
                if key.data == "signal":
                    os.read(wake_read, 4096)
                    _report_exits(control, children)
                    continue
                received = receive_message(control)
                if received is None:
                    return
                request, fds = received
                forker = os.getpid()
                try:
                    pid = os.fork()
                except OSError as error:
                    send_message(control, {"id": request["id"], "error": f"fork failed: {error}"})
                    _close_all(fds)
                    continue
                if pid == 0:
                    try:  # whatever happens, the child never returns into this loop (and its finally)
                        signal.set_wakeup_fd(-1)
                        _become_job(request, fds[0], forker, gained)
                    finally:
                        os._exit(1)
                children.add(pid)
                _close_all(fds)
                send_message(control, {"id": request["id"], "pid": pid})
    finally:
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                continue


def _report_exits(control: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        send_message(control, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            continue


def _become_job(request: dict[str, Any], output: int, forker: int, gained: dict[str, str]) -> NoReturn:
    """In the forked child: set the job's process up, run its script, exit with its code."""
    try:
        os.setsid()
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != forker:  # the forker died before prctl took effect
            os._exit(1)
        for name in ("SIGCHLD", "SIGTERM", "SIGHUP"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.closerange(3, _max_fd())  # the control socket, the forker's pipes, the descriptors it got
        if request["root"]:
            _enter_sandbox(request["root"])  # and into /opt/ml
        else:
            os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for name, value in gained.items():
            os.environ.setdefault(name, value)
        time.tzset()
        argv = request["argv"]
        script = argv[1]
        _set_title(" ".join(argv))
        sys.argv = argv[1:]
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as `python <script>` has it
        _reseed()
        errors = getattr(sys.__stdout__, "errors", None) or "strict"
        sys.stdout, sys.stderr = _standard_stream(1, errors), _standard_stream(2, "backslashreplace")
    except BaseException:
        traceback.print_exc()
        os._exit(127)  # as a shell that could not start the job
    os._exit(_run_script(script))


def _run_script(script: str) -> int:
    """Run `script` as `__main__`, then end as the interpreter does: threads, atexit, streams, objects."""
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=script, __builtins__=builtins, __cached__=None,
                         __loader__=importlib.machinery.SourceFileLoader("__main__", script))
    sys.modules["__main__"] = main  # for the whole run: pickling the script's classes at exit works too
    code, interrupted = 0, False
    try:
        with open(script, "rb") as source:
            exec(compile(source.read(), script, "exec"), main.__dict__)
    except SystemExit as leaving:
        code = _exit_code(leaving.code)
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
        interrupted = True
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    with contextlib.suppress(BaseException):
        threading._shutdown()  # type: ignore[attr-defined]  # non-daemon threads, as at exit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    with contextlib.suppress(BaseException):
        main.__dict__.clear()  # the script's objects finalized (an unclosed file's buffer written)
        gc.collect()
    _libc.fflush(None)  # C code's buffered output
    if interrupted:  # as the interpreter exits on an unhandled Ctrl-C
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return code


def _standard_stream(fd: int, errors: str) -> io.TextIOWrapper:
    """stdout or stderr on `fd`, as the interpreter opens them for a pipe (-u: PYTHONUNBUFFERED)."""
    encoding = getattr(sys.__stdout__, "encoding", None) or "utf-8"
    if os.environ.get("PYTHONUNBUFFERED"):
        return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding=encoding, errors=errors,
                                write_through=True)
    return io.TextIOWrapper(io.BufferedWriter(io.FileIO(fd, "w", closefd=False)), encoding=encoding,
                            errors=errors, line_buffering=fd == 2)


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _enter_sandbox(root: str) -> None:
    """What sandbox.py's `unshare --mount --map-root-user` and its mount script do, in this process."""
    uid, gid = os.getuid(), os.getgid()
    if _libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), f"unshare: {os.strerror(ctypes.get_errno())}")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    _libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None)  # best effort, as `|| true` there
    if os.path.isdir(_CONTAINER_ROOT) and not os.listdir(_CONTAINER_ROOT):
        _mount(root.encode(), _CONTAINER_ROOT.encode(), None, _MS_BIND)
    else:
        _mount(b"tmpfs", b"/opt", b"tmpfs", 0)
        os.makedirs(_CONTAINER_ROOT, exist_ok=True)
        _mount(root.encode(), _CONTAINER_ROOT.encode(), None, _MS_BIND)
    os.chdir(_CONTAINER_ROOT)


def _mount(source: bytes, target: bytes, kind: bytes | None, flags: int) -> None:
    if _libc.mount(source, target, kind, flags, None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source.decode()} on {target.decode()}: {os.strerror(error)}")


def _reseed() -> None:
    """A forked child would repeat the forker's random sequences; a new process gets fresh ones."""
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _set_title(title: str) -> None:
    """The job's command line as its process title (it overwrites the forker's environment area in the
    child: /proc/<pid>/environ; the forker's own keeps the orphan marker)."""
    if setproctitle is not None:
        setproctitle.setproctitle(title)


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (OSError, ValueError):
        return 4096


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    del sys.path[0]  # this file's folder (the engine's modules) is not the jobs' import path
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the endpoint, which stops the jobs
    started_with = dict(os.environ)
    loaded = preload()
    # Its environment after the imports: some set defaults (scikit-learn: KMP_DUPLICATE_LIB_OK).
    gained = {name: value for name, value in os.environ.items() if name not in started_with}
    send_message(control, {"ready": loaded, "environment": dict(os.environ)})
    serve(control, gained)


if __name__ == "__main__":
    main()
