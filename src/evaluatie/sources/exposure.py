"""Which VVE funding a measured cohort received: the exposure mapping.

VVE (voorschoolse educatie) reaches children aged 2.5 to 4 (docs/domain.md §1), so an
outcome measured on groep ``k`` in the school year ending in June of year ``t`` can only
reflect the gemeente's VVE funding of the calendar years in which that cohort was of VVE
age -- years before ``t``, and far before it for the groep-8 eindtoets.

**Birth cohorts.** Pupils in groep ``k`` in the school year ending in ``t`` were born
between 1 October of ``t - k - 5`` and 30 September of ``t - k - 4`` (the Dutch
1-oktobergrens; e.g. groep 3 in 2024-25 was born October 2017 to September 2018). Births
are taken as uniform over those twelve months.

**Age window.** A child born in month ``b`` is of VVE age in the 18 months ``b + 30``
to ``b + 47`` (2.5 up to 4 years). Averaging over the twelve birth months gives every
cohort the same weights on three calendar years (:func:`exposure_weights`)::

    year t - k - 2: 45/216 = 0.208   year t - k - 1: 135/216 = 0.625   year t - k: 36/216 = 0.167

so groep 2 (kleuterverlenging) measured in 2025 was of VVE age in 2021-2023, groep 3 in
2020-2022 and groep 8 (eindtoets) in 2015-2017. Because the budget is set per calendar
year (OAB grants), a cohort's exposure is the weighted mean of the gemeente's funding
per target child over those years (:func:`exposure`).

Assumptions: every target child of the cohort attended VVE in its own gemeente for the
whole window (no moves, no take-up differences), and a euro reaches the children of VVE
age in the year it is granted. Both are strong; they fix *when* funding can matter, not
*whether* it does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluatie.core.errors import ParameterError
from evaluatie.sources.panel import SHARES

#: The groep on which each outcome is measured (at the end of that school year): the
#: early-years outcomes of :mod:`evaluatie.sources.vve`, and the groep-8 columns of the panel.
OUTCOME_GROEP: dict[str, int] = {
    "kleuterverlenging": 2,  # the decision to repeat groep 2
    "groep3": 3,  # end-of-groep-3 reading/maths score
    **dict.fromkeys(("eindtoets", *SHARES), 8),
}
#: VVE age window in months (2.5 up to 4 years; docs/domain.md §1).
VVE_MONTHS = (30, 48)
#: Month (1-12) in which the birth cohort of a groep starts (1-oktobergrens).
COHORT_START_MONTH = 10


def groep_of(outcome: str) -> int:
    """The groep an outcome is measured on; a clear error for outcomes VVE cannot reach."""
    if outcome not in OUTCOME_GROEP:
        known = ", ".join(sorted(OUTCOME_GROEP))
        raise ParameterError(
            f"outcome {outcome!r}: no VVE exposure is defined for it (known: {known}); "
            "outcomes measured after primary school (e.g. vsv) are out of scope"
        )
    return OUTCOME_GROEP[outcome]


def exposure_weights(outcome: str, jaar: int) -> pd.Series:
    """Weight of each calendar (budget) year in the VVE window of a measured cohort.

    ``jaar`` is the calendar year in which the measured school year ends. The weights
    sum to one; they are the shares of the cohort's VVE months that fall in each year
    (module docstring), counted month by month over the twelve birth months.
    """
    k = groep_of(outcome)
    first_birth = (jaar - k - 5) * 12 + (COHORT_START_MONTH - 1)  # months since year 0
    start, stop = VVE_MONTHS
    months = np.concatenate(
        [np.arange(b + start, b + stop) for b in range(first_birth, first_birth + 12)]
    )
    years, counts = np.unique(months // 12, return_counts=True)
    return pd.Series(counts / counts.sum(), index=pd.Index(years, name="budget_jaar"))


@dataclass(frozen=True)
class ExposureTiming:
    """When cohorts measured on an outcome start to carry a policy change of ``start``."""

    outcome: str
    groep: int
    start: int
    first_any: int  # first measured year with any VVE month in or after ``start``
    first_majority: int  # ... with more than half of them
    first_all: int  # ... with all of them

    def status(self, last_year: int) -> str:
        """``"none"``, ``"partial"``, ``"majority"`` or ``"full"``: the best cohort by ``last_year``."""
        if last_year >= self.first_all:
            return "full"
        if last_year >= self.first_majority:
            return "majority"
        if last_year >= self.first_any:
            return "partial"
        return "none"


def share_after(outcome: str, jaar: int, start: int) -> float:
    """Share of the measured cohort's VVE months in calendar years ``>= start``."""
    w = exposure_weights(outcome, jaar)
    return float(w[w.index >= start].sum())


