"""Copy real writer modules of zby/DayDreamingDayDreaming into a fixture package (run by hand, not by tests).

    python tests/realwriter/copy_real.py ERA_DIR COMMIT MODULE...

``MODULE`` is a path below the pipeline's package (``unified/stage_core.py``). Each copy goes to
``ERA_DIR/daydreaming_dagster/MODULE`` with a header naming repository, commit and path; the only edit
is that absolute ``daydreaming_dagster`` imports are pointed at the fixture package
(``realwriter.<era>.daydreaming_dagster``), so several eras can be imported side by side. Framework
imports (dagster, openai, tenacity, ratelimit) are left as written: they resolve to the stubs of
:mod:`realwriter.legacy_stubs` while an era is imported (:func:`realwriter.legacy_stubs.import_era`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

MIRROR = "/work/.mirror/zby+DayDreamingDayDreaming/repo"
REPO = "github.com/zby/DayDreamingDayDreaming"


def package_path(commit: str) -> str:
    names = subprocess.run(["git", "-C", MIRROR, "ls-tree", "--name-only", commit, "src/"], capture_output=True, text=True).stdout
    return "src/daydreaming_dagster" if names.strip() else "daydreaming_dagster"


def copy(era_dir: Path, commit: str, module: str) -> Path:
    full = subprocess.run(["git", "-C", MIRROR, "rev-parse", commit], capture_output=True, text=True, check=True).stdout.strip()
    source = f"{package_path(full)}/{module}"
    text = subprocess.run(["git", "-C", MIRROR, "show", f"{full}:{source}"], capture_output=True, text=True, check=True).stdout
    era = era_dir.name
    edited = re.sub(r"\b(from|import)\s+daydreaming_dagster\b", rf"\1 realwriter.{era}.daydreaming_dagster", text)
    note = "absolute daydreaming_dagster imports point at this fixture package" if edited != text else "not edited"
    header = (
        f"# Copied from {REPO} at {full},\n"
        f"# path {source}. Edits: {note}. Framework imports (dagster, openai, tenacity, ratelimit)\n"
        f"# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.\n"
    )
    target = era_dir / "daydreaming_dagster" / module
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + edited)
    return target


if __name__ == "__main__":
    era_dir, commit, *modules = sys.argv[1:]
    for module in modules:
        print(copy(Path(era_dir), commit, module))
