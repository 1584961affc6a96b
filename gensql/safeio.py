"""Safe reads of store files: regular files only, never blocking, size-capped, never outside the store.

Every file gensql reads from a store (the JSON metadata, an evaluation's ``parsed.txt``, ``membership.csv``,
the texts of ``gensql show``) and a price table goes through :func:`read_file`:

- **Regular files only.** The path is ``lstat``-ed first; a FIFO, socket or device (or a symlink to one)
  is refused without opening it. The file is then opened with ``O_NONBLOCK`` (an open of a FIFO that
  appeared in between cannot block) and re-checked with ``fstat`` on the open descriptor.
- **Size cap.** At most :func:`max_file_bytes` bytes are read (default :data:`DEFAULT_MAX_FILE_BYTES`,
  ``$GENSQL_MAX_FILE_BYTES`` overrides it); a larger file is refused, never partly read.
- **Symlink rule.** With ``roots`` given, a path whose real path (symlinks resolved) is not inside one of
  the ``roots`` is refused as ``outside_store`` and not opened. :func:`store_roots` gives the roots of
  a data root: its real path, and the real paths of its ``gens/``, ``cohorts/`` and ``docs/`` folders
  (which may themselves be symlinks to another disk).

Refusals raise :class:`UnsafeFileError`, an ``OSError`` whose ``kind`` is the ``scan_errors`` kind to
record (``unreadable``, ``too_large`` or ``outside_store``).
"""

from __future__ import annotations

import errno
import os
import stat

from . import layout

#: Largest file gensql reads, in bytes, unless ``$GENSQL_MAX_FILE_BYTES`` says otherwise.
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES_ENV = "GENSQL_MAX_FILE_BYTES"
#: Largest JSON metadata file gensql parses, unless ``$GENSQL_MAX_JSON_BYTES`` says otherwise. Parsing
#: costs many times a file's size (a 100 MB metadata.json took 2.2 GB), so the cap is far below the
#: general one: no pipeline writes metadata this large, and a refresh's memory stays bounded.
DEFAULT_MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_BYTES_ENV = "GENSQL_MAX_JSON_BYTES"

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_KIND_NAMES = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


class UnsafeFileError(OSError):
    """A file gensql refuses to read; ``kind`` is the ``scan_errors`` kind, the message says why."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.strerror = message

    def __str__(self) -> str:
        return self.message


def max_file_bytes() -> int:
    """The size cap in bytes: ``$GENSQL_MAX_FILE_BYTES`` when set to a positive integer, else the default."""
    return _env_bytes(MAX_FILE_BYTES_ENV, DEFAULT_MAX_FILE_BYTES)


def max_json_bytes() -> int:
    """The cap for JSON metadata files: ``$GENSQL_MAX_JSON_BYTES`` when set to a positive integer, else
    the default; never above :func:`max_file_bytes`."""
    return min(_env_bytes(MAX_JSON_BYTES_ENV, DEFAULT_MAX_JSON_BYTES), max_file_bytes())


def _env_bytes(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value:
        try:
            number = int(value)
            if number > 0:
                return number
        except ValueError:
            pass
    return default


def store_roots(data_root: str | os.PathLike) -> tuple[str, ...]:
    """Real paths that count as inside the store of ``data_root`` (see the module docstring)."""
    root = os.path.realpath(data_root)
    roots = [root]
    for name in (layout.GENS_DIR, layout.COHORTS_DIR, layout.DOCS_DIR):
        real = os.path.realpath(os.path.join(root, name))
        if real not in roots:
            roots.append(real)
    return tuple(roots)


def is_inside(real_path: str, roots: tuple[str, ...]) -> bool:
    return any(real_path == r or real_path.startswith(r.rstrip("/") + "/") for r in roots)


def check_inside(path: str | os.PathLike, roots: tuple[str, ...]) -> str:
    """The real path of ``path`` if it stays inside ``roots``; else :class:`UnsafeFileError` (``outside_store``).

    A symlink loop is ``unreadable``; a dangling symlink raises ``FileNotFoundError`` like a missing file.
    """
    try:
        real = os.path.realpath(path, strict=True)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnsafeFileError("unreadable", f"cannot resolve: {exc.strerror or exc}") from None
    if not is_inside(real, roots):
        raise UnsafeFileError("outside_store", f"symlink leads outside the store (to {real}); not read")
    return real


def _refuse_mode(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise UnsafeFileError("unreadable", os.strerror(errno.EISDIR))  # "Is a directory", as open() would say
    if not stat.S_ISREG(mode):
        what = _KIND_NAMES.get(stat.S_IFMT(mode), "not a regular file")
        raise UnsafeFileError("unreadable", f"{what}, not a regular file; not read")


def safe_stat(path: str | os.PathLike, roots: tuple[str, ...] | None = None) -> os.stat_result:
    """``stat`` of a regular file that may be read (same checks as :func:`read_file`, nothing opened)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        st = _follow(path, roots)[1]
    _refuse_mode(st.st_mode)
    return st


def _follow(path: str | os.PathLike, roots: tuple[str, ...] | None) -> tuple[str | os.PathLike, os.stat_result]:
    """The path to open and the ``stat`` of a symlink's target, by the symlink rule. A link to nothing is
    an ``unreadable`` :class:`UnsafeFileError`, not a ``FileNotFoundError``: the file is there, broken,
    and must be recorded rather than taken for an absent optional file."""
    try:
        if roots is not None:
            path = check_inside(path, roots)
        return path, os.stat(path)
    except FileNotFoundError:
        raise UnsafeFileError("unreadable", "a dangling symlink (its target does not exist); not read") from None


def read_file(
    path: str | os.PathLike,
    roots: tuple[str, ...] | None = None,
    limit: int | None = None,
    limit_env: str = MAX_FILE_BYTES_ENV,
) -> tuple[bytes, os.stat_result]:
    """Read a whole regular file; return its bytes and the ``fstat`` of the open descriptor.

    Raises ``FileNotFoundError`` (and other ``OSError``) like ``open``, and :class:`UnsafeFileError`
    for a file that is not regular, larger than ``limit`` (default :func:`max_file_bytes`), or (with
    ``roots``) outside the store. ``limit_env`` names the setting that raises ``limit`` (in the message).
    """
    limit = max_file_bytes() if limit is None else limit
    st = os.lstat(path)
    flags = _OPEN_FLAGS
    if stat.S_ISLNK(st.st_mode):
        path, st = _follow(path, roots)
    else:
        flags |= getattr(os, "O_NOFOLLOW", 0)  # it was no symlink when checked: it must not become one
    _refuse_mode(st.st_mode)
    if st.st_size > limit:
        raise UnsafeFileError(
            "too_large", f"{st.st_size} bytes, more than the {limit}-byte limit ({limit_env}); not read"
        )
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        _refuse_mode(st.st_mode)
        chunks: list[bytes] = []
        size = 0
        while True:  # one read for a file that did not change since fstat; more if it grew
            want = min(max(st.st_size + 1 - size, 1 << 16), limit + 1 - size)
            chunk = os.read(fd, want)
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # the file grew past the limit while we read it
                raise UnsafeFileError("too_large", f"more than the {limit}-byte limit ({limit_env}); not read")
            if len(chunk) < want:
                break
        return b"".join(chunks) if len(chunks) > 1 else chunks[0], st
    finally:
        os.close(fd)
