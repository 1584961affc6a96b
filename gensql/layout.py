"""The store's layout: every path, file name and stage name gensql knows, in one place.

The pipeline writes ``<data-root>/gens/<stage>/<gen_id>/`` per generation and
``<data-root>/cohorts/<cohort_id>/membership.csv`` per cohort. gensql's own output lives under
``<data-root>/index/`` unless told otherwise. Nothing else in the package spells these names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidIdError, StoreNotFoundError

#: Environment variable that overrides the default data root (``./data``).
DATA_ROOT_ENV = "GENSQL_DATA_ROOT"
#: Environment variable that overrides the default index directory (``<data-root>/index``).
INDEX_DIR_ENV = "GENSQL_INDEX_DIR"

GENS_DIR = "gens"
COHORTS_DIR = "cohorts"
#: Seed 000's docs store (2025-09-06..09-07): ``docs/<stage>/<doc_id>/`` or, before 09-07,
#: ``docs/<stage>/<logical_key_id>/<doc_id>/``; indexed next to gens/ (``gens.store_root``).
DOCS_DIR = "docs"
#: Seed 000's SQLite index of the docs store, read read-only for facts of docs rows.
DOCS_DB_FILE = "db/documents.sqlite"
#: The pipeline's template list whose ``generator`` column says which essay templates copy.
ESSAY_TEMPLATES_FILE = "1_raw/essay_templates.csv"
#: Values of ``gens.store_root``: which root directory a row's generation directory sits in.
STORE_ROOTS: tuple[str, ...] = (GENS_DIR, DOCS_DIR)
INDEX_DIR = "index"
#: Human ratings imported by ``gensql labels import`` (gensql/labels.py): <data-root>/labels/<name>.parquet.
LABELS_DIR = "labels"
MEMBERSHIP_FILE = "membership.csv"

#: Pipeline stages in lineage order: an essay's parent is a draft, an evaluation's parent an essay.
STAGES: tuple[str, ...] = ("draft", "essay", "evaluation")
PARENT_STAGE: dict[str, str | None] = {"draft": None, "essay": "draft", "evaluation": "essay"}

METADATA_FILE = "metadata.json"
RAW_METADATA_FILE = "raw_metadata.json"
PARSED_METADATA_FILE = "parsed_metadata.json"
PROMPT_FILE = "prompt.txt"
RAW_FILE = "raw.txt"
PARSED_FILE = "parsed.txt"

#: JSON files in merge order: later files override earlier ones (null-like values never override).
JSON_FILES: tuple[str, ...] = (METADATA_FILE, PARSED_METADATA_FILE, RAW_METADATA_FILE)
TEXT_FILES: tuple[str, ...] = (PROMPT_FILE, RAW_FILE, PARSED_FILE)
#: Every file gensql reads or stats in a generation directory; the position is the file's bit in
#: the index manifest's presence mask.
KNOWN_FILES: tuple[str, ...] = JSON_FILES + TEXT_FILES
FILE_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(KNOWN_FILES)}

# Legacy flat layout (before the gens store), read only by the backfill.
LEGACY_DIRS: dict[str, dict[str, str]] = {
    "draft": {
        "prompts": "3_generation/draft_prompts",
        "parsed": "3_generation/draft_responses",
        "raw": "3_generation/draft_responses_raw",
    },
    "essay": {
        "prompts": "3_generation/essay_prompts",
        "parsed": "3_generation/essay_responses",
        "raw": "3_generation/essay_responses_raw",
    },
    "evaluation": {
        "prompts": "4_evaluation/evaluation_prompts",
        "parsed": "4_evaluation/evaluation_responses",
        "raw": "4_evaluation/evaluation_responses_raw",
    },
}
LEGACY_LINKS_DIR = "3_generation/links_responses"
LEGACY_LINKS_PROMPTS_DIR = "3_generation/links_prompts"
#: Single-phase era (before 2025-08-19): one model call per task, then a parsed essay portion.
LEGACY_SINGLE_PHASE_DIRS: dict[str, str] = {
    "prompts": "3_generation/generation_prompts",
    "raw": "3_generation/generation_responses",
    "parsed": "3_generation/parsed_generation_responses",
}
#: The pipeline's task tables (``data/2_tasks/<name>``) and the task kind each one defines.
LEGACY_TASKS_DIR = "2_tasks"
LEGACY_TASK_TABLES: dict[str, str] = {
    "generation_tasks.csv": "generation",
    "link_generation_tasks.csv": "links",
    "draft_generation_tasks.csv": "draft",
    "essay_generation_tasks.csv": "essay",
    "evaluation_tasks.csv": "evaluation",
}
#: The pipeline's id lists (``data/1_raw/<name>``): model ids, and template ids per task kind.
LEGACY_RAW_DIR = "1_raw"
LEGACY_MODELS_FILE = "llm_models.csv"
LEGACY_TEMPLATE_LISTS: dict[str, str] = {
    "generation": "generation_templates.csv",
    "links": "link_templates.csv",
    "draft": "draft_templates.csv",
    "essay": "essay_templates.csv",
    "evaluation": "evaluation_templates.csv",
}

#: Prefix of the hidden temporary name a writer (backfill, the write path) builds a generation,
#: file or membership under before renaming it into place; refresh never reads such an entry as data.
WRITER_TMP_PREFIX = ".tmp-"
#: Prefix of the ids the write path gives new generations, as the current pipeline does.
STAGE_ID_PREFIX: dict[str, str] = {"draft": "d_", "essay": "e_", "evaluation": "v_"}

#: A plain path component: what :func:`check_name` accepts (refresh flags other generation ids).
SAFE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"
_SAFE_NAME = re.compile(SAFE_NAME_PATTERN)


def check_name(value: object, what: str) -> str:
    """Return ``value`` if it is a single safe path component, else raise :class:`InvalidIdError`.

    Ids come from users and from files; one that contains a separator or ``..`` could make gensql
    read outside the store, so every id that becomes part of a path goes through here.
    """
    if not isinstance(value, str) or not _SAFE_NAME.match(value) or value in (".", ".."):
        raise InvalidIdError(f"invalid {what} {value!r}: expected a plain name (letters, digits, '.', '_', '-')")
    return value


def check_stage(stage: object) -> str:
    """Return ``stage`` if it is one of :data:`STAGES`, else raise :class:`InvalidIdError`."""
    if not isinstance(stage, str) or stage not in STAGES:
        raise InvalidIdError(f"unknown stage {stage!r}: expected one of {', '.join(STAGES)}")
    return stage


@dataclass(frozen=True)
class StoreLayout:
    """Resolved locations of one store: where the gens, cohorts and index live."""

    data_root: Path
    index_dir: Path

    @property
    def gens_root(self) -> Path:
        return self.data_root / GENS_DIR

    @property
    def cohorts_root(self) -> Path:
        return self.data_root / COHORTS_DIR

    @property
    def labels_root(self) -> Path:
        return self.data_root / LABELS_DIR

    def stage_dir(self, stage: str) -> Path:
        return self.gens_root / check_stage(stage)

    def gen_dir(self, stage: str, gen_id: str) -> Path:
        return self.stage_dir(stage) / check_name(gen_id, "gen_id")

    def require_gens(self) -> Path:
        """The gens root, or a :class:`StoreNotFoundError` that names the path that was tried."""
        if not self.gens_root.is_dir():
            raise StoreNotFoundError(
                f"no gens store at {self.gens_root}: expected <data-root>/{GENS_DIR}/<stage>/<gen_id>/. "
                f"Pass --data-root or set {DATA_ROOT_ENV}."
            )
        return self.gens_root


def resolve(data_root: str | os.PathLike | None = None, index_dir: str | os.PathLike | None = None) -> StoreLayout:
    """Resolve the data root and index directory from arguments, environment, then defaults."""
    root = Path(data_root or os.environ.get(DATA_ROOT_ENV) or "data").expanduser().absolute()
    index = index_dir or os.environ.get(INDEX_DIR_ENV)
    index_path = Path(index).expanduser().absolute() if index else root / INDEX_DIR
    return StoreLayout(data_root=root, index_dir=index_path)


# gensql's own index directory: <index>/current -> snapshots/<id>/ holding one Parquet file per table.
INDEX_CURRENT_LINK = "current"
INDEX_SNAPSHOTS_DIR = "snapshots"
INDEX_LOCK_FILE = ".lock"
#: Marker file that makes a directory a gensql index: gensql writes only into a directory that has it
#: (or that is new, empty, or an index from before the marker existed), and deletes only its own names.
INDEX_MARKER_FILE = ".gensql-index"
INDEX_CATALOG_FILE = "gensql.duckdb"
SNAPSHOT_INFO_FILE = "snapshot.json"
#: Tables of one snapshot and their file (or, for partitioned tables, directory) names.
#: ``_manifest`` is the change-detection state. The contract: docs/index-layout.md.
TABLE_FILES: dict[str, str] = {
    "gens": "gens",
    "_gens_scan": "_gens_scan",  # gens as scanned from each directory alone (before borrowed facts)
    "membership": "membership.parquet",
    "scan_errors": "scan_errors.parquet",
    "texts": "texts",  # one row per text file: bytes, chars, lines, sha256 (empty with --no-texts)
    "_manifest": "_manifest",
}
#: Tables with one row (or a few) per generation: hive-partitioned by stage, hash-partitioned by gen_id.
PARTITIONED_TABLES: tuple[str, ...] = ("gens", "_gens_scan", "texts", "_manifest")
#: Version of the snapshot layout written into ``snapshot.json`` (``layout``); 2 = partitioned, 3 = stage only in the directory names and meta typed JSON.
INDEX_LAYOUT_VERSION = 3


def partition_file(table: str, stage: str, bits: int, bucket: int) -> str:
    """A partition file's path inside a snapshot: ``<table>/stage=<stage>/part-<bits>-<bucket>.parquet``."""
    return f"{TABLE_FILES[table]}/stage={stage}/part-{bits:02d}-{bucket:04x}.parquet"
