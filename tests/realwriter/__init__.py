"""Fixture tooling that runs the real pipeline's writer code (zby/DayDreamingDayDreaming), one subpackage per era."""
