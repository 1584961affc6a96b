"""The web SQL console's page and bounds, and the server's Host check (DNS rebinding), over HTTP.

The console shows a few hundred rows and says how many there are, offers every row as CSV, JSON and
Parquet, takes `$parameters` from the URL (so "Open in the SQL console" links work), and is bounded in
time, rows and bytes without starving other requests. The server answers only to its own name.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import gensql
from gensql.errors import QueryError

pytest.importorskip("starlette", reason="gensql serve needs the serve extra: pip install -e '.[test]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx: pip install -e '.[test]'")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

from gensql.serve import create_app  # noqa: E402
from gensql.serve.app import create_app as create_workbench_app  # noqa: E402
from gensql.serve.app import host_allowed  # noqa: E402
from gensql.serve.workbench import Workbench  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("console") / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("index"))
    gensql.refresh(data)
    return data


@pytest.fixture(scope="module")
def client(store):
    app = create_app(store)
    with TestClient(app) as c:
        yield c
    app.state.workbench.close()


def error_of(text: str) -> str | None:
    found = re.search(r'<pre class="error-message" id="sql-error">(.*?)</pre>', text, re.DOTALL)
    return html.unescape(found.group(1)) if found else None


def test_page_shows_500_rows_says_how_many_and_downloads_give_all(client):
    q = "SELECT range AS i, 'x' || range AS s FROM range(6000)"
    r = client.get("/sql", params={"q": q})
    assert r.status_code == 200
    assert "showing 500 of 6,000 rows" in r.text and r.text.count("<tr>") == 501
    links = dict(re.findall(r'data-format="(\w+)" href="([^"]+)"', r.text))
    assert set(links) == {"csv", "json", "parquet"}
    csv_rows = client.get(html.unescape(links["csv"])).text.splitlines()
    assert csv_rows[0] == "i,s" and len(csv_rows) == 6001 and csv_rows[-1] == "5999,x5999"
    data = client.get(html.unescape(links["json"])).json()
    assert len(data) == 6000 and list(data[0]) == ["i", "s"]
    table = pq.read_table(io.BytesIO(client.get(html.unescape(links["parquet"])).content))
    assert table.column_names == ["i", "s"] and table.num_rows == 6000


def test_errors_are_in_a_pre_box_with_duckdbs_pointer(client):
    r = client.get("/sql", params={"q": "SELECT gen_id FROM gens WHER stage = 'essay'"})
    assert r.status_code == 400
    message = error_of(r.text)
    assert message and "syntax error" in message
    lines = message.splitlines()
    pointer = next(line for line in lines if line.strip().startswith("^"))
    sql_line = lines[lines.index(pointer) - 1]
    assert sql_line[pointer.index("^") :].startswith("stage")  # the ^ points at the word, in a monospace box


@pytest.mark.parametrize("page", ["/problems", "/scan-errors", "/generations?stage=essay&since=2000-01-01"])
def test_open_in_the_sql_console_fills_the_parameters(client, page):
    r = client.get(page)
    assert r.status_code == 200
    link = re.search(r'<a href="(/sql\?[^"]+)">Open in the SQL console</a>', r.text)
    assert link, "no console link"
    console = client.get(html.unescape(link.group(1)))
    assert console.status_code == 200, error_of(console.text)
    assert 'name="p.' in console.text  # the parameters are shown, and can be changed


def test_url_parameters_are_bound_not_formatted(client):
    q = "SELECT count(*) AS n FROM gens WHERE gen_id = $g"
    r = client.get("/sql", params={"q": q, "p.g": "x' OR '1'='1", "format": "csv"})
    assert r.status_code == 200 and r.text.splitlines() == ["n", "0"]
    r = client.get("/sql", params={"q": "SELECT $a + 1 AS b, $s AS s", "p.a": "41", "p.s": '"41"', "format": "json"})
    assert r.json() == [{"b": 42, "s": "41"}]  # JSON-looking values are bound typed, quoted ones as text
    missing = client.get("/sql", params={"q": q})
    assert missing.status_code == 400 and "p.g=VALUE" in error_of(missing.text)


def test_time_limit_interrupts_the_query(store):
    wb = Workbench(store)
    try:
        with pytest.raises(QueryError, match=r"stopped after 0.2 s \(the console's time limit\)"):
            wb.console(
                "SELECT count(*) FROM range(300000000) a, range(300000000) b WHERE a.range + b.range < 0",
                time_limit=0.2,
            )
        assert wb.console("SELECT 1 AS x").table.to_pylist() == [{"x": 1}]  # the next query runs as usual
    finally:
        wb.close()


def test_rows_and_bytes_are_capped(client, store):
    wb = Workbench(store)
    try:
        result = wb.console("SELECT * FROM range(300000000)")  # stops at the row cap, not after 300M rows
        assert result.cut and result.table.num_rows == 100_000
        big = wb.console("SELECT repeat('x', 1000000) AS s FROM range(500)", max_bytes=20_000_000)
        assert big.cut and big.table.nbytes <= 20_000_000  # fetched batch by batch, stopped at the byte cap
    finally:
        wb.close()
    r = client.get("/sql", params={"q": "SELECT repeat('x', 1000000) AS s FROM range(100)"})
    assert r.status_code == 200 and len(r.content) < 2_000_000  # long values are cut on the page
    assert "long values cut on this page" in r.text
    over = client.get("/sql", params={"q": "SELECT * FROM range(200000)", "format": "csv"})
    assert over.status_code == 400 and "download cap" in over.text  # refused, never cut silently


def test_memory_and_threads_are_capped(store, monkeypatch):
    monkeypatch.setenv("GENSQL_CONSOLE_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("GENSQL_CONSOLE_THREADS", "1")
    wb = Workbench(store)
    try:
        settings = wb.console("SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t")
        memory, threads = settings.table.to_pylist()[0].values()
        assert memory.endswith("MiB") and float(memory.split()[0]) <= 300 and threads == 1
        with pytest.raises(QueryError, match="(?i)out of memory|memory limit"):
            wb.console("SELECT list(repeat('x', 1000)) FROM range(1000000)")
    finally:
        wb.close()


def test_an_expensive_query_does_not_starve_other_requests(store):
    wb = Workbench(store)
    app = create_workbench_app(store, workbench=wb)
    outcome: dict = {}

    def expensive():
        try:
            wb.console(
                "SELECT count(*) FROM range(300000000) a, range(300000000) b WHERE a.range < b.range", time_limit=600
            )
        except QueryError as exc:
            outcome["error"] = str(exc)

    with TestClient(app) as c:
        assert c.get("/sql", params={"q": "SELECT 1"}).status_code == 200  # the console database exists
        thread = threading.Thread(target=expensive)
        thread.start()
        started = threading.Event()
        while not wb.console_running and thread.is_alive():
            started.wait(0.01)
        assert wb.console_running, "the expensive query did not start"
        assert c.get("/generations").status_code == 200
        assert c.get("/sql", params={"q": "SELECT count(*) FROM gens"}).status_code == 200
        assert wb.console_running  # both answered while the expensive query was still running
        wb.interrupt_console()
        thread.join(60)
    wb.close()
    assert "interrupted" in outcome["error"]


@pytest.mark.parametrize(
    "header,ok",
    [
        ("127.0.0.1:8765", True),
        ("localhost:8765", True),
        ("[::1]:8765", True),
        ("evil.example.com", False),
        ("evil.example.com:8765", False),
        ("127.0.0.1.nip.io:8765", False),
        ("127.0.0.1:9999", False),
        ("127.0.0.1", False),
        ("", False),
    ],
)
def test_the_server_answers_only_to_its_own_name(store, header, ok):
    app = create_app(store, bound=("127.0.0.1", 8765))
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        r = c.get("/", headers={"host": header})
        assert (r.status_code == 200) is ok, (header, r.status_code)
        if not ok:
            assert r.status_code == 403 and r.text.startswith("this server answers to 127.0.0.1:8765 only")
            assert "<" not in r.text.split("Host")[0]
    app.state.workbench.close()


def test_host_rules_for_other_bindings():
    assert host_allowed("box.lan:8000", "box.lan", 8000)  # a name given with --host
    assert not host_allowed("other.lan:8000", "box.lan", 8000)
    assert host_allowed("192.168.1.5:8000", "0.0.0.0", 8000)  # all interfaces: any address, no names
    assert not host_allowed("evil.example.com:8000", "0.0.0.0", 8000)
    assert host_allowed("[::1]:8000", "::1", 8000) and host_allowed("localhost:8000", "::1", 8000)
    assert host_allowed("example.org", "example.org", 80)  # port 80 may be left out


@pytest.mark.slow
def test_the_real_server_refuses_a_foreign_host(store):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gensql", "serve", "--data-root", str(store), "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert f"at http://127.0.0.1:{port}/" in proc.stderr.readline()
        url = f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, headers={"Host": "evil.example.com"}), timeout=30)
        assert refused.value.code == 403
    finally:
        proc.terminate()
        proc.wait(10)
