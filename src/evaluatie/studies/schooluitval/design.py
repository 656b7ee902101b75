"""Schooluitval: did an RMC region's programme lower voortijdig schoolverlaten (VSV)?

VSV policy is regional: the RMC contactgemeente coordinates registration and the
approach for every gemeente of its region, and regional funds go to the region. So the
programme is one treated unit -- the region -- and the honest comparison is between
regions: the region's VSV rate (its members' dropouts over their pupils) against the 38
other RMC regions (Ministerial regeling BWBR0031387, Bijlage C; :mod:`evaluatie.sources.rmc`),
with the designs for one treated unit of :mod:`evaluatie.studies.gemeente` (synthetic DiD,
synthetic control, single-unit DiD). Treating the region's gemeenten as separately
treated units would count one regional decision as many independent ones.

The same design runs per school type (VO, MBO1, MBO2, MBO34: where does the change sit?)
and on the gap between two groups (:func:`gap_case`: the design on ``y_a - y_b``, so its
inference is the design's own). A member gemeente (the contactgemeente by default) is
compared with gemeenten of like size outside the region
(:func:`evaluatie.studies.gemeente.vsv_case`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from evaluatie.core.errors import DesignError, EvaluatieError, ParameterError
from evaluatie.core.memo import remembered, stored_read
from evaluatie.sources.layouts_extra import ONDERWIJSSOORTEN
from evaluatie.sources.outcomes import outcome_info
from evaluatie.sources.panel import files_by_kind
from evaluatie.sources.rmc import rmc_members, rmc_of
from evaluatie.sources.vsv import load_vsv_by_type, load_vsv_rates, region_rates
from evaluatie.studies.gemeente.design import GemeenteCase, case_from_panel, vsv_case
from evaluatie.synth.truth import TOTAAL, known_vsv_effect

#: School types pooled into one group for the gap: MBO at every level.
GROUPS: Mapping[str, tuple[str, ...]] = {
    **{k: (k,) for k in ONDERWIJSSOORTEN},
    "MBO": ("MBO1", "MBO2", "MBO34"),
}


@dataclass(frozen=True)
class VsvData:
    """``gemeenten``: :func:`~evaluatie.sources.vsv.load_vsv_rates`; ``by_type``:
    :func:`~evaluatie.sources.vsv.load_vsv_by_type` (empty when ``raw_dir`` has no table
    by school type), both with every gemeente-year that has pupils
    (``complete=False``); ``raw_dir``, for the truth on simulated data."""

    gemeenten: pd.DataFrame
    by_type: pd.DataFrame
    raw_dir: Path
    memo: dict[Hashable, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)


@stored_read
def load(raw_dir: str | Path = "data/raw") -> VsvData:
    """The VSV tables of ``raw_dir`` (read-only)."""
    raw = Path(raw_dir)
    has_types = raw.is_dir() and "vsv_soort" in files_by_kind(raw)
    # Every gemeente-year with pupils: a region sums its members in the years they have
    # pupils; a gemeente's own design keeps complete series (gemeente.vsv_case).
    by_type = load_vsv_by_type(raw, complete=False) if has_types else pd.DataFrame()
    return VsvData(load_vsv_rates(raw, complete=False), by_type, raw)


def region(rmc: str) -> tuple[str, str]:
    """The code and name of RMC region ``rmc`` (code ``RMC26`` or name)."""
    return rmc_of(rmc_members(rmc)[0])


def members(rmc: str) -> list[str]:
    """The gemeente codes of RMC region ``rmc`` (code or name), sorted."""
    return rmc_members(rmc)


def group_rates(data: VsvData, group: str | None) -> pd.DataFrame:
    """Gemeente x jaar VSV of all pupils (``group`` None) or of a school type or group
    of types (:data:`GROUPS`), counts summed over the group's types."""
    if group is None:
        return data.gemeenten
    if group not in GROUPS:
        raise ParameterError(f"onderwijssoort must be one of {', '.join(GROUPS)}, got {group!r}")
    if data.by_type.empty:
        raise DesignError(
            "no VSV table by school type in the data (layout vsv-onderwijssoort, FORMATS.md)"
        )
    rows = data.by_type[data.by_type["onderwijssoort"].isin(GROUPS[group])]
    counts = rows.groupby(["gemeente_code", "jaar"], as_index=False)[["leerlingen", "vsv"]].sum()
    counts = counts[counts["leerlingen"] > 0]
    return counts.assign(
        vsv_percentage=100.0 * counts["vsv"] / counts["leerlingen"],
        leerlingen_gemiddeld=counts.groupby("gemeente_code")["leerlingen"].transform("mean"),
    )


