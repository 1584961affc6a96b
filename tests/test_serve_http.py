"""`gensql serve` at the HTTP level (Starlette's TestClient) on a copy of the sample store: every route,
every error page, escaping of store texts, read-only SQL, keyset pagination, downloads, following a new
snapshot, and the real `gensql serve` command."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="gensql serve needs the serve extra: pip install -e '.[test]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx: pip install -e '.[test]'")

import warnings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # starlette 1.x suggests httpx2 over httpx; both work
    from starlette.testclient import TestClient  # noqa: E402

import gensql  # noqa: E402
from gensql.errors import QueryError  # noqa: E402
from gensql.serve import bind_warning, create_app  # noqa: E402
from gensql.serve import pages as web  # noqa: E402
from gensql.serve.workbench import Workbench  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2"> & "quotes"'


def _copy_sample(target: Path) -> Path:
    shutil.copytree(REPO / "data", target, ignore=shutil.ignore_patterns("index"))
    return target


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = _copy_sample(tmp_path_factory.mktemp("serve") / "data")
    raw = next(
        p / "raw.txt"
        for p in sorted((data / "gens" / "draft").iterdir())
        if (p / "raw.txt").is_file() and (p / "metadata.json").is_file() and p.name.startswith("d_")
    )
    raw.write_text(raw.read_text(encoding="utf-8") + "\n" + XSS + "\n", encoding="utf-8")
    gensql.refresh(data)
    return {"data": data, "xss_draft": raw.parent.name}


@pytest.fixture(scope="module")
def client(store):
    app = create_app(store["data"])
    with TestClient(app) as c:
        yield c
    app.state.workbench.close()


@pytest.fixture(scope="module")
def con(store):
    c = gensql.connect(store["data"])
    yield c
    c.close()


def one(con, sql, params=None):
    return con.sql(sql, params=params).fetchall()[0]


@pytest.mark.slow
def test_overview_counts_are_the_index_counts(client, con):
    r = client.get("/")
    assert r.status_code == 200
    generations, problems, scan_errors = one(
        con, "SELECT (SELECT count(*) FROM gens), (SELECT count(*) FROM problems), (SELECT count(*) FROM scan_errors)"
    )
    assert f">{generations:,}<" in r.text and f">{problems:,}</a>" in r.text and f">{scan_errors:,}</a>" in r.text
    assert "generations by stage" in r.text and "<svg" in r.text
    assert "FROM gens" in r.text  # its SQL is on the page
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_generations_keyset_pages_cover_every_row_once(client, con):
    total = one(con, "SELECT count(*) FROM gens WHERE stage = 'evaluation'")[0]
    url_first = (
        "/generations?stage=evaluation&sort=completion_tokens&dir=asc&col=gen_id&col=stage&col=completion_tokens"
    )
    seen, url, pages = [], url_first, 0
    while url:
        r = client.get(url)
        assert r.status_code == 200
        body = r.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        for tr in body.split("<tr>")[1:]:
            cells = [td.split(">", 1)[1].rsplit("</td", 1)[0] for td in tr.split("<td")[1:]]
            gen_id = cells[0].split(">", 1)[1].split("<", 1)[0]
            seen.append((gen_id, "" if "null" in cells[2] else cells[2].replace(",", "")))
        pages += 1
        marker = 'id="next-page" href="'
        url = r.text.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&") if marker in r.text else None
    assert pages == -(-total // 50) and len(seen) == total == len({g for g, _ in seen})
    download = list(csv.DictReader(io.StringIO(client.get(url_first + "&after=ignored-in-downloads&format=csv").text)))
    assert [(d["gen_id"], d["completion_tokens"]) for d in download] == seen  # a download is every matching row
    tokens = [int(t) for _, t in seen if t != ""]
    assert tokens == sorted(tokens)  # ascending, NULLs last
    assert all(t == "" for _, t in seen[len(tokens) :])


def test_generations_facets_sort_and_columns(client, con):
    model = one(
        con, "SELECT model_id FROM gens WHERE model_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )[0]
    expected = one(con, "SELECT count(*) FROM gens WHERE model_id = $m AND stage = 'essay'", {"m": model})[0]
    r = client.get(f"/generations?model={model}&stage=essay&col=gen_id&col=model_id&col=score&sort=gen_id&dir=desc")
    assert r.status_code == 200 and f"{expected:,} matching" in r.text
    data = json.loads(
        client.get(
            f"/generations?model={model}&stage=essay&col=gen_id&col=model_id&sort=gen_id&dir=desc&format=json"
        ).text
    )
    assert len(data) == expected and {d["model_id"] for d in data} == {model}
    assert [d["gen_id"] for d in data] == sorted((d["gen_id"] for d in data), reverse=True)
    header = r.text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert ">gen_id" in header and ">model_id" in header and ">score" in header and ">created_at" not in header
    cohort = one(con, "SELECT cohort_id FROM membership GROUP BY 1 ORDER BY 1 LIMIT 1")[0]
    members = one(
        con,
        "SELECT count(*) FROM gens WHERE (stage, gen_id) IN (SELECT stage, gen_id FROM membership WHERE cohort_id = $c)",
        {"c": cohort},
    )[0]
    assert f"{members:,} matching" in client.get(f"/generations?cohort={cohort}").text


def test_generation_page_texts_lineage_attempts_and_diff(client, con):
    stage, gen_id, parent, key = one(
        con,
        "SELECT stage, gen_id, parent_gen_id, logical_key FROM gens WHERE stage <> 'draft' AND logical_key IN "
        "(SELECT logical_key FROM gens GROUP BY 1 HAVING count(*) > 1) AND has_parsed AND parent_gen_id IS NOT NULL "
        "AND store_root = 'gens' ORDER BY stage, gen_id LIMIT 1",
    )
    r = client.get(f"/gen/{stage}/{gen_id}")
    assert r.status_code == 200
    parsed = gensql.load_generation(client.app.state.workbench.data_root / "gens", stage, gen_id)["parsed_text"]
    first_line = next(line for line in parsed.splitlines() if line.strip() and "*" not in line and "#" not in line)
    assert first_line.strip().replace("'", "&#39;").replace('"', "&#34;") in r.text
    assert f'href="/gen/{parent}"' in r.text  # lineage up: the parent, linked
    assert 'class="node focus"' in r.text
    other = one(
        con,
        "SELECT gen_id FROM gens WHERE logical_key = $k AND gen_id <> $g ORDER BY gen_id LIMIT 1",
        {"k": key, "g": gen_id},
    )[0]
    assert f"?diff={other}&amp;file=parsed" in r.text
    d = client.get(f"/gen/{stage}/{gen_id}?diff={other}&file=raw")
    assert d.status_code == 200 and f"Diff of raw.txt: {other}" in d.text
    assert client.get(f"/gen/{gen_id}", follow_redirects=False).headers["location"] == f"/gen/{stage}/{gen_id}"
    # down: a draft's page links its essays and offers the comparison
    draft, essay = one(
        con,
        "SELECT parent_gen_id, gen_id FROM gens WHERE stage = 'essay' AND parent_gen_id IN (SELECT gen_id FROM gens WHERE stage = 'draft') LIMIT 1",
    )
    page = client.get(f"/gen/draft/{draft}").text
    assert f'href="/gen/essay/{essay}"' in page and f'href="/compare/draft/{draft}"' in page


def test_store_text_is_escaped(client, store):
    r = client.get(f"/gen/draft/{store['xss_draft']}")
    assert r.status_code == 200
    assert "<script>window.__pwned" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in r.text  # shown as text, in both views
    assert r.text.count("&lt;script&gt;window.__pwned") == 2


def test_compare_draft_shows_its_essays_and_scores(client, con):
    draft = one(
        con,
        "SELECT e.parent_gen_id FROM gens e JOIN gens v ON v.stage = 'evaluation' AND v.parent_gen_id = e.gen_id "
        "WHERE e.stage = 'essay' AND v.score IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )[0]
    essays = [
        r[0]
        for r in con.sql(
            "SELECT gen_id FROM gens WHERE stage = 'essay' AND parent_gen_id = $d", params={"d": draft}
        ).fetchall()
    ]
    r = client.get(f"/compare/draft/{draft}")
    assert r.status_code == 200 and "Score matrix" in r.text
    for essay in essays:
        assert f'href="/gen/essay/{essay}"' in r.text
    score = one(
        con,
        "SELECT v.gen_id FROM gens v WHERE v.stage = 'evaluation' AND v.score IS NOT NULL AND v.parent_gen_id IN "
        "(SELECT gen_id FROM gens WHERE stage = 'essay' AND parent_gen_id = $d) LIMIT 1",
        {"d": draft},
    )[0]
    assert f'href="/gen/evaluation/{score}"' in r.text
    assert client.get(f"/compare/evaluation/{score}").status_code == 400


def test_reports_problems_scan_errors(client, con):
    r = client.get("/reports?by=model")
    assert r.status_code == 200 and "Tokens and cost by model" in r.text
    tabs = {part: client.get(f"/reports?part={part}").text for part in ("scores", "cohorts")}
    assert 'id="heatmap"' in tabs["scores"] and "Cohort coverage" not in tabs["scores"]
    assert "Cohort coverage" in tabs["cohorts"] and 'id="heatmap"' not in tabs["cohorts"]  # each tab its own page
    assert "Tokens and cost" not in tabs["scores"] + tabs["cohorts"]
    rows = list(csv.DictReader(io.StringIO(client.get("/reports?by=model&part=tokens&format=csv").text)))
    calls = one(con, "SELECT count(*) FROM gens WHERE is_model_call")[0]
    assert sum(int(row["model_calls"]) for row in rows) == calls
    assert "unpriced" in r.text
    for by in ("template", "stage", "day"):
        assert client.get(f"/reports?by={by}").status_code == 200
    p = client.get("/problems")
    n = one(con, "SELECT count(*) FROM problems")[0]
    assert p.status_code == 200 and len(json.loads(client.get("/problems?format=json").text)) == n
    gen = one(con, "SELECT p.stage, p.gen_id FROM problems p JOIN gens g USING (stage, gen_id) LIMIT 1")
    assert f'href="/gen/{gen[0]}/{gen[1]}"' in p.text
    kind = one(con, "SELECT kind FROM scan_errors LIMIT 1")[0]
    s = client.get(f"/scan-errors?kind={kind}")
    assert s.status_code == 200
    assert (
        len(json.loads(client.get(f"/scan-errors?kind={kind}&format=json").text))
        == one(con, "SELECT count(*) FROM scan_errors WHERE kind = $k", {"k": kind})[0]
    )


def test_search_page(client, con):
    r = client.get("/search?q=network")
    assert r.status_code == 200 and "<mark>" in r.text
    hits = json.loads(client.get("/search?q=network&format=json").text)
    assert hits and all(h["gen_id"] for h in hits)
    only = client.get("/search?q=network&stage=essay&format=json").json()
    assert only and {h["stage"] for h in only} == {"essay"}
    bad = client.get('/search?q="unbalanced')
    assert bad.status_code == 200 and "error-message" in bad.text and "cannot parse" in bad.text


def test_sql_console_read_only_with_cap(client):
    r = client.get("/sql", params={"q": "SELECT stage, count(*) AS n FROM gens GROUP BY 1 ORDER BY 1"})
    assert r.status_code == 200 and "evaluation" in r.text and "3 rows" in r.text
    assert client.get("/sql", params={"q": "SELECT 1 AS x", "format": "csv"}).text.splitlines() == ["x", "1"]
    cut = client.get("/sql", params={"q": "SELECT * FROM range(6000)"})
    assert "showing 500 of 6,000 rows" in cut.text and cut.text.count("<tr>") == 501
    for q, words in (
        ("SELEC oops", "syntax error"),
        ("DROP VIEW gens", "read-only"),
        ("CREATE TABLE t AS SELECT 1", "read-only"),
        ("COPY (SELECT 1) TO '/tmp/x.csv'", "read-only"),
        ("SELECT * FROM read_csv('/etc/passwd')", "disabled"),
        ("SET enable_external_access = true", "read-only"),
    ):
        bad = client.get("/sql", params={"q": q})
        assert bad.status_code == 400 and 'id="sql-error"' in bad.text, q
        assert words.lower() in bad.text.lower(), (q, bad.text[bad.text.find("sql-error") :][:300])
    assert client.get("/sql", params={"q": "SELECT count(*) FROM gens"}).status_code == 200  # views intact


def test_console_time_limit(store):
    """A query past the limit is interrupted: this one would run for hours, so returning at all (with the
    limit's message) is the proof; no wall-clock bound that a loaded machine could miss."""
    wb = Workbench(store["data"])
    try:
        with pytest.raises(QueryError, match="stopped after 0.3 s"):
            wb.console("SELECT sum(hash(i)) FROM range(1000000000000) t(i)", time_limit=0.3)
    finally:
        wb.close()


def test_errors_are_pages(client):
    for url, status, words in (
        ("/gen/draft/d_doesnotexist", 404, "no generation draft/d_doesnotexist"),
        ("/gen/d_doesnotexist", 404, "no generation"),
        ("/gen/poem/abc", 400, "unknown stage"),
        ("/gen/draft/..", 404, "no page"),  # never reaches a path
        ("/gen/draft/a%2F..%2Fb", 404, "no page"),
        ("/gen/draft/a%20b", 400, "invalid gen_id"),
        ("/gen/draft/.hidden", 400, "invalid gen_id"),
        ("/compare/draft/d_nope", 404, "no generation"),
        ("/generations?sort=nonsense", 400, "cannot sort"),
        ("/generations?after=!!!", 400, "invalid page cursor"),
        ("/generations?since=yesterday", 400, "YYYY-MM-DD"),
        ("/reports?by=planet", 400, "unknown grouping"),
        ("/?format=xml", 400, "unknown format"),
        ("/no/such/page", 404, "no page"),
    ):
        r = client.get(url)
        assert r.status_code == status, url
        assert words in r.text, (url, r.text[:2000])
        assert "<h1>" in r.text and 'href="/"' in r.text  # a page, with the navigation
    assert client.post("/sql", data={"q": "SELECT 1"}).status_code == 405


def test_server_never_writes_to_store_or_index(store, client):
    def listing():
        out = {}
        for root, dirs, files in os.walk(store["data"]):
            for name in dirs + files:
                path = os.path.join(root, name)
                st = os.lstat(path)
                out[path] = (st.st_size, st.st_mtime_ns)
        return out

    before = listing()
    for url in (
        "/",
        "/generations",
        "/reports",
        "/problems",
        "/scan-errors",
        "/search?q=network",
        "/sql?q=SELECT+1",
        f"/gen/draft/{store['xss_draft']}",
        "/generations?format=csv",
    ):
        assert client.get(url).status_code == 200
    assert listing() == before


@pytest.mark.slow
def test_no_index_then_follows_each_new_snapshot(tmp_path):
    data = _copy_sample(tmp_path / "data")
    app = create_app(data)
    with TestClient(app) as c:
        for url in ("/", "/generations", "/sql?q=SELECT+1", "/search?q=x"):
            r = c.get(url)
            assert r.status_code == 503 and "gensql refresh --data-root" in r.text and "no index" in r.text
        first = gensql.refresh(data)
        r = c.get("/")
        assert r.status_code == 200
        n = int(r.text.split('<div class="big">', 1)[1].split("<", 1)[0].replace(",", ""))
        gone = next(p for p in sorted((data / "gens" / "evaluation").iterdir()) if p.is_dir())
        shutil.rmtree(gone)
        gensql.refresh(data)
        r = c.get("/")
        assert int(r.text.split('<div class="big">', 1)[1].split("<", 1)[0].replace(",", "")) == n - 1
        assert c.get(f"/gen/evaluation/{gone.name}").status_code == 404
        del first
        gensql.refresh(data, full=True, texts=False)  # a snapshot without a search index
        s = c.get("/search?q=network")
        assert s.status_code == 200 and "has no search index" in s.text and "gensql refresh" in s.text
    app.state.workbench.close()


def test_bind_warning():
    assert bind_warning("127.0.0.1") is None and bind_warning("localhost") is None and bind_warning("::1") is None
    assert "anyone who can reach this machine" in bind_warning("0.0.0.0")


def test_missing_dependency_is_one_clear_message(monkeypatch):
    from gensql.serve import ServeDependencyError, _require

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ServeDependencyError, match=r"pip install 'gensql\[serve\]'"):
        _require()


