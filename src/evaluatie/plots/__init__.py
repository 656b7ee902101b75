"""Plots of estimator results that any study can use (study-specific plots live with
their study in :mod:`evaluatie.studies`)."""

from evaluatie.plots.bacon import bacon_plot
from evaluatie.plots.event_study import event_study_plot
from evaluatie.plots.sensitivity import sensitivity_plot
from evaluatie.plots.trends import trends_by_cohort

__all__ = ["bacon_plot", "event_study_plot", "sensitivity_plot", "trends_by_cohort"]
