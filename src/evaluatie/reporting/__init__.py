"""Tables and generated text for reports."""

from evaluatie.reporting.interpret import describe_effect
from evaluatie.reporting.overview import cohort_overview, panel_overview

__all__ = ["cohort_overview", "describe_effect", "panel_overview"]
