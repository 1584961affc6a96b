"""Lazy package attributes: a name is imported from its module the first time it is used."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_getattr(package: str, exports: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``exports[name]`` on first use and keeps
    the value in ``namespace`` (the package's globals), so ``import package`` itself stays cheap.
    ``exports[name] == f"{package}.{name}"`` makes the submodule itself the attribute."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = import_module(module)
        value = imported if module == f"{package}.{name}" else getattr(imported, name)  # a submodule itself
        namespace[name] = value
        return value

    return __getattr__


def lazy_dir(namespace: dict[str, Any], public: list[str]) -> Callable[[], list[str]]:
    """A module ``__dir__`` listing the lazy names too, so ``dir()``, ``help()`` and completion see them."""

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __dir__
