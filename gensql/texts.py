"""Facts of one text file (bytes, characters, lines, sha256, valid UTF-8), read streaming in one pass.

Used by refresh for the ``texts`` table: a text is read and hashed only when its generation directory
changed (the same change signatures as ``gens``), so a no-op refresh reads no text. Any size is
hashed streaming, a chunk at a time, so a 50 MB text costs memory for one chunk only.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
from typing import NamedTuple

from .safeio import UnsafeFileError, safe_stat

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


class _Facts:
    """Accumulates the facts of one text chunk by chunk.

    Valid UTF-8 (the usual case) is decoded once, strictly; only from the first invalid chunk on does a
    lenient decoder (invalid bytes as U+FFFD) take over, started from the strict one's pending bytes.
    """

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.strict = codecs.getincrementaldecoder("utf-8")("strict")
        self.lenient: codecs.IncrementalDecoder | None = None  # set on the first invalid byte
        self.size = self.chars = self.newlines = 0
        self.last = b""

    def update(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        self.size += len(chunk)
        self.newlines += chunk.count(b"\n")
        if self.lenient is None:
            state = self.strict.getstate()
            try:
                self.chars += len(self.strict.decode(chunk))
            except UnicodeDecodeError:
                self.lenient = codecs.getincrementaldecoder("utf-8")("replace")
                self.lenient.setstate(state)
                self.chars += len(self.lenient.decode(chunk))
        else:
            self.chars += len(self.lenient.decode(chunk))
        if chunk:
            self.last = chunk[-1:]

    def result(self) -> TextFacts:
        if self.lenient is None:
            try:
                self.strict.decode(b"", final=True)
            except UnicodeDecodeError:  # a truncated character at the very end
                self.lenient = codecs.getincrementaldecoder("utf-8")("replace")
                self.lenient.setstate(self.strict.getstate())
        if self.lenient is not None:
            self.chars += len(self.lenient.decode(b"", final=True))
        lines = self.newlines + (1 if self.size and self.last != b"\n" else 0)
        return TextFacts(
            self.size, self.chars, lines, self.sha.hexdigest(), self.lenient is not None, self.chars > SEARCH_MAX_CHARS
        )


def facts_of_bytes(data: bytes) -> TextFacts:
    """The facts of a text already read whole (an evaluation's ``parsed.txt``, read for its score)."""
    facts = _Facts()
    facts.update(data)
    return facts.result()


def _open_text(path: str | os.PathLike, roots: tuple[str, ...] | None) -> int:
    """An open descriptor of a regular file, by the safe-read rules at the cost of one ``open``.

    The open never follows a symlink and never blocks (``O_NOFOLLOW | O_NONBLOCK``), and ``fstat`` on
    the descriptor proves a regular file; only a symlink takes the slow path (``safe_stat``: its target
    must be a regular file inside the store).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        safe_stat(path, roots)  # a symlink: followed only to a regular file inside the store
        fd = os.open(path, _OPEN_FLAGS)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UnsafeFileError("unreadable", "not a regular file; not read")
    return fd


def text_facts(path: str, roots: tuple[str, ...] | None = None) -> TextFacts:
    """Read ``path`` once, streaming, and return its facts. Raises ``OSError`` (``UnsafeFileError`` too)."""
    fd = _open_text(path, roots)  # never a FIFO or device, never outside the store
    try:
        facts = _Facts()
        while chunk := os.read(fd, _CHUNK):
            facts.update(chunk)
    finally:
        os.close(fd)
    return facts.result()


def text_facts_and_prefix(path: str, roots: tuple[str, ...] | None = None) -> tuple[TextFacts, str]:
    """:func:`text_facts` and, from the same single read, the text search indexes: what
    :func:`read_text_prefix` would return. A refresh indexes a text in the worker that reads it for
    its facts, so no text is read twice."""
    fd = _open_text(path, roots)
    want, kept = 4 * SEARCH_MAX_CHARS, []  # a character is at most 4 bytes of UTF-8
    try:
        facts = _Facts()
        while chunk := os.read(fd, _CHUNK):
            facts.update(chunk)
            if want > 0:
                kept.append(chunk[:want])
                want -= len(chunk)
    finally:
        os.close(fd)
    return facts.result(), search_text(b"".join(kept))


def search_text(data: bytes) -> str:
    """The text search indexes of a text's bytes: its first :data:`SEARCH_MAX_CHARS` characters,
    invalid UTF-8 replaced."""
    return data[: 4 * SEARCH_MAX_CHARS].decode("utf-8", errors="replace")[:SEARCH_MAX_CHARS]


def read_text_prefix(
    path: str | os.PathLike, roots: tuple[str, ...] | None = None, max_chars: int = SEARCH_MAX_CHARS
) -> str | None:
    """The first ``max_chars`` characters of a text (invalid UTF-8 replaced), by the same safe-read
    rules as the scan (regular files inside the store only); None when it cannot be read."""
    try:
        fd = _open_text(path, roots)
    except OSError:
        return None
    try:
        want, chunks = 4 * max_chars, []  # a character is at most 4 bytes of UTF-8
        while want > 0 and (chunk := os.read(fd, min(want, _CHUNK))):
            chunks.append(chunk)
            want -= len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", errors="replace")[:max_chars]
