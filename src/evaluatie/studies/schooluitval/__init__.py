"""Schooluitval: an RMC region's programme against the other regions, per school type
and on the gap between types (:mod:`.design`), with the report's text (:mod:`.text`)
and trend plot (:mod:`.plots`)."""

from evaluatie.studies.schooluitval import plots, text
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
