"""Side-by-side comparison of estimators and a generated warning when they disagree."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from evaluatie.core.language import Catalogue, number
from evaluatie.core.results import Overall, Result
from evaluatie.reporting.interpret import TEXT as WORDS

TEXT = Catalogue(
    {
        "warning": {
            "nl": "**Waarschuwing:** de schatting van {reference} ({estimate} {unit}) wijkt "
            "meer af van {flagged} dan hun onzekerheid toelaat. Bij gespreide invoering en "
            "effecten die in de tijd veranderen vergelijkt de vaste-effectenschatter later "
            "behandelde scholen met al behandelde en kan zij vertekend zijn; lees de "
            "robuuste schattingen.",
            "en": "**Warning:** the {reference} estimate ({estimate} {unit}) differs from "
            "{flagged} by more than their uncertainty allows. With staggered grants and "
            "effects that change over time, TWFE compares later-treated schools with "
            "already-treated ones and can be biased; prefer the heterogeneity-robust "
            "estimates.",
        },
        "flagged": {
            "nl": "{name} ({estimate}; verschil {difference}, z = {z})",
            "en": "{name} ({estimate}; difference {difference}, z = {z})",
        },
        "agrees": {
            "nl": "De schatting van {reference} ({estimate} {unit}) stemt binnen de "
            "onzekerheid overeen met de robuuste schatters ({others}): verschillen in "
            "effect tussen de golven vertekenen de vaste-effectenschatter hier niet "
            "zichtbaar.",
            "en": "The {reference} estimate ({estimate} {unit}) agrees with the "
            "heterogeneity-robust estimators ({others}) within their uncertainty: effect "
            "heterogeneity across grant waves does not visibly bias TWFE here.",
        },
    }
)


def event_study_table(results: Mapping[str, Result], digits: int = 2) -> pd.DataFrame:
    """One table, rows ``rel_time``, one column per method: ``estimate [ci_low, ci_high]``
    (numbers in the report's language)."""

    def fmt(values: pd.Series) -> pd.Series:
        return values.map(lambda v: number(v, digits))

    columns = {}
    for name, res in results.items():
        t = res.table
        cell = fmt(t["estimate"])
        ci = " [" + fmt(t["ci_low"]) + "; " + fmt(t["ci_high"]) + "]"
        has_ci = t["ci_low"].notna() & t["ci_high"].notna()
        columns[name] = cell.where(~has_ci, cell + ci).where(t["estimate"].notna(), "")
    table = pd.DataFrame(columns).sort_index()
    table.index.name = "rel_time"
    return table.fillna("")


def overall_table(summaries: Mapping[str, Overall]) -> pd.DataFrame:
    """The overall effect per method (rows) with se and CI."""
    table = pd.DataFrame({name: s.as_dict() for name, s in summaries.items()}).T[
        ["estimate", "se", "ci_low", "ci_high"]
    ]
    table.index.name = "method"
    return table.astype(float)


def disagreement_sentence(
    reference: tuple[str, Overall],
    robust: Mapping[str, Overall],
    *,
    alpha: float = 0.05,
    unit_label: str | None = None,
) -> str:
    """Warn when the TWFE estimate and a heterogeneity-robust one differ beyond noise.

    The difference of two estimates on the same data has variance
    ``se1² + se2² - 2 cov``; the covariance is not available across estimators, so the
    check uses ``sqrt(se1² + se2²)``, which is conservative when the two are positively
    correlated (as estimates from the same sample are): a flagged difference is real.
    """
    name_ref, ref = reference
    unit_label = unit_label or WORDS("points")
    crit = special.ndtri(1 - alpha / 2)  # the normal quantile, without scipy.stats
    flagged = []
    for name, s in robust.items():
        diff = ref.estimate - s.estimate
        se = float(np.hypot(ref.se, s.se))
        if np.isfinite(se) and abs(diff) > crit * se:
            flagged.append(
                TEXT(
                    "flagged",
                    name=name,
                    estimate=number(s.estimate, 2, signed=True),
                    difference=number(diff, 2, signed=True),
                    z=number(diff / se, 1),
                )
            )
    estimate = number(ref.estimate, 2, signed=True)
    if flagged:
        return TEXT(
            "warning",
            reference=name_ref,
            estimate=estimate,
            unit=unit_label,
            flagged=", ".join(flagged),
        )
    others = ", ".join(f"{n} {number(s.estimate, 2, signed=True)}" for n, s in robust.items())
    return TEXT("agrees", reference=name_ref, estimate=estimate, unit=unit_label, others=others)
