# Copied from github.com/zby/DayDreamingDayDreaming at 869bab4adfc6757efb84ddee4c38149515e6c131,
# path daydreaming_dagster/models/concept.py. Edits: not edited. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from dataclasses import dataclass, field
from typing import Dict


@dataclass
class Concept:
    """Core concept with hierarchical descriptions for experiments."""
    
    concept_id: str
    name: str
    descriptions: Dict[str, str] = field(default_factory=dict)