"""Is the index older than the store? Cheap checks only: stage directory and cohort file mtimes.

A refresh starts by naming its snapshot after the current time (``index.new_snapshot_id``), so any
``gens/<stage>/`` directory, ``cohorts/`` directory or ``cohorts/<id>/membership.csv`` modified after
that moment holds a change the snapshot may not have seen: a generation added or removed, a cohort
added or rewritten. (A file rewritten inside an existing generation directory does not change these
mtimes; only ``gensql refresh`` sees that.)
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import layout


class StaleIndexWarning(UserWarning):
    """The store changed after the index snapshot was taken: run ``gensql refresh``."""


@dataclass(frozen=True)
class Staleness:
    snapshot_id: str
    snapshot_time: datetime
    changed: tuple[str, ...]  # paths relative to the data root, newest change first

    def message(self) -> str:
        shown = ", ".join(self.changed[:4]) + (f" and {len(self.changed) - 4} more" if len(self.changed) > 4 else "")
        when = self.snapshot_time.isoformat(sep=" ", timespec="seconds").replace("+00:00", " UTC")
        return (
            f"the index (snapshot {self.snapshot_id}, taken {when}) is older than changes in the store "
            f"({shown}): run `gensql refresh`"
        )


def snapshot_time(snapshot_id: str, info: dict | None = None) -> datetime | None:
    """When the refresh that wrote ``snapshot_id`` started (from its id), else its ``created_at``."""
    try:
        return datetime.strptime(snapshot_id.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        pass
    created = (info or {}).get("created_at")
    try:
        return datetime.fromisoformat(created) if created else None
    except ValueError:
        return None


def _mtime(path: Path) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def check_staleness(data_root: Path, snapshot_id: str, info: dict | None = None) -> Staleness | None:
    """A :class:`Staleness` when the store changed after the snapshot was started, else None."""
    when = snapshot_time(snapshot_id, info)
    if when is None:
        return None
    limit = when.timestamp()
    data_root = Path(data_root)
    candidates = [data_root / layout.GENS_DIR / stage for stage in layout.STAGES]
    cohorts = data_root / layout.COHORTS_DIR
    candidates.append(cohorts)
    try:
        with os.scandir(cohorts) as entries:
            candidates += [Path(e.path) / layout.MEMBERSHIP_FILE for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        pass
    changed = []
    for path in candidates:
        mtime = _mtime(path)
        if mtime is not None and mtime > limit:
            changed.append((mtime, path.relative_to(data_root).as_posix() + ("/" if path.is_dir() else "")))
    if not changed:
        return None
    return Staleness(snapshot_id, when, tuple(p for _, p in sorted(changed, reverse=True)))


def warn_if_stale(data_root: Path, snapshot_id: str, info: dict | None = None) -> Staleness | None:
    """:func:`check_staleness`, issuing a :class:`StaleIndexWarning` when the index is stale."""
    stale = check_staleness(data_root, snapshot_id, info)
    if stale is not None:
        warnings.warn(stale.message(), StaleIndexWarning, stacklevel=3)
    return stale
