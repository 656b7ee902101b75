"""One gemeente against gemeenten like it: synthetic control, synthetic DiD and a
single-unit DiD side by side (:mod:`.design`), with the report's text (:mod:`.text`)."""

from evaluatie.studies.gemeente import text
from evaluatie.studies.gemeente.design import (
    DONORS,
    Comparison,
    GemeenteCase,
    build_case,
    case_problems,
    compare,
    exam_case,
    load,
    povo_case,
    similar_donors,
    vsv_case,
    vve_case,
)

__all__ = [
    "DONORS",
    "Comparison",
    "GemeenteCase",
    "build_case",
    "case_problems",
    "compare",
    "exam_case",
    "load",
    "povo_case",
    "similar_donors",
    "text",
    "vsv_case",
    "vve_case",
]
