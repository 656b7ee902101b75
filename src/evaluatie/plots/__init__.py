"""Plots of estimator results that any study can use (study-specific plots live with
their study in :mod:`evaluatie.studies`)."""

from typing import TYPE_CHECKING

from evaluatie.core.lazy import lazy_attributes

if TYPE_CHECKING:
    from evaluatie.plots.bacon import bacon_plot
    from evaluatie.plots.event_study import event_study_plot
    from evaluatie.plots.sensitivity import sensitivity_plot
    from evaluatie.plots.trends import trends_by_cohort

__all__ = ["bacon_plot", "event_study_plot", "sensitivity_plot", "trends_by_cohort"]

# matplotlib.pyplot loads with the first plot (0.35 s), not with a study's text catalogue
# (evaluatie.plots.labels), which checking params files imports.
__getattr__ = lazy_attributes(
    __name__,
    {
        "bacon_plot": "bacon",
        "event_study_plot": "event_study",
        "sensitivity_plot": "sensitivity",
        "trends_by_cohort": "trends",
    },
)
