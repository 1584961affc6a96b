"""The sample store's file times, kept in a manifest beside it, because git does not keep them.

gensql reads a generation's time from its files' mtimes (the pipeline writes no timestamp in its
JSON), and ``git clone`` sets every mtime to the moment of the clone: on a fresh clone the sample
store's generations all seem to be made today, and the README's ``--since 2025-03-01`` examples
find nothing. ``data/mtimes.tsv`` records each path's mtime as the sample generator wrote it, and
:func:`restore_mtimes` (``python -m gensql.synth restore-mtimes data``, run by ``make demo``) puts
them back. Nothing else depends on it: gensql is correct on any mtimes; only the sample's dates are
at stake.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The manifest's name, at the top of the data root it describes.
MANIFEST = "mtimes.tsv"
_HEADER = "path\tmtime_ns"
#: Not part of the store: gensql's own index and the manifest itself.
_SKIP = {"index", MANIFEST}


def record_mtimes(root: str | os.PathLike, manifest: str | os.PathLike | None = None) -> Path:
    """Write the manifest of every file and directory under ``root`` (paths relative, ``/``-separated)."""
    root = Path(root)
    rows = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in _SKIP]
            filenames = [f for f in filenames if f not in _SKIP]
        for name in [*dirnames, *filenames]:
            path = here / name
            rows.append(f"{path.relative_to(root).as_posix()}\t{path.lstat().st_mtime_ns}")
    target = Path(manifest) if manifest else root / MANIFEST
    target.write_text("\n".join([_HEADER, *sorted(rows)]) + "\n", encoding="utf-8")
    return target


def restore_mtimes(root: str | os.PathLike, manifest: str | os.PathLike | None = None) -> tuple[int, int]:
    """Set each path's mtime (and atime) from the manifest; ``(restored, missing)`` path counts.

    Directories are set after the files inside them (setting a file's time leaves its directory's alone,
    but this order holds even if that changes); paths the manifest names that do not exist are counted,
    not created.
    """
    root = Path(root)
    source = Path(manifest) if manifest else root / MANIFEST
    lines = source.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != _HEADER:
        raise ValueError(f"{source} is not an mtimes manifest (its first line should be {_HEADER!r})")
    entries = [line.split("\t") for line in lines[1:] if line]
    restored = missing = 0
    for rel, ns in sorted(entries, key=lambda e: -e[0].count("/")):  # deepest first
        path = root / rel
        try:
            os.utime(path, ns=(int(ns), int(ns)), follow_symlinks=False)
            restored += 1
        except FileNotFoundError:
            missing += 1
    return restored, missing
