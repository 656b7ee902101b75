"""Tables and generated text for reports that any study can use, in the report's
language (:func:`set_language`: Dutch by default, English on request)."""

from evaluatie.core.language import current_language, set_language, use_language
from evaluatie.reporting.compare import (
    disagreement_sentence,
    event_study_table,
    overall_table,
)
from evaluatie.reporting.display import show_figure, show_markdown
from evaluatie.reporting.headline import Headline
from evaluatie.reporting.interpret import (
    describe_effect,
    pretrend_sentence,
    signed,
    thin_cells_sentence,
)
from evaluatie.reporting.notes import warnings_as_notes
from evaluatie.reporting.power import inference_alternatives, mde_sentence, mde_table
from evaluatie.reporting.sensitivity import sensitivity
from evaluatie.reporting.summary import (
    Finding,
    inference_words,
    rpe_sections,
    show_summary,
    summary_sentences,
)
from evaluatie.reporting.tables import show_table

__all__ = [
    "Finding",
    "Headline",
    "current_language",
    "describe_effect",
    "disagreement_sentence",
    "event_study_table",
    "inference_alternatives",
    "inference_words",
    "mde_sentence",
    "mde_table",
    "overall_table",
    "pretrend_sentence",
    "rpe_sections",
    "sensitivity",
    "set_language",
    "show_figure",
    "show_markdown",
    "show_summary",
    "show_table",
    "signed",
    "summary_sentences",
    "thin_cells_sentence",
    "use_language",
    "warnings_as_notes",
]
