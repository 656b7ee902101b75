"""The onderwijs-innovatiebudget study: did schools improve after their first grant?

Staggered adoption at a handful of schools per gemeente; :mod:`.design` runs the event
studies side by side and states which truth (on simulated data) each is compared with,
:mod:`.tables` describes the panel.
"""

from evaluatie.studies.innovatiebudget import tables
from evaluatie.studies.innovatiebudget.design import (
    CLUSTER_COLUMNS,
    POWER_SIZES,
    ROBUST_ESTIMATORS,
    detectable_effect,
    event_studies,
    headline,
    overall_estimates,
    true_event_path,
)

__all__ = [
    "CLUSTER_COLUMNS",
    "POWER_SIZES",
    "ROBUST_ESTIMATORS",
    "detectable_effect",
    "event_studies",
    "headline",
    "overall_estimates",
    "tables",
    "true_event_path",
]
