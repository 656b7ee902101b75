"""Synthetic control for one treated unit (Abadie, Diamond & Hainmueller 2010, Journal of
the American Statistical Association 105(490), Section 2).

Estimand: the treated unit's effect in each post-period, ``Y_1t - sum_j w_j Y_jt``, and
their average. The donor weights ``w`` (non-negative, summing to one) reproduce the
treated unit's pre-period outcomes as closely as possible: each pre-period outcome is a
predictor with equal weight (``V`` the identity; the nested choice of ``V`` over other
predictors is not implemented). Assumption: the treated unit's untreated path is the
weighted donors' path (a convex combination that fits a long pre-period well also
matches the latent factors, their Section 2.3).

Inference (their Section 2.4; Abadie 2021, Journal of Economic Literature 59(2),
Section 7): every donor in turn is treated as if it had the policy and refitted on the
other donors (the treated unit is never a donor of a placebo). The p-value is the rank of
the treated unit's ratio of post- to pre-period RMSPE among all ``J + 1`` ratios, so its
resolution is ``1 / (J + 1)``. The interval inverts that test for a constant effect
``theta`` (Firpo & Possebom 2018, Journal of Causal Inference 6(2), Section 3): subtracting
``theta`` from the treated unit's post-period gaps changes only its own ratio, so the
accepted set is ``mean gap +- sqrt(c^2 - var gap)`` with ``c`` the critical ratio times the
pre-period RMSPE -- empty when the post-period gaps vary too much for any constant
effect, unbounded when there are fewer than ``1 / alpha - 1`` donors. Per post-period the
same inversion uses ``|gap_t| / RMSPE_pre``. There is no standard error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evaluatie.core.checks import require_alpha
from evaluatie.core.errors import DesignError
from evaluatie.core.results import Inference, Overall, call_record
from evaluatie.estimators.synthetic._panel import outcome_matrix
from evaluatie.estimators.synthetic._weights import simplex_least_squares
from evaluatie.estimators.synthetic.result import SyntheticResult


def _gaps(y: np.ndarray, target: int, donors: np.ndarray, t0: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights on ``donors`` fitted to row ``target``'s first ``t0`` periods, and the gaps."""
    w = simplex_least_squares(y[donors, :t0].T, y[target, :t0])
    return w, y[target] - w @ y[donors]


def _rmspe(gaps: np.ndarray) -> float:
    return float(np.sqrt(np.mean(gaps**2)))


def _critical(values: np.ndarray, alpha: float, exact: np.ndarray) -> float:
    """The largest statistic the rank test at ``alpha`` still accepts: ``p = (1 + #{placebo
    >= s}) / (J + 1) > alpha`` holds for ``s`` up to the ``m``-th largest placebo value, ``m``
    the smallest integer above ``alpha (J + 1) - 1``; ``inf`` when every ``s`` is accepted,
    or when that placebo fitted its pre-period exactly (``exact``: its ratio only measures
    the floor, so no effect size is excluded)."""
    m = math.floor(alpha * (len(values) + 1) - 1) + 1
    if m <= 0:
        return math.inf
    order = np.argsort(-values, kind="stable")
    return math.inf if exact[order[m - 1]] else float(values[order[m - 1]])


def _rank_p(placebo: np.ndarray, statistic: float | np.ndarray) -> np.ndarray:
    """``(1 + #{placebo >= statistic}) / (J + 1)`` per column (``placebo``: J x columns)."""
    placebo = placebo.reshape(len(placebo), -1)
    return (1 + (placebo >= np.atleast_1d(statistic)[None, :]).sum(axis=0)) / (len(placebo) + 1)


