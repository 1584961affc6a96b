"""A tiny store builder for view and CLI tests: write generation directories and cohorts by hand.

Every file is written exactly as given (JSON pretty-printed like the pipeline does), and every file of
a generation gets the same modification time when ``at`` is given, so ``created_at`` (raw.txt's mtime,
else parsed.txt's, ...) and therefore "latest" orderings are known to the test.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def ts(seconds_after_t0: int) -> datetime:
    """The ``created_at`` value a generation written with ``at=seconds_after_t0`` gets."""
    return datetime.fromtimestamp(T0 + seconds_after_t0, tz=UTC)


class HandStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.data = self.root / "data"
        (self.data / "gens").mkdir(parents=True, exist_ok=True)

    def gen(
        self,
        stage: str,
        gen_id: str,
        meta: dict | None = None,
        *,
        raw: str | None = None,
        parsed: str | None = None,
        prompt: str | None = None,
        raw_meta: dict | None = None,
        parsed_meta: dict | None = None,
        files: dict[str, str | bytes] | None = None,
        at: int | None = None,
    ) -> Path:
        """One generation directory. ``meta`` is metadata.json (None: no such file); ``files`` adds raw files."""
        d = self.data / "gens" / stage / gen_id
        d.mkdir(parents=True, exist_ok=True)
        content: dict[str, str | bytes] = {}
        if meta is not None:
            content["metadata.json"] = json.dumps(meta, indent=2)
        if raw_meta is not None:
            content["raw_metadata.json"] = json.dumps(raw_meta, indent=2)
        if parsed_meta is not None:
            content["parsed_metadata.json"] = json.dumps(parsed_meta, indent=2)
        for name, text in (("prompt.txt", prompt), ("raw.txt", raw), ("parsed.txt", parsed)):
            if text is not None:
                content[name] = text
        content.update(files or {})
        for name, text in content.items():
            path = d / name
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
            if at is not None:
                os.utime(path, (T0 + at, T0 + at))
        if at is not None:
            os.utime(d, (T0 + at, T0 + at))
        return d

    def draft(
        self,
        gen_id: str,
        *,
        combo: str = "c1",
        template: str = "dt",
        model: str = "m1",
        replicate: int = 1,
        at: int = 0,
        **kw,
    ) -> Path:
        meta = {
            "stage": "draft",
            "gen_id": gen_id,
            "mode": "llm",
            "combo_id": combo,
            "template_id": template,
            "llm_model_id": model,
            "replicate": replicate,
        }
        meta.update(kw.pop("extra", {}))
        kw.setdefault("raw", f"draft {gen_id}\n")
        kw.setdefault("parsed", f"draft {gen_id}\n")
        kw.setdefault("prompt", "write a draft\n")
        return self.gen("draft", gen_id, meta, at=at, **kw)

    def essay(
        self,
        gen_id: str,
        parent: str | None,
        *,
        template: str = "et",
        model: str = "m2",
        replicate: int = 1,
        at: int = 0,
        **kw,
    ) -> Path:
        meta = {
            "stage": "essay",
            "gen_id": gen_id,
            "mode": "llm",
            "template_id": template,
            "llm_model_id": model,
            "replicate": replicate,
        }
        if parent is not None:
            meta["parent_gen_id"] = parent
        meta.update(kw.pop("extra", {}))
        kw.setdefault("raw", f"essay {gen_id}\n")
        kw.setdefault("parsed", f"essay {gen_id}\n")
        kw.setdefault("prompt", "write an essay\n")
        return self.gen("essay", gen_id, meta, at=at, **kw)

    def evaluation(
        self,
        gen_id: str,
        parent: str | None,
        *,
        score: str | None = "7.0\n",
        template: str = "vt",
        model: str = "m3",
        replicate: int = 1,
        at: int = 0,
        **kw,
    ) -> Path:
        meta = {
            "stage": "evaluation",
            "gen_id": gen_id,
            "mode": "llm",
            "template_id": template,
            "llm_model_id": model,
            "replicate": replicate,
        }
        if parent is not None:
            meta["parent_gen_id"] = parent
        meta.update(kw.pop("extra", {}))
        kw.setdefault("raw", f"evaluation {gen_id}\nSCORE: {score}\n" if score else f"evaluation {gen_id}\n")
        kw.setdefault("parsed", score)
        kw.setdefault("prompt", "evaluate\n")
        return self.gen("evaluation", gen_id, meta, at=at, **kw)

    def cohort(self, cohort_id: str, members: list[tuple[str, str]] | str) -> Path:
        d = self.data / "cohorts" / cohort_id
        d.mkdir(parents=True, exist_ok=True)
        text = members if isinstance(members, str) else "stage,gen_id\n" + "".join(f"{s},{g}\n" for s, g in members)
        (d / "membership.csv").write_text(text, encoding="utf-8")
        return d

    def refresh(self):
        import gensql

        return gensql.refresh(self.data, jobs=1)

    def connect(self):
        """Refresh, then a connection over the new snapshot."""
        import gensql

        self.refresh()
        return gensql.connect(self.data)


def rows(con, sql: str, params=None) -> list[tuple]:
    """All rows of a query as tuples (in the query's order), through Arrow (no pytz needed)."""
    rel = con.sql(sql, params=params) if params else con.sql(sql)
    table = rel.to_arrow_table()
    return list(zip(*(c.to_pylist() for c in table.columns))) if table.num_columns else []


def dicts(con, sql: str, params=None) -> list[dict]:
    rel = con.sql(sql, params=params) if params else con.sql(sql)
    return rel.to_arrow_table().to_pylist()