def region_case(
    data: VsvData, *, rmc: str, first_year: int, group: str | None = None
) -> GemeenteCase:
    """Region ``rmc``'s VSV rate from ``first_year`` against every other RMC region, for
    all pupils or one ``group``. On simulated data ``truth`` is the programme's true
    effect on the region's rate (pupil-weighted over its members, equal over the years)."""
    code, _ = region(rmc)
    rates = group_rates(data, group)
    regional = remembered(data.memo, ("region_rates", group), lambda: region_rates(rates))
    panel = pd.DataFrame(
        {
            "gemeente_code": regional["gemeente_code"],
            "jaar": regional["jaar"].astype(int),
            "y": regional["vsv_percentage"],
            "size": regional["leerlingen_gemiddeld"],
        }
    )
    others = sorted(set(panel["gemeente_code"]) - {code})
    case = case_from_panel(
        panel, focus=code, first_year=first_year, candidates=others, donors=len(others),
        outcome=outcome_info("vsv_percentage"), source="vsv",
    )  # fmt: skip
    members = sorted(set(rates["gemeente_code"]) & set(rmc_members(code)))
    truth = known_vsv_effect(
        data.raw_dir, gemeenten=members, years=case.post_years,
        onderwijssoort=GROUPS[group] if group else TOTAAL, pooled=True,
    )  # fmt: skip
    return replace(case, truth=truth)


def gap_case(a: GemeenteCase, b: GemeenteCase) -> GemeenteCase:
    """The case of the gap ``y_a - y_b`` between two groups on the same units and years:
    a design's estimate on it is the policy's effect on the gap, with that design's own
    inference (the groups' estimates are not independent, so their two intervals cannot
    simply be combined)."""
    keys = ["gemeente_code", "jaar"]
    both = a.panel.merge(b.panel[[*keys, "y"]], on=keys, suffixes=("", "_b"), validate="1:1")
    if len(both) != len(a.panel) or a.focus != b.focus or a.first_year != b.first_year:
        raise DesignError("a gap needs two cases with the same units, years and start")
    panel = both.assign(y=both["y"] - both["y_b"]).drop(columns="y_b")
    truth = None if a.truth is None or b.truth is None else a.truth - b.truth
    return replace(a, panel=panel, truth=truth)


def member_case(data: VsvData, *, gemeente: str, first_year: int, donors: int) -> GemeenteCase:
    """One member gemeente against the gemeenten nearest in pupils outside its region."""
    return vsv_case(
        data.gemeenten, gemeente=gemeente, first_year=first_year, raw_dir=data.raw_dir,
        donors=donors,
    )  # fmt: skip


def design_problems(
    data: VsvData, *, rmc: str, first_year: int, gemeente: str | None, donors: int,
    groups: Sequence[str],
) -> list[str]:  # fmt: skip
    """Why the report's cases cannot be built (empty: they can), before a kernel starts."""
    problems = []
    try:
        code, _ = region(rmc)
        region_case(data, rmc=code, first_year=first_year)
        # without a table by school type the report says so and shows the rest
        for group in groups if not data.by_type.empty else ():
            region_case(data, rmc=code, first_year=first_year, group=group)
        if gemeente is not None:
            if gemeente not in rmc_members(code):
                problems.append(f"gemeente {gemeente} is not a member of RMC region {code}")
            else:
                member_case(data, gemeente=gemeente, first_year=first_year, donors=donors)
    except EvaluatieError as exc:
        problems.append(str(exc))
    return problems
