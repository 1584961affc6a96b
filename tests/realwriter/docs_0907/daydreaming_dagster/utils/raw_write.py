# Copied from github.com/zby/DayDreamingDayDreaming at 869bab4adfc6757efb84ddee4c38149515e6c131,
# path daydreaming_dagster/utils/raw_write.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from pathlib import Path
from typing import Optional
from .versioned_files import save_versioned_text


def save_versioned_raw_text(base_dir: Path, task_id: str, text: str, logger=None) -> Optional[str]:
    """Save text to a versioned RAW file under base_dir and return the filepath."""
    return save_versioned_text(base_dir, task_id, text, ".txt", logger=logger)
