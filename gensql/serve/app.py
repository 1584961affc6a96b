"""The Starlette application of the web workbench: routes, error pages, downloads and security headers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..errors import GenerationNotFoundError, GensqlError, InvalidIdError, QueryError, SearchQueryError
from ..render import render_bytes
from . import charts, console, pages
from .markup import highlight, render_text
from .workbench import NoIndexError, Workbench

HERE = Path(__file__).parent
#: Download formats every page offers for its rows.
DOWNLOADS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
#: Query parameters of a page position (dropped when a filter changes, or for a download of every row).
PAGING = ("after", "before", "last", "start", "offset")
_HEADERS = {
    # everything the pages need is served from here: no inline script, no other origin
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _args(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def _url_with(request: Request, drop: tuple = (), **changes) -> str:
    """The current URL with some query parameters replaced (None removes one); list values repeat."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and k not in drop]
    for key, value in changes.items():
        if value is None:
            continue
        for v in value if isinstance(value, (list, tuple)) else [value]:
            items.append((key, v))
    query = urlencode(items)
    return request.url.path + ("?" + query if query else "")


def _start(request: Request) -> int:
    """The ``start`` row number of a paged list (1 when absent)."""
    return pages.start_row(_args(request))


def _toggle(request: Request, key: str, value: str) -> str:
    """The current URL with ``value`` added to or removed from the repeated parameter ``key`` (page reset)."""
    current = request.query_params.getlist(key)
    values = [v for v in current if v != value] if value in current else [*current, value]
    return _url_with(request, drop=PAGING, **{key: values or None})


