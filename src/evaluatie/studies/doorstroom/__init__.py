"""Doorstroom: VO exam pass rates of a gemeente per exam level and sex against its region,
the country and like gemeenten, and the gaps between groups (:mod:`.design`), with the
report's text (:mod:`.text`) and plot (:mod:`.plots`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaluatie.core.lazy import lazy_attributes
from evaluatie.studies.doorstroom import text
from evaluatie.studies.doorstroom.design import (
    GROUPS,
    LEVELS,
    ExamData,
    design_problems,
    gap_case,
    gap_rates,
    group_case,
    group_rates,
    levels,
    load,
)

__all__ = [
    "GROUPS",
    "LEVELS",
    "ExamData",
    "design_problems",
    "gap_case",
    "gap_rates",
    "group_case",
    "group_rates",
    "levels",
    "load",
    "plots",
    "text",
]

if TYPE_CHECKING:
    from evaluatie.studies.doorstroom import plots


# The plots (matplotlib, seaborn: 0.8-1.5 s) load on first use: checking a params file
# reads the data through this package and draws nothing.
__getattr__ = lazy_attributes(__name__, {"plots": "plots"})
