"""Side-by-side comparison of estimators and a generated warning when they disagree."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from evaluatie.core.results import Overall, Result


def event_study_table(results: Mapping[str, Result], digits: int = 2) -> pd.DataFrame:
    """One table, rows ``rel_time``, one column per method: ``estimate [ci_low, ci_high]``."""
    columns = {}
    for name, res in results.items():
        t = res.table
        cell = t["estimate"].map(f"{{:.{digits}f}}".format)
        ci = " [" + t["ci_low"].map(f"{{:.{digits}f}}".format) + ", "
        ci += t["ci_high"].map(f"{{:.{digits}f}}".format) + "]"
        has_ci = t["se"].notna()
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
    unit_label: str = "points",
) -> str:
    """Warn when the TWFE estimate and a heterogeneity-robust one differ beyond noise.

    The difference of two estimates on the same data has variance
    ``se1² + se2² - 2 cov``; the covariance is not available across estimators, so the
    check uses ``sqrt(se1² + se2²)``, which is conservative when the two are positively
    correlated (as estimates from the same sample are): a flagged difference is real.
    """
    name_ref, ref = reference
    crit = stats.norm.ppf(1 - alpha / 2)
    flagged = []
    for name, s in robust.items():
        diff = ref.estimate - s.estimate
        se = float(np.hypot(ref.se, s.se))
        if np.isfinite(se) and abs(diff) > crit * se:
            flagged.append(
                f"{name} ({s.estimate:+.2f}; difference {diff:+.2f}, z = {diff / se:.1f})"
            )
    if flagged:
        return (
            f"**Warning:** the {name_ref} estimate ({ref.estimate:+.2f} {unit_label}) differs "
            f"from {', '.join(flagged)} by more than their uncertainty allows. With staggered "
            "grants and effects that change over time, TWFE compares later-treated schools with "
            "already-treated ones and can be biased; prefer the heterogeneity-robust estimates."
        )
    others = ", ".join(f"{n} {s.estimate:+.2f}" for n, s in robust.items())
    return (
        f"The {name_ref} estimate ({ref.estimate:+.2f} {unit_label}) agrees with the "
        f"heterogeneity-robust estimators ({others}) within their uncertainty: effect "
        "heterogeneity across grant waves does not visibly bias TWFE here."
    )
