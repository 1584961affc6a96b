"""The lineage tree around one generation: ancestors up to the draft, descendants down to the
evaluations. One builder (:func:`build_tree`) shapes it for the CLI (`gensql lineage`, reading the
index through a connection) and for the web workbench (reading its in-memory lookup tables): each
passes how to find a parent and the children of a level, the tree comes out the same.

Broken links stay visible: a parent that exists nowhere becomes a ``missing`` node carrying the
dangling id, an essay or evaluation without a parent id gets a ``missing`` node without one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from . import layout
from .errors import GenerationNotFoundError, InvalidIdError
from .query import run_sql

Row = dict[str, Any]
#: The gens columns a node is made of (plus parent_gen_id to walk with).
NODE_COLUMNS = ("stage", "gen_id", "parent_gen_id", "template_id", "model_id", "status", "score")
#: Siblings' order: stage, then template, then model, then id (NULLs last).
_ORDER = "array_position(['draft', 'essay', 'evaluation'], stage), template_id NULLS LAST, model_id NULLS LAST, gen_id"
_FOCUS_SQL = f"SELECT {', '.join(NODE_COLUMNS)} FROM gens WHERE gen_id = $gen_id AND ($stage IS NULL OR stage = $stage)"
_PARENT_SQL = f"SELECT {', '.join(NODE_COLUMNS)} FROM gens WHERE gen_id = $gen_id ORDER BY {_ORDER}"
_CHILDREN_SQL = (
    f"SELECT {', '.join(NODE_COLUMNS)} FROM gens "
    f"WHERE parent_gen_id IN (SELECT unnest($ids)) AND stage <> 'draft' ORDER BY {_ORDER}"
)


def sibling_order(row: Row) -> tuple:
    """The sort key of :data:`_ORDER` in Python (for rows a caller already holds)."""
    stage = row["stage"]
    return (
        layout.STAGES.index(stage) if stage in layout.STAGES else len(layout.STAGES),
        row["template_id"] is None,
        row["template_id"] or "",
        row["model_id"] is None,
        row["model_id"] or "",
        row["gen_id"],
    )


def _node(row: Row, link_status: str | None) -> dict[str, Any]:
    return {
        "stage": row["stage"],
        "gen_id": row["gen_id"],
        "template_id": row["template_id"],
        "model_id": row["model_id"],
        "status": row["status"],
        "score": row["score"],
        "link_status": link_status,
        "children": [],
    }


def build_tree(
    focus_row: Row,
    parents: Callable[[str], list[Row]],
    children: Callable[[list[Row]], list[Row]],
) -> dict[str, Any]:
    """The tree containing ``focus_row``: its ancestors up to the draft, itself, every descendant.

    ``parents(gen_id)`` gives the generations of that id (any stage); ``children(rows)`` the non-draft
    generations whose parent is one of ``rows``, in sibling order. Both give rows of :data:`NODE_COLUMNS`.
    The stages are at most three deep, so this is a handful of narrow lookups, never a recursive walk.
    Each node: stage, gen_id, template_id, model_id, status, score, link_status (as the ``_links`` view
    says it: root, ok, no_parent, parent_missing, parent_wrong_stage), children; the focus has
    ``"focus": True``; a dangling parent is a node with ``"missing": True``.
    """
    focus = _node(focus_row, None)
    focus["focus"] = True
    top, child, current = focus, focus, focus_row
    for _ in layout.STAGES:  # up: parent, grandparent
        want = layout.PARENT_STAGE.get(current["stage"])
        if want is None:
            child["link_status"] = "root"
            break
        parent_id = current.get("parent_gen_id")
        if not parent_id:
            child["link_status"] = "no_parent"
            top = {"stage": None, "gen_id": None, "missing": True, "link_status": "no_parent", "children": [top]}
            break
        found = sorted(parents(parent_id), key=sibling_order)
        if not found:
            child["link_status"] = "parent_missing"
            top = {
                "stage": None,
                "gen_id": parent_id,
                "missing": True,
                "link_status": "parent_missing",
                "children": [top],
            }
            break
        parent = next((r for r in found if r["stage"] == want), found[0])
        child["link_status"] = "ok" if parent["stage"] == want else "parent_wrong_stage"
        node = _node(parent, None)
        node["children"].append(top)
        top, child, current = node, node, parent
    has_children = {parent for parent in layout.PARENT_STAGE.values() if parent}
    level = [(focus, focus_row)]  # down: children, grandchildren
    for _ in layout.STAGES:
        expanding = [(n, r) for n, r in level if n["stage"] in has_children]
        if not expanding:
            break
        by_id = {n["gen_id"]: n for n, _ in expanding}
        level = []
        for r in children([r for _, r in expanding]):
            parent_node = by_id.get(r["parent_gen_id"])
            if parent_node is None or (r["stage"], r["gen_id"]) == (parent_node["stage"], parent_node["gen_id"]):
                continue
            expected = layout.PARENT_STAGE.get(r["stage"])
            node = _node(r, "ok" if parent_node["stage"] == expected else "parent_wrong_stage")
            parent_node["children"].append(node)
            level.append((node, r))
    return top


def lineage_tree(con: duckdb.DuckDBPyConnection, gen_id: str, stage: str | None = None) -> dict[str, Any]:
    """The tree containing ``gen_id`` (see :func:`build_tree`), read from the index through ``con``."""
    found = run_sql(con, _FOCUS_SQL, {"gen_id": gen_id, "stage": stage}).to_pylist()
    if not found:
        raise GenerationNotFoundError(
            f"{gen_id!r} is not in the index: check the id, or run `gensql refresh` if it is new"
        )
    stages = sorted({r["stage"] for r in found})
    if len(stages) > 1:
        raise InvalidIdError(f"{gen_id!r} exists in several stages ({', '.join(stages)}): pass --stage")
    return build_tree(
        found[0],
        lambda parent_id: run_sql(con, _PARENT_SQL, {"gen_id": parent_id}).to_pylist(),
        lambda rows: run_sql(con, _CHILDREN_SQL, {"ids": [r["gen_id"] for r in rows]}).to_pylist(),
    )


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
