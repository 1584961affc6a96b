"""``gensql refresh --watch``: keep the index current from file-system events, one snapshot per update.

The watcher holds the index's writer lock for its whole life (a second watcher or refresh exits with
the lock message), starts watching the store (``watchfiles``, inotify on Linux) *before* its first
refresh so that nothing written meanwhile is missed, then waits. Events are debounced (an update
starts once the store has been quiet for ``step_ms``, or at the latest ``debounce_ms`` after the first
event) and turned into :class:`gensql.refresh.planning.Changes`: the generation directories named by events
are read again and their partitions rewritten, everything else is carried over. Each update is an
ordinary atomic snapshot. A full stat sweep (a plain incremental refresh) runs every
``sweep_interval`` seconds, and at once for events gensql cannot attribute to one generation (a stage
directory itself, the docs store, the facts sources), so a missed event costs at most one interval.

What is watched depends on the store's size (:class:`WatchSet`). Up to ``max_watches`` generation
directories (``--max-watches``), the whole store (inotify needs one watch per directory). A larger store is watched at its
stage and cohort directories, which see every generation created, renamed or deleted, plus its
*active* generation directories: those created or changed in the last ``ACTIVE_SECONDS``, which see a
pipeline's later writes into them. An in-place rewrite of a file in a long-quiet directory of such a
store is caught by the sweep. At 1,000,000 generations whole-store watching would need a million
inotify watches (more than a default Linux allows), minutes to set up and hundreds of MB.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import layout, stopping
from .errors import IndexWriteError, WatchError
from .index import collect_garbage, disk_errors_as_messages, store_umask, writer_lock
from .refresh.index import RefreshResult, refresh_locked
from .refresh.planning import Changes

#: Default seconds between full stat sweeps.
SWEEP_INTERVAL = 3600.0
#: An update starts when no event came for STEP_MS, or DEBOUNCE_MS after the first one at the latest.
STEP_MS = 50
DEBOUNCE_MS = 400
#: After an update failed for lack of space, the next try (a sweep) comes this many seconds later,
#: doubling up to the second number while the disk stays full.
DISK_FULL_RETRY = (1.0, 60.0)
#: Longest wait in the watcher before it looks at the clock (sweeps, stop requests).
_WAKE_MS = 5000
#: Stores with more generation directories than this are watched at their active directories only.
MAX_WATCHES = 100_000
#: In that mode a generation directory stays watched this long after its last event...
ACTIVE_SECONDS = 600.0
#: ...and at most this many are (the longest-quiet ones go first; the sweep covers them). A new
#: notifier costs about 10 us per watched directory, more past this.
MAX_ACTIVE = 5_000
#: A directory of the index's own that every notifier of a partial watch also watches. Before an old
#: notifier is closed, a file is created there and the old one is read until that event comes: inotify
#: queues events in order, so by then it has handed over everything it caught, however late its reader
#: thread runs on a loaded machine.
_BARRIER_DIR = ".watch-barrier"
#: Guard against a barrier that never comes (an overflowed queue): then a sweep reads what it may have held.
_DRAIN_SECONDS = 60.0
#: Top-level names whose change means the whole store must be listed again (facts sources, docs store).
_SWEEP_ROOTS = frozenset(
    {layout.DOCS_DIR, layout.DOCS_DB_FILE.split("/")[0], layout.ESSAY_TEMPLATES_FILE.split("/")[0]}
)


@dataclass
class Update:
    """One update of the watcher: why it ran, what the refresh did, how many paths events named."""

    reason: str  # "start", "events", "sweep"; "waiting" when the update could not be written
    result: RefreshResult | None
    event_paths: int = 0
    watching: str = ""  # what the watcher watches (said on the start line)
    error: str = ""  # why the update was not written (disk full, quota); the watcher retries

    def __str__(self) -> str:
        r = self.result
        when = datetime.now().strftime("%H:%M:%S")
        if r is None:
            return f"{when} waiting: {self.error}"
        what = f"{r.new} new, {r.changed} changed, {r.deleted} deleted"
        parts = f"{r.partitions_written} partitions written, {r.partitions_linked} linked"
        source = f"{self.event_paths} event paths" if self.reason == "events" else self.reason
        watching = f"; watching {self.watching}" if self.watching else ""
        return f"{when} {source}: {what}; {r.generations} generations; {parts}; {r.seconds:.2f}s{watching}"


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
        parts = path[len(root) :].split("/")
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


def open_notifier(paths: list[str], recursive: bool) -> Any:
    """A ``watchfiles`` notifier (untyped ``RustNotify``) on ``paths``; tests replace it to slow one down."""
    from watchfiles._rust_notify import RustNotify

    return RustNotify(paths, False, False, 300, recursive, True)


class WatchSet:
    """The file-system watch of a store: whole, or its stage and cohort directories plus active ones.

    ``watchfiles``' notifier watches a fixed list of paths, so a changed list means a new notifier.
    The new one is opened before the old one is closed, and the old one is drained up to a barrier
    event (``_BARRIER_DIR``) before it is closed; what it caught is kept for the next :meth:`watch`, so
    no event falls between the two.
    """

    def __init__(
        self,
        where: layout.StoreLayout,
        *,
        max_watches: int = MAX_WATCHES,
        active_seconds: float = ACTIVE_SECONDS,
        max_active: int = MAX_ACTIVE,
    ):
        self.where = where
        self.active_seconds = active_seconds
        self.max_active = max_active
        self.max_watches = max_watches
        self.active: dict[tuple[str, str], float] = {}  # (stage, name) -> monotonic time of its last event
        self._notify: Any = None  # watchfiles' RustNotify (untyped)
        self._paths: list[str] = []
        self._carried: set = set()
        self._barrier = where.index_dir / _BARRIER_DIR
        self._barriers = 0
        names, recent = self._survey(max_watches)
        self.whole = names <= max_watches
        self.directories = names
        if not self.whole:
            now = time.monotonic()
            for key in recent[-max_active:]:
                self.active[key] = now
        self._reopen()

    def describe(self) -> str:
        if self.whole:
            return f"the whole store ({self.directories:,} generation directories)"
        return (
            f"stage and cohort directories and {len(self.active):,} active generation directories "
            f"({self.directories:,} generation directories > --max-watches {self.max_watches:,}; quiet ones are swept)"
        )

    def _survey(self, max_watches: int) -> tuple[int, list[tuple[str, str]]]:
        """How many generation directories there are, and (past ``max_watches``) those changed in the
        last ``active_seconds``, oldest first: a pipeline may still be writing into them."""
        stages = [self.where.gens_root / stage for stage in layout.STAGES]
        count = sum(len(os.listdir(d)) for d in stages if d.is_dir())
        if count <= max_watches:
            return count, []
        cutoff, recent = time.time() - self.active_seconds, []
        for stage, folder in zip(layout.STAGES, stages):
            try:
                entries = os.scandir(folder)
            except OSError:
                continue
            with entries:
                for entry in entries:
                    try:
                        mtime = entry.stat(follow_symlinks=False).st_mtime
                    except OSError:
                        continue
                    if mtime >= cutoff and not entry.name.startswith("."):
                        recent.append((mtime, stage, entry.name))
        return count, [(stage, name) for _, stage, name in sorted(recent)]

    def _wanted(self) -> list[str]:
        root = self.where.data_root
        if self.whole:
            return [str(root)]
        paths = [
            root,
            self.where.gens_root,
            *(self.where.gens_root / s for s in layout.STAGES),
            self.where.data_root / layout.COHORTS_DIR,
        ]
        try:
            with os.scandir(self.where.data_root / layout.COHORTS_DIR) as entries:
                paths += [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
        except OSError:
            pass
        paths += [self.where.gens_root / stage / name for stage, name in self.active]
        self._barrier.mkdir(parents=True, exist_ok=True)
        paths.append(self._barrier)
        return sorted(str(p) for p in paths if p.is_dir())

    def _reopen(self) -> None:
        for _attempt in range(3):
            paths = self._wanted()
            if paths == self._paths and self._notify is not None:
                return
            try:
                notify = open_notifier(paths, self.whole)
                break
            except FileNotFoundError:  # a directory went away between listing and watching: list again
                continue
            except OSError as exc:
                raise WatchError(
                    f"cannot watch {self.where.data_root}: {exc}; on Linux each watched directory takes one inotify watch: "
                    "raise fs.inotify.max_user_watches (sysctl), or lower --max-watches"
                ) from None
        else:
            raise WatchError(f"cannot watch {self.where.data_root}: its directories keep disappearing")
        old, self._notify, self._paths = self._notify, notify, paths
        if old is not None:
            try:
                self._carried |= self._drain(old)
            finally:
                old.close()

    def _drain(self, old: Any) -> set:
        """All ``old`` caught before the new notifier was ready: read until the barrier event comes."""
        self._barriers += 1
        marker = self._barrier / f"{os.getpid()}-{self._barriers}"
        sweep = {(1, str(self.where.gens_root))}  # what classify() reads as "sweep"
        try:
            marker.touch()
            marker.unlink()
        except OSError:  # a full disk, say: no barrier, so let the sweep read what the old one held
            return sweep
        caught: set = set()
        deadline = time.monotonic() + _DRAIN_SECONDS
        while True:
            got = old.watch(STEP_MS, 5, STEP_MS, None)
            if got == "signal":
                raise stopping.interruption()  # watchfiles swallowed which signal it was
            if isinstance(got, set):
                caught |= got
                if any(path == str(marker) for _change, path in got):
                    return caught
            if time.monotonic() > deadline:
                return caught | sweep

    def note(self, gens: set[tuple[str, str]]) -> None:
        """Watch these generation directories from now on (before the update reads them)."""
        if self.whole or not gens:
            return
        now = time.monotonic()
        for key in gens:
            self.active.pop(key, None)
            self.active[key] = now  # newest last
        while len(self.active) > self.max_active:
            self.active.pop(next(iter(self.active)))
        self._reopen()

    def refresh_paths(self) -> None:
        """Forget directories quiet for ``active_seconds`` and pick up new stage or cohort directories."""
        if self.whole:
            return
        cutoff = time.monotonic() - self.active_seconds
        for key in [k for k, seen in self.active.items() if seen < cutoff]:
            del self.active[key]
        self._reopen()

    def watch(self, debounce_ms: int, step_ms: int, timeout_ms: int, stop):
        if self._carried:
            raw, self._carried = self._carried, set()
        else:
            raw = self._notify.watch(debounce_ms, step_ms, timeout_ms, stop)
        if isinstance(raw, set):  # barrier events are gensql's own
            raw = {(change, path) for change, path in raw if not path.startswith(f"{self._barrier}/")}
            return raw or "timeout"
        return raw

    def close(self) -> None:
        if self._notify is not None:
            self._notify.close()
            self._notify = None


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
    max_watches: int | None = None,
) -> None:
    """Keep the index of ``data_root`` current until interrupted (Ctrl-C, SIGTERM) or ``stop.is_set()``.

    ``on_update`` receives an :class:`Update` after every snapshot. Returns only when ``stop`` is set;
    a signal propagates as usual once the current update has either committed or been rolled back.
    """
    where = layout.resolve(data_root, index_dir)
    if not (where.data_root / layout.DOCS_DIR).is_dir():
        where.require_gens()
    report = on_update or (lambda update: None)
    with (
        disk_errors_as_messages(where.index_dir),
        store_umask(where.data_root),
        writer_lock(where.index_dir, where.data_root),
    ):
        watches = WatchSet(
            where, max_watches=MAX_WATCHES if max_watches is None else max_watches
        )  # opened before the first refresh: nothing written meanwhile is missed
        retry = DISK_FULL_RETRY[0]
        next_sweep = time.monotonic() + sweep_interval

        def update(reason: str, changes: Changes | None = None, **extra) -> bool:
            """Run one update and report it; on a full disk report that, and sweep again later."""
            nonlocal next_sweep, retry
            try:
                result = refresh_locked(where, jobs=jobs, texts=texts, changes=changes, collect=changes is None)
            except IndexWriteError as exc:  # nothing was committed and nothing left behind: wait, then sweep
                report(Update("waiting", None, error=f"{exc}; the watcher tries again in {retry:.0f}s"))
                next_sweep = time.monotonic() + retry
                retry = min(retry * 2, DISK_FULL_RETRY[1])
                return False
            report(Update(reason, result, **extra))
            retry = DISK_FULL_RETRY[0]
            return True

        try:
            update("start", watching=watches.describe())
            while stop is None or not stop.is_set():
                if time.monotonic() >= next_sweep:  # due, or a retry after a full disk (even while events flow)
                    next_sweep = time.monotonic() + sweep_interval
                    update("sweep")
                    continue
                wait = max(1, min(_WAKE_MS, int((next_sweep - time.monotonic()) * 1000)))
                raw = watches.watch(debounce_ms, step_ms, wait, stop)
                if raw == "signal":
                    raise stopping.interruption()  # watchfiles swallowed which signal it was
                if raw == "stop":
                    return
                if raw == "timeout":
                    watches.refresh_paths()
                    continue
                paths = {path for _change, path in raw}
                gens, cohorts, sweep = classify(where.data_root, where.index_dir, paths)
                # What the update will read is watched first: a write after the read is an event.
                if sweep or cohorts:
                    watches.refresh_paths()  # new stage or cohort directories
                watches.note(gens)
                if sweep:
                    next_sweep = time.monotonic() + sweep_interval
                    update("sweep")
                elif gens or cohorts:
                    # A failed update leaves the sweep it scheduled: what these events named is read then.
                    if update("events", Changes(frozenset(gens), cohorts), event_paths=len(gens)):
                        collect_garbage(where.index_dir)  # after the update is visible and reported
        finally:
            watches.close()
