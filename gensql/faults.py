"""Fault injection: named points where a test can stop a gensql process and kill it exactly there.

gensql promises that a writer or a refresh killed half way leaves the store and the index whole. A test
that kills after a sleep and hopes the kill lands mid-write tests nothing on a loaded machine (the
process has not started yet, or has already finished). So the write path calls ``point("name")`` at the
moments that matter, and a test starts the process with two environment variables:

``GENSQL_PAUSE_AT=<name>[:<n>]``
    stop the n-th time (default: the first) the point is reached;
``GENSQL_PAUSE_FD=<fd>``
    an inherited pipe: on stopping, the process writes ``"<name> <n>\\n"`` there and waits forever.

The test reads a line from the pipe (end of file means the process exited without reaching the point),
kills the process and checks what it left. Without ``GENSQL_PAUSE_AT``, which is always outside tests, a
point is a function call that returns at once.

Points: ``write.file`` (a generation's file written into its hidden temporary directory),
``write.rename`` (the directory complete, not yet renamed into place), ``snapshot.part`` (an index
partition about to be written), ``snapshot.commit`` (all partitions written, nothing durable yet),
``snapshot.swap`` (the snapshot renamed into place, ``current`` not yet switched) and
``snapshot.current`` (``current`` switched, superseded snapshots not yet collected) and
``export.commit`` (an SQLite export fully written under its temporary name, not yet committed).
"""

from __future__ import annotations

import os
import time

PAUSE_AT_ENV = "GENSQL_PAUSE_AT"
PAUSE_FD_ENV = "GENSQL_PAUSE_FD"

# Read once: a point costs a global lookup unless a test started this process paused.
_PAUSE_AT = os.environ.get(PAUSE_AT_ENV) or None
_reached: dict[str, int] = {}


def point(name: str) -> None:
    """Stop here for good if the environment asks for this point (and this is its n-th time)."""
    if _PAUSE_AT is None:
        return
    wanted, _, nth = _PAUSE_AT.partition(":")
    if wanted != name:
        return
    _reached[name] = count = _reached.get(name, 0) + 1
    if count != int(nth or 1):
        return
    os.write(int(os.environ[PAUSE_FD_ENV]), f"{name} {count}\n".encode())
    while True:  # until the test kills this process
        time.sleep(3600)
