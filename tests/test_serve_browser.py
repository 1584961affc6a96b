"""`gensql serve` in a real browser (Debian's Chromium through Selenium) on a copy of the sample store:
every page opens and shows its data, generation -> lineage -> compare by clicking, a search and an SQL
query through their forms, a CSV download, a `<script>` in raw.txt that never runs; every page kind fits
an 800 and a 1400 px window, heat cells keep their text readable, search pages, and an open page notices
a new snapshot. A browser is slow to drive: every test here is marked `slow`."""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real Chromium driven by selenium
pytest.importorskip("starlette", reason="gensql serve needs the serve extra: pip install -e '.[test]'")
pytest.importorskip("uvicorn", reason="gensql serve needs the serve extra: pip install -e '.[test]'")

from gensql.serve.testing import ENABLE_HINT, background_server, chromium, find_browser  # noqa: E402

if find_browser() is None:
    pytest.skip(
        f"no Chromium and chromedriver here, browser tests skipped: to run them, {ENABLE_HINT}", allow_module_level=True
    )
pytest.importorskip("selenium", reason=f"browser tests skipped: {ENABLE_HINT}")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.expected_conditions import staleness_of  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import gensql  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    data = root / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("index"))
    gensql.refresh(data)
    con = gensql.connect(data)
    facts = {
        "draft": con.sql(
            "SELECT e.parent_gen_id FROM gens e JOIN gens v ON v.stage = 'evaluation' AND v.parent_gen_id = e.gen_id "
            "WHERE e.stage = 'essay' AND v.score IS NOT NULL AND e.parent_gen_id IN (SELECT gen_id FROM gens WHERE stage = 'draft') "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0],
        "xss": con.sql(
            "SELECT gen_id, gen_dir FROM gens WHERE stage = 'essay' AND store_root = 'gens' AND has_raw ORDER BY gen_id LIMIT 1"
        ).fetchall()[0],
        "models": con.sql("SELECT count(DISTINCT model_id) FROM gens").fetchall()[0][0],
    }
    facts["essay"] = con.sql(
        "SELECT gen_id FROM gens WHERE stage = 'essay' AND parent_gen_id = $d ORDER BY gen_id LIMIT 1",
        params={"d": facts["draft"]},
    ).fetchall()[0][0]
    con.close()
    raw = data / facts["xss"][1] / "raw.txt"
    raw.write_text(raw.read_text(encoding="utf-8") + "\n" + XSS + "\n", encoding="utf-8")
    downloads = root / "downloads"
    downloads.mkdir()
    with background_server(data) as base, chromium(download_dir=str(downloads)) as driver:
        driver.set_page_load_timeout(20)
        yield {"base": base, "driver": driver, "downloads": downloads, "data": data, **facts}


def _open(site, path: str):
    driver = site["driver"]
    driver.get(site["base"] + path)
    return driver


