"""The onderwijs-innovatiebudget study: did schools improve after their first grant?

Staggered adoption at a handful of schools per gemeente; :mod:`.sample` selects the
school-years and checks the design can be estimated on them; :mod:`.design` runs the event
studies side by side and states which truth (on simulated data) each is compared with,
:mod:`.tables` describes the panel and :mod:`.text` holds the report's prose in Dutch and
English.
"""

from evaluatie.studies.innovatiebudget import cost, gaps, tables, text
from evaluatie.studies.innovatiebudget.design import (
    POWER_SIZES,
    ROBUST_ESTIMATORS,
    detectable_effect,
    event_studies,
    headline,
    overall_estimates,
    rpe,
    summary,
    summary_finding,
    true_event_path,
    truth_sentence,
)
from evaluatie.studies.innovatiebudget.sample import CLUSTER_COLUMNS, design_problems, study_panel
from evaluatie.studies.innovatiebudget.text import section

__all__ = [
    "CLUSTER_COLUMNS",
    "POWER_SIZES",
    "ROBUST_ESTIMATORS",
    "cost",
    "design_problems",
    "detectable_effect",
    "event_studies",
    "gaps",
    "headline",
    "overall_estimates",
    "rpe",
    "section",
    "study_panel",
    "summary",
    "summary_finding",
    "tables",
    "text",
    "true_event_path",
    "truth_sentence",
]
