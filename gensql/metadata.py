"""Reading one generation's JSON files and merging them into one metadata mapping.

Shared by the scanner (``gensql refresh``) and :func:`gensql.load_generation`, so both apply the same
rules: files merge in :data:`gensql.layout.JSON_FILES` order (``metadata.json``, then
``parsed_metadata.json``, then ``raw_metadata.json``), later files win, and a null-like value
(``null``, ``""``, ``"nan"``, ``"none"``, ``"null"``) never overrides a real one. That is what lets
the raw metadata beat the placeholders (``"usage": null``, ``"truncated": false``) of transition-era
``metadata.json`` files.
"""

from __future__ import annotations

import math
import os
from typing import Any, NamedTuple

import orjson

from .fields import FIELDS, Scaled
from .safeio import read_file as safe_read

NULL_LIKE = frozenset({"", "nan", "none", "null"})


class FileProblem(NamedTuple):
    """Why one file could not be used; becomes a ``scan_errors`` row."""

    file: str
    kind: str  # invalid_json | empty_file | not_utf8 | not_an_object | unreadable | bad_value | ...
    message: str


def is_null(value: Any) -> bool:
    """None, a null-like string (``NULL_LIKE``, any case, surrounding blanks ignored) or NaN."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in NULL_LIKE
    if isinstance(value, float):
        return math.isnan(value)
    return False


def read_file(path: str, roots: tuple[str, ...] | None = None) -> tuple[bytes, os.stat_result]:
    """Read a whole regular file (bytes and the ``fstat`` of the open descriptor) by :mod:`gensql.safeio`'s rules."""
    return safe_read(path, roots)


