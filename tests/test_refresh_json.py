"""`gensql refresh --json` (docs/cli.md): one JSON object on stdout for a scheduler (cron, CI, Airflow,
Dagster) to read: counts per stage, new / changed / deleted, errors, the snapshot id and the seconds."""

from __future__ import annotations

import json
import shutil

from test_refresh import make_small_store, run_cli


def test_refresh_json_is_one_object_on_stdout_and_follows_the_store(tmp_path, monkeypatch):
    # No racy window: a directory written just before a refresh is trusted, so the second refresh
    # re-reads exactly what changed, however loaded the machine is (nothing writes during a scan here).
    monkeypatch.setenv("GENSQL_RACY_WINDOW", "0")
    make_small_store(tmp_path)
    first = run_cli("refresh", "--data-root", str(tmp_path), "--json", "-q")
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # -q: no talk; the object is data
    assert len(first.stdout.splitlines()) == 1
    done = json.loads(first.stdout)
    assert done["by_stage"] == {"draft": 4, "essay": 4, "evaluation": 4}
    assert (done["generations"], done["new"], done["changed"], done["deleted"]) == (12, 12, 0, 0)
    assert (done["scan_errors"], done["error_kinds"], done["full"]) == (0, {}, True)
    assert (tmp_path / "index" / "snapshots" / done["snapshot_id"]).is_dir()
    assert (tmp_path / "index" / "current").resolve().name == done["snapshot_id"]
    assert isinstance(done["seconds"], float) and done["seconds"] >= 0

    shutil.rmtree(tmp_path / "gens" / "draft" / "d_0001")
    (tmp_path / "gens" / "essay" / "e_0002" / "raw_metadata.json").write_text("{oops")
    second = run_cli("refresh", "--data-root", str(tmp_path), "--json")  # the summary line stays on stderr
    assert second.returncode == 0, second.stderr
    assert "indexed 11 generations" in second.stderr
    again = json.loads(second.stdout)
    assert again["snapshot_id"] != done["snapshot_id"]
    assert (again["generations"], again["deleted"], again["changed"], again["full"]) == (11, 1, 1, False)
    assert again["by_stage"]["draft"] == 3
    assert again["scan_errors"] == 1 and again["error_kinds"] == {"invalid_json": 1}


def test_refresh_json_with_strict_still_says_what_was_written_and_exits_4(tmp_path):
    make_small_store(tmp_path)
    (tmp_path / "gens" / "draft" / "d_0001" / "raw_metadata.json").write_text("{oops")
    proc = run_cli("refresh", "--data-root", str(tmp_path), "--json", "--strict", "-q")
    assert proc.returncode == 4
    assert json.loads(proc.stdout)["scan_errors"] == 1
    assert "--strict" in proc.stderr


def test_refresh_json_of_a_missing_store_is_an_error_not_an_object(tmp_path):
    proc = run_cli("refresh", "--data-root", str(tmp_path / "nowhere"), "--json")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("gensql: error: no gens store")