def test_cli_serve_starts_and_answers(store, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("gensql")
    proc = subprocess.Popen(
        [str(exe), "serve", "--data-root", str(store["data"]), "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        assert f"at http://127.0.0.1:{port}/" in line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/generations", timeout=10) as r:
            assert r.status == 200 and b"Generations" in r.read()
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 143
    busy = subprocess.run([str(exe), "serve", "--data-root", str(tmp_path / "missing")], capture_output=True, text=True)
    assert busy.returncode == 2 and "no data root" in busy.stderr
    wide = subprocess.Popen(
        [str(exe), "serve", "--data-root", str(store["data"]), "--host", "0.0.0.0", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "warning: listening on 0.0.0.0" in wide.stderr.readline()
    finally:
        wide.terminate()
        wide.wait(10)


@pytest.mark.slow
def test_lookup_tables_give_the_same_pages(store, con):
    """The in-memory lookup tables the server builds in the background change speed, not answers."""
    from gensql.serve import pages

    wb = Workbench(store["data"])  # no warmers: the scan path first
    try:
        picks = [
            tuple(r)
            for r in con.sql(
                "(SELECT stage, gen_id FROM gens WHERE stage = 'draft' AND gen_id IN (SELECT parent_gen_id FROM gens) ORDER BY gen_id LIMIT 2) "
                "UNION ALL (SELECT stage, gen_id FROM gens WHERE stage = 'essay' ORDER BY gen_id LIMIT 3) "
                "UNION ALL (SELECT stage, gen_id FROM gens WHERE logical_key IN (SELECT logical_key FROM gens GROUP BY 1 HAVING count(*) > 1) LIMIT 3) "
                "UNION ALL (SELECT stage, gen_id FROM gens WHERE stage = 'evaluation' ORDER BY gen_id LIMIT 2)"
            ).fetchall()
        ]
        model = con.sql(
            "SELECT model_id FROM gens WHERE model_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
        cohort = con.sql(
            "SELECT cohort_id FROM membership WHERE stage = 'essay' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
        listings = [
            {},
            {"stage": ["essay"], "model": [model]},
            {"sort": ["completion_tokens"], "dir": ["asc"]},
            {"q": ["d_"], "since": ["2000-01-01"]},
            {"status": ["ok", "truncated"], "sort": ["score"]},
            {"cohort": [cohort], "stage": ["essay"]},
        ]

        def snapshot():
            out = []
            for args in listings:
                page = pages.generations(wb, args)
                out.append(
                    (
                        "generations",
                        page.table.to_pylist(),
                        (page.context["total"], page.context["facets"], page.context["next_cursor"]),
                    )
                )
            for stage, gen_id in picks:
                page = pages.generation(wb, stage, gen_id)
                out.append(("generation", page.context["tree"], [a["gen_id"] for a in page.context["attempts"]]))
                if stage in ("draft", "essay"):
                    cmp = pages.compare(wb, stage, gen_id)
                    out.append(("compare", sorted(map(str, cmp.table.to_pylist())), None))
            return out

        slow = snapshot()
        assert not wb.current().cache.get("lookups")
        pages.build_lookups(wb)
        assert wb.current().cache.get("lookups")
        fast = snapshot()
        assert "in-memory copy" in pages.generations(wb, {}).sql  # the fast path ran, and says so
        assert fast == slow
        assert any(kind == "generation" and tree["children"] for kind, tree, _ in slow)  # lineage was walked
        assert any(kind == "generation" and len(attempts) > 1 for kind, _, attempts in slow)  # attempts were found
        assert any(kind == "compare" and rows for kind, rows, _ in slow)
    finally:
        wb.close()


# -- issue 24: lists and search you can page, no dead links, one builder, formats -------------------


def _range(text: str, marker: str = 'id="page-range">') -> str:
    return text.split(marker, 1)[1].split("<", 1)[0]


def _rows(text: str) -> list[str]:
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [tr.split('class="id" href="', 1)[1].split('"', 1)[0] for tr in body.split("<tr>")[1:] if 'class="id"' in tr]


def _link(text: str, element_id: str) -> str | None:
    marker = f'id="{element_id}" href="'
    return text.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&") if marker in text else None


def test_generations_pager_previous_last_and_position(client, con):
    total = one(con, "SELECT count(*) FROM gens WHERE stage = 'evaluation'")[0]
    first = client.get("/generations?stage=evaluation&sort=completion_tokens&dir=asc").text
    assert _range(first) == f"1-50 of {total:,}" and _link(first, "prev-page") is None
    forward, url = [], "/generations?stage=evaluation&sort=completion_tokens&dir=asc"
    while url:
        page = client.get(url).text
        forward.append(_rows(page))
        url = _link(page, "next-page")
    assert _range(client.get(_link(first, "next-page")).text) == f"51-100 of {total:,}"
    last = client.get(_link(first, "last-page")).text
    assert _range(last) == f"{total - 49:,}-{total:,} of {total:,}" and _link(last, "next-page") is None
    backward, page = [_rows(last)], last
    while _link(page, "prev-page"):  # previous, previous ... back to the first row
        page = client.get(_link(page, "prev-page")).text
        backward.append(_rows(page))
    assert _range(page).startswith("1-")
    flat = [g for rows in forward for g in rows]
    assert [g for rows in reversed(backward) for g in rows] == flat and len(flat) == total == len(set(flat))


def test_download_has_the_table_columns_order_and_time_format(client):
    page = client.get("/generations?stage=draft").text
    shown = [
        h.split(">")[-1].split(" ")[0] for h in page.split("<thead>", 1)[1].split("</thead>")[0].split("</a>")[:-1]
    ]
    assert "Download all " in page and " matching rows" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/generations?stage=draft&format=csv").text)))
    assert list(rows[0]) == shown  # same columns, same order as the table
    times = [r["created_at"] for r in rows if r["created_at"]]
    assert times and all(len(t) == 19 and t[10] == " " and "+" not in t for t in times)  # to the second, one format
    assert all(t in page for t in times[:5])  # exactly as the page shows them


def test_search_counts_every_hit_one_row_per_generation_and_pages(client, store):
    distinct = {
        (h["stage"], h["gen_id"])
        for h in gensql.search(store["data"], "the", limit=100_000, snippets=False).iter_rows(named=True)
    }
    first = client.get("/search?q=the").text
    assert f"<strong>{len(distinct):,}</strong> generations match" in first
    assert "1-50 of" in first and "stopped at" not in first
    seen, url = [], "/search?q=the"
    while url:
        page = client.get(url).text
        seen += [li.split('class="id" href="/gen/', 1)[1].split("?", 1)[0] for li in page.split('<li class="hit">')[1:]]
        marker = 'class="next-page" href="'
        url = page.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&") if marker in page else None
    assert len(seen) == len(set(seen)) == len(distinct)  # one row per generation, none lost after 500
    stage_facet = first.split('data-facet="stage"', 1)[1].split("</ul>", 1)[0]
    counts = [int(n.split("<", 1)[0].replace(",", "")) for n in stage_facet.split('<span class="muted">')[1:]]
    assert sum(counts) == len(distinct)  # facets count every hit, not the 50 shown
    hit = first.split('<li class="hit">', 1)[1].split('class="id" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "hl=the" in hit and "<mark>the</mark>" in client.get(hit).text.lower()  # the page a hit opens marks it
    rows = client.get("/search?q=the&format=json").json()
    assert len(rows) == len(distinct)


def test_no_dead_ends_on_a_generation_page(client, con):
    essay, parent = one(con, "SELECT gen_id, parent_gen_id FROM gens WHERE parent_gen_id LIKE 'combo_v1_%' LIMIT 1")
    page = client.get(f"/gen/essay/{essay}").text
    assert f'href="/gen/{parent}"' not in page and f'href="/gen/draft/{parent}"' not in page
    assert "missing" in page and 'href="/problems?kind=parent_missing"' in page
    assert client.get("/problems?kind=parent_missing").status_code == 200
    essay, mean, n = one(
        con,
        "SELECT e.gen_id, avg(v.score), count(v.score) FROM gens e JOIN gens v ON v.parent_gen_id = e.gen_id "
        "AND v.stage = 'evaluation' WHERE e.stage = 'essay' AND e.score IS NULL GROUP BY 1 HAVING count(v.score) > 1 LIMIT 1",
    )
    assert f"mean {mean:.2f} of {n} scored evaluations" in client.get(f"/gen/essay/{essay}").text
    for stage, gen_id in con.sql("SELECT stage, gen_id FROM gens ORDER BY random() LIMIT 40").fetchall():
        text = client.get(f"/gen/{stage}/{gen_id}").text
        assert (
            "- · -" not in text and "· - s" not in text and "None" not in text.split("<main", 1)[1].split("<details")[0]
        )


def test_raw_view_is_a_link_that_works_without_javascript(client, store):
    page = client.get(f"/gen/draft/{store['xss_draft']}?view=raw").text
    assert '<pre class="raw text-body">' in page and '<div class="rendered text-body" hidden>' in page
    assert 'href="/gen/draft/' in page.split('data-view="raw"', 1)[1][:80] or "view=raw" in page


def test_favicon_and_snapshot_state(client, con):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    state = client.get("/api/snapshot").json()
    assert state["generations"] == one(con, "SELECT count(*) FROM gens")[0]
    page = client.get("/").text
    assert f'data-snapshot="{state["snapshot_id"]}"' in page and 'rel="icon"' in page


def test_one_lineage_builder_for_the_cli_and_the_web(store, con):
    from gensql.lineage import lineage_tree

    picks = con.sql(  # drafts with children, essays, and every generation whose link is broken
        "(SELECT stage, gen_id FROM gens WHERE stage = 'draft' AND gen_id IN (SELECT parent_gen_id FROM gens) LIMIT 15) "
        "UNION (SELECT stage, gen_id FROM gens WHERE stage = 'essay' ORDER BY gen_id LIMIT 15) "
        "UNION (SELECT stage, gen_id FROM problems WHERE kind LIKE 'parent%' AND gen_id IN (SELECT gen_id FROM gens)) "
        "UNION (SELECT stage, gen_id FROM gens WHERE stage = 'evaluation' ORDER BY gen_id LIMIT 10)"
    ).fetchall()
    wb = Workbench(store["data"])
    try:
        web.build_lookups(wb)
        differ = [
            (stage, gen_id)
            for stage, gen_id in picks
            if web.generation(wb, stage, gen_id).context["tree"] != lineage_tree(con, gen_id, stage)
        ]
    finally:
        wb.close()
    assert len(picks) > 40 and differ == []
    broken = lineage_tree(con, one(con, "SELECT gen_id FROM gens WHERE parent_gen_id LIKE 'combo_v1_%' LIMIT 1")[0])
    assert broken["missing"] and broken["link_status"] == "parent_missing" and broken["children"][0]["focus"]


def test_formats_and_contrast():
    from datetime import UTC, datetime, timedelta, timezone

    from gensql.serve import charts

    when = datetime(2025, 3, 5, 14, 3, 11, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert web.format_time(when) == "2025-03-05 12:03:11"
    assert web.format_time(when.astimezone(UTC).replace(tzinfo=None)) == "2025-03-05 12:03:11"
    assert [web.format_score(v) for v in (6, 5.9, 6.2857)] == ["6.00", "5.90", "6.29"]
    for i in range(101):  # every shade of the heat scale keeps its text readable (WCAG AA, 4.5:1)
        bg = tuple(int(c) for c in charts.heat_colour(i, 0, 100)[4:-1].split(","))
        fg = (0, 0, 0) if charts.heat_text(i, 0, 100) == "#000" else (255, 255, 255)
        assert charts.contrast(bg, fg) >= 4.5, i


@pytest.mark.slow
def test_crawl_finds_no_dead_link(client):
    """Every link on the overview, the first page of each list, every generation and comparison page
    answers (the generation pages are reached through the lists and each other's lineage)."""
    from html.parser import HTMLParser
    from urllib.parse import urljoin, urlsplit

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name in ("href", "src") and value and tag in ("a", "link", "script", "img"):
                    self.found.append(value)

    def expand(url: str) -> bool:
        parts = urlsplit(url)
        if parts.path.startswith(("/gen/", "/compare/")):
            return "diff=" not in parts.query and "view=" not in parts.query
        return parts.path in ("/", "/generations", "/reports", "/problems", "/scan-errors") and not parts.query

    todo, seen, bad = ["/", "/search?q=network"], set(), []
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url, follow_redirects=True)
        if r.status_code == 404 or r.status_code >= 500 or (r.status_code != 200 and not url.startswith("/sql")):
            bad.append((url, r.status_code))
            continue
        if not (expand(url) or url == "/search?q=network") or "text/html" not in r.headers["content-type"]:
            continue
        parser = Links()
        parser.feed(r.text)
        for href in parser.found:
            target = urljoin(url, href.replace("&amp;", "&")).split("#", 1)[0]
            if target.startswith("/") and "format=" not in target and target not in seen:
                todo.append(target)
    assert bad == [] and len(seen) > 800


def test_an_essay_dir_named_like_markup_does_not_break_its_drafts_compare(tmp_path):
    from storebuilder import write_gen

    data = tmp_path / "data"
    write_gen(
        data, "draft", "d_1", {"metadata.json": {"template_id": "links-v4", "mode": "llm"}, "parsed.txt": "a draft"}
    )
    for essay, score in (("e_ok", "7"), ("<svg onload=alert(4)>", "5")):
        meta = {"template_id": "copy-v1", "parent_gen_id": "d_1", "mode": "copy"}
        write_gen(data, "essay", essay, {"metadata.json": meta, "parsed.txt": "an essay"})
        v = f"v_{score}"
        write_gen(
            data,
            "evaluation",
            v,
            {"metadata.json": {"template_id": "rigor", "parent_gen_id": essay}, "parsed.txt": score},
        )
    gensql.refresh(data)
    app = create_app(data)
    try:
        with TestClient(app) as c:
            r = c.get("/compare/draft/d_1")
            draft = c.get("/gen/draft/d_1")
    finally:
        app.state.workbench.close()
    assert (
        draft.status_code == 200
        and "&lt;svg onload=alert(4)&gt;" in draft.text
        and "/gen/essay/%3Csvg" not in draft.text
    )
    assert r.status_code == 200 and "<svg onload" not in r.text
    assert "&lt;svg onload=alert(4)&gt;" in r.text and 'href="/gen/essay/e_ok"' in r.text
    assert "/gen/essay/%3Csvg" not in r.text  # shown as text: its address would only answer 400


def test_problems_page_through_every_row(client, con, monkeypatch):
    monkeypatch.setattr(web, "PROBLEMS_PAGE", 7)  # the sample store's problems fit one real page
    expected = [
        tuple(r)
        for r in con.sql("SELECT kind, stage, gen_id, path FROM problems ORDER BY kind, stage, gen_id, path").fetchall()
    ]
    seen, url, first = [], "/problems", None
    while url:
        page = client.get(url).text
        first = first or page
        for tr in page.split("<tbody>", 1)[1].split("</tbody>")[0].split("<tr>")[1:]:
            cells = [td.split(">", 1)[1].rsplit("</td", 1)[0] for td in tr.split("<td")[1:]]
            seen.append(cells)
        marker = 'class="next-page" href="'
        url = page.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&") if marker in page else None
    assert len(seen) == len(expected) > 7 and _range(first, 'class="page-range">') == f"1-7 of {len(expected)}"
    last = client.get(f"/problems?start={len(expected) + 50}").text  # past the end: the last page
    assert _range(last, 'class="page-range">').endswith(f"-{len(expected)} of {len(expected)}")
