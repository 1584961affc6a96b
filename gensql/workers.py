"""Worker processes that never outlive the refresh that started them, and never see its Ctrl-C."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

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
    """Whether process ``pid`` exists (one owned by another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(owner_pid: int, parent: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent or not pid_alive(owner_pid):
            os._exit(1)


def stop_workers(pool) -> None:
    """Kill the worker processes of a ``ProcessPoolExecutor`` at once (refresh stopped or failed)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # CPython keeps them here
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):
            pass
    for process in processes:
        try:
            process.join(timeout=5)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


def stop_forkserver() -> None:
    """Stop this process's multiprocessing forkserver once its pool is shut down.

    The forkserver preloads gensql's scan modules (pyarrow among them) and would otherwise live, idle,
    as long as the refresh: through the search-index phase, the peak of a full refresh's memory, where
    it held about 45 MB. The next pool starts a new one. (``_stop`` is CPython's own, used by its
    tests; without it the forkserver simply stays.)
    """
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        try:
            stop()
        except (OSError, AttributeError):
            pass
