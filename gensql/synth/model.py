"""In-memory model of one generation directory (JSON files with their meaning, texts, mtimes) and writing it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..layout import GENS_DIR, PARSED_FILE

_SAME = object()
#: Logical field -> the JSON key current files use for it (other fields use their own name).
_KEY = {
    "model_id": "llm_model_id",
    "recorded_truncated": "truncated",
    "parse_success": "success",
    "parse_error": "error",
    "meta_stage": "stage",
    "meta_gen_id": "gen_id",
}


class JsonFile:
    """One JSON file: ``obj`` is what gets written, ``logical`` what each field means (None = missing)."""

    __slots__ = ("obj", "logical", "keys", "bad")

    def __init__(self) -> None:
        self.obj: dict[str, object] = {}
        self.logical: dict[str, object] = {}
        self.keys: dict[str, str] = {}
        self.bad: list[str] = []

    def set(self, fld: str, value: object, *, key: str | None = None, raw: object = _SAME) -> JsonFile:
        """Write ``raw`` (default ``value``) under ``key``; it means ``value`` for column ``fld``."""
        key = key or _KEY.get(fld, fld)
        self.obj[key] = value if raw is _SAME else raw
        self.logical[fld] = value
        self.keys[fld] = key
        return self

    def extra(self, key: str, value: object) -> None:
        """A key no column reads (kept only in ``meta``)."""
        self.obj[key] = value

    def bad_value(self, fld: str, raw: object, *, key: str | None = None) -> None:
        """Write a value that cannot be coerced to ``fld``'s type: a bad_value error, the field missing."""
        key = key or self.keys.get(fld) or _KEY.get(fld, fld)
        self.logical.pop(fld, None)
        self.keys.pop(fld, None)
        self.obj[key] = raw
        self.bad.append(key)


class GenDir:
    """One generation directory as the generator means it."""

    def __init__(self, stage: str, gen_id: str, era: str, group: str, cohort: str | None) -> None:
        self.stage = stage
        self.gen_id = gen_id
        self.era = era
        self.group = group
        self.cohort = cohort
        self.json: dict[str, JsonFile] = {}
        self.text: dict[str, bytes] = {}
        self.corrupt: dict[str, str] = {}
        self.mtime: dict[str, int] = {}
        self.dir_mtime = 0
        self.score: float | None = None  # the score parsed.txt is meant to carry
        self.row: dict[str, Any] = {}  # extra columns for old-style membership files (CSV cells, ints)
        self.store_root = GENS_DIR  # or seed 000's docs/ (layout.DOCS_DIR)
        self.bucket: str | None = None  # docs/ nested layout: the logical_key_id directory above the doc

    def add_json(self, name: str, j: JsonFile, t: int) -> JsonFile:
        self.json[name] = j
        self.mtime[name] = t
        return j

    def add_text(self, name: str, data: bytes, t: int) -> None:
        self.text[name] = data
        self.mtime[name] = t

    def drop(self, name: str) -> None:
        self.json.pop(name, None)
        self.text.pop(name, None)
        self.mtime.pop(name, None)
        self.corrupt.pop(name, None)

    def set_parsed(self, data: bytes | None, score: float | None, t: int | None = None) -> None:
        if data is None:
            self.drop(PARSED_FILE)
        else:
            self.add_text(PARSED_FILE, data, t if t is not None else self.mtime.get(PARSED_FILE, self.dir_mtime))
        self.score = score if data is not None else None

    def rel(self, name: str | None = None) -> str:
        bucket = f"{self.bucket}/" if self.bucket else ""
        base = f"{self.store_root}/{self.stage}/{bucket}{self.gen_id}"
        return base if name is None else f"{base}/{name}"


def _encode_json(j: JsonFile, kind: str | None) -> bytes:
    if kind == "empty_file":
        return b""
    if kind == "not_an_object":
        return json.dumps([j.obj], indent=2).encode("utf-8")
    if kind == "not_utf8":
        obj = dict(j.obj)
        obj["note"] = "r\u00e9sum\u00e9 import\u00e9 depuis l'ancien poste"
        return json.dumps(obj, indent=2, ensure_ascii=False).encode("latin-1")
    text = json.dumps(j.obj, indent=2)
    if kind == "invalid_json":
        return text[: len(text) * 2 // 3].encode("utf-8")
    assert kind is None, kind
    return text.encode("utf-8")


def touch(path: Path | int, t: int) -> None:
    os.utime(path, ns=(t * 1_000_000_000, t * 1_000_000_000))


def write_gen(root: Path, g: GenDir) -> None:
    d = root / g.rel()
    d.parent.mkdir(parents=True, exist_ok=True)  # a docs/ bucket directory (its mtime: set by the caller)
    d.mkdir()
    for name, j in g.json.items():
        path = d / name
        path.write_bytes(_encode_json(j, g.corrupt.get(name)))
        touch(path, g.mtime[name])
    for name, data in g.text.items():
        path = d / name
        path.write_bytes(data)
        touch(path, g.mtime[name])
    touch(d, g.dir_mtime)
