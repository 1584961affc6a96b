# Copied verbatim from github.com/zby/DayDreamingDayDreaming at d4d22154e74cd465f3fb496a5ced093fefcdc2f6,
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