"""The declared mapping from metadata keys (and their aliases across format eras) to typed columns.

This table is the one place that knows which JSON key feeds which ``gens`` column. Adding a metadata
field is one line here: the scanner, the Parquet schema and the schema docs all read ``FIELDS``.

A source key is looked up in the *merged* metadata of a generation (``metadata.json``, then
``parsed_metadata.json``, then ``raw_metadata.json`` on top; null-like values never override).
Dotted keys reach into objects (``usage.completion_tokens``). The first source with a non-null value
wins. ``Scaled`` converts units (``duration_ms`` -> seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Scaled:
    """A source key whose numeric value is multiplied by ``factor`` (unit conversion)."""

    key: str
    factor: float

    def __str__(self) -> str:
        return f"{self.key} (x{self.factor:g})"


@dataclass(frozen=True)
class Field:
    """One typed column fed from metadata keys."""

    name: str
    type: str  # "string" | "int" | "float" | "bool"
    sources: tuple[str | Scaled, ...]
    doc: str


# fmt: off
FIELDS: tuple[Field, ...] = (
    Field("model_id", "string", ("llm_model_id", "model_id"), "LLM model id used for the call."),
    Field("template_id", "string", ("template_id", "draft_template", "essay_template", "evaluation_template", "essay_template_id"), "Template of this stage (draft, essay or evaluation template)."),
    Field("parent_gen_id", "string", ("parent_gen_id", "parent_doc_id"), "Parent generation: essay -> draft, evaluation -> essay. May dangle."),
    Field("origin_cohort_id", "string", ("origin_cohort_id", "cohort_id"), "Cohort that first planned the generation (slice cohorts through membership instead)."),
    Field("combo_id", "string", ("combo_id",), "Concept combination (recorded on drafts; essays and evaluations get it through lineage)."),
    Field("replicate", "int", ("replicate",), "Intended repeat number (not a retry); 1 when not recorded."),
    Field("mode", "string", ("mode",), "'llm' for a model call, 'copy' when the text was copied from the parent."),
    Field("run_id", "string", ("run_id",), "Pipeline run or operator-supplied experiment label."),
    Field("task_id", "string", ("task_id",), "Original pipeline task id (older eras)."),
    Field("function", "string", ("function",), "Pipeline function that wrote the generation (raw metadata wins)."),
    Field("parser_name", "string", ("parser_name",), "Parser applied to the raw text."),
    Field("finish_reason", "string", ("finish_reason",), "Provider finish reason: stop, length, copy, ..."),
    Field("recorded_truncated", "bool", ("truncated",), "The truncated flag as recorded (see `truncated` for the derived rule)."),
    Field("prompt_tokens", "int", ("usage.prompt_tokens", "usage.input_tokens", "prompt_tokens"), "Prompt tokens, when the provider reported them (usually not)."),
    Field("completion_tokens", "int", ("usage.completion_tokens", "usage.output_tokens", "completion_tokens"), "Completion tokens reported by the provider."),
    Field("total_tokens", "int", ("usage.total_tokens", "total_tokens"), "Total tokens as reported; else prompt + completion when both are known."),
    Field("max_tokens", "int", ("usage.max_tokens", "max_tokens"), "Requested completion cap (a limit, not a count)."),
    Field("duration_s", "float", ("duration_s", Scaled("duration_ms", 0.001)), "Wall time of the model call in seconds."),
    Field("input_mode", "string", ("input_mode",), "How the stage got its input (newer stores)."),
    Field("parse_success", "bool", ("success",), "Parser's own success flag (parsed_metadata.json)."),
    Field("parse_error", "string", ("error",), "Parser's error message, if it recorded one."),
    Field("meta_stage", "string", ("stage",), "`stage` as written inside the JSON (may be missing or stale; the directory wins)."),
    Field("meta_gen_id", "string", ("gen_id",), "`gen_id` as written inside the JSON (may be missing or stale; the directory wins)."),
)
# fmt: on

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}

#: Columns that come from the directory and its files rather than from metadata keys.
#: (name, type, meaning, source) -- documented alongside FIELDS in the schema docs.
# fmt: off
FILE_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("gen_id", "string", "Generation id: the directory name (the directory is the identity).", "path"),
    ("stage", "string", "draft, essay or evaluation: the parent directory name.", "path"),
    ("gen_dir", "string", "Directory of the generation, relative to the data root.", "path"),
    ("store_root", "string", "Root the directory sits in: 'gens' (gens/<stage>/<gen_id>/) or 'docs' (seed 000's docs/<stage>/[<logical_key_id>/]<doc_id>/).", "path"),
    ("prompt_bytes", "int", "Size of prompt.txt in bytes (NULL when absent).", "stat prompt.txt"),
    ("raw_bytes", "int", "Size of raw.txt in bytes (NULL when absent).", "stat raw.txt"),
    ("parsed_bytes", "int", "Size of parsed.txt in bytes (NULL when absent).", "stat parsed.txt"),
    ("prompt_chars", "int", "Characters (Unicode code points after UTF-8 decoding) of prompt.txt; NULL when absent or with --no-texts.", "read prompt.txt"),
    ("raw_chars", "int", "Characters of raw.txt (see prompt_chars).", "read raw.txt"),
    ("parsed_chars", "int", "Characters of parsed.txt (see prompt_chars).", "read parsed.txt"),
    ("has_prompt", "bool", "prompt.txt exists.", "stat"),
    ("has_raw", "bool", "raw.txt exists.", "stat"),
    ("has_parsed", "bool", "parsed.txt exists.", "stat"),
    ("has_metadata", "bool", "metadata.json exists.", "stat"),
    ("has_raw_metadata", "bool", "raw_metadata.json exists.", "stat"),
    ("has_parsed_metadata", "bool", "parsed_metadata.json exists.", "stat"),
)

DERIVED_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("truncated", "bool", "recorded_truncated, or finish_reason = 'length', or completion_tokens >= max_tokens.", "derived"),
    ("status", "string", "ok | truncated | parse_error | gen_error | skipped (rules in the README).", "derived"),
    ("created_at", "timestamp", "Best available generation time (no JSON carries one): raw.txt mtime, else parsed.txt, raw_metadata.json, metadata.json, directory.", "derived"),
    ("created_at_source", "string", "Which file's mtime created_at came from: raw, parsed, raw_metadata, metadata, dir.", "derived"),
    ("score", "float", "Evaluation score read from parsed.txt (a number line, or a final 'SCORE: n' line).", "parsed.txt"),
    ("score_error", "string", "Why an evaluation has no score (missing or unparseable parsed.txt); NULL otherwise.", "parsed.txt"),
    ("logical_key", "string", "Id of the logical product; attempts of one product share it. Draft: (combo_id, template_id, model_id, replicate); essay: (parent_gen_id, template_id, replicate); evaluation: (parent_gen_id, template_id, model_id, replicate).", "derived"),
    ("is_model_call", "bool", "A model call was made (not copy mode, and raw output or call facts exist): counts as spend.", "derived"),
    ("error_count", "int", "Number of scan_errors rows for this generation.", "derived"),
    ("facts_from", "string", "Sources outside the directory that filled columns its own files left NULL, comma-joined: membership (wide membership.csv), sqlite (docs/ rows: db/documents.sqlite), templates (1_raw/essay_templates.csv generator); NULL when none (docs/eras.md).", "membership.csv, documents.sqlite, essay_templates.csv"),
    ("meta", "string", "The merged metadata as JSON text, every original key kept (query it with DuckDB's JSON functions); Parquet JSON logical type in the files.", "all JSON files"),
)
# fmt: on

#: Column order of the ``gens`` table.
GENS_COLUMN_ORDER: tuple[str, ...] = (
    "gen_id",
    "stage",
    "gen_dir",
    "store_root",
    "model_id",
    "template_id",
    "parent_gen_id",
    "origin_cohort_id",
    "combo_id",
    "replicate",
    "mode",
    "run_id",
    "task_id",
    "function",
    "parser_name",
    "finish_reason",
    "truncated",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "max_tokens",
    "duration_s",
    "prompt_bytes",
    "raw_bytes",
    "parsed_bytes",
    "prompt_chars",
    "raw_chars",
    "parsed_chars",
    "has_prompt",
    "has_raw",
    "has_parsed",
    "created_at",
    "created_at_source",
    "score",
    "score_error",
    "logical_key",
    "is_model_call",
    "recorded_truncated",
    "input_mode",
    "parse_success",
    "parse_error",
    "meta_stage",
    "meta_gen_id",
    "has_metadata",
    "has_raw_metadata",
    "has_parsed_metadata",
    "error_count",
    "facts_from",
    "meta",
)


#: String columns that hold JSON text. In memory they are plain strings; in the Parquet files they carry
#: the JSON logical type (:func:`gensql.partitions.write_partition`), so DuckDB reads them as JSON and
#: polars and Spark see the annotation without a cast.
JSON_COLUMNS: frozenset[str] = frozenset({"meta"})


def _column_types() -> dict[str, str]:
    types = {f.name: f.type for f in FIELDS}
    types.update({name: t for name, t, _, _ in FILE_COLUMNS + DERIVED_COLUMNS})
    return types


COLUMN_TYPES: dict[str, str] = _column_types()

# --- facts from outside a generation's directory (the post-pass of refresh, gensql.facts) ----------

#: Columns a wide membership.csv line can fill, with the membership columns that feed each one (the
#: same keys, aliases included, as the metadata sources of the column). Only where the row is NULL.
MEMBERSHIP_FACTS: dict[str, tuple[str, ...]] = {
    "combo_id": ("combo_id",),
    "template_id": ("template_id", "draft_template", "essay_template", "evaluation_template", "essay_template_id"),
    "model_id": ("llm_model_id", "model_id"),
    "parent_gen_id": ("parent_gen_id", "parent_doc_id"),
    "replicate": ("replicate",),
}
#: Columns seed 000's documents.sqlite can fill for docs rows: gens column -> ``documents`` column.
#: ``created_at`` is always taken from it (no file records a time), with created_at_source 'sqlite'.
SQLITE_FACTS: dict[str, str] = {
    "run_id": "run_id",
    "task_id": "task_id",
    "template_id": "template_id",
    "model_id": "model_id",
    "parent_gen_id": "parent_doc_id",
}
#: The ``facts_from`` labels, in the order they are joined.
FACT_SOURCES: tuple[str, ...] = ("membership", "sqlite", "templates")
assert set(COLUMN_TYPES) == set(GENS_COLUMN_ORDER), set(COLUMN_TYPES) ^ set(GENS_COLUMN_ORDER)

GENS_SCHEMA = pa.schema([pa.field(name, ARROW_TYPES[COLUMN_TYPES[name]]) for name in GENS_COLUMN_ORDER])


def schema_rows() -> list[tuple[str, str, str, str]]:
    """(column, type, meaning, source keys) for every ``gens`` column, in table order."""
    docs = {f.name: (f.type, f.doc, ", ".join(str(s) for s in f.sources)) for f in FIELDS}
    docs.update({name: (t, doc, src) for name, t, doc, src in FILE_COLUMNS + DERIVED_COLUMNS})
    return [(name, *docs[name]) for name in GENS_COLUMN_ORDER]