def exposure_timing(outcome: str, start: int = 2019) -> ExposureTiming:
    """The first measured years whose cohorts were (partly, mostly, wholly) of VVE age
    from ``start`` on -- e.g. for the 2019 OAB redistribution and the eindtoets."""
    k = groep_of(outcome)

    def first(at_least: float, strict: bool) -> int:
        jaar = start
        while True:
            s = share_after(outcome, jaar, start)
            if s > at_least or (not strict and s >= at_least):
                return jaar
            jaar += 1

    return ExposureTiming(
        outcome=outcome,
        groep=k,
        start=start,
        first_any=first(0.0, strict=True),
        first_majority=first(0.5, strict=True),
        first_all=first(1.0, strict=False),
    )


def _budget_per_child(budget: pd.DataFrame) -> pd.Series:
    required = {"gemeente_code", "jaar", "budget_eur", "doelgroepkinderen"}
    missing = sorted(required - set(budget.columns))
    if missing:
        raise ParameterError(
            f"budget table lacks column(s) {missing}; expected the tidy 'oab-budget' layout "
            "(GEMEENTECODE;JAAR;BUDGET_EUR;DOELGROEPKINDEREN) as read_duo returns it"
        )
    dup = budget.duplicated(["gemeente_code", "jaar"])
    if dup.any():
        g, j = budget.loc[dup, ["gemeente_code", "jaar"]].iloc[0]
        raise ParameterError(f"budget table has more than one row for {g} in {j}")
    kids = pd.to_numeric(budget["doelgroepkinderen"], errors="coerce").astype("float64")
    if (kids <= 0).any():
        g, j = budget.loc[(kids <= 0).to_numpy(), ["gemeente_code", "jaar"]].iloc[0]
        raise ParameterError(
            f"doelgroepkinderen must be positive to define funding per target child; "
            f"{g} in {j} has {budget.loc[(kids <= 0).to_numpy(), 'doelgroepkinderen'].iloc[0]}"
        )
    per_child = budget["budget_eur"].astype("float64").to_numpy() / kids.to_numpy()
    return pd.Series(
        per_child,
        index=pd.MultiIndex.from_arrays(
            [budget["gemeente_code"], budget["jaar"].astype("int64")],
            names=["gemeente_code", "jaar"],
        ),
    )


def exposure(
    budget: pd.DataFrame, outcome: str, years: Iterable[int] | None = None
) -> pd.DataFrame:
    """VVE funding per target child received by each gemeente's measured cohorts.

    ``budget`` is the tidy OAB/VVE budget table (``gemeente_code, jaar, budget_eur,
    doelgroepkinderen``, one row per gemeente and calendar year). For each gemeente and
    measured year in ``years`` (default: every year whose whole window the budget
    covers), returns ``gemeente_code, jaar, outcome, groep, funding_per_child`` -- the
    :func:`exposure_weights`-weighted mean of ``budget_eur / doelgroepkinderen`` over the
    cohort's VVE years, in EUR per target child per year -- and ``coverage``, the share
    of the window the budget covers. ``funding_per_child`` is missing unless coverage
    is complete: a partial window would mix years the data do not have.
    """
    per_child = _budget_per_child(budget)
    budget_years = set(per_child.index.get_level_values("jaar"))
    if years is None:
        k = groep_of(outcome)
        candidates = range(min(budget_years) + k + 2, max(budget_years) + k + 1)
        years = [j for j in candidates if set(exposure_weights(outcome, j).index) <= budget_years]
    years = [int(j) for j in years]
    wide = per_child.unstack("jaar")
    rows = []
    for jaar in years:
        w = exposure_weights(outcome, jaar)
        present = wide.reindex(columns=w.index)
        covered = present.notna().mul(w.to_numpy(), axis=1).sum(axis=1)
        value = present.mul(w.to_numpy(), axis=1).sum(axis=1, min_count=len(w))
        rows.append(
            pd.DataFrame(
                {
                    "gemeente_code": wide.index,
                    "jaar": jaar,
                    "outcome": outcome,
                    "groep": groep_of(outcome),
                    "funding_per_child": value.where(np.isclose(covered, 1.0)).to_numpy(),
                    "coverage": covered.to_numpy(),
                }
            )
        )
    if not rows:
        raise ParameterError(
            f"the budget table ({min(budget_years)}-{max(budget_years)}) covers no complete "
            f"VVE window of a cohort measured on {outcome!r}"
        )
    return pd.concat(rows, ignore_index=True)
