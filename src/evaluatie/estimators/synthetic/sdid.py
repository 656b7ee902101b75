"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager
2021, American Economic Review 111(12), Algorithm 1).

Estimand: the ATT of the treated units over their post-periods. SDID reweights the donors
(unit weights ``omega``, regularised by ``zeta = (N1 T1)^(1/4) sd(first differences)``,
their eq. 2.2-2.3) so that their pre-period trend matches the treated units' up to a
constant, and the pre-periods (time weights ``lambda``, eq. 2.4) so that they predict the
post-period average of the donors; the estimate is the weighted DiD
``[-omega, 1/N1]' Y [-lambda, 1/T1]``. Assumption: the weighted donors' change
is what the treated units' change would have been without the policy (the paper's
latent factor model, Section 3).

Staggered adoption: each cohort (units with the same first treated period) is estimated
against the never-treated units on its own pre- and post-periods, and the cohorts are
averaged with weights proportional to their treated unit-periods ``N1_c T1_c`` (as the
Stata ``sdid`` command of Clarke, Pailañir, Athey & Imbens 2023 does; the R reference
implementation has no staggered adoption).

Variance: ``"placebo"`` (Algorithm 4): donors drawn at random as pseudo-treated units
(in the same cohort sizes) and the whole estimator refitted on the remaining donors; valid
with a single treated unit but it assumes the treated units' errors are like the donors'
(homoskedastic across units) and needs more donors than treated units. ``"jackknife"``
(Algorithm 3): leave one unit out with the weights fixed; it needs at least two treated
units per cohort. Intervals are ``estimate +- z se`` (normal).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.core.checks import require_alpha
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Inference, Overall, call_record, inference_table
from evaluatie.estimators.synthetic._panel import Matrix, outcome_matrix
from evaluatie.estimators.synthetic._weights import frank_wolfe
from evaluatie.estimators.synthetic.result import SyntheticResult
from evaluatie.inference.seeds import DEFAULT_SEED

#: Variance estimators (the paper's Algorithms 4 and 3).
VARIANCES = ("placebo", "jackknife")
#: Threads for the placebo replications (the cores this process may use, at most 4).
_THREADS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


@dataclass(frozen=True)
class _Tuning:
    """A cohort's regularisation and stopping rule, fixed at the fit and reused by every
    replication (as the reference implementation does)."""

    zeta_omega: float
    zeta_lambda: float
    min_decrease: float


@dataclass(frozen=True)
class _Fit:
    estimate: float
    omega: np.ndarray
    lam: np.ndarray


#: First iterates (or, without refitting, the weights) of a cohort: (omega, lambda).
_Start = tuple[np.ndarray, np.ndarray]


def _tuning(y: np.ndarray, n0: int, t0: int) -> _Tuning:
    n1, t1 = y.shape[0] - n0, y.shape[1] - t0
    noise = float(np.std(np.diff(y[:n0, :t0], axis=1), ddof=1))
    return _Tuning((n1 * t1) ** 0.25 * noise, 1e-6 * noise, 1e-5 * noise)


def _fit(
    y: np.ndarray,
    n0: int,
    t0: int,
    tuning: _Tuning,
    *,
    omega: np.ndarray | None = None,
    lam: np.ndarray | None = None,
    refit: bool = True,
) -> _Fit:
    """One cohort: rows ``y[:n0]`` donors, the rest treated; columns ``y[:, :t0]`` pre.

    With ``refit`` the weights are estimated (from ``omega``/``lam`` as first iterates,
    uniform where None); without it ``omega`` and ``lam`` are used as they are.
    """
    collapsed = np.empty((n0 + 1, t0 + 1))
    collapsed[:n0, :t0] = y[:n0, :t0]
    collapsed[:n0, t0] = y[:n0, t0:].mean(axis=1)
    collapsed[n0, :t0] = y[n0:, :t0].mean(axis=0)
    collapsed[n0, t0] = y[n0:, t0:].mean()
    if refit:
        lam = frank_wolfe(
            collapsed[:n0],
            zeta=tuning.zeta_lambda,
            min_decrease=tuning.min_decrease,
            intercept=True,
            start=lam,
        )
        omega = frank_wolfe(
            collapsed[:, :t0].T,
            zeta=tuning.zeta_omega,
            min_decrease=tuning.min_decrease,
            intercept=True,
            start=omega,
        )
    assert omega is not None and lam is not None
    treated = collapsed[n0, t0] - collapsed[n0, :t0] @ lam
    donors = omega @ collapsed[:n0, t0] - omega @ collapsed[:n0, :t0] @ lam
    return _Fit(float(treated - donors), omega, lam)


