# Copied verbatim from github.com/zby/DayDreamingDayDreaming at d4d22154e74cd465f3fb496a5ced093fefcdc2f6,
# path daydreaming_dagster/assets/partitions.py. Not edited: framework imports (dagster, openai, tenacity, ratelimit) resolve to the
# stubs of tests/realwriter/legacy_stubs while this era is imported (see ../__init__.py).
from dagster import DynamicPartitionsDefinition

# Create dynamic partition definitions
generation_tasks_partitions = DynamicPartitionsDefinition(name="generation_tasks")
evaluation_tasks_partitions = DynamicPartitionsDefinition(name="evaluation_tasks")