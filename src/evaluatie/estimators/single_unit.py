"""Difference-in-differences for one treated unit, with placebo-based inference.

With a single treated unit (one gemeente's budget change) a cluster-robust standard
error is meaningless: the treated unit's own error is never averaged away. Conley &
Taber (2011, Review of Economics and Statistics 93(1), Section 2-3) estimate the
distribution of that error from the comparison units instead: each comparison unit's
DiD against the others is a draw of "what the estimate looks like without an effect".
With units of very different size the draws are rescaled to the treated unit's size
(Ferman & Pinto 2019, Review of Economics and Statistics 101(3), Section 4): by default
with the variance model ``Var(ε | M) = A + B / M`` of an aggregate of ``M`` individuals
with a common shock, ``A`` and ``B`` estimated by regressing the squared placebo draws
on ``1 / M`` (their Section 4.1); ``heteroskedasticity="proportional"`` assumes
``A = 0`` (variance proportional to ``1 / size``). On the real VO exam panel the
assumption is far off: placebo tests of every gemeente in turn reject 10.9% of the
largest third and 1.1% of the smallest when it is imposed, because a gemeente's long
difference varies less with size than ``1 / size`` (a common component ``A``).

Estimand: ``(mean post - mean pre outcome of the treated unit) - (the same, averaged
over comparison units)``, the treated unit's ATT under parallel trends. Assumptions on
top: the comparison units' errors are exchangeable with the treated unit's (after the
size rescaling), and there are enough of them for the quantiles: ``2 / alpha - 1``
(39 for a 95% interval) before the tail quantiles are more than the extreme draws;
``meta["few_placebos"]`` flags fewer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluatie.core.checks import numeric_values, require_alpha, require_columns, require_frame
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Inference, Overall, Result, call_record

#: The variance models for rescaling the placebo draws by size.
HETEROSKEDASTICITY = ("estimated", "proportional")
# A fitted variance below this share of the mean squared draw is taken as this share
# (the linear fit can cross zero at sizes outside the data).
_FLOOR = 0.01


def variance_model(draws: np.ndarray, size: np.ndarray) -> tuple[float, float]:
    """``(A, B)`` of ``Var(ε | M) = A + B / M`` by OLS of the squared placebo draws on
    ``1 / M`` (Ferman & Pinto 2019, Section 4.1); with ``B < 0`` (variance growing with
    size, outside the model) the variance is taken as constant."""
    x = np.column_stack([np.ones_like(size), 1.0 / size])
    a, b = np.linalg.lstsq(x, draws**2, rcond=None)[0]
    if b < 0:
        return float(np.mean(draws**2)), 0.0
    return float(a), float(b)


def _long_difference(data: pd.DataFrame, outcome: str, unit: str, time: str,
                     pre: Sequence[int], post: Sequence[int]) -> pd.Series:  # fmt: skip
    y = numeric_values(data, outcome, "outcome")
    t = data[time].to_numpy()
    frame = pd.DataFrame({"u": data[unit].to_numpy(), "y": y})
    means = [
        frame[np.isin(t, list(years))].groupby("u", sort=True)["y"].mean() for years in (pre, post)
    ]
    return (means[1] - means[0]).dropna()


def _equal_tailed_p(draws: np.ndarray, estimate: float) -> float:
    """The p-value that matches the placebo interval: twice the smaller tail share of
    the draws beyond ``estimate``, on the same interpolated scale as ``np.quantile``, so
    that ``p < alpha`` exactly when zero lies outside the ``1 - alpha`` interval. A p from
    the absolute draws disagreed with the interval when the draws were skewed (a report
    showed an interval of -3.81 to -0.02 beside p = 0.10). It is never below
    ``2 / (n + 1)``: an estimate beyond every draw is as extreme as n draws can show,
    not impossible under the null (below that level the interval is flagged too:
    ``few_placebos``)."""
    ordered = np.sort(draws)
    level = float(np.interp(estimate, ordered, np.linspace(0.0, 1.0, len(ordered))))
    return float(min(1.0, max(2 * min(level, 1 - level), 2 / (len(ordered) + 1))))


def single_unit_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: object,
    comparison: Sequence[object],
    pre: Sequence[int],
    post: Sequence[int],
    size: str | None = None,
    heteroskedasticity: str = "estimated",
    alpha: float = 0.05,
) -> Result:
    """DiD of unit ``treated`` against the ``comparison`` units, with a placebo interval.

    ``data`` holds one row per unit x period (e.g. gemeente x year means); ``size``
    (optional, constant within unit, e.g. pupils) rescales the placebo draws to the
    treated unit's size, with the variance model ``A + B / size`` estimated from the
    comparison units (``heteroskedasticity="estimated"``) or ``∝ 1 / size``
    (``"proportional"``); ``meta["variance_model"]`` holds ``A`` and ``B``. The interval is ``estimate - q`` for the ``alpha/2`` and
    ``1 - alpha/2`` quantiles ``q`` of the placebo draws; ``p`` is the equal-tailed
    p-value that matches it (:func:`_equal_tailed_p`): ``p < alpha`` exactly when the
    interval excludes zero.
    ``treated`` is the label of the one treated unit, ``comparison`` the labels of the
    comparison units; ``overall`` is the treated unit's estimate.
    """
    call = call_record("single_unit_did", {k: v for k, v in locals().items() if k != "data"})
    data = require_frame(data)
    alpha = require_alpha(alpha)
    require_columns(data, {"outcome": outcome, "unit": unit, "time": time, "size": size})
    if heteroskedasticity not in HETEROSKEDASTICITY:
        raise ParameterError(
            f"heteroskedasticity must be one of {HETEROSKEDASTICITY}, got {heteroskedasticity!r}"
        )
    if not pre or not post or set(pre) & set(post):
        raise ParameterError(
            f"pre {list(pre)} and post {list(post)} must be non-empty and disjoint"
        )
    delta = _long_difference(data, outcome, unit, time, pre, post)
    if treated not in delta.index:
        raise DesignError(f"{unit} {treated!r} has no {outcome} in both the pre and post years")
    comp = delta.reindex([c for c in comparison if c != treated]).dropna()
    if len(comp) < 2:
        raise DesignError(f"need at least 2 comparison units with data, got {len(comp)}")
    estimate = float(delta[treated] - comp.mean())
    n = len(comp)
    placebo = (comp - (comp.sum() - comp) / (n - 1)).to_numpy()
    if size is not None:
        sizes = pd.Series(numeric_values(data, size, "size"), index=data[unit].to_numpy())
        sizes = sizes.groupby(level=0).mean()
        m = sizes.reindex(comp.index).to_numpy()
        if not np.all(np.isfinite(m) & (m > 0)) or not sizes[treated] > 0:
            raise DesignError(f"size {size!r} must be positive for every unit used")
        if heteroskedasticity == "proportional":
            model = (0.0, float(np.mean(placebo**2 * m)))  # B by the mean of ε² M
        else:
            model = variance_model(placebo, m)
        variance = np.maximum(model[0] + model[1] / m, _FLOOR * np.mean(placebo**2))
        target = max(model[0] + model[1] / sizes[treated], _FLOOR * np.mean(placebo**2))
        placebo = placebo * np.sqrt(target / variance)
    lo_q, hi_q = np.quantile(placebo, [alpha / 2, 1 - alpha / 2])
    p = _equal_tailed_p(placebo, estimate)
    table = pd.DataFrame(
        {
            "estimate": [estimate],
            "se": [float(np.std(placebo, ddof=1))],
            "p": [float(p)],
            "ci_low": [estimate - hi_q],
            "ci_high": [estimate - lo_q],
        },
        index=pd.Index([str(treated)], name=unit),
    )
    return Result(
        table=table,
        method="single-unit DiD (Conley-Taber placebo interval)",
        overall=Overall.from_row(table.iloc[0], label=f"{unit} {treated}"),
        meta={
            "call": call,
            "inference": Inference(
                procedure="placebo",
                se="SD of the placebo draws (descriptive; the interval uses their quantiles)",
                distribution="placebo quantiles (Conley & Taber 2011)"
                + (
                    f", rescaled by size (Ferman & Pinto 2019; variance {heteroskedasticity})"
                    if size is not None
                    else ""
                ),
                draws=n,
            ),
            "n_units": n + 1,
            "n_comparison": n,
            "pre": [int(x) for x in pre],
            "post": [int(x) for x in post],
            "alpha": alpha,
            "treated_change": float(delta[treated]),
            "comparison_change": float(comp.mean()),
            "size_rescaled": size is not None,
            "variance_model": None if size is None else {"A": model[0], "B": model[1]},
            "few_placebos": n < round(2 / alpha) - 1,
        },
    )