def _follow(driver, element, url_part: str) -> None:
    """Click a link or button and wait until the new page (its URL holds ``url_part``) has loaded."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 10).until(
        lambda d: (
            url_part in d.current_url
            and staleness_of(old)(d)
            and d.execute_script("return document.readyState") == "complete"
        )
    )


def _errors(driver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".error-message")]


def test_every_page_opens_and_shows_its_data(site):
    d = _open(site, "/")
    assert d.title.startswith("Overview") and d.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert "generations by stage" in d.find_element(By.TAG_NAME, "main").text
    d = _open(site, "/generations")
    assert len(d.find_elements(By.CSS_SELECTOR, "#gens-table tbody tr")) == 50
    _follow(d, d.find_element(By.ID, "next-page"), "after=")
    assert "after=" in d.current_url and len(d.find_elements(By.CSS_SELECTOR, "#gens-table tbody tr")) > 0
    d = _open(site, "/generations")
    _follow(d, d.find_element(By.CSS_SELECTOR, '.facet[data-facet="stage"] a[href*="stage=essay"]'), "stage=essay")
    stages = {td.text for td in d.find_elements(By.CSS_SELECTOR, "#gens-table tbody tr td:first-child")}
    assert stages == {"essay"}
    d.find_element(By.CSS_SELECTOR, "details.columns summary").click()
    d.find_element(By.CSS_SELECTOR, '#column-chooser input[value="parent_gen_id"]').click()
    _follow(d, d.find_element(By.CSS_SELECTOR, "#column-chooser button"), "col=parent_gen_id")
    assert (
        "parent_gen_id" in d.find_element(By.CSS_SELECTOR, "#gens-table thead").text and "stage=essay" in d.current_url
    )
    for path, words in (
        ("/reports", "Tokens and cost by model"),
        ("/problems", "Violated invariants"),
        ("/scan-errors", "Files refresh could not use"),
        ("/search", "Search"),
        ("/sql", "SQL console"),
    ):
        d = _open(site, path)
        assert words in d.find_element(By.TAG_NAME, "main").text, path
        assert not _errors(d), path
    assert _open(site, "/reports?part=scores").find_elements(By.CSS_SELECTOR, "#heatmap td")


def test_generation_lineage_compare_by_clicking(site):
    d = _open(site, f"/gen/essay/{site['essay']}")
    assert d.find_element(By.ID, "lineage").is_displayed()
    rendered = d.find_element(By.CSS_SELECTOR, "#text-parsed .rendered")
    raw = d.find_element(By.CSS_SELECTOR, "#text-parsed .raw")
    assert rendered.is_displayed() and not raw.is_displayed()
    d.find_element(By.CSS_SELECTOR, '.view-toggle[data-view="raw"]').click()
    assert raw.is_displayed() and not rendered.is_displayed()
    _follow(
        d, d.find_element(By.CSS_SELECTOR, f'#lineage a[href="/gen/draft/{site["draft"]}"]'), "/gen/draft/"
    )  # up the lineage
    assert d.current_url.endswith(f"/gen/draft/{site['draft']}")
    assert d.find_element(By.CSS_SELECTOR, "li.node.focus").text.startswith("DRAFT")
    _follow(d, d.find_element(By.ID, "compare-link"), "/compare/draft/")
    assert f"/compare/draft/{site['draft']}" in d.current_url
    matrix = d.find_element(By.ID, "score-matrix")
    assert site["essay"] in matrix.text and d.find_elements(By.CSS_SELECTOR, ".essay-card")
    _follow(
        d, d.find_element(By.CSS_SELECTOR, '#score-matrix a[href^="/gen/evaluation/"]'), "/gen/evaluation/"
    )  # a score opens its evaluation
    assert "/gen/evaluation/" in d.current_url and "EVALUATION" in d.find_element(By.TAG_NAME, "h1").text


def test_search_and_sql_through_their_forms(site):
    d = _open(site, "/search")
    box = d.find_element(By.CSS_SELECTOR, 'form.search input[name="q"]')
    box.send_keys("network")
    _follow(d, d.find_element(By.CSS_SELECTOR, "form.search button"), "q=network")
    hits = d.find_elements(By.CSS_SELECTOR, "#hits li.hit")
    assert hits and d.find_elements(By.CSS_SELECTOR, "#hits mark")
    assert all("network" in m.text.lower() for m in d.find_elements(By.CSS_SELECTOR, "#hits mark"))
    d = _open(site, "/sql")
    area = d.find_element(By.ID, "sql-input")
    area.clear()
    area.send_keys("SELECT count(DISTINCT model_id) AS models FROM gens")
    old = d.find_element(By.TAG_NAME, "html")
    area.send_keys(Keys.CONTROL, Keys.ENTER)  # Ctrl+Enter runs it
    WebDriverWait(d, 10).until(
        lambda d: "q=SELECT" in d.current_url and staleness_of(old)(d)
    )  # the query is in the URL
    assert d.find_element(By.CSS_SELECTOR, "table.data tbody td").text == str(site["models"])
    area = d.find_element(By.ID, "sql-input")
    area.clear()
    area.send_keys("DROP VIEW gens")
    _follow(d, d.find_element(By.CSS_SELECTOR, "#sql-form button"), "q=DROP")
    assert "read-only" in d.find_element(By.ID, "sql-error").text
    area = d.find_element(By.ID, "sql-input")
    area.clear()
    area.send_keys("SELECT count(DISTINCT model_id) AS models FROM gens")
    _follow(d, d.find_element(By.CSS_SELECTOR, "#sql-form button"), "q=SELECT")
    assert d.find_element(By.CSS_SELECTOR, "table.data tbody td").text == str(site["models"])  # nothing dropped


def test_csv_download(site):
    d = _open(site, "/generations?stage=draft")
    d.find_element(By.CSS_SELECTOR, 'a.download[data-format="csv"]').click()
    target = site["downloads"] / "generations.csv"
    for _ in range(100):
        if target.exists() and target.stat().st_size:
            break
        time.sleep(0.05)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    shown = d.find_element(By.CSS_SELECTOR, "h1 .muted").text.split()[0]
    assert len(rows) == int(shown.replace(",", "")) and {r["stage"] for r in rows} == {"draft"}


def test_script_in_a_text_never_runs(site):
    gen_id = site["xss"][0]
    d = _open(site, f"/gen/essay/{gen_id}")
    d.find_element(By.CSS_SELECTOR, '.view-toggle[data-view="raw"]').click()
    assert (
        "<script>window.__pwned = 1</script>" in d.find_element(By.CSS_SELECTOR, "#text-raw .raw").text
    )  # shown as text
    assert d.execute_script("return window.__pwned === undefined")
    assert not d.find_elements(By.CSS_SELECTOR, "#text-raw img")


WIDTHS = (800, 1400)


def _page_kinds(site) -> dict[str, str]:
    return {
        "overview": "/",
        "generations": "/generations?col=gen_id&col=parent_gen_id&col=stage&col=template_id&col=model_id&col=status"
        "&col=completion_tokens&col=score&col=created_at&col=gen_dir",
        "generation": f"/gen/essay/{site['essay']}",
        "draft": f"/gen/draft/{site['draft']}",
        "compare": f"/compare/draft/{site['draft']}",
        "tokens": "/reports?by=model",
        "scores": "/reports?part=scores",
        "cohorts": "/reports?part=cohorts",
        "problems": "/problems",
        "scan-errors": "/scan-errors",
        "search": "/search?q=network",
        "sql": "/sql?q=SELECT+*+FROM+gens+LIMIT+20",
        "judges": "/judges",
        "not-found": "/gen/essay/no_such_generation",
    }


def test_every_page_kind_fits_800_and_1400_px(site):
    d = site["driver"]
    over = []
    try:
        for width in WIDTHS:
            d.set_window_size(width, 900)
            for name, path in _page_kinds(site).items():
                d.get(site["base"] + path)
                scroll, inner = d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
                if scroll > inner:
                    over.append((width, name, scroll, inner))
                if width == WIDTHS[0]:
                    unlabelled, levels = d.execute_script(
                        "var fields = Array.from(document.querySelectorAll('input, textarea, select')).filter("
                        "  function (e) { return !['hidden', 'submit', 'checkbox'].includes(e.type); });"
                        "var heads = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).filter("
                        "  function (h) { return !h.closest('.text-body'); });"  # a model's own headings are its text
                        "return [fields.filter(function (e) { return !e.labels.length && !e.getAttribute('aria-label'); })"
                        "  .map(function (e) { return e.name; }), heads.map(function (h) { return +h.tagName[1]; })];"
                    )
                    assert unlabelled == [], (name, unlabelled)
                    assert levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:])), (name, levels)
                    assert d.find_element(By.CSS_SELECTOR, "a.skip").get_attribute("href").endswith("#main")
            d.get(site["base"] + "/generations")  # narrow: the facets sit above the table, not beside it
            facets = d.find_element(By.CSS_SELECTOR, "aside.facets").rect
            table = d.find_element(By.ID, "gens-table").rect
            assert (facets["y"] + facets["height"] <= table["y"]) == (width < 1000), width
    finally:
        d.set_window_size(1400, 1000)
    assert over == []


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(float(x)) for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return r, g, b


def test_heat_cells_text_contrast(site):
    from gensql.serve.charts import contrast

    checked = 0
    for path in ("/reports?part=scores", f"/compare/draft/{site['draft']}"):
        d = _open(site, path)
        assert d.find_elements(By.CSS_SELECTOR, ".legend .swatch")  # a legend of the scale
        cells = d.execute_script(
            "return Array.from(document.querySelectorAll('td.heat')).flatMap(function (td) {"
            "  var bg = getComputedStyle(td).backgroundColor;"
            "  var texts = Array.from(td.querySelectorAll('a, .n')).concat([td]);"
            "  return texts.filter(function (e) { return e.textContent.trim(); })"
            "    .map(function (e) { return [bg, getComputedStyle(e).color, e.textContent]; }); })"
        )
        for bg, fg, text in cells:
            assert contrast(_rgb(bg), _rgb(fg)) >= 4.5, (path, text, bg, fg)
            checked += 1
    assert checked > 20


def test_search_counts_and_pages(site):
    d = _open(site, "/search?q=the")
    total = int(d.find_element(By.CSS_SELECTOR, "#search-count strong").text.replace(",", ""))
    assert total > 100 and len(d.find_elements(By.CSS_SELECTOR, "#hits li.hit")) == 50
    first = {a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "#hits a.id")}
    _follow(d, d.find_element(By.CSS_SELECTOR, "a.next-page"), "start=51")
    assert d.find_element(By.CSS_SELECTOR, ".page-range").text == f"51-100 of {total:,}"
    second = {a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "#hits a.id")}
    assert len(second) == 50 and not first & second
    _follow(d, d.find_element(By.CSS_SELECTOR, "a.last-page"), "start=")
    assert d.find_element(By.CSS_SELECTOR, ".page-range").text.endswith(f"-{total:,} of {total:,}")
    d.find_element(By.CSS_SELECTOR, "#hits a.id").click()
    WebDriverWait(d, 10).until(lambda d: "/gen/" in d.current_url)
    assert d.find_elements(By.CSS_SELECTOR, ".text-panel mark")  # the page a hit opens marks the words


def test_an_open_page_notices_a_new_snapshot(site):
    """Runs last: it adds a generation to the store copy and refreshes it."""
    d = _open(site, "/generations")
    notice = d.find_element(By.ID, "live-notice")
    assert not notice.is_displayed()
    drafts = site["data"] / "gens" / "draft"
    source = next(p for p in sorted(drafts.iterdir()) if (p / "metadata.json").is_file())
    shutil.copytree(source, drafts / "d_livecopy0000001")
    gensql.refresh(site["data"])
    d.execute_script("window.dispatchEvent(new Event('focus'))")  # a user coming back to the tab: checks at once
    WebDriverWait(d, 30).until(lambda d: d.find_element(By.ID, "live-notice").is_displayed())
    assert d.find_element(By.ID, "live-notice").text == "1 new generation: reload"
    new_snapshot = d.find_element(By.ID, "live-notice").get_attribute("data-snapshot")
    _follow(d, d.find_element(By.ID, "live-reload"), "/generations")
    assert d.find_element(By.TAG_NAME, "body").get_attribute("data-snapshot") == new_snapshot
