"""The judges page of ``gensql serve`` (issue 24 item 6): the same numbers as the CLI reports, through
Starlette's TestClient on the planted-judges store, and charts a reviewer would use."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import polars as pl
import pytest

pytestmark = pytest.mark.slow  # builds a store and computes the whole judge panel: ~10 s
pytest.importorskip("starlette")
pytest.importorskip("httpx")
pytest.importorskip("scipy.stats")
import planted_judges as pj  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from gensql.labels import import_labels  # noqa: E402
from gensql.serve import create_app  # noqa: E402


class _Tables(HTMLParser):
    """Every <table> of a page as a list of rows of cell texts, keyed by its section's id."""

    def __init__(self):
        super().__init__()
        self.sections: dict[str, list[list[list[str]]]] = {}
        self.section = None
        self.cell: list[str] | None = None
        self.row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id")
        elif tag == "table":
            self.sections.setdefault(self.section, []).append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.sections[self.section][-1].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _tables(html: str):
    parser = _Tables()
    parser.feed(html)
    return parser.sections


@pytest.fixture(scope="module")
def client():
    p = pj.planted_store()
    import_labels(p.humans_csv, p.data, "panel")
    with TestClient(create_app(p.data)) as c:
        yield c, p


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def test_judges_page_shows_the_cli_numbers(client):
    c, p = client
    res = c.get("/judges", params={"reference": "honest"})
    assert res.status_code == 200, res.text
    html = res.text
    assert 'href="/judges"' in html and "Judges: crit" in html
    (bias,) = _tables(html)["bias"]
    header, rows = bias[0], {r[0]: dict(zip(bias[0], r)) for r in bias[1:]}
    assert header[:4] == ["judge", "essays", "drafts", "offset"]
    cli = subprocess.run(
        [sys.executable, "-m", "gensql", "report", "judges", "--reference", "honest", "--data-root", p.data,
         "--format", "csv"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    for row in pl.read_csv(cli.stdout.encode()).to_dicts():
        shown = rows[row["judge"]]
        for column in ("offset", "offset_ci_low", "loa_high", "pearson_ci_high", "alpha_without"):
            if row[column] is None:
                assert shown[column] == "null"
            else:
                assert _num(shown[column]) == pytest.approx(row[column], abs=1e-4), (row["judge"], column)
    assert _num(rows["biased"]["offset"]) == pytest.approx(pj.BIAS, abs=0.1)
    # the charts: a judge-vs-judge scatter, a Bland-Altman of the most biased judge, the intervals per template
    charts = re.findall(r'<svg class="chart judges-chart".*?</svg>', html, re.S)
    assert len(charts) == 3
    assert "Bland-Altman: biased - honest" in charts[1] and 'class="ba-loa"' in charts[1]
    assert charts[1].count('class="point"') == int(rows["biased"]["essays"])
    assert 'class="adjusted"' in charts[2] and charts[2].count('class="interval"') == 2
    # the paired comparison: the pooled row and one per judge
    (compare,) = _tables(html)["compare"]
    assert [r[0] for r in compare[1:]] == ["all judges", *sorted(pj.JUDGES)]


def test_judges_page_pairs_humans_and_errors(client):
    c, p = client
    res = c.get("/judges", params={"a": "biased", "b": "honest", "judge": "lengthy"})
    assert res.status_code == 200
    charts = re.findall(r'<svg class="chart judges-chart".*?</svg>', res.text, re.S)
    assert "biased vs honest" in charts[0] and "Bland-Altman: lengthy - others" in charts[1]
    humans = c.get("/judges", params={"reference": "humans"})
    assert humans.status_code == 200 and "closest to the humans" in humans.text
    assert c.get("/judges", params={"template": "nope"}).status_code == 400
    assert c.get("/judges", params={"reference": "nobody"}).status_code == 400
    download = c.get("/judges", params={"format": "csv"})
    assert download.status_code == 200 and download.text.startswith("evaluation_template_id,judge,reference")
