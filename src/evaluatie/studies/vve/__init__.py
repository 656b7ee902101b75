"""The VVE funding study: the 2019 OAB redistribution as a continuous dose per gemeente.

:mod:`.design` (policy dose, comparison group, analysis panels, dose-response per side),
:mod:`.tables`, :mod:`.text` (sentences generated from the numbers) and :mod:`.plots`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaluatie.core.lazy import lazy_attributes
from evaluatie.studies.vve import gaps, tables, text
from evaluatie.studies.vve.design import (
    COMPARISON_BAND,
    SIDES,
    VveStudy,
    curve_sides,
    design_problems,
    dose_event,
    dose_groups,
    dose_response_by_side,
    exposure_twfe,
    focus_estimates,
    has_series,
    headline,
    known_curves,
    mean_received_share,
    policy_dose,
    received_share,
    slope_per_policy_dose,
    vve_study,
)

__all__ = [
    "COMPARISON_BAND",
    "SIDES",
    "VveStudy",
    "curve_sides",
    "design_problems",
    "dose_event",
    "dose_groups",
    "dose_response_by_side",
    "exposure_twfe",
    "focus_estimates",
    "gaps",
    "has_series",
    "headline",
    "known_curves",
    "mean_received_share",
    "plots",
    "policy_dose",
    "received_share",
    "slope_per_policy_dose",
    "tables",
    "text",
    "vve_study",
]

if TYPE_CHECKING:
    from evaluatie.studies.vve import plots


# The plots (matplotlib, seaborn: 0.8-1.5 s) load on first use: checking a params file
# reads the data through this package and draws nothing.
__getattr__ = lazy_attributes(__name__, {"plots": "plots"})
