"""Doorstroom: how a gemeente's pupils pass their VO exams, per exam level and for boys
and girls, against like gemeenten and the country -- and the gaps between them.

Reads DUO's real exam-results file ("Examenkandidaten en geslaagden", one row per VO
vestiging x opleiding, five school years x sex; :func:`~evaluatie.sources.read_examens`).
Rates are passes over candidates of the published cells (DUO withholds cells under 5);
summed over the gemeenten with a published count in every year they reproduce the
national pass rates OCW reports (docs/domain.md §5) to 0.05 percentage points.

The comparison with like gemeenten is :func:`evaluatie.studies.gemeente.exam_case` (the
40 gemeenten nearest in candidates, synthetic DiD) run on one group's rate, or on the gap
between two groups (:func:`gap_rates`: the design on ``rate_a - rate_b``, so the effect on
the gap has the design's own inference). The exam file has no policy in it: a start year
is a chosen one, and the report presents the comparison as an illustration unless the
user names a real policy.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluatie.core.errors import DesignError, EvaluatieError, ParameterError
from evaluatie.core.memo import remembered, stored_read
from evaluatie.sources.examens import complete_series, exam_file, exam_level, exam_rates
from evaluatie.sources.rmc import load_rmc_regions
from evaluatie.sources.tidy import read_examens
from evaluatie.studies.gemeente.design import GemeenteCase, exam_case

#: Groups of exam cells: (the column that defines them, its values pooled).
GROUPS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "VMBO-B": ("niveau", ("VMBO-B",)),
    "VMBO-K": ("niveau", ("VMBO-K",)),
    "VMBO-GT": ("niveau", ("VMBO-GT",)),
    "VMBO": ("onderwijstype", ("VMBO",)),
    "HAVO": ("onderwijstype", ("HAVO",)),
    "VWO": ("onderwijstype", ("VWO",)),
    "HAVO/VWO": ("onderwijstype", ("HAVO", "VWO")),
    "MAN": ("geslacht", ("MAN",)),
    "VROUW": ("geslacht", ("VROUW",)),
}
LEVELS = ("VMBO-B", "VMBO-K", "VMBO-GT", "HAVO", "VWO")


@dataclass(frozen=True)
class ExamData:
    """The exam cells of :func:`~evaluatie.sources.read_examens` with their ``niveau``."""

    cells: pd.DataFrame
    raw_dir: Path
    memo: dict[Hashable, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)


@stored_read
def load(raw_dir: str | Path = "tests/data/duo") -> ExamData:
    """The exam-results file of ``raw_dir`` (read-only)."""
    cells = read_examens(exam_file(raw_dir))
    return ExamData(cells.assign(niveau=exam_level(cells)), Path(raw_dir))


def group_rates(data: ExamData, group: str | None = None) -> pd.DataFrame:
    """Pass rates per gemeente x jaar of all pupils (``group`` None) or of one group of
    :data:`GROUPS`, complete series only (:func:`~evaluatie.sources.examens.exam_rates`)."""
    return remembered(data.memo, ("group_rates", group), lambda: _group_rates(data, group))


def _group_rates(data: ExamData, group: str | None) -> pd.DataFrame:
    if group is None:
        return exam_rates(data.cells)
    if group not in GROUPS:
        raise ParameterError(f"group must be one of {', '.join(GROUPS)}, got {group!r}")
    column, values = GROUPS[group]
    if column == "geslacht":
        rates = exam_rates(data.cells, by=("geslacht",))
        rates = rates[rates["geslacht"] == values[0]].drop(columns="geslacht")
        return complete_series(rates.reset_index(drop=True))
    return exam_rates(data.cells[data.cells[column].isin(values)])


def gap_rates(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The gap ``slaagpercentage_a - slaagpercentage_b`` per gemeente x jaar of two
    :func:`group_rates` tables, for the gemeenten in both; its size is the two groups'
    candidates together."""
    keys = ["gemeente_code", "jaar"]
    both = a.merge(b, on=keys, suffixes=("_a", "_b"), validate="1:1")
    out = pd.DataFrame(
        {
            "gemeente_code": both["gemeente_code"],
            "jaar": both["jaar"],
            "examenkandidaten": both["examenkandidaten_a"] + both["examenkandidaten_b"],
            "slaagpercentage": both["slaagpercentage_a"] - both["slaagpercentage_b"],
            "kandidaten_gemiddeld": both["kandidaten_gemiddeld_a"] + both["kandidaten_gemiddeld_b"],
        }
    )
    return complete_series(out)


def levels(data: ExamData, *, gemeente: str, groups: Sequence[str]) -> pd.DataFrame:
    """Per group x jaar: the pass rate of ``gemeente``, of its RMC region and of the
    country (each the passes over the candidates of its gemeenten), long format with
    columns ``group, jaar, wie, slaagpercentage``."""
    regions = load_rmc_regions().set_index("gemeente_code")["rmc_code"]
    region = regions.get(gemeente)
    members = set(regions.index[regions == region]) if region is not None else set()
    rows = []
    for group in groups:
        rates = group_rates(data, group)
        for who, keep in (
            ("gemeente", rates["gemeente_code"] == gemeente),
            ("regio", rates["gemeente_code"].isin(members)),
            ("nederland", pd.Series(True, index=rates.index)),
        ):
            sums = rates[keep].groupby("jaar")[["geslaagden", "examenkandidaten"]].sum()
            if sums.empty:
                continue
            rate = 100.0 * sums["geslaagden"] / sums["examenkandidaten"]
            rows.append(
                pd.DataFrame(
                    {"group": group, "jaar": rate.index, "wie": who, "slaagpercentage": rate}
                )
            )
    return pd.concat(rows, ignore_index=True)


def group_case(
    data: ExamData, *, gemeente: str, first_year: int, group: str | None, donors: int
) -> GemeenteCase:
    """``gemeente``'s pass rate of ``group`` from ``first_year`` against the ``donors``
    gemeenten nearest in that group's candidates."""
    rates = group_rates(data, group)
    if gemeente not in set(rates["gemeente_code"]):
        raise DesignError(
            f"gemeente {gemeente} has no published {group or 'exam'} pass rate in every year "
            "(DUO withholds cells with fewer than 5 candidates)"
        )
    return exam_case(rates, gemeente=gemeente, first_year=first_year, donors=donors)


def gap_case(
    data: ExamData, *, gemeente: str, first_year: int, gap: tuple[str, str], donors: int
) -> GemeenteCase:
    """The gap between groups ``gap`` of ``gemeente`` against like gemeenten' gaps."""
    rates = gap_rates(group_rates(data, gap[0]), group_rates(data, gap[1]))
    if gemeente not in set(rates["gemeente_code"]):
        raise DesignError(f"gemeente {gemeente} lacks {gap[0]} or {gap[1]} pass rates in some year")
    return exam_case(rates, gemeente=gemeente, first_year=first_year, donors=donors)


def design_problems(
    data: ExamData, *, gemeente: str, first_year: int, groups: Sequence[str],
    gaps: Sequence[tuple[str, str]], donors: int,
) -> list[str]:  # fmt: skip
    """Why the report's cases cannot be built (empty: they can), before a kernel starts."""
    problems = []
    for group in [None, *groups]:
        try:
            group_case(data, gemeente=gemeente, first_year=first_year, group=group, donors=donors)
        except EvaluatieError as exc:
            problems.append(str(exc))
    for gap in gaps:
        try:
            gap_case(data, gemeente=gemeente, first_year=first_year, gap=gap, donors=donors)
        except EvaluatieError as exc:
            problems.append(str(exc))
    return list(dict.fromkeys(problems))
