"""Tables of the VVE funding study: timing, exposure, doses, received shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from evaluatie.estimators.contdid import ContDidResult
from evaluatie.sources.exposure import exposure_timing, exposure_weights
from evaluatie.studies.vve.design import VveStudy

#: Outcomes shown in the timing table besides the study's own (context for readers).
CONTEXT_OUTCOMES = ("eindtoets",)


def timing_table(
    outcomes: Iterable[str], last_years: Mapping[str, int], start: int = 2019
) -> pd.DataFrame:
    """When each outcome's measured cohorts carry a change that started in ``start``.

    ``last_years`` maps outcome -> last year with data. Columns: ``groep``, the VVE
    years of the cohort measured in that last year, the first measured years with any /
    most / all VVE months from ``start`` on, and the status reached by the data.
    """
    rows = []
    for outcome in outcomes:
        timing = exposure_timing(outcome, start)
        last = last_years[outcome]
        window = exposure_weights(outcome, last).index
        rows.append(
            {
                "outcome": outcome,
                "groep": timing.groep,
                "last data year (study)": last,
                "VVE years of that cohort": f"{window.min()}-{window.max()}",
                "first year, any exposure": timing.first_any,
                "first year, mostly exposed": timing.first_majority,
                "first year, fully exposed": timing.first_all,
                "status in the data": timing.status(last),
            }
        )
    return pd.DataFrame(rows).set_index("outcome")


def exposure_table(
    schools: pd.DataFrame, codes: Iterable[str], names: Mapping[str, str]
) -> pd.DataFrame:
    """Funding per target child received by the measured cohorts (EUR), gemeente x year."""
    codes = list(codes)
    s = schools[schools["gemeente_code"].isin(codes)].drop_duplicates(["gemeente_code", "jaar"])
    wide = s.pivot(index="gemeente_code", columns="jaar", values="exposure") * 1000.0
    wide.index = [f"{names.get(c, c)} ({c})" for c in wide.index]
    return wide.round(-1)


def dose_table(doses: pd.DataFrame, codes: Iterable[str], names: Mapping[str, str]) -> pd.DataFrame:
    """Budget and funding per target child before and after for the named gemeenten."""
    rows = doses.reindex([c for c in codes if c in doses.index])
    out = pd.DataFrame(
        {
            "gemeente": [names.get(c, c) for c in rows.index],
            "budget 2018 (EUR m)": rows["budget_before"] / 1e6,
            "budget 2022 (EUR m)": rows["budget_after"] / 1e6,
            "change (%)": rows["budget_change_pct"],
            "per child before (EUR)": rows["per_child_before"],
            "per child after (EUR)": rows["per_child_after"],
            "dose (EUR 1,000)": rows["dose"],
            "group": rows.get("group"),
        },
        index=rows.index,
    )
    return out.round(
        {"budget 2018 (EUR m)": 3, "budget 2022 (EUR m)": 3, "change (%)": 1,
         "per child before (EUR)": 0, "per child after (EUR)": 0, "dose (EUR 1,000)": 2}
    )  # fmt: skip


def share_table(shares: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Received share of the policy dose by measured year (rows: outcomes)."""
    table = pd.DataFrame({o: s for o, s in shares.items()}).T.round(2)
    return table.rename_axis(index="share of the policy dose received")


def stack_tables(tables: Mapping[object, pd.DataFrame]) -> pd.DataFrame:
    """Tables one below the other, keyed by outcome (or by (outcome, side) pairs)."""
    first = next(iter(tables))
    names = ["outcome", "side"] if isinstance(first, tuple) else ["outcome"]
    return pd.concat(dict(tables), names=names)


def study_timing_table(studies: Mapping[str, VveStudy]) -> pd.DataFrame:
    """:func:`timing_table` for the studies' outcomes, each up to its own last year, plus
    the :data:`CONTEXT_OUTCOMES` up to the last year of any of them."""
    last = {outcome: s.years[-1] for outcome, s in studies.items()}
    context = dict.fromkeys(CONTEXT_OUTCOMES, max(last.values()))
    return timing_table([*last, *context], last | context)


def placebo_table(curves: Mapping[str, Mapping[str, ContDidResult]]) -> pd.DataFrame:
    """The continuous DiD's ATT^o per period against the base period, per outcome and side
    (``pre`` rows are placebo estimates that should be near zero)."""
    columns = ["pre", "att", "att_se", "att_ci_low", "att_ci_high"]
    return stack_tables(
        {
            (outcome, side): fit.event.set_index("time")[columns]
            for outcome, by_side in curves.items()
            for side, fit in by_side.items()
        }
    )
