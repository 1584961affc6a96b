"""Opening fsspec URLs: the one place :mod:`.objstore` (the store) and :mod:`.remote_index` (the index) share."""

from __future__ import annotations

from . import DistributedError, require


def open_url(url: str, storage_options: dict | None = None):
    """``(filesystem, root path)`` of an fsspec URL, or a one-line error."""
    require("fsspec")
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as exc:
        from . import EXTRA, MissingDistributedError

        raise MissingDistributedError(
            f"cannot open {url}: {exc} (install that fsspec implementation; s3fs comes with pip install 'gensql[{EXTRA}]')"
        ) from None
    except ValueError as exc:
        raise DistributedError(f"cannot open {url}: {exc}") from None
    return fs, root.rstrip("/")


def strip_protocol(path: str) -> str:
    """A path or URL without its protocol and leading slashes (``s3://b/k`` and ``/b/k`` -> ``b/k``)."""
    return path.split("://", 1)[-1].lstrip("/")
