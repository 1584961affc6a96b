"""Backfill of the legacy flat folders into gens/<stage>/<gen_id>/."""

from __future__ import annotations

import errno
import hashlib
import importlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gensql.backfill import (
    KIND_LINKS,
    KIND_PARSED,
    KIND_RAW,
    BackfillSummary,
    LegacyStoreNotFoundError,
    backfill,
    backfill_gen_id,
)
from gensql.backfill.names import parse_name
from gensql.errors import GensqlError
from gensql.ids import logical_key_id, new_gen_id
from gensql.layout import (
    GENS_DIR,
    LEGACY_DIRS,
    LEGACY_LINKS_DIR,
    METADATA_FILE,
    PARSED_FILE,
    PROMPT_FILE,
    RAW_FILE,
)

REPO = Path(__file__).resolve().parents[1]
# the module that writes (os.link, _transfer live there)
backfill_module = importlib.import_module("gensql.backfill.write")
D, E, V = LEGACY_DIRS["draft"], LEGACY_DIRS["essay"], LEGACY_DIRS["evaluation"]

# Task ids as the real pipeline spelled them (single "_" joins; ids contain "_", "-", "."), no task
# tables: these tests are about the mechanics. tests/test_backfill_real.py runs the real writer code.
C1 = "combo_v1_1a2b3c4d5e6f_deliberate-rolling-thread-v2_deepseek_r1_p"  # versioned draft
L1 = "combo_v1_9f8e7d6c5b4a_creative-synthesis-v10_gemini_2.5_flash"  # links draft (2025-08)
E1, E2, E_ORPHAN = (
    f"{C1}_creative-synthesis-v10",
    f"{L1}_creative-synthesis-v10",
    "combo_v1_000000000000_x_creative-synthesis-v10",
)
V1, V2 = f"{E1}__daydreaming-verification-v2__sonnet-4", f"{E2}_daydreaming-verification-v2_sonnet-4"

T0 = 1_756_000_000  # seconds; each legacy file gets T0 + its offset below as mtime (the run that wrote it)
LEGACY: dict[str, tuple[str, int]] = {
    # c1: run 1 ok (prompt, raw, parsed v1), run 2 truncated (prompt v2, raw v2, no parsed)
    f"{D['prompts']}/{C1}_v1.txt": ("prompt c1 v1\n", 0),
    f"{D['raw']}/{C1}_v1.txt": ("raw c1 v1\n", 0),
    f"{D['parsed']}/{C1}_v1.txt": ("parsed c1 v1\n", 0),
    f"{D['prompts']}/{C1}_v2.txt": ("prompt c1 v2\n", 60),
    f"{D['raw']}/{C1}_v2.txt": ("raw c1 v2 cut\n", 60),
    # l1: links only (the model's output, unparsed), and a stray file
    f"{LEGACY_LINKS_DIR}/{L1}.txt": ("links l1\n", 0),
    f"{LEGACY_LINKS_DIR}/README.md": ("not a response\n", 0),
    # essays
    f"{E['prompts']}/{E1}_v1.txt": ("prompt e1\n", 120),
    f"{E['raw']}/{E1}_v1.txt": ("raw e1\n", 120),
    f"{E['parsed']}/{E1}_v1.txt": ("parsed e1\n", 120),
    f"{E['parsed']}/{E2}.txt": ("essay e2\n", 120),
    f"{E['parsed']}/{E_ORPHAN}.txt": ("parsed orphan\n", 120),
    # evaluations: responses are the model's output (no raw side-write in any legacy era)
    f"{V['prompts']}/{V1}_v1.txt": ("prompt v1\n", 180),
    f"{V['parsed']}/{V1}_v1.txt": ("reasoning\nSCORE: 7\n", 180),
    f"{V['parsed']}/{V2}.txt": ("reasoning\nSCORE: 4\n", 180),
    f"{V['prompts']}/lonely__vtpl__vm.txt": ("prompt without response\n", 180),
}

