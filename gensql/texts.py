"""Facts of one text file (bytes, characters, lines, sha256, valid UTF-8), read streaming in one pass.

Used by refresh for the ``texts`` table: a text is read and hashed only when its generation directory
changed (the same change signatures as ``gens``), so a no-op refresh reads no text. Any size is
hashed streaming, a chunk at a time, so a 50 MB text costs memory for one chunk only.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from typing import NamedTuple

from .safeio import safe_stat

#: Texts of a generation, in the order the ``texts`` table lists them: (column value, file name).
TEXT_KINDS: tuple[tuple[str, str], ...] = (("prompt", "prompt.txt"), ("raw", "raw.txt"), ("parsed", "parsed.txt"))
#: Characters of one text that full-text search indexes; a longer text is searchable up to here only.
SEARCH_MAX_CHARS = 1_000_000
_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


class TextFacts(NamedTuple):
    bytes: int
    chars: int  # Unicode code points after UTF-8 decoding (an invalid byte counts as one U+FFFD)
    lines: int  # newline characters, plus one for a last line without a newline
    sha256: str  # of the exact bytes
    invalid_utf8: bool
    search_capped: bool  # more than SEARCH_MAX_CHARS characters: searchable up to the cap only


def text_facts(path: str, roots: tuple[str, ...] | None = None) -> TextFacts:
    """Read ``path`` once and return its facts. Raises ``OSError`` (``UnsafeFileError`` included)."""
    safe_stat(path, roots)  # a regular file inside the store, or an error: never open a FIFO or device
    fd = os.open(path, _OPEN_FLAGS)
    try:
        if not _is_regular(os.fstat(fd).st_mode):
            raise IsADirectoryError(f"{path} is not a regular file")
        sha = hashlib.sha256()
        lenient = codecs.getincrementaldecoder("utf-8")("replace")
        strict = codecs.getincrementaldecoder("utf-8")("strict")
        valid = True
        size = chars = newlines = 0
        last = b""
        while chunk := os.read(fd, _CHUNK):
            sha.update(chunk)
            size += len(chunk)
            newlines += chunk.count(b"\n")
            chars += len(lenient.decode(chunk))
            if valid:
                try:
                    strict.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
            last = chunk[-1:]
        chars += len(lenient.decode(b"", final=True))
        if valid:
            try:
                strict.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
    finally:
        os.close(fd)
    lines = newlines + (1 if size and last != b"\n" else 0)
    return TextFacts(size, chars, lines, sha.hexdigest(), not valid, chars > SEARCH_MAX_CHARS)


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)
