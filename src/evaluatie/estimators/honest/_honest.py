"""``honest_did``: how much may parallel trends fail before the conclusion changes?

Rambachan & Roth (2023, Review of Economic Studies 90(5)) replace exact parallel trends
by a bound on how far the post-period trend violation ``δ_post`` may stray, given the
pre-period violation ``δ_pre = β_pre`` the event study estimates, and give confidence
intervals for ``θ = l'τ_post`` valid under that bound. Estimand: the effect at one event
time (or the average over event times ≥ 0) relative to the reference period. Assumptions:
``β̂ ~ N(β, Σ)`` approximately, with ``Σ`` the event study's covariance; ``δ ∈ Δ``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from evaluatie.core.checks import require_alpha
from evaluatie.core.errors import ParameterError
from evaluatie.core.results import Inference, Overall, Result, call_record
from evaluatie.estimators.honest import _arp, _relative_magnitude, _smoothness
from evaluatie.estimators.honest._inputs import EventPath, event_path

KINDS = ("relative_magnitude", "smoothness")
#: Default grid of M̄ for relative magnitudes.
RM_GRID = tuple(np.round(np.arange(0.0, 2.0001, 0.25), 2).tolist())
#: Breakdown by bisection to this tolerance (M̄; for smoothness times the grid's scale).
BREAKDOWN_TOL = 1e-3
_MAX_DOUBLINGS = 8
_SEED = 20230905  # the least-favourable draws: fixed, so a result reruns to itself


@dataclass
class HonestResult(Result):
    """Intervals for the target under growing violations of parallel trends: ``table``
    indexed by ``m``; ``overall`` is the original interval (exact parallel trends)."""

    @property
    def breakdown(self) -> float:
        """The smallest ``m`` whose interval contains 0 (NaN if the original one does)."""
        return float(self.meta["breakdown"])

    @property
    def original(self) -> Overall:
        assert self.overall is not None
        return self.overall

    @property
    def kind(self) -> str:
        return str(self.meta["kind"])


def _check(kind: str, m: Sequence[float] | None, event_time: int | str) -> list[float] | None:
    if kind not in KINDS:
        raise ParameterError(f"kind must be one of {KINDS}, got {kind!r}")
    if not (event_time == "average" or isinstance(event_time, (int, np.integer))) or isinstance(
        event_time, bool
    ):
        raise ParameterError(
            f"event_time must be an integer event time after the reference period or "
            f"'average', got {event_time!r}"
        )
    if m is None:
        return None
    try:
        grid = sorted({float(v) for v in np.atleast_1d(np.asarray(m, dtype=float))})
    except (TypeError, ValueError):
        raise ParameterError(f"m must be a list of numbers >= 0, got {m!r}") from None
    if not grid or not all(math.isfinite(v) and v >= 0 for v in grid):
        raise ParameterError(f"m must be a non-empty list of finite numbers >= 0, got {m!r}")
    return grid


def _target(path: EventPath, event_time: int | str) -> tuple[np.ndarray, str]:
    if event_time == "average":
        after = np.array([1.0 if r >= 0 else 0.0 for r in path.post])
        if not after.any():
            raise ParameterError("event_time='average' needs event times >= 0 in the result")
        periods = [r for r in path.post if r >= 0]
        return after / after.sum(), f"average of event times {periods[0]}..{periods[-1]}"
    if event_time not in path.post:
        raise ParameterError(
            f"event_time={event_time!r} is not a post period of this event study "
            f"(reference {path.reference}; post periods {path.post})"
        )
    return (np.array([1.0 if r == event_time else 0.0 for r in path.post]),
            f"event time {event_time}")  # fmt: skip


def _noise(sigma: np.ndarray, draws: int) -> np.ndarray:
    values, vectors = np.linalg.eigh(sigma)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return np.random.default_rng(_SEED).standard_normal((draws, len(sigma))) @ root.T


def _breakdown(
    contains_zero: Callable[[float], bool], grid: list[float], excluded: list[bool], tol: float
) -> tuple[float, str]:
    """Smallest ``m`` whose interval holds 0: bracketed on the grid (doubled past its end
    when needed), then bisected to ``tol``; assumes intervals widen with ``m``."""
    hits = [i for i, ex in enumerate(excluded) if not ex]
    if hits and hits[0] == 0:
        return grid[0], "the interval already holds 0 at the smallest m"
    if hits:
        lo, hi = grid[hits[0] - 1], grid[hits[0]]
    else:
        lo, hi = grid[-1], max(2 * grid[-1], tol)
        for _ in range(_MAX_DOUBLINGS):
            if contains_zero(hi):
                break
            lo, hi = hi, 2 * hi
        else:
            return math.inf, f"0 stays outside the interval up to m = {hi:.4g}"
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if contains_zero(mid) else (mid, hi)
    return hi, f"by bisection to within {tol:.2g}"


def honest_did(
    result: Result,
    *,
    event_time: int | str = 0,
    kind: str = "relative_magnitude",
    m: Sequence[float] | None = None,
    alpha: float = 0.05,
) -> HonestResult:
    """Sensitivity of an event study to violations of parallel trends (Rambachan & Roth 2023).

    ``kind="relative_magnitude"``: ``Δ^RM(M̄)``, post-period changes of the violation at
    most ``M̄`` times the largest pre-period change, with C-LF intervals (RR Section 5.3;
    :mod:`._relative_magnitude`); default ``m`` 0, 0.25, ..., 2. ``kind="smoothness"``:
    ``Δ^SD(M)``, the slope of the violation changes by at most ``M`` per period, with the
    optimal FLCI (RR Section 5.2; :mod:`._smoothness`); default ``m`` ten values from 0 to
    the standard error of the noisiest pre-period second difference.

    ``result`` is an :func:`evaluatie.event_study` result or ``att_gt(...,
    base_period="universal").aggregate("dynamic")``; pre-periods are its coefficients
    before the reference period (the reference itself, normalised to 0, is left out),
    post-periods those after it. ``event_time`` is the target (a post period, or
    ``"average"`` over event times >= 0). Binned end points of the event-study window
    enter as ordinary periods.

    Returns a :class:`HonestResult`: ``table`` indexed by ``m`` with ``estimate, se, p,
    ci_low, ci_high, kind``; ``overall`` the original interval (normal, exact parallel
    trends); ``meta["breakdown"]`` the smallest ``m`` whose interval holds 0.
    """
    arguments = {"event_time": event_time, "kind": kind, "m": m, "alpha": alpha}
    alpha = require_alpha(alpha)
    grid = _check(kind, m, event_time)
    path = event_path(result)
    weights, target = _target(path, event_time)
    n_pre, n_post = len(path.pre), len(path.post)
    if kind == "relative_magnitude" and n_pre < 2:
        raise ParameterError(
            f"kind='relative_magnitude' needs at least 2 pre-periods before the reference "
            f"{path.reference} (the largest pre-period change needs two), got {n_pre}; "
            "widen the event study's window or use kind='smoothness'"
        )
    if n_pre < 1:
        raise ParameterError(f"honest_did needs a pre-period before the reference {path.reference}")
    beta, sigma = path.betahat, path.sigma
    post = slice(n_pre, None)
    est0 = float(weights @ beta[post])
    se0 = float(np.sqrt(weights @ sigma[post, post] @ weights))
    z = float(special.ndtri(1 - alpha / 2))
    original = Overall(
        estimate=est0,
        se=se0,
        p=float(2 * special.ndtr(-abs(est0) / se0)),
        ci_low=est0 - z * se0,
        ci_high=est0 + z * se0,
        label=f"original interval, {target} (exact parallel trends, normal)",
    )
    rows: list[dict[str, float]] = []
    if kind == "relative_magnitude":
        grid = list(RM_GRID) if grid is None else grid
        noise = _noise(sigma, _relative_magnitude.LF_DRAWS)

        def fit(mv: float, with_p: bool = True) -> dict[str, float]:
            pieces = _relative_magnitude.build_pieces(beta, sigma, n_pre, weights, mv, noise)
            half = _relative_magnitude.search_half_width(beta, sigma, n_pre, weights, mv)
            lo, hi = _arp.interval(pieces, est0, half, alpha, alpha / 10, 1e-7 * se0)
            p = _arp.p_value(pieces, 0.0) if with_p else math.nan
            return {"estimate": est0, "se": math.nan, "p": p, "ci_low": lo, "ci_high": hi}

        scale, method = 1.0, "C-LF"
        note = (
            "Intervals invert the conditional-least-favourable hybrid test (kappa = alpha/10, "
            f"{_relative_magnitude.LF_DRAWS:,} least-favourable draws); estimate is the "
            "plug-in l'beta_post (the centre of the estimated identified set), with no "
            "standard error; p is the smallest level at which the test rejects 0."
        )
    else:
        scale = _smoothness.default_scale(sigma, n_pre)
        grid = (np.linspace(0.0, scale, 10).tolist()) if grid is None else grid

        def fit(mv: float, with_p: bool = True) -> dict[str, float]:
            f = _smoothness.flci(beta, sigma, n_pre, weights, mv, alpha)
            return {"estimate": f.estimate, "se": f.sd, "p": f.p, "ci_low": f.estimate - f.half,
                    "ci_high": f.estimate + f.half, "max_bias": f.bias}  # fmt: skip

        method = "FLCI"
        note = (
            "Optimal fixed-length intervals: estimate is the affine estimator v'beta_pre + "
            "l'beta_post at their centre, se its standard deviation, max_bias its worst-case "
            "bias; p is the folded-normal test of 0 with that estimator."
        )
    rows = [fit(mv) for mv in grid]
    table = pd.DataFrame(rows, index=pd.Index(grid, name="m"))
    table["kind"] = kind
    table["method"] = method

    def contains_zero(mv: float) -> bool:
        row = fit(mv, with_p=False)
        return bool(row["ci_low"] <= 0 <= row["ci_high"])

    tol = BREAKDOWN_TOL * scale
    if original.ci_low <= 0 <= original.ci_high:
        breakdown, why = math.nan, "the original interval already holds 0: nothing to break"
    else:
        excluded = [not (r["ci_low"] <= 0 <= r["ci_high"]) for r in rows]
        breakdown, why = _breakdown(contains_zero, grid, excluded, tol)
    source_meta: dict[str, Any] = result.meta
    meta: dict[str, Any] = {
        "call": {**call_record("honest_did", arguments), "of": source_meta.get("call")},
        "inference": Inference(
            procedure=f"Rambachan-Roth {method}",
            se=f"covariance of the event-study coefficients ({path.source})",
            distribution="normal",
            note=note,
        ),
        "kind": kind,
        "event_time": event_time,
        "target": target,
        "weights": dict(zip(path.post, weights.tolist(), strict=True)),
        "reference_period": path.reference,
        "pre_periods": path.pre,
        "post_periods": path.post,
        "n_pre": n_pre,
        "n_post": n_post,
        "alpha": alpha,
        "breakdown": breakdown,
        "breakdown_tolerance": tol,
        "breakdown_note": why,
        "scale": scale,
        "source": path.source,
        **{k: source_meta[k] for k in ("n_obs", "n_units", "n_clusters") if k in source_meta},
    }
    if any(math.isnan(r["ci_low"]) for r in rows):
        meta["empty"] = "an empty interval: the data reject the restriction at that m"
    return HonestResult(
        table=table,
        method=f"honest_did[{kind}]",
        meta=meta,
        overall=original,
    )


__all__ = ["KINDS", "HonestResult", "honest_did"]
