"""Evaluation scores from ``parsed.txt``, in the three forms the store holds.

Current files hold a float line (``7.0``), imported files an integer (``7``), early files the whole
response ending in a line ``SCORE: 7``. A missing or unparseable file yields no score and a reason.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_SCORE_LINE = re.compile(
    r"^\s*\**\s*SCORE\s*\**\s*:\s*\**\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))", re.IGNORECASE | re.MULTILINE
)

MISSING = "parsed.txt is missing"


def parse_score(text: str | None) -> tuple[float | None, str | None]:
    """Return ``(score, None)`` or ``(None, reason)``."""
    if text is None:
        return None, MISSING
    stripped = text.strip()
    if not stripped:
        return None, "parsed.txt is empty"
    if _NUMBER.fullmatch(stripped):
        return float(stripped), None
    found = _SCORE_LINE.findall(stripped)
    if found:
        return float(found[-1]), None
    first = stripped.splitlines()[0][:40]
    return None, f"no score in parsed.txt: expected a number or a 'SCORE: n' line, found {first!r}"