def _normalised(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    return weights / total if total > 0 else np.full(len(weights), 1.0 / len(weights))


class _Design:
    """The cohorts of a :class:`Matrix`: which rows are treated when, and their weights."""

    def __init__(self, matrix: Matrix) -> None:
        self.y = matrix.y
        self.donors = np.flatnonzero(matrix.adoption < 0)
        self.cohorts = matrix.cohorts
        self.members = [np.flatnonzero(matrix.adoption == a) for a in self.cohorts]
        self.shares = self.cohort_shares(self.members)

    def cohort_shares(self, members: list[np.ndarray]) -> np.ndarray:
        """Each cohort's share of the treated unit-periods ``N1_c T1_c`` (recomputed when a
        jackknife replication leaves one of its units out)."""
        n_periods = self.y.shape[1]
        cells = np.array(
            [len(m) * (n_periods - a) for m, a in zip(members, self.cohorts, strict=True)]
        )
        return np.asarray(cells / cells.sum())

    def fit(
        self, donors: np.ndarray, members: list[np.ndarray], tunings: list[_Tuning] | None = None,
        starts: list[_Start] | None = None, refit: bool = True,
    ) -> tuple[float, list[_Fit], list[_Tuning]]:  # fmt: skip
        """Every cohort's fit on ``donors`` and its ``members``, and their average."""
        fits, used = [], []
        for c, (a, rows) in enumerate(zip(self.cohorts, members, strict=True)):
            y = self.y[np.concatenate([donors, rows])]
            tuning = _tuning(y, len(donors), a) if tunings is None else tunings[c]
            omega, lam = (None, None) if starts is None else starts[c]
            fits.append(_fit(y, len(donors), a, tuning, omega=omega, lam=lam, refit=refit))
            used.append(tuning)
        shares = self.shares if members is self.members else self.cohort_shares(members)
        return float(shares @ [f.estimate for f in fits]), fits, used


def _require_variance(design: _Design, variance: str) -> None:
    """Refuse, before any fitting, a variance estimator the design cannot support."""
    n0, n1 = len(design.donors), sum(len(m) for m in design.members)
    if variance == "placebo" and n0 <= n1:
        raise DesignError(
            f"placebo variance needs more never-treated units than treated ones ({n0} "
            f"donors, {n1} treated): use variance='jackknife' (two or more treated units "
            "per cohort)"
        )
    if variance == "jackknife" and any(len(m) < 2 for m in design.members):
        raise DesignError(
            "jackknife variance needs at least 2 treated units in every cohort: with one, "
            "leaving it out leaves nothing to estimate; use variance='placebo'"
        )


def _placebo(design: _Design, fits: list[_Fit], tunings: list[_Tuning], replications: int,
             rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Algorithm 4: ``replications`` x (overall, cohorts) estimates with pseudo-treated donors."""
    sizes = [len(m) for m in design.members]
    n_pseudo = sum(sizes)
    n0 = len(design.donors)
    # the draws are made here, in order, so the threads below cannot change them
    orders = [rng.permutation(n0) for _ in range(replications)]

    def replicate(order: np.ndarray) -> list[float]:
        controls = design.donors[order[: n0 - n_pseudo]]
        blocks = np.split(design.donors[order[n0 - n_pseudo :]], np.cumsum(sizes)[:-1])
        index = order[: n0 - n_pseudo]
        starts = [(_normalised(f.omega[index]), f.lam) for f in fits]
        overall, placebo_fits, _ = design.fit(controls, blocks, tunings, starts)
        return [overall, *(f.estimate for f in placebo_fits)]

    # the Frank-Wolfe loops release the GIL, so replications run in parallel threads
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        return np.array(list(pool.map(replicate, orders)))


def _jackknife(design: _Design, fits: list[_Fit]) -> np.ndarray:
    """Algorithm 3: leave each unit out, weights fixed (donor weights renormalised)."""
    if any(np.count_nonzero(f.omega) < 2 for f in fits):
        raise DesignError(
            "jackknife variance is undefined when one donor carries all the weight; use "
            "variance='placebo'"
        )
    units = np.concatenate([design.donors, *design.members])
    out = np.empty((len(units), 1 + len(fits)))
    for i, left in enumerate(units):
        keep = design.donors != left
        starts = [(f.omega[keep] / f.omega[keep].sum(), f.lam) for f in fits]
        members = [m[m != left] for m in design.members]
        overall, jk, _ = design.fit(design.donors[keep], members, starts=starts, refit=False)
        out[i] = [overall, *(f.estimate for f in jk)]
    return out


def synthetic_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    variance: str = "placebo",
    replications: int = 200,
    seed: int | None = None,
    alpha: float = 0.05,
) -> SyntheticResult:
    """Synthetic DiD of the units whose ``treatment`` switches on, against the never treated.

    ``data``: a balanced panel, one row per ``unit`` and ``time``; ``treatment`` the 0/1
    indicator, 1 from a unit's first policy period on (as in :func:`evaluatie.twfe`).
    Several treated units share a cohort when they start together; with several cohorts
    each is estimated on its own and averaged by treated unit-periods (module docstring).
    ``variance``: ``"placebo"`` (default; ``replications`` draws, seeded) or
    ``"jackknife"``. The table has one row per cohort (its first treated period) and
    ``overall`` the average; ``weights``/``time_weights`` the unit and period weights.
    """
    call = call_record("synthetic_did", {k: v for k, v in locals().items() if k != "data"})
    alpha = require_alpha(alpha)
    if variance not in VARIANCES:
        raise ParameterError(f"variance must be one of {VARIANCES}, got {variance!r}")
    if variance == "placebo" and (not isinstance(replications, int) or replications < 2):
        raise ParameterError(f"replications must be an integer >= 2, got {replications!r}")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise ParameterError(f"seed must be a non-negative integer or None, got {seed!r}")
    matrix = outcome_matrix(data, outcome=outcome, unit=unit, time=time, treatment=treatment)
    if min(matrix.cohorts) < 2:
        raise DesignError(
            "synthetic DiD needs at least 2 periods before the first treated period "
            f"(the noise level is the spread of the donors' changes); the first {time} "
            f"treated is {matrix.periods[min(matrix.cohorts)]!r}"
        )
    design = _Design(matrix)
    _require_variance(design, variance)
    estimate, fits, tunings = design.fit(design.donors, design.members)
    if variance == "placebo":
        rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
        draws = _placebo(design, fits, tunings, replications, rng)
        se = draws.std(axis=0)  # sqrt((R - 1) / R) x sample SD, as Algorithm 4
        procedure, se_text = "placebo", "placebo SD (Arkhangelsky et al. 2021, Algorithm 4)"
    else:
        draws = _jackknife(design, fits)
        n = len(draws)
        se = np.sqrt((n - 1) / n * ((draws - draws.mean(axis=0)) ** 2).sum(axis=0))
        procedure, se_text = "jackknife", "fixed-weights jackknife (Algorithm 3)"
    cohorts = pd.Index([matrix.periods[a] for a in design.cohorts], name="cohort")
    values = np.array([estimate, *(f.estimate for f in fits)])
    everything = inference_table(values, se, pd.Index(["overall", *cohorts]), alpha=alpha)
    table = everything.iloc[1:].set_axis(cohorts).drop(columns="t")
    table["n_treated"] = [len(m) for m in design.members]
    table["n_post"] = [matrix.y.shape[1] - a for a in design.cohorts]
    table["weight"] = design.shares
    donors = pd.Index(matrix.units[design.donors], name=unit)
    weights = pd.DataFrame({c: f.omega for c, f in zip(cohorts, fits, strict=True)}, index=donors)
    time_weights = pd.concat(
        {c: pd.Series(f.lam, index=matrix.periods[:a]) for c, f, a in
         zip(cohorts, fits, design.cohorts, strict=True)}, axis=1,
    )  # fmt: skip
    time_weights.index.name = time
    meta: dict[str, Any] = {
        "call": call,
        "inference": Inference(
            procedure=procedure,
            se=se_text,
            distribution="normal",
            draws=len(draws),
            note="Placebo draws assume the treated units' errors are like the donors'."
            if procedure == "placebo"
            else "",
        ),
        "n_obs": int(matrix.y.size),
        "n_units": len(matrix.units),
        "n_donors": len(design.donors),
        "n_treated": int(sum(len(m) for m in design.members)),
        "n_periods": len(matrix.periods),
        "alpha": alpha,
        "zeta_omega": [t.zeta_omega for t in tunings],
        "zeta_lambda": [t.zeta_lambda for t in tunings],
    }
    return SyntheticResult(
        table=table,
        method="synthetic DiD (Arkhangelsky et al. 2021)",
        overall=Overall.from_row(everything.iloc[0], label="ATT"),
        meta=meta,
        weights=weights,
        time_weights=time_weights,
        paths=_paths(matrix, design, fits, cohorts),
    )


def _paths(matrix: Matrix, design: _Design, fits: list[_Fit], cohorts: pd.Index) -> pd.DataFrame:
    """Per cohort: the treated mean and the weighted donors, shifted so that they agree on
    the time-weighted pre-period average (the parallel shift SDID allows)."""
    frames = {}
    for c, f, a, rows in zip(cohorts, fits, design.cohorts, design.members, strict=True):
        treated = matrix.y[rows].mean(axis=0)
        synthetic = f.omega @ matrix.y[design.donors]
        shift = (treated[:a] - synthetic[:a]) @ f.lam
        frames[c] = pd.DataFrame(
            {"treated": treated, "synthetic": synthetic + shift}, index=matrix.periods
        )
    if len(frames) == 1:
        return next(iter(frames.values()))
    return pd.concat(frames, axis=1)
