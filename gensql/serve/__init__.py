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


def create_app(
    data_root: str | os.PathLike | None = None,
    index_dir: str | os.PathLike | None = None,
    bound: tuple[str, int] | None = None,
):
    """The workbench as an ASGI (Starlette) application over the store at ``data_root``; with ``bound``
    (host, port) it answers only requests addressed to that host and port (DNS rebinding)."""
    _require()
    from .app import create_app as _create

    return _create(data_root, index_dir, bound=bound)


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
    return (
        f"warning: listening on {host}: anyone who can reach this machine can read every generation in the store "
        "(there is no login); bind 127.0.0.1 unless that is what you want"
    )


class ServeError(GensqlError):
    """The server cannot start: the data root does not exist, or the address cannot be listened on."""

    exit_code = 2


def serve(
    data_root=None,
    index_dir=None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
    say=None,
) -> None:
    """Run the workbench on uvicorn until interrupted. ``say(message)`` gets the talk (a bind warning,
    the URL once it listens); the pages follow each new snapshot, and show how to make one if none exists.
    """
    _require()
    import socket
    import threading

    import uvicorn

    from .. import layout

    say = say or (lambda message: None)
    where = layout.resolve(data_root, index_dir)
    if not where.data_root.is_dir():
        raise ServeError(f"no data root at {where.data_root}: pass --data-root or set {layout.DATA_ROOT_ENV}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (pick another --port)") from None
    warning = bind_warning(host)
    if warning:
        say(warning)
    app = create_app(where.data_root, where.index_dir, bound=(host, port))
    shown_host = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.02)
        if server.started:
            try:  # the port really bound: --port 0 asks the system for a free one
                bound = server.servers[0].sockets[0].getsockname()[1]
            except (AttributeError, IndexError, OSError):
                bound = port
            url = f"http://{shown_host}:{bound}/"
            say(f"serving {where.data_root} at {url} (read-only; Ctrl-C stops)")
            if open_browser:
                import webbrowser

                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    finally:
        app.state.workbench.close()


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServeDependencyError", "ServeError", "bind_warning", "create_app", "serve"]