def synthetic_control(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    alpha: float = 0.05,
) -> SyntheticResult:
    """Synthetic control of the one unit whose ``treatment`` switches on (module docstring).

    ``data``: a balanced panel, one row per ``unit`` and ``time``; ``treatment`` the 0/1
    indicator, 1 from the treated unit's first policy period on; never-treated units are
    the donors. ``.table``: the gap per period (``post`` marks the policy periods, which
    carry placebo p-values and intervals); ``overall``: the average post-period gap with
    the RMSPE-ratio p-value and its inverted interval; ``weights``: donor weights;
    ``placebos``: every donor's placebo gaps (for the classic plot).
    """
    call = call_record("synthetic_control", {k: v for k, v in locals().items() if k != "data"})
    alpha = require_alpha(alpha)
    matrix = outcome_matrix(data, outcome=outcome, unit=unit, time=time, treatment=treatment)
    treated_rows = np.flatnonzero(matrix.adoption >= 0)
    if len(treated_rows) != 1:
        raise DesignError(
            f"synthetic control has one treated unit, got {len(treated_rows)} (e.g. "
            f"{matrix.units[treated_rows[:3]].tolist()}): use evaluatie.synthetic_did for "
            "several treated units"
        )
    target, t0 = int(treated_rows[0]), int(matrix.adoption[treated_rows[0]])
    donors = np.flatnonzero(matrix.adoption < 0)
    weights, gap = _gaps(matrix.y, target, donors, t0)
    placebo = np.empty((len(donors), matrix.y.shape[1]))
    for i, d in enumerate(donors):
        placebo[i] = _gaps(matrix.y, int(d), np.delete(donors, i), t0)[1]
    # with many donors and few pre-periods a unit inside the others' convex hull is fitted
    # exactly; its ratio would divide by zero, so the pre-period RMSPE is floored at a
    # millionth of the outcome's spread (the unit then ranks as extreme, and the count of
    # such units is reported)
    floor = 1e-6 * float(np.std(matrix.y[:, :t0])) or 1e-12
    pre_rmspe = max(_rmspe(gap[:t0]), floor)
    placebo_pre = np.maximum(np.sqrt(np.mean(placebo[:, :t0] ** 2, axis=1)), floor)
    post = gap[t0:]
    ratio = _rmspe(post) / pre_rmspe
    placebo_ratio = np.sqrt(np.mean(placebo[:, t0:] ** 2, axis=1)) / placebo_pre
    p = float(_rank_p(placebo_ratio, ratio)[0])
    # constant effect theta: accepted while mean((post - theta)^2) <= (c pre_rmspe)^2
    exact = placebo_pre <= floor
    spread = (_critical(placebo_ratio, alpha, exact) * pre_rmspe) ** 2 - float(np.var(post))
    half = math.sqrt(spread) if spread >= 0 else math.nan
    estimate = float(post.mean())
    note, interval = "", "bounded"
    if math.isinf(spread) and exact.any():
        interval = "exact_fits"
        note = (
            f"{int(exact.sum())} of {len(donors)} donors' pre-periods are reproduced exactly "
            "by the other donors, so their ratios carry no information and the rank test "
            f"bounds no effect at {alpha:g} (the interval is unbounded): use more "
            "pre-periods or fewer donors, or synthetic DiD"
        )
    elif math.isinf(spread):
        interval = "few_donors"
        note = (
            f"with {len(donors)} donors the smallest possible p-value is 1/{len(donors) + 1}: "
            f"no effect can be ruled out at {alpha:g} (the interval is unbounded); a test "
            f"at this level needs at least {math.ceil(1 / alpha) - 1} donors"
        )
    elif spread < 0:
        interval = "empty"
        note = "no constant effect is consistent with the post-period gaps (empty interval)"
    overall = Overall(
        estimate, math.nan, p, estimate - half, estimate + half, label="average gap", note=note
    )
    # per post-period: the same test and inversion on |gap_t| / RMSPE_pre
    scaled = np.abs(placebo[:, t0:]) / placebo_pre[:, None]
    per_p = _rank_p(scaled, np.abs(post) / pre_rmspe)
    per_half = np.array([_critical(scaled[:, k], alpha, exact) for k in range(len(post))])
    per_half = per_half * pre_rmspe
    n_pre = t0
    table = pd.DataFrame(
        {
            "estimate": gap,
            "se": math.nan,
            "p": np.r_[np.full(n_pre, np.nan), per_p],
            "ci_low": np.r_[np.full(n_pre, np.nan), post - per_half],
            "ci_high": np.r_[np.full(n_pre, np.nan), post + per_half],
            "post": np.arange(len(gap)) >= t0,
            "treated": matrix.y[target],
            "synthetic": matrix.y[target] - gap,
        },
        index=pd.Index(matrix.periods, name=time),
    )
    donor_labels = pd.Index(matrix.units[donors], name=unit)
    return SyntheticResult(
        table=table,
        method="synthetic control (Abadie, Diamond & Hainmueller 2010)",
        overall=overall,
        meta={
            "call": call,
            "inference": Inference(
                procedure="placebo",
                se="none (synthetic control has no standard error)",
                distribution=(
                    "placebo-in-space ranks of the post/pre RMSPE ratio, interval by test "
                    "inversion under a constant effect (Firpo & Possebom 2018)"
                ),
                draws=len(donors),
            ),
            "n_obs": int(matrix.y.size),
            "n_units": len(matrix.units),
            "n_donors": len(donors),
            "n_periods": len(matrix.periods),
            "treated": matrix.units[target],
            "first_treated": matrix.periods[t0],
            "p_resolution": 1 / (len(donors) + 1),
            "exact_pre_fits": int(exact.sum()),
            # why the overall interval is what it is: bounded, exact_fits, few_donors, empty
            "interval": interval,
            "pre_rmspe": pre_rmspe,
            "rmspe_ratio": ratio,
            "alpha": alpha,
        },
        weights=pd.DataFrame({matrix.periods[t0]: weights}, index=donor_labels),
        paths=table[["treated", "synthetic"]].copy(),
        placebos=pd.DataFrame(placebo.T, index=table.index, columns=donor_labels),
    )
