"""Tables and generated text for reports."""

from evaluatie.reporting import vve
from evaluatie.reporting.compare import (
    Summary,
    disagreement_sentence,
    event_study_table,
    overall_table,
)
from evaluatie.reporting.interpret import describe_effect, pretrend_sentence
from evaluatie.reporting.notes import warnings_as_notes
from evaluatie.reporting.overview import cohort_overview, panel_overview

__all__ = [
    "Summary",
    "cohort_overview",
    "describe_effect",
    "disagreement_sentence",
    "event_study_table",
    "overall_table",
    "panel_overview",
    "pretrend_sentence",
    "vve",
    "warnings_as_notes",
]