# (stage, task_id, kind, version) -> {file name: content} (metadata.json besides)
EXPECTED: dict[tuple[str, str, str, int], dict[str, str]] = {
    ("draft", C1, KIND_RAW, 1): {PROMPT_FILE: "prompt c1 v1\n", RAW_FILE: "raw c1 v1\n", PARSED_FILE: "parsed c1 v1\n"},
    ("draft", C1, KIND_RAW, 2): {PROMPT_FILE: "prompt c1 v2\n", RAW_FILE: "raw c1 v2 cut\n"},
    ("draft", L1, KIND_LINKS, 0): {RAW_FILE: "links l1\n", PARSED_FILE: "links l1\n"},
    ("essay", E1, KIND_RAW, 1): {PROMPT_FILE: "prompt e1\n", RAW_FILE: "raw e1\n", PARSED_FILE: "parsed e1\n"},
    ("essay", E2, KIND_PARSED, 0): {RAW_FILE: "essay e2\n", PARSED_FILE: "essay e2\n"},
    ("essay", E_ORPHAN, KIND_PARSED, 0): {RAW_FILE: "parsed orphan\n", PARSED_FILE: "parsed orphan\n"},
    ("evaluation", V1, KIND_PARSED, 1): {
        PROMPT_FILE: "prompt v1\n",
        RAW_FILE: "reasoning\nSCORE: 7\n",
        PARSED_FILE: "reasoning\nSCORE: 7\n",
    },
    ("evaluation", V2, KIND_PARSED, 0): {RAW_FILE: "reasoning\nSCORE: 4\n", PARSED_FILE: "reasoning\nSCORE: 4\n"},
}
N = len(EXPECTED)


def gid(stage: str, task_id: str, kind: str, version: int) -> str:
    return backfill_gen_id(stage, task_id, kind, version)


# Parent -> its latest attempt (the one holding the newest parsed text); None: unresolved.
PARENTS: dict[tuple[str, str], tuple[str, str] | None] = {
    ("essay", E1): (C1, gid("draft", C1, KIND_RAW, 1)),  # raw v2 was cut off: v1 holds the parsed draft
    ("essay", E2): (L1, gid("draft", L1, KIND_LINKS, 0)),
    ("essay", E_ORPHAN): None,
    ("evaluation", V1): (E1, gid("essay", E1, KIND_RAW, 1)),
    ("evaluation", V2): (E2, gid("essay", E2, KIND_PARSED, 0)),
}

# Without task tables or id lists: only what the file names spell out unambiguously.
FIELDS: dict[tuple[str, str], dict[str, str]] = {
    ("essay", E1): {"template_id": "creative-synthesis-v10"},
    ("essay", E2): {"template_id": "creative-synthesis-v10"},
    ("evaluation", V1): {"template_id": "daydreaming-verification-v2", "llm_model_id": "sonnet-4"},
}


def make_legacy(root: Path) -> Path:
    for rel, (text, offset) in LEGACY.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.utime(path, (T0 + offset, T0 + offset))
    return root


def tree_hash(root: Path, *, mtimes: bool = True, skip_hidden: bool = False) -> str:
    """Names, contents (and modification times) of every file and directory under ``root``."""
    h = hashlib.sha256()
    if not root.exists():
        return "absent"
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        if skip_hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        h.update(f"D {rel_dir}\n".encode())
        if mtimes:
            h.update(str(os.stat(dirpath).st_mtime_ns).encode())
        for name in sorted(filenames):
            path = Path(dirpath) / name
            h.update(f"F {rel_dir}/{name}\n".encode())
            h.update(path.read_bytes())
            if mtimes:
                h.update(str(path.stat().st_mtime_ns).encode())
    return h.hexdigest()


def legacy_hash(root: Path) -> str:
    return hashlib.sha256(
        "".join(tree_hash(root / top) for top in ("3_generation", "4_evaluation")).encode()
    ).hexdigest()


def gens_dirs(root: Path) -> dict[str, set[str]]:
    gens = root / GENS_DIR
    return {s.name: {d.name for d in s.iterdir()} for s in sorted(gens.iterdir())} if gens.exists() else {}


def expected_dirs() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for stage, task_id, kind, version in EXPECTED:
        out.setdefault(stage, set()).add(gid(stage, task_id, kind, version))
    return out


def read_md(root: Path, stage: str, gen_id: str) -> dict:
    return json.loads((root / GENS_DIR / stage / gen_id / METADATA_FILE).read_text(encoding="utf-8"))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return make_legacy(tmp_path / "data")


