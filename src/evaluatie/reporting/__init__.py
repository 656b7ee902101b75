"""Tables and generated text for reports that any study can use."""

from evaluatie.reporting.compare import (
    disagreement_sentence,
    event_study_table,
    overall_table,
)
from evaluatie.reporting.headline import Headline
from evaluatie.reporting.interpret import describe_effect, pretrend_sentence, signed
from evaluatie.reporting.notes import warnings_as_notes
from evaluatie.reporting.power import inference_alternatives, mde_sentence, mde_table

__all__ = [
    "Headline",
    "describe_effect",
    "disagreement_sentence",
    "event_study_table",
    "inference_alternatives",
    "mde_sentence",
    "mde_table",
    "overall_table",
    "pretrend_sentence",
    "signed",
    "warnings_as_notes",
]
