"""Difference-in-differences with a continuous treatment (dose), single treatment date.

Callaway, Goodman-Bacon & Sant'Anna (2024), "Difference-in-differences with a continuous
treatment", NBER WP 32117 / arXiv 2107.02637 (CGBS). Estimands (CGBS Section 3):
``ATT(d|d) = E[Y_t(d) - Y_t(0) | D = d]``, the effect of dose ``d`` on the units that got
``d``; ``ACRT(d|d) = ∂E[Y_t(l) | D = d]/∂l`` at ``l = d``; and their averages over the
treated dose distribution, ``ATT^o = E[ATT(D|D) | D ≠ 0]`` and ``ACRT^o = E[ACRT(D|D) | D ≠ 0]``.

Assumptions: no anticipation before ``first_period``, a comparison group with dose exactly
0, and parallel trends. Standard parallel trends (``E[ΔY_t(0) | D = d] = E[ΔY_t(0) | D = 0]``,
CGBS Assumption 4) identifies ``ATT(d|d) = E[ΔY | D = d] - E[ΔY | D = 0]`` (CGBS Theorem 3.1).
Reading ``ACRT(d|d)`` as a causal slope, or comparing ``ATT`` across doses, needs *strong*
parallel trends (CGBS Assumption 5): otherwise the slope mixes causal responses with
selection bias across dose groups (CGBS Theorem 3.2).

Estimator (CGBS Section 4.2, the parametric/sieve case): regress the treated units'
``ΔY`` on a B-spline sieve ``ψ^K(D)`` (:mod:`.bspline`) and subtract the comparison mean:
``ATT(d) = ψ^K(d)'β - mean_{D=0}(ΔY)``, ``ACRT(d) = ψ^K'(d)'β``. With several post periods
each unit's ``ΔY`` is its average over the post periods (``Y_t - Y_base``): since a unit's
basis row is the same in every period, that fit equals the equal-weighted average of the
per-period fits, which is the ``"dose"`` aggregation of diff-diff ``ContinuousDiD`` and of
moderndid / R ``contdid`` for one treatment cohort.

Sampling weights (``weights=``, e.g. a gemeente's number of pupils) make every mean a
weighted mean over units: the estimands become the weighted (pupil-level) averages, the
sieve is fitted by weighted least squares and the influence functions are the weighted
ones (:mod:`._influence`). The knots and the default dose grid stay unweighted quantiles
of the treated units' doses (see :func:`cont_did`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from evaluatie.core.checks import plain, require_alpha
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Inference, Overall, Result, call_record, inference_table
from evaluatie.inference.bands import sup_t_critical

from ._influence import curve_variance, fit_columns
from ._panel import wide_panel
from .bspline import DoseBasis

SE_TYPE = (
    "influence function, units as clusters: se = sqrt(sum_i IF_i^2) (1/n variances, no "
    "small-sample factor), normal critical values"
)
SE_TYPE_WEIGHTED = (
    "weighted influence function (unit sampling weights, normalised to mean 1), units as "
    "clusters: se = sqrt(sum_i IF_i^2) with IF_i proportional to w_i (1/n variances, no "
    "small-sample factor), normal critical values"
)
GRID_PROBS = np.round(np.arange(0.10, 0.995, 0.01), 2)  # R contdid / diff-diff default grid


@dataclass
class ContDidResult(Result):
    """A continuous-treatment DiD fit (see the module docstring).

    ``table``: ``ATT_o`` and ``ACRT_o`` pooled over the post periods (``estimate, se, t, p,
    ci_low, ci_high``). ``curve``: ``dose, att, att_se, att_ci_low, att_ci_high, acrt,
    acrt_se, acrt_ci_low, acrt_ci_high`` on the dose grid. ``event``: ``ATT^o`` and
    ``ACRT^o`` per period against the base period (``pre`` rows are placebo estimates;
    the base period itself is a ``reference`` row fixed at 0). ``influence``: the
    unit-level influence functions of ``ATT_o`` and ``ACRT_o`` (``n_units × 2``, rows in
    the order of ``units``), ``event_influence`` those of the event rows (``n × E × 2``).
    ``weights``: the unit sampling weights used, normalised to mean 1 (all ones when
    unweighted), in the order of ``units``.
    """

    curve: pd.DataFrame = field(default_factory=pd.DataFrame)
    event: pd.DataFrame = field(default_factory=pd.DataFrame)
    basis: DoseBasis | None = field(default=None, repr=False)
    coef: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    coef_vcov: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    comparison_mean: float = float("nan")
    comparison_var: float = float("nan")
    units: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    weights: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    influence: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False)
    event_influence: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 2)), repr=False)

    def predict(
        self, d: float | np.ndarray, target: Literal["att", "acrt"] = "att"
    ) -> tuple[np.ndarray, np.ndarray]:
        """``ATT(d)`` (or ``ACRT(d)``) and its standard error at doses ``d``.

        ``d`` must lie within the treated dose support (the sieve is not extrapolated).
        """
        assert self.basis is not None
        if target not in ("att", "acrt"):
            raise ParameterError(f"target must be 'att' or 'acrt', got {target!r}.")
        x = _check_grid(d, self.basis, "d")
        return _evaluate(self, x, target)

    def summary(self) -> str:
        with pd.option_context("display.float_format", "{:.6g}".format, "display.width", 140):
            step = max(1, len(self.curve) // 9)
            cols = ["time", "rel_time", "pre", "att", "att_se", "acrt", "acrt_se"]
            return "\n".join(
                [
                    super().summary(),
                    f"dose-response curve (every {step}-th grid point):",
                    self.curve.iloc[::step].to_string(index=False),
                    "per-period ATT^o and ACRT^o (pre = placebo):",
                    self.event[cols].to_string(index=False),
                ]
            )


def _evaluate(res: ContDidResult, x: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray]:
    assert res.basis is not None
    rows, shift, extra = _curve_rows(res.basis, x, target, res.comparison_mean, res.comparison_var)
    var = np.einsum("gk,kl,gl->g", rows, res.coef_vcov, rows) + extra
    return rows @ res.coef - shift, np.sqrt(np.maximum(var, 0.0))


def _curve_rows(
    basis: DoseBasis, x: np.ndarray, target: str, comparison_mean: float, comparison_var: float
) -> tuple[np.ndarray, float, float]:
    """``ATT(d) = ψ(d)'β - m_0`` or ``ACRT(d) = ψ'(d)'β``: the sieve rows at ``x``, the
    comparison mean to subtract and its variance to add (zero for ACRT)."""
    if target == "att":
        return basis.design(x), comparison_mean, comparison_var
    return basis.derivative(x), 0.0, 0.0


def _check_grid(d: Any, basis: DoseBasis, name: str) -> np.ndarray:
    try:
        x = np.atleast_1d(np.asarray(d, dtype=float))
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be numeric doses, got {d!r}.") from exc
    lo, hi = basis.support
    if x.ndim != 1 or x.size == 0 or not np.isfinite(x).all():
        raise ParameterError(f"{name} must be a non-empty 1-D array of finite doses.")
    out = x[(x < lo) | (x > hi)]
    if out.size:
        raise ParameterError(
            f"{name} contains {out.size} dose(s) outside the treated dose support "
            f"[{lo:g}, {hi:g}] (e.g. {out[0]:g}); the B-spline sieve is not extrapolated."
        )
    return x


def _int_param(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ParameterError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def _period_param(name: str, value: Any, periods: np.ndarray, time: str) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or value not in periods:
        shown = ", ".join(map(str, periods[:20].tolist())) + (", ..." if periods.size > 20 else "")
        raise ParameterError(f"{name}={value!r} is not a period of column {time!r} ({shown}).")
    return value


def cont_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    dose: str,
    first_period: int,
    base_period: int | None = None,
    degree: int = 3,
    num_knots: int = 0,
    dvals: np.ndarray | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
) -> ContDidResult:
    """ATT(d|d), ACRT(d|d), ATT^o and ACRT^o of CGBS (2024) with a B-spline sieve.

    Parameters
    ----------
    data, outcome, unit, time
        Long panel, one row per unit and period, balanced (every unit observed with an
        outcome in every period of ``data``); ``time`` numeric.
    dose
        Treatment intensity, constant within unit. ``0`` = comparison group; any other
        value (negative ones too: the sieve spans the signed support) = treated.
    first_period
        The single treatment date: the first period in which an effect can appear.
    base_period
        The period every ``ΔY_t = Y_t - Y_base`` is taken against (a "universal" base);
        default the last observed period before ``first_period`` (``first_period - 1``
        with consecutive periods). Periods from ``first_period`` on are pooled into the
        curve and the overall estimates; the others give placebo rows in ``event``.
    degree, num_knots
        B-spline degree (``>= 1``) and number of interior knots, at quantiles of the
        treated doses (one per unit); see :mod:`.bspline`. ``K = degree + num_knots + 1``.
    dvals
        Doses at which the curve is evaluated (within the treated dose support); default
        the 0.10, 0.11, ..., 0.99 quantiles of the treated doses (diff-diff's default,
        which it documents as R ``contdid``'s; moderndid uses 50 equally spaced doses
        from the smallest to the largest).
    weights
        Column with a positive unit sampling weight, constant within unit (e.g. a
        gemeente's number of pupils); default ``None``, every unit weight 1. The weights
        are normalised to mean 1 over the units (the ``weightsname`` convention of R
        ``did`` / moderndid; only their ratios matter), and the estimands become weighted
        averages over units: the comparison mean is the weighted mean of ``ΔY`` over
        comparison units, the sieve is fitted by weighted least squares over treated
        units, ``ATT^o`` and ``ACRT^o`` are weighted averages over treated units, and the
        influence functions are the weighted ones (:mod:`._influence`; with all weights
        equal the unweighted results are reproduced). With integer weights the point
        estimates equal those of the unweighted fit on the data with unit ``i`` repeated
        ``w_i`` times whenever the knots and grid coincide (``num_knots=0`` and given
        ``dvals``), and the SEs those of that fit with each unit's copies as one cluster.
        The knots and the default ``dvals`` stay
        unweighted quantiles of the treated units' doses, as in diff-diff
        (``survey_design=``): they are the sieve's design, set by the observed units
        that identify the curve's shape; a type-7 quantile cannot both reduce to the
        unweighted one for equal weights and match the repeated data for integer weights.
    alpha
        ``1 - alpha`` pointwise confidence intervals.

    Standard errors: from the unit-level influence functions (units are the clusters;
    post periods are averaged within unit first), ``se = sqrt(Σ_i IF_i²)``, no small-sample
    correction, normal critical values. The curve's variance treats the sieve as a fixed
    regression (sandwich of ``β``) plus the comparison mean; ``ACRT^o`` includes the
    variation from averaging over the sampled doses. These match diff-diff
    ``ContinuousDiD``'s analytic SEs except for ``ACRT^o``, where diff-diff leaves out that
    dose-averaging term. moderndid 0.2 (its SEs are bootstrapped from its influence
    functions) agrees on ACRT(d); its ATT(d) IFs omit the comparison mean, and its ACRT^o
    IF, which it also reports for ATT^o, is scaled by ``n_1/n``; see
    ``tests/estimators/contdid/test_contdid.py``. With ``weights`` the point estimates match diff-diff's
    ``survey_design=SurveyDesign(weights=...)``, whose SEs apply the weights a second time
    to its already weighted influence functions; moderndid 0.2's dose path ignores its
    ``weightsname``.

    ``overall`` is ``ATT^o``; the table's ``ACRT_o`` row is the average slope.
    """
    call = call_record("cont_did", {k: v for k, v in locals().items() if k != "data"})
    panel = wide_panel(data, outcome, unit, time, dose, weights)
    periods = panel.periods
    first = _period_param("first_period", first_period, periods, time)
    before = periods[periods < first]
    if base_period is None:
        if before.size == 0:
            raise DesignError(
                f"no period before first_period={first_period!r} in column {time!r}: a "
                "pre-treatment base period is needed."
            )
        base = before[-1]
    else:
        base = _period_param("base_period", base_period, periods, time)
        if base >= first:
            raise ParameterError(
                f"base_period={base_period!r} must be before first_period={first_period!r}."
            )
    degree = _int_param("degree", degree, 1)
    num_knots = _int_param("num_knots", num_knots, 0)
    alpha = require_alpha(alpha)

    treated = panel.dose != 0
    n1, n0 = int(treated.sum()), int((~treated).sum())
    k = degree + num_knots + 1
    if n0 < 2:
        # One comparison unit has no spread: its mean would enter with zero variance.
        raise DesignError(
            f"{n0} comparison unit(s) (units with {dose!r} == 0): CGBS need an untreated "
            "group, and its mean's variance needs at least 2."
        )
    if n1 <= k:
        raise DesignError(
            f"{n1} treated unit(s) ({dose!r} != 0) for K = degree + num_knots + 1 = {k} basis "
            f"columns (degree={degree}, num_knots={num_knots}): need more than {k}."
        )
    d1 = panel.dose[treated]
    basis = DoseBasis.from_doses(d1, degree, num_knots)
    psi, dpsi = basis.design_and_derivative(d1)
    w = panel.weights
    gram = psi.T @ (psi * w[treated, None])
    scale = np.sqrt(np.diag(gram))
    eig = np.linalg.eigvalsh(gram / np.outer(scale, scale))
    if eig[0] <= 1e-12 * eig[-1]:  # singular, or numerically so: cond(Ψ) > 1e6
        raise DesignError(
            f"the dose basis is rank deficient (K = {k}): {np.unique(d1).size} distinct treated "
            f"dose(s) in {dose!r} cannot identify degree={degree} with num_knots={num_knots}; "
            "lower degree or num_knots."
        )
    grid = default_grid(d1) if dvals is None else _check_grid(dvals, basis, "dvals")

    b = int(np.searchsorted(periods, base))
    others = np.flatnonzero(np.arange(periods.size) != b)
    post = periods[others] >= first
    dy = panel.y[:, others] - panel.y[:, [b]]
    dy_all = np.column_stack([dy, dy[:, post].mean(axis=1)])
    fit = fit_columns(dy_all, treated, psi, dpsi, w)
    att, acrt, inf = fit.att, fit.acrt, fit.inf
    se = np.sqrt((inf**2).sum(axis=0))  # (m, 2)
    vcov, comparison_var = curve_variance(fit, dy_all, treated, psi, w, -1)
    result = ContDidResult(
        table=inference_table(
            np.array([att[-1], acrt[-1]]), se[-1], pd.Index(["ATT_o", "ACRT_o"]), alpha=alpha
        ),
        method=(
            "Continuous-treatment DiD (Callaway, Goodman-Bacon & Sant'Anna 2024), "
            f"B-spline degree {degree}, {num_knots} interior knot(s)"
            + ("" if weights is None else f", weighted by {weights!r}")
        ),
        basis=basis,
        coef=fit.beta[:, -1],
        coef_vcov=vcov,
        comparison_mean=float(fit.m0[-1]),
        comparison_var=comparison_var,
        units=panel.units,
        weights=w,
        influence=inf[:, -1, :],
        event_influence=inf[:, :-1, :],
    )
    crit = special.ndtri(1 - alpha / 2)
    band_vcov, band_comparison_var = curve_variance(fit, dy_all, treated, psi, w, -1, leverage=True)
    curve = {"dose": grid}
    bands: dict[str, np.ndarray] = {}
    band_crit = {}
    for target in ("att", "acrt"):
        est, s = _evaluate(result, grid, target)
        curve |= {target: est, f"{target}_se": s}
        curve |= {f"{target}_ci_low": est - crit * s, f"{target}_ci_high": est + crit * s}
        cov = _curve_cov(basis, grid, target, band_vcov, band_comparison_var)
        band_se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        band_crit[target] = sup_t_critical(cov, alpha=alpha, df=n1 - k)
        bands[f"{target}_band_low"] = est - band_crit[target] * band_se
        bands[f"{target}_band_high"] = est + band_crit[target] * band_se
    result.curve = pd.DataFrame(curve | bands)
    result.event = _event_table(periods, b, others, first, att[:-1], acrt[:-1], se[:-1], crit)
    result.meta = {
        "outcome": outcome,
        "unit": unit,
        "time": time,
        "dose": dose,
        "weights": weights,
        "first_period": plain(first),
        "base_period": plain(base),
        "degree": degree,
        "num_knots": num_knots,
        "dvals": "default (0.10-0.99 quantiles of treated doses)" if dvals is None else "given",
        "alpha": alpha,
        "n_units": int(panel.units.size),
        "n_treated": n1,
        "n_comparison": n0,
        "n_negative_dose": int((d1 < 0).sum()),
        "n_periods": int(periods.size),
        "post_periods": periods[others][post].tolist(),
        "pre_periods": periods[others][~post].tolist(),
        "n_post_periods": int(post.sum()),
        "n_basis": k,
        "dose_support": basis.support,
        "knots": basis.interior.tolist(),
        "band": (
            f"uniform {1 - alpha:.0%} band over the dose grid (sup-t, Montiel Olea & "
            "Plagborg-Møller 2019): leverage-corrected (HC3) variance of the sieve and of "
            f"the comparison mean, multivariate t({n1 - k}) critical values "
            f"{band_crit['att']:.2f} (ATT) and {band_crit['acrt']:.2f} (ACRT)"
        ),
        "band_critical": {t: round(c, 6) for t, c in band_crit.items()},
        "inference": Inference(
            procedure="analytic",
            se=SE_TYPE if weights is None else SE_TYPE_WEIGHTED,
            distribution="normal",
            cluster=unit,
            n_clusters=int(panel.units.size),
        ),
        "n_obs": int(panel.units.size * periods.size),
        "call": call,
    }
    result.overall = Overall.from_row(result.table.loc["ATT_o"], label="ATT^o")
    return result


def _curve_cov(
    basis: DoseBasis, grid: np.ndarray, target: str, vcov: np.ndarray, comparison_var: float
) -> np.ndarray:
    """Covariance of ``ATT(d)`` (or ``ACRT(d)``) across the grid from that of ``β`` and
    the comparison mean (independent: disjoint units)."""
    rows, _, extra = _curve_rows(basis, grid, target, 0.0, comparison_var)
    return rows @ vcov @ rows.T + extra


def default_grid(treated_doses: np.ndarray) -> np.ndarray:
    """The default grid: the 0.10, 0.11, ..., 0.99 quantiles of the treated doses."""
    return np.quantile(np.asarray(treated_doses, dtype=float), GRID_PROBS)


def _event_table(periods, b, others, first, att, acrt, se, crit) -> pd.DataFrame:
    """One row per period; the base period is the reference row (0, no SE)."""
    order = np.argsort(np.append(others, b), kind="stable")

    def col(values: np.ndarray, ref: float) -> np.ndarray:
        return np.append(values, ref)[order]

    t = periods[np.append(others, b)[order]]
    out = {"time": t, "rel_time": t - first, "pre": t < first}
    out["reference"] = col(np.zeros(others.size, bool), True).astype(bool)
    for j, (name, est) in enumerate((("att", att), ("acrt", acrt))):
        out |= {name: col(est, 0.0), f"{name}_se": col(se[:, j], np.nan)}
        out[f"{name}_ci_low"] = col(est - crit * se[:, j], np.nan)
        out[f"{name}_ci_high"] = col(est + crit * se[:, j], np.nan)
    return pd.DataFrame(out)
