"""The lineage tree around one generation: ancestors up to the draft, descendants down to the
evaluations, read from the index through the ``ancestors()`` / ``descendants()`` view macros.

Broken links stay visible: a parent that exists nowhere becomes a ``missing`` node carrying the
dangling id, an essay or evaluation without a parent id gets a ``missing`` node without one.
"""

from __future__ import annotations

from typing import Any

import duckdb

from .errors import GenerationNotFoundError, InvalidIdError
from .query import run_sql

_NODE_COLUMNS = ("stage", "gen_id", "template_id", "model_id", "status", "score", "link_status")

_WALK_SQL = """
SELECT w.depth, w.stage, w.gen_id, w.parent_gen_id, w.template_id, w.model_id, w.status, g.score, w.link_status
FROM {macro}($gen_id) AS w
LEFT JOIN gens AS g ON g.stage = w.stage AND g.gen_id = w.gen_id
WHERE $stage IS NULL OR w.depth > 0 OR w.stage = $stage
ORDER BY w.depth, w.stage, w.gen_id
"""


def _node(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: row[k] for k in _NODE_COLUMNS}, "children": []}


def lineage_tree(con: duckdb.DuckDBPyConnection, gen_id: str, stage: str | None = None) -> dict[str, Any]:
    """The tree containing ``gen_id``, from its oldest reachable ancestor down to every descendant.

    Each node: stage, gen_id, template_id, model_id, status, score, link_status, children; the node
    of ``gen_id`` itself has ``"focus": True``; a dangling parent is a node with ``"missing": True``.
    """
    params = {"gen_id": gen_id, "stage": stage}
    ancestors = run_sql(con, _WALK_SQL.format(macro="ancestors"), params).to_pylist()
    if not ancestors:
        raise GenerationNotFoundError(
            f"{gen_id!r} is not in the index: check the id, or run `gensql refresh` if it is new"
        )
    stages = {r["stage"] for r in ancestors if r["depth"] == 0}
    if len(stages) > 1:
        raise InvalidIdError(f"{gen_id!r} exists in several stages ({', '.join(sorted(stages))}): pass --stage")
    focus_stage = stages.pop()
    params["stage"] = focus_stage
    ancestors = [r for r in ancestors if r["depth"] > 0 or r["stage"] == focus_stage]
    descendants = run_sql(con, _WALK_SQL.format(macro="descendants"), params).to_pylist()

    focus = _node(ancestors[0])
    focus["focus"] = True
    by_key = {(focus["stage"], focus["gen_id"]): focus}
    for row in descendants[1:] if descendants else []:
        node = _node(row)
        by_key.setdefault((row["stage"], row["gen_id"]), node)
    for row in descendants[1:] if descendants else []:
        node = by_key[(row["stage"], row["gen_id"])]
        parent = next((n for (s, g), n in by_key.items() if g == row["parent_gen_id"] and n is not node), None)
        if parent is not None and node not in parent["children"]:
            parent["children"].append(node)

    top = focus
    for row in ancestors[1:]:
        node = _node(row)
        node["children"].append(top)
        top = node
    last = ancestors[-1]
    if last["link_status"] in ("parent_missing", "no_parent"):
        missing = {
            "stage": None,
            "gen_id": last["parent_gen_id"],
            "missing": True,
            "link_status": last["link_status"],
            "children": [top],
        }
        top = missing
    return top


def render_tree(tree: dict[str, Any]) -> str:
    """The tree as indented text lines: stage, id, template, model, status and score per line."""
    lines: list[str] = []

    def label(node: dict[str, Any]) -> str:
        if node.get("missing"):
            what = f"parent {node['gen_id']} not found" if node["gen_id"] else "no parent recorded"
            return f"(dangling: {what})"
        parts = [
            f"{node['stage']:<10}",
            node["gen_id"],
            node["template_id"] or "-",
            node["model_id"] or "-",
            node["status"] or "-",
        ]
        if node["score"] is not None:
            parts.append(f"score {node['score']:g}")
        if node.get("link_status") == "parent_wrong_stage":
            parts.append("(parent in the wrong stage)")
        text = "  ".join(parts)
        return text + "  <" if node.get("focus") else text

    def walk(node: dict[str, Any], prefix: str, is_last: bool, is_root: bool) -> None:
        lines.append(label(node) if is_root else f"{prefix}{'└── ' if is_last else '├── '}{label(node)}")
        child_prefix = "" if is_root else prefix + ("    " if is_last else "│   ")
        for i, child in enumerate(node["children"]):
            walk(child, child_prefix, i == len(node["children"]) - 1, False)

    walk(tree, "", True, True)
    return "\n".join(lines) + "\n"
