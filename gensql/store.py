"""Programmatic access to one generation on disk (seed 004's ``load_generation``) and ``gensql show``.

Both read the files directly, not the index, with the scanner's rules: the metadata is merged exactly
as ``gensql refresh`` merges it, and :func:`describe_generation` returns the very row a refresh would
write. Every stage and id is checked before it becomes part of a path, so nothing can leave the store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import layout
from .errors import GenerationNotFoundError, InvalidIdError
from .metadata import FileProblem, merge, parse_json_object, read_file
from .safeio import store_roots
from .scan import scan_generation


def _gen_dir(gens_root: Path, stage: str, gen_id: str) -> Path:
    layout.check_stage(stage)
    layout.check_name(gen_id, "gen_id")
    root = gens_root.resolve()
    gen_dir = (root / stage / gen_id).resolve()
    if root not in gen_dir.parents:  # a symlink pointing out of the store
        raise InvalidIdError(f"{stage}/{gen_id} resolves outside the store ({gen_dir})")
    if not gen_dir.is_dir():
        raise GenerationNotFoundError(f"no generation {stage}/{gen_id}: {gen_dir} does not exist")
    return gen_dir


def _read(path: Path, roots: tuple[str, ...], problems: list[FileProblem]) -> bytes | None:
    """The file's bytes by :mod:`gensql.safeio`'s rules; None (and a problem) when it cannot be used."""
    try:
        data, _ = read_file(str(path), roots)
        return data
    except FileNotFoundError:
        return None
    except OSError as exc:  # UnsafeFileError names its kind: unreadable, too_large, outside_store
        problems.append(
            FileProblem(path.name, getattr(exc, "kind", "unreadable"), f"cannot read: {exc.strerror or exc}")
        )
        return None


def _text(path: Path, roots: tuple[str, ...], problems: list[FileProblem]) -> str | None:
    data = _read(path, roots, problems)
    return None if data is None else data.decode("utf-8", errors="replace")  # bytes: no newline translation


def load_generation(data_root: str | os.PathLike[str] | None, stage: str, gen_id: str) -> dict[str, Any]:
    """Read one generation: ``parsed_text``, ``raw_text``, ``prompt_text`` (None when the file is absent)
    and ``metadata`` (the merged metadata), plus ``problems`` (files that could not be used, as text),
    ``gen_dir`` (the directory relative to the data root, as ``gens.gen_dir`` in the index) and ``path``
    (the same directory, absolute).

    ``data_root``: the folder holding ``gens/`` (None: ``$GENSQL_DATA_ROOT``, else ``./data``); the
    ``gens/`` folder itself is accepted too. Raises :class:`~gensql.errors.InvalidIdError` for an
    unknown stage or an id that would leave the store, :class:`~gensql.errors.GenerationNotFoundError`
    when the directory does not exist.
    """
    given = layout.resolve(data_root).data_root if data_root is None else Path(data_root)
    gens_root = given
    if not (given / stage).is_dir() and (given / layout.GENS_DIR).is_dir():
        gens_root = given / layout.GENS_DIR  # the data root was given (the documented form)
    gen_dir = _gen_dir(gens_root, stage, gen_id)
    roots = tuple(dict.fromkeys(store_roots(gens_root.absolute().parent) + (os.path.realpath(gens_root),)))
    return _load(gen_dir, roots, stage, gen_id, f"{layout.GENS_DIR}/{stage}/{gen_id}")


def _load(gen_dir: Path, roots: tuple[str, ...], stage: str, gen_id: str, rel_dir: str) -> dict[str, Any]:
    docs: list[dict] = []
    problems: list[FileProblem] = []
    for name in layout.JSON_FILES:
        data = _read(gen_dir / name, roots, problems)
        if data is None:
            continue
        obj, problem = parse_json_object(name, data)
        if obj is not None:
            docs.append(obj)
        elif problem is not None:
            problems.append(problem)
    texts = {
        key: _text(gen_dir / name, roots, problems)
        for key, name in (
            ("parsed_text", layout.PARSED_FILE),
            ("raw_text", layout.RAW_FILE),
            ("prompt_text", layout.PROMPT_FILE),
        )
    }
    return {
        "stage": stage,
        "gen_id": gen_id,
        "gen_dir": rel_dir,
        "path": str(gen_dir),
        **texts,
        "metadata": merge(docs) if docs else {},
        "problems": [f"{p.file}: {p.kind}: {p.message}" for p in problems],
    }


def _candidates(data_root: Path, stage: str, gen_id: str) -> list[str]:
    """Where a generation of ``stage`` named ``gen_id`` may live, relative to the data root, in the
    order refresh prefers them: ``gens/``, then seed 000's flat ``docs/``, then its nested ``docs/``."""
    found = []
    if (data_root / layout.GENS_DIR / stage / gen_id).is_dir():
        found.append(f"{layout.GENS_DIR}/{stage}/{gen_id}")
    docs_stage = data_root / layout.DOCS_DIR / stage
    if (docs_stage / gen_id).is_dir() and any(p.is_file() for p in (docs_stage / gen_id).iterdir()):
        found.append(f"{layout.DOCS_DIR}/{stage}/{gen_id}")
    if docs_stage.is_dir():
        found += sorted(
            f"{layout.DOCS_DIR}/{stage}/{p.parent.name}/{gen_id}" for p in docs_stage.glob(f"*/{gen_id}") if p.is_dir()
        )
    return found