def create_app(
    data_root=None, index_dir=None, workbench: Workbench | None = None, bound: tuple[str, int] | None = None
) -> Starlette:
    """The workbench as an ASGI app over the store at ``data_root`` (its index: ``index_dir``).

    ``bound``: the (host, port) the server listens on; requests whose Host header names anything else
    are refused (:class:`HostCheck`, against DNS rebinding). None checks nothing (tests, mounting).
    """
    wb = workbench or Workbench(data_root, index_dir)
    wb.warmers.append(pages.warm)
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.globals.update(
        charts=charts,
        render_text=render_text,
        highlight=highlight,
        format_score=pages.format_score,
        snippet_parts=pages.snippet_parts,
        version=__version__,
        facets=pages.FACETS,
        console_url=console.console_url,
    )
    env.filters["num"] = _num
    env.filters["when"] = pages.format_time
    env.filters["score"] = pages.format_score
    env.tests["page_id"] = pages.has_page

    def render(request: Request, page: pages.Page, started: float) -> Response:
        fmt = request.query_params.get("format")
        if fmt:
            if fmt not in DOWNLOADS:
                return error_page(request, 400, f"unknown format {fmt!r}: expected csv or json")
            if page.table is None:
                return error_page(request, 400, "this page has no rows to download")
            name = (request.url.path.strip("/").replace("/", "-") or "overview") + "." + fmt
            return Response(
                render_bytes(page.table, fmt),
                media_type=DOWNLOADS[fmt],
                headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
            )
        snap = wb.current()
        built = time.perf_counter()
        html = env.get_template(page.template).render(
            page=page,
            request=request,
            url_with=lambda **kw: _url_with(request, **kw),
            toggle=lambda k, v: _toggle(request, k, v),
            downloads={f: _url_with(request, drop=PAGING, format=f) for f in DOWNLOADS}
            if page.table is not None
            else {},
            live=pages.snapshot_state(wb),
            **{
                "snapshot_id": snap.snapshot_id,
                "data_root": str(wb.data_root),
                "download_total": page.table.num_rows if page.table is not None else None,
                **page.context,
            },
        )
        now = time.perf_counter()
        timing = f"app;dur={(now - started) * 1000:.1f}, data;dur={(built - started) * 1000:.1f}, render;dur={(now - built) * 1000:.1f}"
        return HTMLResponse(html, status_code=page.status_code, headers={**_HEADERS, "Server-Timing": timing})

    def error_page(request: Request, status: int, message: str, title: str | None = None) -> Response:
        try:  # an error page too learns of a newer snapshot (the 503 page: of the first one)
            live = pages.snapshot_state(wb)
        except GensqlError:
            live = None
        html = env.get_template("error.html").render(
            snapshot_id=live["snapshot_id"] if live else None,
            live=live,
            request=request,
            status=status,
            message=message,
            title=title or {404: "Not found", 503: "No index yet"}.get(status, "Error"),
            data_root=str(wb.data_root),
            page=None,
            downloads={},
        )
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    def view(build):
        def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            try:
                page = build(request)
                if isinstance(page, Response):
                    return page
                return render(request, page, started)
            except NoIndexError as exc:
                return error_page(request, 503, str(exc))
            except (pages.NotFound, GenerationNotFoundError) as exc:
                return error_page(request, 404, str(exc))
            except (InvalidIdError, SearchQueryError, QueryError) as exc:
                return error_page(request, 400, str(exc))
            except GensqlError as exc:
                return error_page(request, 500, str(exc))

        return endpoint

    def overview(request):
        return pages.overview(wb)

    def generations(request):
        return pages.generations(wb, _args(request), download=bool(request.query_params.get("format")))

    def generation(request):
        p = request.path_params
        q = request.query_params
        return pages.generation(wb, p["stage"], p["gen_id"], q.get("diff") or None, q.get("file") or "parsed")

    def generation_any(request):
        gen_id = request.path_params["gen_id"]
        found = pages.find_generation(wb, gen_id)
        if not found:
            raise pages.NotFound(f"no generation {gen_id!r} in the index snapshot")
        return RedirectResponse(f"/gen/{found[0]['stage']}/{found[0]['gen_id']}", status_code=302)

    def compare(request):
        p = request.path_params
        return pages.compare(wb, p["stage"], p["gen_id"])

    def reports(request):
        q = request.query_params
        return pages.reports(wb, q.get("by") or "model", q.get("part") or "tokens")

    def judges(request):
        from .judges import judges_page  # gensql/serve/judges.py: agreement, bias, intervals, paired comparison

        return judges_page(wb, _args(request))

    def problems(request):
        return pages.problems(wb, request.query_params.get("kind") or None, "problems", _start(request))

    def scan_errors(request):
        return pages.problems(wb, request.query_params.get("kind") or None, "scan_errors", _start(request))

    def search(request):
        return pages.search_page(wb, _args(request))

    def sql(request):
        q = request.query_params.get("q")
        params = console.url_params(request.query_params.multi_items())
        fmt = request.query_params.get("format")
        if fmt and q:
            body, media = console.download(wb, q, params, fmt)
            disposition = f'attachment; filename="sql.{fmt}"'
            return Response(body, media_type=media, headers={**_HEADERS, "Content-Disposition": disposition})
        return console.sql_page(wb, q, params)

    def snapshot_api(request: Request) -> Response:
        """What an open page polls to learn that a newer snapshot exists (app.js: the reload notice)."""
        try:
            state = pages.snapshot_state(wb)
        except NoIndexError:
            state = {"snapshot_id": None, "generations": None}
        return JSONResponse(state, headers={**_HEADERS, "Cache-Control": "no-store"})

    def favicon(request: Request) -> Response:
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml", headers=_HEADERS)

    async def not_found(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            return error_page(request, 405, "read-only: this server answers GET requests only", "Method not allowed")
        return error_page(
            request, exc.status_code, f"no page at {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        )

    routes = [
        Route("/", view(overview), methods=["GET"]),
        Route("/generations", view(generations), methods=["GET"]),
        Route("/gen/{stage}/{gen_id}", view(generation), methods=["GET"]),
        Route("/gen/{gen_id}", view(generation_any), methods=["GET"]),
        Route("/compare/{stage}/{gen_id}", view(compare), methods=["GET"]),
        Route("/reports", view(reports), methods=["GET"]),
        Route("/judges", view(judges), methods=["GET"]),
        Route("/problems", view(problems), methods=["GET"]),
        Route("/scan-errors", view(scan_errors), methods=["GET"]),
        Route("/search", view(search), methods=["GET"]),
        Route("/sql", view(sql), methods=["GET"]),
        Route("/api/snapshot", snapshot_api, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [Middleware(HostCheck, bound=bound)] if bound else []
    handlers: dict[Any, Any] = {HTTPException: not_found}  # Starlette types a handler's exception as Exception
    app = Starlette(routes=routes, exception_handlers=handlers, middleware=middleware)
    app.state.workbench = wb
    return app


def host_allowed(header: str, host: str, port: int) -> bool:
    """Whether a request's Host ``header`` names this server, bound to ``host``:``port``.

    Accepted: the bound name or address itself; when bound to loopback, every loopback address and
    ``localhost``; when bound to all interfaces (0.0.0.0, ::), any IP address and ``localhost``. A
    domain name that merely resolves here (DNS rebinding: ``evil.example.com``, ``127.0.0.1.nip.io``)
    is refused, as Jupyter's server does. The port must be the bound one.
    """
    import ipaddress

    from . import is_loopback

    name, _, given_port = header.rpartition(":") if not header.endswith("]") else (header, "", "")
    if not name or (given_port and not given_port.isdigit()):
        name, given_port = header, ""
    if (int(given_port) if given_port else 80) != port:
        return False
    name = name.lower().strip("[]")
    bound = host.lower().strip("[]")
    if name == bound:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if bound in ("0.0.0.0", "::"):
        return address is not None or name == "localhost"
    if is_loopback(bound):
        return name == "localhost" or (address is not None and address.is_loopback)
    return False


class HostCheck:
    """ASGI middleware: a request whose Host header does not name this server gets a short 403."""

    def __init__(self, app, bound: tuple[str, int]):
        self.app = app
        self.host, self.port = bound

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
            if not host_allowed(header, self.host, self.port):
                shown = f"[{self.host}]" if ":" in self.host else self.host
                message = f"this server answers to {shown}:{self.port} only, not to Host {header[:100]!r}\n"
                response = Response(message, status_code=403, media_type="text/plain; charset=utf-8", headers=_HEADERS)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _num(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    try:
        from decimal import Decimal

        if isinstance(value, Decimal):
            return f"{float(value):,.4f}".rstrip("0").rstrip(".")
    except ImportError:
        pass
    return str(value)
