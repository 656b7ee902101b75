"""Doorstroom: VO exam pass rates of a gemeente per exam level and sex against its region,
the country and like gemeenten, and the gaps between groups (:mod:`.design`), with the
report's text (:mod:`.text`) and plot (:mod:`.plots`)."""

from evaluatie.studies.doorstroom import plots, text
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
