"""What a euro bought: the grant effect per EUR 1,000 of grant, with its interval.

The grant amounts are known (DUO's grant table), so dividing the estimate and both ends
of its interval by the grant schools' mean amount (in EUR 1,000) gives the effect per
EUR 1,000 with the same coverage; the MDE scales the same way. This is a ratio of
averages: it reads as "per EUR 1,000" only if the effect does not depend on the amount
(on the simulated panel it does not, so the truth per EUR 1,000 is the true effect over
the mean amount). The cost of one point is the mean amount over the effect, bounded by
the interval only where the interval excludes zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from evaluatie.core.language import Catalogue, number
from evaluatie.core.results import Result

TEXT = Catalogue(
    {
        "index": {"nl": "per €1.000 subsidie", "en": "per €1,000 of grant"},
        "row.effect": {"nl": "effect ({unit})", "en": "effect ({unit})"},
        "row.mde": {
            "nl": "kleinste aantoonbare effect ({unit})",
            "en": "minimum detectable effect ({unit})",
        },
        "row.truth": {
            "nl": "waar effect (simulatie; {unit})",
            "en": "true effect (simulation; {unit})",
        },
        "sentence": {
            "nl": "Per €1.000 subsidie veranderde {subject} met {effect} {unit} (95%-BI {low} "
            "tot {high}); de subsidiescholen kregen gemiddeld €{amount} (€{per_pupil} per "
            "leerling).",
            "en": "Per €1,000 of grant, {subject} changed by {effect} {unit} (95% CI {low} to "
            "{high}); the grant schools received €{amount} on average (€{per_pupil} per "
            "pupil).",
        },
        "per_point": {
            "nl": "Eén {unit_one} kostte zo ongeveer €{cost} per school (tussen €{cheap} en "
            "€{dear}).",
            "en": "One {unit_one} thus cost about €{cost} per school (between €{cheap} and "
            "€{dear}).",
        },
        "no_price": {
            "nl": "Omdat het interval nul omvat, is er geen bovengrens aan wat één {unit_one} "
            "kostte.",
            "en": "Because the interval includes zero, there is no upper bound on what one "
            "{unit_one} cost.",
        },
        "point": {"nl": "punt", "en": "point"},
        "percentage_point": {"nl": "procentpunt", "en": "percentage point"},
    }
)


@dataclass(frozen=True)
class Cost:
    """The grant schools' mean amount (EUR) and per pupil, and the effect per EUR 1,000."""

    amount: float
    per_pupil: float
    estimate: float
    ci_low: float
    ci_high: float
    mde: float | None
    truth: float | None

    @property
    def per_point(self) -> tuple[float, float, float] | None:
        """EUR of grant per school per unit of effect (``amount / effect = 1000 / effect
        per EUR 1,000``) and its range from the interval; None unless the interval lies
        above zero (the price of a gain)."""
        if not (self.ci_low > 0):
            return None
        return (1000 / self.estimate, 1000 / self.ci_high, 1000 / self.ci_low)


def grant_cost(
    fit: Result, panel: pd.DataFrame, *, mde: float | None = None, truth: float | None = None
) -> Cost:
    """:class:`Cost` of ``fit``'s headline effect over ``panel``'s grant schools (one row
    per school-year; ``subsidie_bedrag`` constant within a school, ``n_leerlingen`` its
    pupils, averaged over its years). ``mde`` and ``truth`` are in the effect's unit."""
    head = fit.headline()
    schools = panel[panel["cohort"] > 0].groupby("vestiging")
    amount = float(schools["subsidie_bedrag"].first().mean())
    pupils = float(schools["n_leerlingen"].mean().mean())
    per = 1000.0 / amount
    return Cost(
        amount=amount,
        per_pupil=amount / pupils,
        estimate=head.estimate * per,
        ci_low=head.ci_low * per,
        ci_high=head.ci_high * per,
        mde=None if mde is None or not math.isfinite(mde) else mde * per,
        truth=None if truth is None else truth * per,
    )


def cost_table(cost: Cost, *, unit: str) -> pd.DataFrame:
    """The effect, the MDE and (simulated data) the truth per EUR 1,000, the interval where
    there is one; the amounts themselves are in :func:`cost_sentences`."""
    nan = math.nan
    rows = [(TEXT("row.effect", unit=unit), cost.estimate, cost.ci_low, cost.ci_high)]
    if cost.mde is not None:
        rows.append((TEXT("row.mde", unit=unit), cost.mde, nan, nan))
    if cost.truth is not None:
        rows.append((TEXT("row.truth", unit=unit), cost.truth, nan, nan))
    # the contract's column names: show_table writes them in the reader's language
    index = TEXT("index")
    return pd.DataFrame(rows, columns=[index, "estimate", "ci_low", "ci_high"]).set_index(index)


def cost_sentences(cost: Cost, *, subject: str, unit: str, percent: bool) -> list[str]:
    """The effect per EUR 1,000 and, where the interval allows, the price of one unit."""
    unit_one = TEXT("percentage_point" if percent else "point")
    out = [
        TEXT(
            "sentence",
            subject=subject,
            effect=number(cost.estimate, 3, signed=True),
            unit=unit,
            low=number(cost.ci_low, 3, signed=True),
            high=number(cost.ci_high, 3, signed=True),
            amount=number(cost.amount, 0, grouping=True),
            per_pupil=number(cost.per_pupil, 0),
        )
    ]
    price = cost.per_point
    if price is None:
        out.append(TEXT("no_price", unit_one=unit_one))
    else:
        cost_, cheap, dear = (number(v, 0, grouping=True) for v in price)
        out.append(TEXT("per_point", unit_one=unit_one, cost=cost_, cheap=cheap, dear=dear))
    return out