def parse_json_object(name: str, data: bytes) -> tuple[dict | None, FileProblem | None]:
    """Parse one metadata file; return the object or the problem that stopped it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data or data.isspace():
        return None, FileProblem(name, "empty_file", "file is empty")
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as uexc:
            return None, FileProblem(name, "not_utf8", f"not valid UTF-8 at byte {uexc.start}")
        return None, FileProblem(name, "invalid_json", f"invalid JSON: {exc}")
    if not isinstance(obj, dict):
        return None, FileProblem(
            name, "not_an_object", f"top-level JSON {type(obj).__name__} where an object was expected"
        )
    return obj, None


def merge(docs: list[dict]) -> dict:
    """Merge metadata objects in order: later wins, null-like values never override."""
    merged = dict(docs[0])
    for doc in docs[1:]:
        for key, value in doc.items():
            if key in merged and is_null(value):
                continue
            merged[key] = value
    return merged


# --- typed extraction -----------------------------------------------------------------------------


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a string")
    return str(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)  # "12.0" is fine
            except ValueError:
                raise ValueError("expected an integer") from None
            if number.is_integer():
                return int(number)
    raise ValueError("expected an integer")


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError("expected a number") from None
    raise ValueError("expected a number")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ValueError("expected true or false")


CONVERTERS = {"string": _to_string, "int": _to_int, "float": _to_float, "bool": _to_bool}

#: Every ``int`` column is a 64-bit integer: a value outside this range is a ``bad_value``.
INT64_RANGE = (-(2**63), 2**63 - 1)
#: Values a column can hold without being absurd (``(low, high)``, both inclusive); anything else,
#: like a negative token count or an infinite duration, is recorded as ``bad_value``. Token counts
#: stop at 2**53 (exact as a JSON number, and a sum of two of them still fits 64 bits).
VALUE_RANGES: dict[str, tuple[float, float]] = {
    "prompt_tokens": (0, 2**53),
    "completion_tokens": (0, 2**53),
    "total_tokens": (0, 2**53),
    "max_tokens": (0, 2**53),
    "duration_s": (0.0, 1e12),
}


def _range_problem(value: Any, typ: str, low_high: tuple[float, float] | None) -> str | None:
    """Why ``value`` does not fit its column, or None."""
    if typ == "int":
        low, high = low_high or INT64_RANGE
    elif typ == "float":
        if value != value or value in (math.inf, -math.inf):
            return "not a finite number"
        if low_high is None:
            return None
        low, high = low_high
    else:
        return None
    if value < low:
        return "below the smallest plausible value" if low_high else "outside the 64-bit integer range"
    if value > high:
        return f"above {high:g}, not a plausible value" if low_high else "outside the 64-bit integer range"
    return None


# (column, type, converter, [(top key, nested path or None, dotted key, scale)]) compiled once from the
# declared field table.
_PLAN = [
    (
        f.name,
        f.type,
        CONVERTERS[f.type],
        VALUE_RANGES.get(f.name),
        [
            (parts[0], tuple(parts[1:]) or None, key, s.factor if isinstance(s, Scaled) else None)
            for s in f.sources
            for key in [s.key if isinstance(s, Scaled) else s]
            for parts in [key.split(".")]
        ],
    )
    for f in FIELDS
]
_NATIVE = {"string": str, "int": int, "float": float, "bool": bool}


def source_file(docs: list[tuple[str, dict]], top_key: str) -> str | None:
    """Which file supplied ``top_key`` in the merge (the last one with a non-null value)."""
    found = None
    for name, doc in docs:
        if top_key in doc and (found is None or not is_null(doc[top_key])):
            found = name
    return found


#: Longest string a typed column takes (model and template ids, run ids, parsers...). A longer value
#: leaves the column NULL with a ``bad_value`` row; the file keeps it (and ``meta`` when that fits).
MAX_VALUE_CHARS = 1024
#: Largest ``meta`` (the merged metadata as JSON) a ``gens`` row keeps; beyond it ``meta`` is NULL with
#: a ``too_large`` row, so a batch of rows in a refresh worker stays small.
MAX_META_BYTES = 1024 * 1024


def extract(merged: dict) -> tuple[dict[str, Any], list[tuple[str, str, Any, str]]]:
    """Typed column values from merged metadata, and the values that could not be coerced.

    Returns ``(values, bad)`` where ``bad`` holds ``(column, key, value, reason)``; a bad value leaves
    the column NULL (the original stays in ``meta``) and is reported, never dropped silently.
    This runs once per generation, so the common cases (a value already of the column's type, a
    plain string) take a fast path before the general converters.
    """
    values: dict[str, Any] = {}
    bad: list[tuple[str, str, Any, str]] = []
    not_objects: set[str] = set()
    for name, typ, convert, limits, sources in _PLAN:
        result: Any = None
        native = _NATIVE[typ]
        for top, nested, key, factor in sources:
            raw = merged.get(top)
            if nested is not None:
                if raw is not None and raw.__class__ is not dict:
                    if top not in not_objects and not is_null(raw):  # "usage": "lots": reported once
                        not_objects.add(top)
                        bad.append((name, top, raw, f"expected an object holding {key}"))
                    continue
                for part in nested:
                    raw = raw.get(part) if raw.__class__ is dict else None
            if raw is None:
                continue
            cls = raw.__class__
            if cls is str:
                text = raw.strip()
                if text.lower() in NULL_LIKE:
                    continue
                if typ == "string":
                    if len(text) > MAX_VALUE_CHARS:  # an id, a name: never a 100,000,000-character one
                        bad.append(
                            (name, key, text[:64] + "...", f"{len(text)} characters, more than {MAX_VALUE_CHARS}")
                        )
                        continue
                    result = text
                    break
            elif cls is native and factor is None and cls is not float:
                if cls is int and (limits is not None or not INT64_RANGE[0] <= raw <= INT64_RANGE[1]):
                    reason = _range_problem(raw, typ, limits)
                    if reason:
                        bad.append((name, key, raw, reason))
                        continue
                result = raw
                break
            elif cls is float and raw != raw:  # NaN is null-like
                continue
            try:
                result = convert(raw)
            except (ValueError, OverflowError) as exc:
                bad.append((name, key, raw, str(exc)))
                continue
            if factor is not None:
                result = result * factor
            reason = _range_problem(result, typ, limits)
            if reason:
                bad.append((name, key, raw, reason))
                result = None
                continue
            break
        values[name] = result
    return values, bad
