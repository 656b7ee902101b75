"""Plots a report reader would rather look at than read."""

from evaluatie.plots.bacon import bacon_plot
from evaluatie.plots.event_study import event_study_plot
from evaluatie.plots.trends import trends_by_cohort
from evaluatie.plots.vve import budget_change_plot, dose_event_plot, dose_response_plot

__all__ = [
    "bacon_plot",
    "budget_change_plot",
    "dose_event_plot",
    "dose_response_plot",
    "event_study_plot",
    "trends_by_cohort",
]
