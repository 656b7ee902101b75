"""Sentences generated from the numbers, so that the text never disagrees with the tables."""

from __future__ import annotations

import numpy as np

from evaluatie.core.results import Result


def signed(x: float, digits: int = 2) -> str:
    """``x`` with its sign and ``digits`` decimals (``+1.23``, ``-0.40``)."""
    return f"{x:+.{digits}f}".replace("+-", "-")


def describe_effect(
    result: Result,
    *,
    term: str | None = None,
    outcome_label: str = "the outcome",
    unit_label: str = "points",
    treated_label: str = "grant schools",
) -> str:
    """One paragraph: effect, 95% CI, sample, and whether zero can be ruled out."""
    table = result.table
    row = table.loc[term] if term is not None else table.iloc[0]
    est, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    meta = result.meta
    level = round(100 * (1 - meta.get("alpha", 0.05)))
    sample = []
    for key, noun in (
        ("n_units", "schools"),
        ("n_clusters", "clusters"),
        ("n_obs", "observations"),
    ):
        if key in meta:
            sample.append(f"{int(meta[key]):,} {noun}")
    sample_text = f" The estimate uses {', '.join(sample)}." if sample else ""
    ci = f"{level}% CI {signed(lo)} to {signed(hi)} {unit_label}"
    text = (
        f"After the grant, {outcome_label} at {treated_label} changed by {signed(est)} "
        f"{unit_label} relative to the comparison schools ({ci}).{sample_text} "
    )
    if lo > 0 or hi < 0:
        direction = "an improvement" if est > 0 else "a decline"
        text += f"Zero lies outside the interval: the data show {direction}."
    else:
        bound = max(abs(lo), abs(hi))
        text += (
            "The interval includes zero: the data cannot distinguish the effect from no "
            f"effect, and cannot rule out effects as large as {bound:.2f} {unit_label} in "
            "either direction."
        )
    return text


def pretrend_sentence(test: Result) -> str:
    """Describe a pre-trend test, with the caveat when its chi-square p-value is not to be
    trusted.

    ``test`` is a ``pretrend_test()`` result (``statistic``, ``df``, ``p``,
    ``meta["inference"]`` and ``meta["n_treated_clusters"]``). A randomization p-value
    needs no caveat. A chi-square p-value from a cluster-robust covariance of ``df``
    pre-period estimates driven by only a few treated clusters over-rejects (MacKinnon &
    Webb 2017, J. Applied Econometrics, on few treated clusters).
    """
    row = test.table.iloc[0]
    statistic, df, p = float(row["statistic"]), int(row["df"]), float(row["p"])
    info = test.meta.get("inference")
    procedure = getattr(info, "procedure", "")
    if np.isnan(p):
        note = getattr(info, "note", "")
        return f"No honest pre-trend test is available for this design. {note}".strip()
    verdict = (
        "rejects parallel pre-trends at the 5% level"
        if p < 0.05
        else "does not reject parallel pre-trends at the 5% level"
    )
    if procedure == "randomization":
        draws = getattr(info, "draws", None)
        return (
            f"The pre-trend randomization test (sum of squared t statistics = {statistic:.1f} "
            f"over {df} pre-period estimates, p = {p:.3g} from {draws} assignments) {verdict}."
        )
    text = f"The pre-trend Wald test (χ² = {statistic:.1f}, df = {df}, p = {p:.3g}) {verdict}."
    n_treated = test.meta.get("n_treated_clusters")
    if test.meta.get("clustered") and n_treated is not None and n_treated < 50:
        text += (
            f" Caution: the treated units lie in only {n_treated} clusters, too few for "
            "this chi-square p-value, which over-rejects by far with few treated clusters "
            "(on a real placebo panel, 12 treated gemeenten gave 95% rejections at 5%); "
            "the randomization test (inference='auto') is the one to read."
        )
    return text
