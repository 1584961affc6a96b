"""`gensql serve`: a local, read-only web workbench over the current index snapshot (browse, read, compare, search, chart, SQL)."""

from __future__ import annotations

import ipaddress
import os

from ..errors import GensqlError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: What `pip install` line brings the web dependencies in.
INSTALL_HINT = "pip install 'gensql[serve]'"


class ServeDependencyError(GensqlError):
    """The optional web dependencies (starlette, uvicorn, jinja2) are not installed."""

    exit_code = 2


def _require() -> None:
    missing = []
    for module in ("starlette", "uvicorn", "jinja2"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ServeDependencyError(
            f"gensql serve needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed: "
            f"run `{INSTALL_HINT}` (or `pip install -e '.[serve]'` in a checkout)"
        )


def create_app(data_root: str | os.PathLike | None = None, index_dir: str | os.PathLike | None = None):
    """The workbench as an ASGI (Starlette) application over the store at ``data_root``."""
    _require()
    from .app import create_app as _create

    return _create(data_root, index_dir)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_warning(host: str) -> str | None:
    """The warning printed when the server listens on more than this machine, else None."""
    if is_loopback(host):
        return None
    return (f"warning: listening on {host}: anyone who can reach this machine can read every generation in the store "
            "(there is no login); bind 127.0.0.1 unless that is what you want")


def serve(data_root=None, index_dir=None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = False,
          on_ready=None) -> None:
    """Run the workbench on uvicorn until interrupted; ``on_ready(url)`` is called once it listens."""
    _require()
    import threading

    import uvicorn

    app = create_app(data_root, index_dir)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/"

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            if on_ready is not None:
                on_ready(url)
            if open_browser:
                import webbrowser

                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    finally:
        app.state.workbench.close()


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServeDependencyError", "bind_warning", "create_app", "serve"]