def locate(data_root: str | os.PathLike | None, gen_id: str, stage: str | None = None) -> tuple[str, str]:
    """``(stage, directory relative to the data root)`` of ``gen_id``, in ``gens/`` or seed 000's ``docs/``;
    an error if no stage holds it, or several do and ``stage`` is not given."""
    where = layout.resolve(data_root)
    if not (where.data_root / layout.DOCS_DIR).is_dir():
        where.require_gens()
    layout.check_name(gen_id, "gen_id")
    stages = [layout.check_stage(stage)] if stage else list(layout.STAGES)
    found = {s: dirs[0] for s in stages if (dirs := _candidates(where.data_root, s, gen_id))}
    if not found:
        raise GenerationNotFoundError(
            f"no generation {gen_id!r} under {where.data_root} (looked in gens/ and docs/, stages {', '.join(stages)})"
        )
    if len(found) > 1:
        raise InvalidIdError(f"{gen_id!r} exists in several stages ({', '.join(found)}): pass --stage")
    return next(iter(found.items()))


def find_stage(data_root: str | os.PathLike | None, gen_id: str) -> str:
    """The stage holding ``gen_id``; an error if none or several do (then pass the stage)."""
    return locate(data_root, gen_id)[0]


@dataclass
class GenerationReport:
    """What ``gensql show`` prints: the index row a refresh would write, the texts and the metadata."""

    row: dict[str, Any]
    generation: dict[str, Any]
    problems: list[str]


def describe_generation(data_root: str | os.PathLike | None, gen_id: str, stage: str | None = None) -> GenerationReport:
    where = layout.resolve(data_root)
    stage, rel_dir = locate(where.data_root, gen_id, stage)
    roots = store_roots(where.data_root)
    gen_dir = where.data_root / rel_dir
    if not any(
        Path(r) == Path(os.path.realpath(gen_dir)) or Path(r) in Path(os.path.realpath(gen_dir)).parents for r in roots
    ):
        raise InvalidIdError(f"{stage}/{gen_id} resolves outside the store ({os.path.realpath(gen_dir)})")
    generation = _load(gen_dir, roots, stage, gen_id, rel_dir)
    scanned = scan_generation(str(where.data_root), stage, gen_id, 0, rel_dir)
    problems = [f"{p.file}: {p.kind}: {p.message}" for p in scanned.problems]
    row = dict(scanned.row)
    row["created_at"] = datetime.fromtimestamp(row["created_at"] / 1e6, UTC)  # the scanner keeps µs
    return GenerationReport(row=row, generation=generation, problems=problems)