def test_backfill_creates_exactly_the_expected_store(store: Path) -> None:
    calls: list[tuple[int, int]] = []
    summary = backfill(store, run_id="backfill-20240101", progress=lambda d, t: calls.append((d, t)))

    assert isinstance(summary, BackfillSummary)
    assert summary.created == len(EXPECTED) == N
    assert (summary.skipped, summary.linked, summary.copied) == (0, 0, sum(len(f) for f in EXPECTED.values()))
    assert calls == [(i, N) for i in range(N + 1)]
    assert gens_dirs(store) == expected_dirs()

    for (stage, task_id, kind, version), files in EXPECTED.items():
        gen_id = gid(stage, task_id, kind, version)
        gen_dir = store / GENS_DIR / stage / gen_id
        assert sorted(p.name for p in gen_dir.iterdir()) == sorted([*files, METADATA_FILE]), (
            stage,
            task_id,
            kind,
            version,
        )
        for name, text in files.items():
            assert (gen_dir / name).read_text(encoding="utf-8") == text
        raw_text = (gen_dir / METADATA_FILE).read_text(encoding="utf-8")
        assert raw_text.startswith('{\n  "stage": ')  # pretty JSON, indent=2
        md = json.loads(raw_text)
        assert md["stage"] == stage and md["gen_id"] == gen_id and md["task_id"] == task_id
        assert (md["mode"], md["run_id"], md["replicate"]) == ("llm", "backfill-20240101", 1)
        bf = md["backfill"]
        assert (bf["kind"], bf["version"], bf["run_id"]) == (kind, version, "backfill-20240101")
        assert bf["logical_key_id"] == logical_key_id(stage, task_id)
        assert bf["parsed_only"] is (RAW_FILE not in files)
        # provenance names the legacy file behind every file in the directory
        for name, rel in bf["source_files"].items():
            assert LEGACY[rel][0] == files[f"{name}.txt"]
        assert set(bf["source_files"]) == {n.removesuffix(".txt") for n in files}
        for key in ("template_id", "llm_model_id", "combo_id"):
            assert md.get(key) == FIELDS.get((stage, task_id), {}).get(key), (stage, task_id, key)
            if key in md:
                assert bf["facts_from"][key] == "filename"
        if stage != "draft":
            parent = PARENTS[(stage, task_id)]
            if parent is None:
                assert "parent_gen_id" not in md
            else:
                assert (md["parent_task_id"], md["parent_gen_id"]) == parent
                parent_stage = "draft" if stage == "essay" else "essay"
                assert (store / GENS_DIR / parent_stage / md["parent_gen_id"]).is_dir()
        else:
            assert "parent_gen_id" not in md

    # the derivation is pinned: ids must not change between gensql versions
    assert gid("draft", C1, KIND_RAW, 2) == new_gen_id(logical_key_id("draft", C1), "backfill", "raw-v2")

    unresolved = {(s, t): reason for s, t, reason in summary.unresolved_parents}
    assert set(unresolved) == {("essay", E_ORPHAN)}
    assert summary.errors == []
    assert sorted(p for p, _ in summary.ignored) == sorted(
        [f"{LEGACY_LINKS_DIR}/README.md", f"{V['prompts']}/lonely__vtpl__vm.txt"]
    )
    text = summary.to_text()
    assert f"created {N} generation(s)" in text and "1 unresolved parent(s)" in text and "0 error(s)" in text


def test_second_run_on_a_later_day_is_a_noop(store: Path) -> None:
    backfill(store, run_id="backfill-20240101")
    before = tree_hash(store)
    summary = backfill(store)  # default run id: backfill-<today>
    assert re.fullmatch(r"backfill-\d{8}", summary.run_id)
    assert (summary.created, summary.skipped, summary.linked, summary.copied) == (0, N, 0, 0)
    assert tree_hash(store) == before
    assert read_md(store, "draft", gid("draft", C1, KIND_RAW, 1))["run_id"] == "backfill-20240101"


def test_dry_run_writes_nothing_and_returns_the_plan(store: Path) -> None:
    before = tree_hash(store)
    summary = backfill(store, dry_run=True, run_id="r")
    assert tree_hash(store) == before
    assert not (store / GENS_DIR).exists()
    assert summary.dry_run and summary.created == N and (summary.linked, summary.copied) == (0, 0)
    planned = {(p.stage, p.task_id, p.kind, p.version): p for p in summary.planned}
    assert set(planned) == set(EXPECTED)
    c1 = planned[("draft", C1, KIND_RAW, 2)]
    assert c1.gen_id == gid("draft", C1, KIND_RAW, 2)
    assert c1.files == {PROMPT_FILE: f"{D['prompts']}/{C1}_v2.txt", RAW_FILE: f"{D['raw']}/{C1}_v2.txt"}
    assert c1.to_dict()["status"] == "new"
    assert f"would create {N}" in summary.to_text()

    backfill(store, run_id="r")
    again = backfill(store, dry_run=True)
    assert (again.created, again.skipped) == (0, N)
    assert {p.status for p in again.planned} == {"imported"}


