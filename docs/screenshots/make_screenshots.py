"""Regenerate the screenshots of `gensql serve` in this folder from the sample store (data/).

    .venv/bin/python docs/screenshots/make_screenshots.py

Copies data/ to a temporary folder (the checkout's data/ is not touched), refreshes its index, runs the
workbench on a free local port and saves each page kind at two window widths with Debian's Chromium:
``<page>.png`` at 1400 px and ``<page>-800.png`` at 800 px (needs the `serve` and `test` extras and
`apt-get install -y chromium chromium-driver`). With Pillow installed the PNGs are reduced to a 256-colour
palette and optimised (a fifth of the size; the pages are flat colours, nothing visible is lost).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import gensql  # noqa: E402
from gensql.serve.testing import background_server, chromium  # noqa: E402

#: Window widths: the narrow end the pages are made for, and a common laptop.
WIDTHS = {1400: "", 800: "-800"}


def shrink(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gensql-shots-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("index"))
        gensql.refresh(data)
        con = gensql.connect(data)
        draft = con.sql(
            "SELECT parent_gen_id FROM gens WHERE stage = 'essay' AND parent_gen_id IN "
            "(SELECT gen_id FROM gens WHERE stage = 'draft') GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
        essay = con.sql(
            "SELECT parent_gen_id FROM gens WHERE stage = 'evaluation' AND parent_gen_id IN "
            "(SELECT gen_id FROM gens WHERE stage = 'essay' AND status = 'ok') GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
        con.close()
        pages = {
            "overview": "/",
            "generations": "/generations?stage=essay",
            "generation": f"/gen/essay/{essay}?hl=memory",
            "compare": f"/compare/draft/{draft}",
            "reports": "/reports?by=model",
            "scores": "/reports?part=scores",
            "problems": "/problems",
            "judges": "/judges",
            "search": "/search?q=network",
            "sql": "/sql?q="
            + "SELECT+model_id%2C+count(*)+AS+generations%2C+avg(score)+AS+mean_score+FROM+gens+GROUP+BY+1+ORDER+BY+2+DESC",
        }
        with background_server(data) as base:
            for width, suffix in WIDTHS.items():
                with chromium(width=width, height=1000) as driver:
                    for name, path in pages.items():
                        driver.get(base + path)
                        target = HERE / f"{name}{suffix}.png"
                        driver.save_screenshot(str(target))
                        shrink(target)
                        print(f"{target.relative_to(ROOT)}  <- {path} at {width} px")


if __name__ == "__main__":
    main()
