# Copied verbatim from github.com/zby/DayDreamingDayDreaming at 5c21221d6e264047382818d5a10a476f31d47200,
# path daydreaming_dagster/models/concept.py. Not edited: framework imports (dagster, openai, tenacity, ratelimit) resolve to the
# stubs of tests/realwriter/legacy_stubs while this era is imported (see ../__init__.py).
from dataclasses import dataclass, field
from typing import Dict


@dataclass
class Concept:
    """Core concept with hierarchical descriptions for experiments."""
    
    concept_id: str
    name: str
    descriptions: Dict[str, str] = field(default_factory=dict)