def test_stage_filter_still_links_to_parents(store: Path) -> None:
    summary = backfill(store, stage="essay", run_id="r")
    assert set(gens_dirs(store)) == {"essay"} and summary.created == 3
    assert {s for s, _, _ in summary.unresolved_parents} == {"essay"}
    assert read_md(store, "essay", gid("essay", E1, KIND_RAW, 1))["parent_gen_id"] == gid("draft", C1, KIND_RAW, 1)
    assert backfill(store, stage="draft", run_id="r").created == 3
    with pytest.raises(GensqlError):
        backfill(store, stage="essays")


def test_link_makes_hard_links_and_leaves_legacy_intact(store: Path) -> None:
    before = legacy_hash(store)
    summary = backfill(store, link=True, run_id="r")
    n_files = sum(len(f) for f in EXPECTED.values())
    assert (summary.linked, summary.copied) == (n_files, 0)
    for (stage, task_id, kind, version), files in EXPECTED.items():
        md = read_md(store, stage, gid(stage, task_id, kind, version))
        sources = md["backfill"]["source_files"]
        for name in files:
            target = store / GENS_DIR / stage / md["gen_id"] / name
            assert target.stat().st_ino == (store / sources[name.removesuffix(".txt")]).stat().st_ino
    assert legacy_hash(store) == before
    assert {p: (store / p).read_text(encoding="utf-8") for p in LEGACY} == {p: t for p, (t, _) in LEGACY.items()}


