"""Schooluitval: an RMC region's programme against the other regions, per school type
and on the gap between types (:mod:`.design`), with the report's text (:mod:`.text`)
and trend plot (:mod:`.plots`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaluatie.core.lazy import lazy_attributes
from evaluatie.studies.schooluitval import text
from evaluatie.studies.schooluitval.design import (
    GROUPS,
    VsvData,
    design_problems,
    gap_case,
    group_rates,
    load,
    member_case,
    members,
    region,
    region_case,
)

__all__ = [
    "GROUPS",
    "VsvData",
    "design_problems",
    "gap_case",
    "group_rates",
    "load",
    "member_case",
    "members",
    "plots",
    "region",
    "region_case",
    "text",
]

if TYPE_CHECKING:
    from evaluatie.studies.schooluitval import plots


# The plots (matplotlib, seaborn: 0.8-1.5 s) load on first use: checking a params file
# reads the data through this package and draws nothing.
__getattr__ = lazy_attributes(__name__, {"plots": "plots"})
