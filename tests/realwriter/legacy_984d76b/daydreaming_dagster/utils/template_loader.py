# Copied verbatim from github.com/zby/DayDreamingDayDreaming at 984d76b4e98e9b39d093f324e53d8012f55e258d,
# path daydreaming_dagster/utils/template_loader.py. Not edited: framework imports (dagster, openai, tenacity, ratelimit) resolve to the
# stubs of tests/realwriter/legacy_stubs while this era is imported (see ../__init__.py).
from pathlib import Path
from typing import Literal

PHASE = Literal["links", "essay"]
TEMPLATES_ROOT = Path("data/1_raw/generation_templates")

def load_generation_template(template_name: str, phase: PHASE) -> str:
    """
    Load a generation template for a specific phase.
    
    Args:
        template_name: Name of the template (e.g., 'creative-synthesis-v7')
        phase: Phase of generation ('links' or 'essay')
        
    Returns:
        str: Template content
        
    Raises:
        FileNotFoundError: If template file doesn't exist for the specified phase
    """
    # Use phase directories: links/ (plural), essay/ (singular)
    phase_dir = "essay" if phase == "essay" else "links"
    path = TEMPLATES_ROOT / phase_dir / f"{template_name}.txt"
    if not path.exists():
        raise FileNotFoundError(f"Template not found for phase='{phase}': {path}")
    return path.read_text(encoding="utf-8")