def test_link_falls_back_to_copy(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_link(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(backfill_module.os, "link", no_link)
    src = store / f"{D['raw']}/{C1}_v1.txt"
    os.utime(src, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    summary = backfill(store, link=True, run_id="r")
    assert (summary.linked, summary.copied) == (0, sum(len(f) for f in EXPECTED.values()))
    copy = store / GENS_DIR / "draft" / gid("draft", C1, KIND_RAW, 1) / RAW_FILE
    assert copy.stat().st_ino != src.stat().st_ino
    assert copy.stat().st_mtime_ns == src.stat().st_mtime_ns  # generation time survives the copy


def test_existing_foreign_directory_is_an_error_and_untouched(store: Path) -> None:
    target = store / GENS_DIR / "draft" / gid("draft", L1, KIND_LINKS, 0)
    target.mkdir(parents=True)
    (target / METADATA_FILE).write_text('{"stage": "draft", "task_id": "something else"}', encoding="utf-8")
    summary = backfill(store, run_id="r")
    assert summary.created == N - 1 and summary.skipped == 0
    message = f"exists but was not imported from draft {L1!r} links v0; left untouched"
    assert (f"{GENS_DIR}/draft/{target.name}", message) in summary.errors
    assert sorted(p.name for p in target.iterdir()) == [METADATA_FILE]


def test_no_legacy_folders_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LegacyStoreNotFoundError) as info:
        backfill(tmp_path, run_id="r")
    message = str(info.value)
    for rel in (D["raw"], E["parsed"], V["prompts"], LEGACY_LINKS_DIR):
        assert str(tmp_path / rel) in message
    assert isinstance(info.value, GensqlError) and info.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


_KILLED_RUN = """
import os, signal, sys
import importlib
b = importlib.import_module("gensql.backfill.write")
root, mode, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
def die():
    os.kill(os.getpid(), signal.SIGKILL)
progress = None
if mode == "progress":  # killed between two generations
    def progress(done, total):
        if done == k:
            die()
else:  # killed in the middle of a generation, on the k-th file
    calls = [0]
    real = b._transfer
    def transfer(src, dst, link):
        calls[0] += 1
        if calls[0] == k:
            die()
        return real(src, dst, link)
    b._transfer = transfer
b.backfill(root, run_id="r", progress=progress)
"""


@pytest.mark.parametrize(("mode", "k", "complete", "stale"), [("progress", 2, 2, 0), ("file", 5, 1, 1)])
def test_killed_run_leaves_no_partial_generation(tmp_path: Path, mode: str, k: int, complete: int, stale: int) -> None:
    reference = make_legacy(tmp_path / "reference")
    backfill(reference, run_id="r")
    ref_gens = reference / GENS_DIR

    store = make_legacy(tmp_path / "killed")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, str(store), mode, str(k)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()

    stage_dir = store / GENS_DIR / "draft"
    names = sorted(p.name for p in stage_dir.iterdir())
    assert len([n for n in names if n.startswith(".tmp-")]) == stale
    visible = [n for n in names if not n.startswith(".")]
    assert len(visible) == complete
    for name in visible:  # every visible generation is complete and identical to the reference
        assert tree_hash(stage_dir / name, mtimes=False) == tree_hash(ref_gens / "draft" / name, mtimes=False)

    summary = backfill(store, run_id="r")
    assert (summary.created, summary.skipped, summary.stale_removed) == (N - complete, complete, stale)
    assert tree_hash(store / GENS_DIR, mtimes=False) == tree_hash(ref_gens, mtimes=False)


def test_version_names() -> None:
    """Only ``_vN`` is a version; ``-vN`` ends template ids and stays in the task id."""
    assert parse_name("a_b_c.txt") == ("a_b_c", 0)
    assert parse_name("a__b__c_v12.txt") == ("a__b__c", 12)
    assert parse_name("combo_v1_ab_creative-synthesis-v10_deepseek_r1_p.txt") == (
        "combo_v1_ab_creative-synthesis-v10_deepseek_r1_p",
        0,
    )
    assert parse_name("x_creative-synthesis-v10.txt") == ("x_creative-synthesis-v10", 0)
    assert parse_name("x_creative-synthesis-v10_v3.txt") == ("x_creative-synthesis-v10", 3)
    assert parse_name("a_v1_v2.txt") == ("a_v1", 2)  # only the last suffix is a version
    assert parse_name("a_vx.txt") == ("a_vx", 0)
    assert parse_name("notes.md") is None and parse_name(".txt") is None


def test_cli_backfill_dry_run_then_real_run_then_refresh(store: Path) -> None:
    """Through the real entry point: the plan on stdout, nothing written; then a clean refresh."""
    import subprocess
    import sys

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "gensql", *args, "--data-root", str(store)], capture_output=True, text=True
        )

    before = tree_hash(store)
    dry = cli("backfill", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert tree_hash(store) == before
    rows = [line.split("\t") for line in dry.stdout.splitlines()]
    plan = [r for r in rows if r[0] != "not-imported"]
    assert {(row[0], row[1]) for row in plan} == {
        (stage, gen_id) for stage, ids in expected_dirs().items() for gen_id in ids
    }
    assert all(row[5] == "new" for row in plan)
    assert sorted(r[1] for r in rows if r[0] == "not-imported") == sorted(
        [f"{LEGACY_LINKS_DIR}/README.md", f"{V['prompts']}/lonely__vtpl__vm.txt"]
    )
    real = cli("backfill", "--quiet")
    assert real.stdout == ""
    assert gens_dirs(store) == expected_dirs()
    refreshed = cli("refresh", "--strict")
    assert refreshed.returncode == 0, refreshed.stderr
    assert " 0 scan errors;" in refreshed.stderr


def test_special_files_among_legacy_files_are_refused_not_read(store: Path) -> None:
    """A FIFO, or a symlink to /dev/zero, where a legacy response should be: reported, never opened
    (opening a FIFO blocks; copying /dev/zero never ends), and everything else is still imported."""
    fifo = store / E["parsed"] / "c9_tpl_m1_essay-v1.txt"
    os.mkfifo(fifo)
    endless = store / V["parsed"] / "x__vtpl__vm.txt"
    endless.symlink_to("/dev/zero")
    prompt_fifo = store / E["prompts"] / "c9_tpl_m1_essay-v1.txt"
    os.mkfifo(prompt_fifo)
    plan = subprocess.run(
        [sys.executable, "-m", "gensql", "backfill", "--data-root", str(store), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = set(plan.stdout.splitlines())
    assert (
        "not-imported\t3_generation/essay_responses/c9_tpl_m1_essay-v1.txt\ta FIFO, not a regular file; not read"
        in lines
    )
    assert (
        "not-imported\t4_evaluation/evaluation_responses/x__vtpl__vm.txt\ta character device, not a regular file; not read"
        in lines
    )
    proc = subprocess.run(
        [sys.executable, "-m", "gensql", "backfill", "--data-root", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\b[5-9] legacy file\(s\) not imported", proc.stderr)  # the special files among them
    created = gens_dirs(store)
    for stage, ids in expected_dirs().items():
        assert ids <= created[stage]
    assert not any((store / GENS_DIR).glob("*/.tmp-*"))
