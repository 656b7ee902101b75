"""The onderwijs-innovatiebudget study: did schools improve after their first grant?

Staggered adoption at a handful of schools per gemeente; :mod:`.sample` selects the
school-years and checks the design can be estimated on them; :mod:`.design` runs the event
studies side by side and states which truth (on simulated data) each is compared with,
:mod:`.tables` describes the panel.
"""

from evaluatie.studies.innovatiebudget import tables
from evaluatie.studies.innovatiebudget.design import (
    POWER_SIZES,
    ROBUST_ESTIMATORS,
    detectable_effect,
    event_studies,
    headline,
    overall_estimates,
    true_event_path,
)
from evaluatie.studies.innovatiebudget.sample import CLUSTER_COLUMNS, design_problems, study_panel

__all__ = [
    "CLUSTER_COLUMNS",
    "POWER_SIZES",
    "ROBUST_ESTIMATORS",
    "design_problems",
    "detectable_effect",
    "event_studies",
    "headline",
    "overall_estimates",
    "study_panel",
    "tables",
    "true_event_path",
]
