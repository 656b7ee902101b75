"""Tables of the VVE funding study: timing, exposure, doses, received shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from evaluatie.core.language import Catalogue
from evaluatie.estimators.contdid import ContDidResult
from evaluatie.sources.exposure import exposure_timing, exposure_weights
from evaluatie.studies.vve.design import VveStudy

#: Outcomes shown in the timing table besides the study's own (context for readers).
CONTEXT_OUTCOMES = ("eindtoets",)

#: The study's column and index names as a reader sees them (``show_table(labels=...)``
#: with ``COLUMNS.texts()``); the tables keep their plain names for the code.
COLUMNS = Catalogue(
    {
        "outcome": {"nl": "uitkomst", "en": "outcome"},
        "side": {"nl": "kant", "en": "side"},
        "groep": {"nl": "groep", "en": "groep"},
        "last data year (study)": {"nl": "laatste jaar met gegevens", "en": "last data year"},
        "VVE years of that cohort": {
            "nl": "VVE-jaren van dat cohort",
            "en": "VVE years of that cohort",
        },
        # "after 2018": the change began in 2019; whole exposure to the *fully phased-in*
        # allocation (2022 on) comes later, and the text says so separately
        "first year, any exposure": {
            "nl": "eerste jaar, deels na 2018",
            "en": "first year, partly after 2018",
        },
        "first year, mostly exposed": {
            "nl": "eerste jaar, grotendeels na 2018",
            "en": "first year, mostly after 2018",
        },
        "first year, fully exposed": {
            "nl": "eerste jaar, geheel na 2018",
            "en": "first year, wholly after 2018",
        },
        "status in the data": {"nl": "stand in de gegevens", "en": "status in the data"},
        "gemeente": {"nl": "gemeente", "en": "gemeente"},
        "budget_before": {"nl": "budget 2018 (€ mln.)", "en": "budget 2018 (EUR m)"},
        "budget_after": {"nl": "budget 2022 (€ mln.)", "en": "budget 2022 (EUR m)"},
        "change_pct": {"nl": "verandering (%)", "en": "change (%)"},
        "per_child_before": {"nl": "per kind vóór (€)", "en": "per child before (EUR)"},
        "per_child_after": {"nl": "per kind na (€)", "en": "per child after (EUR)"},
        "dose": {"nl": "dosis (× € 1.000)", "en": "dose (EUR 1,000)"},
        "group": {"nl": "groep", "en": "group"},
        "share": {
            "nl": "aandeel van de beleidsdosis ontvangen",
            "en": "share of the policy dose received",
        },
        "time": {"nl": "jaar", "en": "year"},
        "pre": {"nl": "vóór de start (placebo)", "en": "before the start (placebo)"},
        "att": {"nl": "ATT", "en": "ATT"},
        "att_se": {"nl": "standaardfout", "en": "standard error"},
        "att_ci_low": {"nl": "95%-BI onder", "en": "95% CI low"},
        "att_ci_high": {"nl": "95%-BI boven", "en": "95% CI high"},
        "exposure": {
            "nl": "financiering op VVE-leeftijd (× € 1.000)",
            "en": "funding at VVE age (EUR 1,000)",
        },
        "ATT_o": {"nl": "gemiddeld effect (ATT)", "en": "average effect (ATT)"},
        "ACRT_o": {"nl": "gemiddelde helling (ACRT)", "en": "average slope (ACRT)"},
        # values of the timing table's status column and of the dose groups
        "none": {"nl": "nog niet", "en": "none"},
        "partial": {"nl": "deels", "en": "partial"},
        "majority": {"nl": "grotendeels", "en": "majority"},
        "full": {"nl": "geheel", "en": "full"},
        "gain": {"nl": "winst", "en": "gain"},
        "loss": {"nl": "verlies", "en": "loss"},
        "comparison": {"nl": "vergelijking", "en": "comparison"},
    }
)


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
            "budget_before": rows["budget_before"] / 1e6,
            "budget_after": rows["budget_after"] / 1e6,
            "change_pct": rows["budget_change_pct"],
            "per_child_before": rows["per_child_before"],
            "per_child_after": rows["per_child_after"],
            "dose": rows["dose"],
            "group": rows.get("group"),
        },
        index=rows.index.rename("gemeente_code"),
    )
    if "group" in out:
        out["group"] = out["group"].map(lambda g: COLUMNS(g) if g in COLUMNS else g)
    return out


#: Decimals of :func:`dose_table`'s columns in a report.
DOSE_DIGITS = {"budget_before": 2, "budget_after": 2, "change_pct": 1,
               "per_child_before": 0, "per_child_after": 0, "dose": 2}  # fmt: skip


def share_table(shares: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Received share of the policy dose by measured year (rows: outcomes)."""
    table = pd.DataFrame({o: s for o, s in shares.items()}).T
    return table.rename_axis(index="share")


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
