"""Generations the pipeline's own 2025-09-24 importer (``utils/legacy_gens_migration.py``) copied into gens/.

The importer read the two-phase era's ``essay_prompts|essay_responses`` and
``evaluation_prompts|evaluation_responses`` (task ids split against ``combo_mappings.csv`` and the
``1_raw`` lists), and wrote, per legacy file, a random 16-character gen id with ``prompt.txt``,
``raw.txt`` (the response), ``parsed.txt`` (essays: the response; evaluations: the score, no
newline) and three JSON files: ``mode: "copy"``, ``source_file``, ``created_from``,
``legacy_fields.origin_filename``; an essay's ``parent_gen_id`` is the draft's *task id* (the importer
had no draft generations), an evaluation's the imported essay's gen id.
"""

from __future__ import annotations

from ..layout import METADATA_FILE, PARSED_FILE, PARSED_METADATA_FILE, PROMPT_FILE, RAW_FILE, RAW_METADATA_FILE
from .era_legacy import LegacyTask
from .model import GenDir, JsonFile
from .vocab import PIPELINE_ROOT

ERA = "importer_0924"


def import_task(
    task: LegacyTask,
    gen_id: str,
    texts: dict[str, bytes],
    parent_gen_id: str | None,
    t: int,
    draft_template: str,
    essay_template: str | None = None,
) -> GenDir:
    """The generation directory the importer wrote for one two-phase essay or evaluation task."""
    st = task.stage
    group = "|".join(
        [st, task.parent if st == "essay" else (parent_gen_id or ""), task.template_id]
        + ([task.model_id or ""] if st == "evaluation" else [])
        + ["1"]
    )
    g = GenDir(st, gen_id, ERA, group, None)
    (version,) = task.versions
    source = version.files["parsed"]  # the response file, relative to the legacy root (the data root)
    origin = source.rsplit("/", 1)[1]
    response = texts["parsed"]
    score = None
    if st == "evaluation":
        assert version.score is not None
        score_text = f"{version.score:g}"
        parsed = score_text.encode("utf-8")
        score = float(score_text)
    else:
        parsed = response
    m = JsonFile()
    m.set("meta_stage", st)
    m.set("meta_gen_id", gen_id)
    m.set("mode", "copy")
    m.set("template_id", task.template_id)
    m.set("model_id", task.model_id)
    if st == "essay":
        m.set("parent_gen_id", task.parent_task_id)  # the draft's task id: the importer had no draft gens
    m.set("combo_id", task.combo_id)
    m.extra("parent_task_id", task.parent_task_id)
    if st == "evaluation":
        m.extra("essay_template_id", essay_template)
    m.extra("draft_template", draft_template)
    m.extra("source_file", source)
    m.extra("created_from", "essay_responses" if st == "essay" else "evaluation_responses")
    if st == "evaluation" and parent_gen_id:
        m.set("parent_gen_id", parent_gen_id)
    m.extra("legacy_fields", {"origin_filename": origin})
    rel = f"{PIPELINE_ROOT}/{g.rel()}"
    r = JsonFile()
    r.set("meta_stage", st)
    r.set("meta_gen_id", gen_id)
    r.set("mode", "copy")
    r.set("model_id", task.model_id)
    r.set("combo_id", task.combo_id)
    r.set("function", f"{st}_raw")
    r.set("input_mode", "copy")
    r.extra("copied_from", source)
    r.extra("raw_path", f"{rel}/{RAW_FILE}")
    if st == "evaluation" and parent_gen_id:
        r.set("parent_gen_id", parent_gen_id)
    q = JsonFile()
    q.set("meta_stage", st)
    q.set("meta_gen_id", gen_id)
    q.set("parser_name", "legacy")
    q.set("parse_success", True)
    q.set("parse_error", None)
    q.set("combo_id", task.combo_id)
    q.set("input_mode", "copy")
    q.extra("copied_from", source)
    q.extra("parsed_path", f"{rel}/{PARSED_FILE}")
    q.set("function", f"{st}_parsed")
    if st == "evaluation":
        q.extra("score", parsed.decode("utf-8"))
        if parent_gen_id:
            q.set("parent_gen_id", parent_gen_id)
    g.add_text(PROMPT_FILE, texts["prompt"], t)
    g.add_text(RAW_FILE, response, t)
    g.add_text(PARSED_FILE, parsed, t)
    g.add_json(METADATA_FILE, m, t)
    g.add_json(RAW_METADATA_FILE, r, t)
    g.add_json(PARSED_METADATA_FILE, q, t)
    g.score = score
    g.dir_mtime = t
    g.row = {"task_id": task.task_id}
    return g
