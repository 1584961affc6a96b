"""Start a gensql process that stops at a fault-injection point (``gensql.faults``), then kill it there.

Crash tests synchronise on the process telling them where it is, never on a sleep: the kill lands at
the named point whatever the machine's load.
"""

from __future__ import annotations

import os
import subprocess
import sys

from gensql.faults import PAUSE_AT_ENV, PAUSE_FD_ENV


def kill_at(point: str, nth: int, args: list[str], timeout: float = 120) -> str:
    """Run ``python args...`` until it reaches ``point`` for the ``nth`` time, SIGKILL it there and
    return the line it wrote ("<point> <nth>"), or "" when it exited without reaching the point."""
    read_end, write_end = os.pipe()
    env = {**os.environ, PAUSE_AT_ENV: f"{point}:{nth}", PAUSE_FD_ENV: str(write_end)}
    try:
        proc = subprocess.Popen([sys.executable, *args], env=env, pass_fds=(write_end,))
    finally:
        os.close(write_end)  # the child holds the only write end: its exit means end of file here
    with os.fdopen(read_end) as pipe:
        line = pipe.readline().strip()
    proc.kill()
    proc.wait(timeout)
    return line
