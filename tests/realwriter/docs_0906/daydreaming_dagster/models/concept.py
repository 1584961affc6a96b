# Copied from github.com/zby/DayDreamingDayDreaming at 6915d2dc73c8622589b5579ed581f864cbe866d2,
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