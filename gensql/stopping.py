"""How a gensql command stops when asked: Ctrl-C exits 130 and SIGTERM 143, with one line, always.

The first Ctrl-C (SIGINT) or SIGTERM raises in the main thread (:class:`KeyboardInterrupt`, or
:class:`~gensql.errors.Terminated`), so every ``finally`` runs: a refresh removes its partial snapshot
and kills its workers, a server closes its connections. Cleanup may not hang the exit, though: if the
process has not exited :data:`GRACE_SECONDS` after the signal (a thread stuck in a native call, a
library's exit handler waiting on a child), a watchdog ends it with the same exit code. A second
signal ends it at once. Either way the previous index stays whole: snapshots are published by one
atomic rename, and a half-written one is removed by the next refresh.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from .errors import Terminated

#: Seconds between the first Ctrl-C/SIGTERM and the forced exit if cleanup has not finished by then.
GRACE_SECONDS = 1.5

_WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
_said = threading.Event()
_first: list[int] = []


def install() -> None:
    """Route SIGINT and SIGTERM of this process through :func:`on_signal` (the CLI's ``main`` calls it)."""
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def on_signal(signum: int, frame: object) -> None:
    """First signal: arm the watchdog and raise; a later one: exit now."""
    if _first:
        _force_exit(_first[0])
    _first.append(signum)
    threading.Thread(target=_watchdog, args=(signum,), name="gensql-stop-watchdog", daemon=True).start()
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt()


def interruption() -> KeyboardInterrupt:
    """The exception for a signal that a library swallowed (watchfiles returns ``"signal"`` instead of
    raising): :class:`~gensql.errors.Terminated` after a SIGTERM, else :class:`KeyboardInterrupt`."""
    return Terminated() if _first and _first[0] == signal.SIGTERM else KeyboardInterrupt()


def say_stopped(word: str) -> None:
    """Write ``gensql: <word>`` on stderr, once per process however many paths report the stop."""
    if _said.is_set():
        return
    _said.set()
    try:
        sys.stderr.write(f"gensql: {word}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def exit_code(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return Terminated.exit_code if isinstance(exc, Terminated) else 130


def word(exc: BaseException) -> str:
    """What to call the stop: ``interrupted`` (Ctrl-C) or ``terminated`` (SIGTERM)."""
    return _WORDS[signal.SIGTERM] if isinstance(exc, Terminated) else _WORDS[signal.SIGINT]


def _watchdog(signum: int) -> None:
    threading.Event().wait(GRACE_SECONDS)
    _force_exit(signum)


def _force_exit(signum: int) -> None:
    # os.write, not sys.stderr: the main thread may hold the stream's lock, stuck where it was stopped
    if not _said.is_set():
        _said.set()
        try:
            os.write(2, f"gensql: {_WORDS.get(signal.Signals(signum), 'stopped')}\n".encode())
        except OSError:
            pass
    os._exit(128 + signum)
