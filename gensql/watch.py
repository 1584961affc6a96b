"""``gensql refresh --watch``: keep the index current from file-system events, one snapshot per update.

The watcher holds the index's writer lock for its whole life (a second watcher or refresh exits with
the lock message), starts watching the store (``watchfiles``, inotify on Linux) *before* its first
refresh so that nothing written meanwhile is missed, then waits. Events are debounced (an update
starts once the store has been quiet for ``step_ms``, or at the latest ``debounce_ms`` after the first
event) and turned into :class:`gensql.indexer.Changes`: the generation directories named by events
are read again and their partitions rewritten, everything else is carried over. Each update is an
ordinary atomic snapshot. A full stat sweep (a plain incremental refresh) runs every
``sweep_interval`` seconds, and at once for events gensql cannot attribute to one generation (a stage
directory itself, the docs store, the facts sources), so a missed event costs at most one interval.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import layout
from .errors import WatchError
from .index import disk_errors_as_messages, store_umask, writer_lock
from .indexer import Changes, RefreshResult, refresh_locked

#: Default seconds between full stat sweeps.
SWEEP_INTERVAL = 3600.0
#: An update starts when no event came for STEP_MS, or DEBOUNCE_MS after the first one at the latest.
STEP_MS = 50
DEBOUNCE_MS = 400
#: Longest wait in the watcher before it looks at the clock (sweeps, stop requests).
_WAKE_MS = 5000
#: Top-level names whose change means the whole store must be listed again (facts sources, docs store).
_SWEEP_ROOTS = frozenset({layout.DOCS_DIR, layout.DOCS_DB_FILE.split("/")[0], layout.ESSAY_TEMPLATES_FILE.split("/")[0]})


@dataclass
class Update:
    """One update of the watcher: why it ran, what the refresh did, how many paths events named."""

    reason: str  # "start", "events", "sweep"
    result: RefreshResult
    event_paths: int = 0

    def __str__(self) -> str:
        r = self.result
        when = datetime.now().strftime("%H:%M:%S")
        what = f"{r.new} new, {r.changed} changed, {r.deleted} deleted"
        parts = f"{r.partitions_written} partitions written, {r.partitions_linked} linked"
        source = f"{self.event_paths} event paths" if self.reason == "events" else self.reason
        return f"{when} {source}: {what}; {r.generations} generations; {parts}; {r.seconds:.2f}s"


def classify(data_root: Path, index_dir: Path, paths) -> tuple[set[tuple[str, str]], bool, bool]:
    """``(generation entries touched, cohorts touched, a sweep needed)`` for changed ``paths``."""
    gens: set[tuple[str, str]] = set()
    cohorts = sweep = False
    root = str(data_root).rstrip("/") + "/"
    index = str(index_dir).rstrip("/") + "/"
    for path in paths:
        if path.startswith(index) or path + "/" == index:
            continue  # gensql's own writes
        if not path.startswith(root):
            continue
        parts = path[len(root):].split("/")
        top = parts[0]
        if top == layout.GENS_DIR:
            if len(parts) >= 3 and parts[1] in layout.STAGES:
                gens.add((parts[1], parts[2]))
            elif len(parts) <= 2:
                sweep = True  # the gens or a stage directory itself: list again
        elif top == layout.COHORTS_DIR:
            cohorts = True
        elif top in _SWEEP_ROOTS:
            sweep = True
    return gens, cohorts, sweep


def watch(
    data_root: str | os.PathLike | None = None,
    index_dir: str | os.PathLike | None = None,
    *,
    sweep_interval: float = SWEEP_INTERVAL,
    jobs: int | None = None,
    texts: bool = True,
    on_update: Callable[[Update], object] | None = None,
    stop=None,
    step_ms: int = STEP_MS,
    debounce_ms: int = DEBOUNCE_MS,
) -> None:
    """Keep the index of ``data_root`` current until interrupted (Ctrl-C, SIGTERM) or ``stop.is_set()``.

    ``on_update`` receives an :class:`Update` after every snapshot. Returns only when ``stop`` is set;
    a signal propagates as usual once the current update has either committed or been rolled back.
    """
    from watchfiles._rust_notify import RustNotify  # the watcher behind watchfiles.watch(), opened before the first refresh

    where = layout.resolve(data_root, index_dir)
    if not (where.data_root / layout.DOCS_DIR).is_dir():
        where.require_gens()
    report = on_update or (lambda update: None)
    with disk_errors_as_messages(where.index_dir), store_umask(where.data_root), writer_lock(where.index_dir, where.data_root):
        try:
            notify = RustNotify([str(where.data_root)], False, False, 300, True, True)
        except OSError as exc:
            raise WatchError(
                f"cannot watch {where.data_root}: {exc}; on Linux each directory takes one inotify watch: "
                "raise fs.inotify.max_user_watches (sysctl) above the number of generation directories"
            ) from None
        with notify:
            report(Update("start", refresh_locked(where, jobs=jobs, texts=texts)))
            next_sweep = time.monotonic() + sweep_interval
            while stop is None or not stop.is_set():
                wait = max(1, min(_WAKE_MS, int((next_sweep - time.monotonic()) * 1000)))
                raw = notify.watch(debounce_ms, step_ms, wait, stop)
                if raw == "signal":
                    raise KeyboardInterrupt
                if raw == "stop":
                    return
                if raw == "timeout":
                    if time.monotonic() >= next_sweep:
                        report(Update("sweep", refresh_locked(where, jobs=jobs, texts=texts)))
                        next_sweep = time.monotonic() + sweep_interval
                    continue
                paths = {path for _change, path in raw}
                gens, cohorts, sweep = classify(where.data_root, where.index_dir, paths)
                if sweep:
                    report(Update("sweep", refresh_locked(where, jobs=jobs, texts=texts)))
                    next_sweep = time.monotonic() + sweep_interval
                elif gens or cohorts:
                    changes = Changes(frozenset(gens), cohorts)
                    report(Update("events", refresh_locked(where, jobs=jobs, texts=texts, changes=changes), len(gens)))
