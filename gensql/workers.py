"""Worker processes that never outlive the refresh that started them, and never see its Ctrl-C."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, cast

from .startup import lean_refresh_process

#: How often a worker checks that the refresh process that started it is still alive.
POLL_SECONDS = 0.25
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def init_worker(owner_pid: int) -> None:
    """``ProcessPoolExecutor`` initializer: make this worker die with its parent and with ``owner_pid``.

    A worker of a ``forkserver`` pool is the forkserver's child, and holds the pipes that keep the
    forkserver (and through it the resource tracker) alive: so when the refresh process dies, even by
    SIGKILL, each worker must notice and exit by itself. On Linux the kernel kills it when its parent
    dies (``PR_SET_PDEATHSIG``); everywhere a daemon thread polls that ``owner_pid`` still exists.
    Ctrl-C in a terminal reaches the whole process group: workers ignore it, the refresh process stops them.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    lean_refresh_process()  # a worker converts only lists and Arrow data (gensql.startup)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent or not pid_alive(owner_pid):  # died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(owner_pid, parent), name="gensql-watch-owner", daemon=True).start()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (one owned by another user counts as alive).

    A zombie counts as gone: a refresh that has exited but whose parent has not reaped it yet (a
    script blocked reading its stderr, as ``subprocess.run(capture_output=True)`` is) would otherwise
    keep its workers, and through them the forkserver, alive, holding that very stderr open forever.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): existence is all we can tell
    return state not in (b"Z", b"X")


def _watch(owner_pid: int, parent: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent or not pid_alive(owner_pid):
            os._exit(1)


class _TrackingContext:
    """A multiprocessing context that remembers every process it creates.

    ``ProcessPoolExecutor`` lists its workers in ``_processes`` only once ``start()`` has returned: a
    Ctrl-C landing inside ``start()`` leaves a running worker that no cleanup knows about, and
    multiprocessing's exit handler then waits for it forever. Recording the process before it starts
    lets :func:`stop_workers` kill every worker whatever moment the interrupt chose.
    """

    def __init__(self, context: Any) -> None:
        self._context = context
        self.processes: list[Any] = []

    def Process(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (the multiprocessing context API)
        process = self._context.Process(*args, **kwargs)
        self.processes.append(process)
        return process

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def start_forkserver(preload: Sequence[str]) -> None:
    """Start the multiprocessing forkserver (preloading ``preload``) deaf to Ctrl-C from its first instruction.

    A terminal's Ctrl-C reaches the whole process group. CPython's forkserver ignores SIGINT only once
    it has imported its preload modules (a second or more, pyarrow among them), and hands the handler
    it started with to each worker it forks: a Ctrl-C in those moments printed a KeyboardInterrupt
    traceback from a child. An ignored signal stays ignored across ``exec``, so the forkserver is
    started through :func:`sigint_ignoring_python`, a two-line shell script that ignores SIGINT and
    execs Python: the forkserver and every worker start deaf to it, and the refresh process alone
    receives the Ctrl-C and stops them. (Ignoring SIGINT in this process around the spawn would do the
    same, but would drop a Ctrl-C that arrives in that instant.)
    """
    from multiprocessing import forkserver, spawn

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
    python = spawn.get_executable()
    wrapper = sigint_ignoring_python(python)
    if wrapper is not None:
        spawn.set_executable(wrapper)
    try:
        forkserver.ensure_running()
    finally:
        spawn.set_executable(python)


def sigint_ignoring_python(python: str | os.PathLike) -> str | None:
    """Path of an executable that runs ``python`` with SIGINT ignored (None where that cannot be made).

    The script lives in the temporary directory, one per user and interpreter, and is written once
    (atomically) and reused.
    """
    import hashlib
    import tempfile

    if os.name != "posix" or not os.path.exists("/bin/sh"):
        return None
    python = os.fsdecode(python)
    tag = hashlib.sha1(python.encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"gensql-{os.getuid()}-python-nosigint-{tag}")
    body = f"#!/bin/sh\ntrap '' INT\nexec '{python}' \"$@\"\n"
    try:
        with open(path) as f:
            if f.read() == body and os.access(path, os.X_OK):
                return path
    except OSError:
        pass
    if "'" in python:
        return None
    try:
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(body)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    except OSError:
        return None
    return path


def worker_pool(jobs: int, preload: Sequence[str]) -> ProcessPoolExecutor:
    """A forkserver ``ProcessPoolExecutor`` of ``jobs`` workers that :func:`stop_workers` can always stop.

    The workers die with this process and ignore Ctrl-C (:func:`init_worker`); the forkserver is
    started with Ctrl-C blocked (:func:`start_forkserver`).
    """
    start_forkserver(preload)
    context = _TrackingContext(multiprocessing.get_context("forkserver"))
    mp_context = cast(multiprocessing.context.BaseContext, context)  # a context in all but name
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=mp_context, initializer=init_worker, initargs=(os.getpid(),)
    )
    pool.gensql_context = context  # type: ignore[attr-defined]
    return pool


def stop_workers(pool: ProcessPoolExecutor, join_seconds: float = 5) -> None:
    """Stop a pool at once (refresh interrupted or failed): cancel its queued work and kill its workers.

    Safe at any moment, twice, and with the pool half started. Afterwards neither the pool's manager
    thread nor multiprocessing's exit handler has anything left to wait for, so the interpreter exits
    instead of hanging in its exit cleanup.
    """
    manager = getattr(pool, "_executor_manager_thread", None)  # CPython's; shutdown() forgets it
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except (OSError, ValueError, AttributeError):
        pass
    context = getattr(pool, "gensql_context", None)
    processes = list(getattr(context, "processes", []))
    processes += [p for p in (getattr(pool, "_processes", None) or {}).values() if p not in processes]
    started = [p for p in processes if getattr(p, "_popen", None) is not None]
    for process in started:
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):
            pass
    deadline = time.monotonic() + join_seconds
    for process in started:
        try:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
        except (OSError, ValueError, AttributeError, AssertionError):
            pass
    if manager is not None and manager.is_alive():
        manager.join(timeout=max(0.0, deadline - time.monotonic()))


def stop_forkserver(kill: bool = False) -> None:
    """Stop this process's multiprocessing forkserver once its pool is shut down.

    The forkserver preloads gensql's scan modules (pyarrow among them) and would otherwise live, idle,
    as long as the refresh: through the search-index phase, the peak of a full refresh's memory, where
    it held about 45 MB. The next pool starts a new one. (``_stop`` is CPython's own, used by its
    tests; without it the forkserver simply stays.)

    ``kill`` (a refresh interrupted): SIGKILL it first. A Ctrl-C that lands while the pool is starting a
    worker leaves a worker whose pid this process never learned; it holds the forkserver open, so the
    polite stop would wait for it forever. Killed, the forkserver takes such workers with it (they die
    with their parent, :func:`init_worker`).
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if kill and pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    stop = getattr(server, "_stop", None)
    if stop is not None:
        try:
            stop()
        except (OSError, AttributeError, ChildProcessError):
            pass
