"""What could this design detect? The minimum detectable effect of a TWFE design.

``mde`` answers before any result is read: with *these* treated gemeenten (or
schools), this adoption calendar and this panel's own noise and serial correlation,
how large must an effect be for the test the report uses to find it with the asked
power? It simulates, as Burlig, Preonas & Woerman (2020, J. Development Economics 144)
recommend for panels: the treated units are set aside, the adoption calendar is given
to random sets of the remaining (untreated) units, an effect is added to their
treated rows, and the report's test -- randomization inference with the t statistic,
which :mod:`evaluatie.inference.choice` chooses for ``twfe`` under ``"auto"`` -- is run
on each draw; the MDE is the smallest effect rejected in the asked share of draws
(Bloom 1995, Evaluation Review 19(5)). Because the estimate and its standard error
are linear and quadratic in the injected effect, every effect size is tested from one
pass over the assignments (:mod:`evaluatie.inference.power`).

Assumptions: the untreated units' outcomes are what the treated units' would have
been without the policy (the design's own identifying assumption) and the effect is
constant across treated rows. The analytic (CRV1) test is simulated beside it, with
its rejection rate at zero effect: where that is far from ``alpha`` its power means
little.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Inference, Overall, Result, call_record
from evaluatie.engine.within import compact_codes
from evaluatie.estimators.resample import PanelDesign
from evaluatie.estimators.twfe import Prepared, prepare_regression
from evaluatie.inference.power import InjectedDraws, smallest_effect
from evaluatie.inference.randomization import (
    PathDesign,
    Randomization,
    assignments,
    permutations,
)
from evaluatie.inference.seeds import DEFAULT_SEED
from evaluatie.inference.vcov import small_sample_factor


def mde(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    unit: str,
    time: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    weights: str | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    draws: int = 200,
    reference: int = 999,
    n_treated: Sequence[int] = (),
    seed: int | None = None,
) -> Result:
    """Minimum detectable effect of the TWFE design in ``data`` (module docstring).

    Parameters
    ----------
    data, outcome, treatment, unit, time, covariates, cluster, weights
        As for :func:`evaluatie.twfe`; the treatment defines the design (which units
        are treated, from when) and the cluster defaults to the level it was assigned at.
    power, alpha
        Target power and the test's level.
    draws
        Placebo assignments simulated (all of them when there are fewer distinct ones).
    reference
        Re-assignments each draw's randomization p-value is computed from (the report's
        test uses 4,999; 999 changes the MDE little and is five times faster).
    n_treated
        Also the MDE with this many treated units, the calendar kept in proportion:
        power as a function of the number of treated gemeenten (or schools). Numbers
        that do not fit among the untreated units are left out, listed in
        ``meta["n_treated_left_out"]`` and in the inference note.
    seed
        Seed of the placebo draws and the reference assignments (default fixed).

    Returns
    -------
    Result
        ``table`` indexed by ``n_treated`` (the design's own row first): ``estimate``
        the MDE in outcome units (the larger of the increase and the decrease that
        reach the power), ``ci_low``/``ci_high`` the effects whose simulated power is
        within 1.96 simulation standard errors of the target (how precisely the draws
        pin it down), ``se``/``p`` NaN (not defined for an MDE), ``estimate_sd`` the MDE
        in standard deviations of the outcome, ``size`` the test's rejection rate at
        zero effect, and the same for the analytic CRV1 test (``analytic_mde``,
        ``analytic_size``; the MDE is NaN where that test rejects more than twice
        ``alpha`` at zero effect: its power means nothing then). ``overall`` is the
        design's row.
    """
    _check(power, draws, reference, n_treated, seed)
    arguments = {
        "outcome": outcome,
        "treatment": treatment,
        "unit": unit,
        "time": time,
        "covariates": list(covariates),
        "cluster": cluster,
        "weights": weights,
        "power": power,
        "alpha": alpha,
        "draws": draws,
        "reference": reference,
        "n_treated": list(n_treated),
        "seed": seed,
    }
    prepared = prepare_regression(
        data,
        outcome=outcome,
        treatments=[treatment],
        covariates=list(covariates),
        unit=unit,
        time=time,
        cluster=cluster,
        weights=weights,
        vcov="CRV1",
        alpha=alpha,
    )
    setup = _setup(prepared, unit)
    comparison, level_name = setup.comparison, setup.level_name
    n_comparison = setup.n_assign
    asked = [int(n) for n in n_treated if n != setup.n_treated]
    # the design's own size always fits (_setup checked); other sizes only below the
    # number of untreated units that the calendar is placed on
    left_out = [n for n in asked if n >= n_comparison]
    sizes = [setup.n_treated, *(n for n in asked if n < n_comparison)]
    paths_design = comparison.path_design(setup.assign, n_comparison)
    df = comparison.n_clusters - 1
    outcome_sd = float(np.std(comparison.sample.y))
    rows = []
    for i, n in enumerate(sizes):
        draws_n, _ = _inject(
            paths_design,
            _spread(setup.calendar, n),
            n_comparison,
            draws=draws,
            reference=reference,
            seed=(DEFAULT_SEED if seed is None else seed) + 7919 * i,
        )
        rows.append(_row(draws_n, n, power=power, alpha=alpha, df=df, outcome_sd=outcome_sd))
    table = pd.DataFrame(rows).set_index("n_treated")
    first = table.iloc[0]
    note = (
        f"MDE at {power:.0%} power and alpha = {alpha:g}: {int(first['draws'])} placebo "
        f"assignments of the adoption calendar to the {n_comparison} untreated "
        f"{level_name}, each tested by randomization inference (t statistic, "
        f"{int(first['reference'])} re-assignments); the interval is the simulation's "
        "uncertainty about the MDE, not a confidence interval of an effect."
    )
    if left_out:
        note += (
            f" Not simulated: {', '.join(map(str, left_out))} treated {level_name} (no more "
            f"than {n_comparison - 1} fit among the untreated)."
        )
    sentence = Inference(
        procedure="simulation",
        se="power of randomization inference under placebo assignments with an injected effect",
        distribution="",
        cluster=prepared.cluster_column,
        n_clusters=comparison.n_clusters,
        draws=int(first["draws"]),
        note=note,
    )
    meta = {
        "inference": sentence,
        "n_obs": comparison.sample.n_obs,
        "n_units": comparison.sample.n_units,
        "n_clusters": comparison.n_clusters,
        "n_periods": comparison.sample.n_periods,
        "n_treated": sizes[0],
        "assignment_level": level_name,
        "outcome_sd": outcome_sd,
        "power": power,
        "alpha": alpha,
        "dropped_treated_rows": int(prepared.sample.n_obs - comparison.sample.n_obs),
        "n_treated_left_out": left_out,
        "call": call_record("mde", arguments),
    }
    overall = Overall(
        estimate=float(first["estimate"]),
        se=math.nan,
        p=math.nan,
        ci_low=float(first["ci_low"]),
        ci_high=float(first["ci_high"]),
        label=f"minimum detectable effect, {sizes[0]} treated {level_name}",
        note="se and p are not defined for a minimum detectable effect",
    )
    return Result(
        table=table, method="minimum detectable effect (TWFE)", meta=meta, overall=overall
    )


def _check(
    power: float, draws: int, reference: int, n_treated: Sequence[int], seed: int | None
) -> None:
    if not isinstance(power, (int, float)) or not 0.0 < float(power) < 1.0:
        raise ParameterError(f"power must be a number strictly between 0 and 1, got {power!r}")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 20:
        raise ParameterError(f"draws must be an integer >= 20, got {draws!r}")
    if isinstance(reference, bool) or not isinstance(reference, int) or reference < 99:
        raise ParameterError(f"reference must be an integer >= 99, got {reference!r}")
    if isinstance(n_treated, (str, bytes)) or not isinstance(n_treated, Sequence):
        raise ParameterError(
            f"n_treated must be a list of positive integers (e.g. [3, 10]), got {n_treated!r}"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ParameterError(f"seed must be an integer or None, got {seed!r}")
    for n in n_treated:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ParameterError(f"n_treated must hold positive integers, got {n!r}")


class Setup(NamedTuple):
    """The comparison units of a design: the panel without its treated assignment
    units (``comparison``, ``assign`` their row codes, ``n_assign`` how many), and the
    treated units' paths by adoption (``calendar``)."""

    comparison: PanelDesign
    assign: np.ndarray
    n_assign: int
    calendar: np.ndarray
    n_treated: int
    level_name: str


def _setup(prepared: Prepared, unit: str) -> Setup:
    design = PanelDesign.of(prepared.sample, prepared.fit, 1)
    design.require_nested()
    assign, n_assign = design.assignment_units()
    observed = design.observed_paths(assign, n_assign)
    treated = np.any(observed != 0, axis=(1, 2))
    is_cluster = n_assign == design.n_clusters and assign is design.cluster
    level_name = str(prepared.cluster_column) if is_cluster else unit
    n_treated = int(treated.sum())
    if n_assign - n_treated <= n_treated:
        raise DesignError(
            f"{n_treated} of {n_assign} {level_name} have a treatment that is not zero "
            f"everywhere (a dose counts too), so only {n_assign - n_treated} are left to "
            "place the design on: an MDE by simulation needs more untreated than treated "
            f"{level_name}"
        )
    keep = ~treated[assign]
    codes, n_comparison = compact_codes(assign[keep], n_assign)
    v = prepared.fit.vcov
    n_clusters = int(np.unique(design.cluster[keep]).size)
    # units lie within clusters, so the fixed-effect count K is that of the full panel
    factor = small_sample_factor(v.convention, int(keep.sum()), v.k_df, n_clusters)
    return Setup(
        design.subset(keep, factor),
        codes,
        n_comparison,
        _by_adoption(observed[treated]),
        n_treated,
        level_name,
    )


def _by_adoption(paths: np.ndarray) -> np.ndarray:
    """The treated units' paths (n x P x k) ordered by their first treated period."""
    first = np.argmax(np.any(paths != 0, axis=2), axis=1)
    return paths[np.argsort(first, kind="stable")]


def _spread(calendar: np.ndarray, n: int) -> np.ndarray:
    """``n`` paths taken evenly from the (ordered) calendar: its cohorts in proportion."""
    idx = np.floor((np.arange(n) + 0.5) * calendar.shape[0] / n).astype(np.intp)
    return calendar[idx]


class Plans(NamedTuple):
    """The assignments behind :class:`InjectedDraws`: placebo draws (D x A labels),
    the reference assignments (R x A), the labels' ``paths`` (L x P x k) and whether the
    reference is every assignment (its columns then are the reference; else each
    draw's own assignment first, then the reference)."""

    draws: np.ndarray
    reference: np.ndarray
    paths: np.ndarray
    enumerated: bool


#: Reference assignments fitted together, and the entries (reference assignments x
#: clusters x draws) of the scores solved at once: on the grant report's design (343
#: gemeenten, 999 reference assignments, 200 draws) sets of 64 and chunks of 50 draws
#: took 0.8-1.1 s per treated-group size where all 999 at once, with chunks of 23
#: draws, took 1.4-2.0 s (two alternated rounds each); sets of 16 or 256 and chunks of
#: 23 or 100 fell between them.
REFERENCE_SET = 64
SCORES_PER_CHUNK = 1_100_000


def _inject(
    design: PathDesign,
    treated_paths: np.ndarray,
    n_units: int,
    *,
    draws: int,
    reference: int,
    seed: int,
) -> tuple[InjectedDraws, Plans]:
    """Placebo draws of ``treated_paths`` among ``n_units`` assignment units, each with
    its reference assignments (:class:`InjectedDraws`)."""
    n = treated_paths.shape[0]
    zero = np.zeros((1, *treated_paths.shape[1:]))
    # label 0: never treated; then one label per distinct path (a cohort)
    unique, which = np.unique(treated_paths.reshape(n, -1), axis=0, return_inverse=True)
    paths = np.concatenate([zero, unique.reshape(-1, *treated_paths.shape[1:])])
    labels = np.zeros(n_units, dtype=np.intp)
    labels[:n] = which.reshape(-1) + 1
    plans, enumerated = assignments(labels, Randomization(draws=reference, seed=seed))
    rng = np.random.default_rng(seed + 1)
    if enumerated:
        pick = np.sort(rng.choice(len(plans), size=min(draws, len(plans)), replace=False))
        draw_plans, own = plans[pick], pick
        ref = plans
    else:
        draw_plans = permutations(labels, draws, rng)
        own = np.zeros(draws, dtype=np.intp)
        ref = plans[1:]  # each draw takes the place of the arbitrary first assignment
    pieces = design.label_pieces(paths)
    # The reference assignments are the same for every draw: fitted once, and the
    # outcome itself (y) solved once; each draw then adds its treatment as an outcome.
    # They are fitted in sets (:data:`REFERENCE_SET`), so that a set's scores for a
    # chunk of draws stay small (:data:`SCORES_PER_CHUNK`).
    observed = [(design.q, design.e)]
    observed_products = design.outcome_products(observed, paths)
    sets = []
    for start in range(0, len(ref), REFERENCE_SET):
        fitted = design.assign(
            ref[start : start + REFERENCE_SET], paths, pieces, outcomes=1 + len(draw_plans)
        )
        beta_y, score_y = design.solve(fitted, observed, observed_products)
        sets.append((fitted, _Terms.of(design.factor, fitted.bread, beta_y, score_y)))
    block = max(1, SCORES_PER_CHUNK // max(1, design.n_clusters * min(len(ref), REFERENCE_SET)))
    parts: list[tuple[np.ndarray, ...]] = []
    for start in range(0, len(draw_plans), block):
        chunk = draw_plans[start : start + block]
        outcomes = [design.outcome_of(paths[plan], 0) for plan in chunk]  # x_d as outcome
        products = design.outcome_products(outcomes, paths)
        per_set = [
            terms.against(*design.solve(fitted, outcomes, products)) for fitted, terms in sets
        ]
        cols = tuple(np.concatenate(columns, axis=1) for columns in zip(*per_set, strict=True))
        if not enumerated:
            # each draw's own assignment first: y and that draw's x_d under it (the
            # diagonal of the chunk's assignments x the chunk's outcomes)
            own_fit = design.assign(chunk, paths, pieces, outcomes=1 + len(chunk))
            own_y = design.solve(own_fit, observed, observed_products)
            mine = _Terms.of(design.factor, own_fit.bread, *own_y).against(
                *design.solve(own_fit, outcomes, products)
            )
            cols = tuple(
                np.concatenate([np.diagonal(o)[:, None], c], axis=1)
                for o, c in zip(mine, cols, strict=True)
            )
        parts.append(cols)
    n0, n1, d00, d01, d11 = (np.concatenate([p[i] for p in parts]) for i in range(5))
    return InjectedDraws(n0, n1, d00, d01, d11, own), Plans(draw_plans, ref, paths, enumerated)


class _Terms(NamedTuple):
    """The outcome's estimate and CRV1 variance term per assignment of a set, for the
    statistics of :class:`InjectedDraws` (whose ``n1``, ``d01``, ``d11`` come from each
    draw's treatment used as the outcome under the same assignments)."""

    b2: np.ndarray  # the CRV1 factor times the bread's square (k = 1)
    n0: np.ndarray
    s0: np.ndarray  # the outcome's cluster scores (assignments x G)
    d00: np.ndarray

    @classmethod
    def of(cls, factor: float, bread: np.ndarray, beta: np.ndarray, scores: np.ndarray) -> _Terms:
        b2 = factor * bread[:, 0, 0] ** 2
        s0 = scores[:, :, 0, 0]
        return cls(b2, beta[:, 0, 0], s0, b2 * np.einsum("rg,rg->r", s0, s0))

    def against(self, beta_x: np.ndarray, score_x: np.ndarray) -> tuple[np.ndarray, ...]:
        """``n0, n1, d00, d01, d11`` (draws x assignments) for the draws' treatments as
        outcomes ``beta_x`` (assignments x k x draws), ``score_x`` (assignments x G x k x
        draws)."""
        s1 = score_x[:, :, 0, :]  # r g c
        n1 = beta_x[:, 0, :].T  # c r
        d01 = (self.b2[:, None] * np.einsum("rg,rgc->rc", self.s0, s1)).T
        d11 = (self.b2[:, None] * np.einsum("rgc,rgc->rc", s1, s1)).T
        shape = n1.shape
        return np.broadcast_to(self.n0, shape), n1, np.broadcast_to(self.d00, shape), d01, d11


def _row(
    draws: InjectedDraws, n: int, *, power: float, alpha: float, df: float, outcome_sd: float
) -> dict[str, float]:
    """One table row: the MDE under randomization and analytic inference."""
    scale = float(np.sqrt(np.nanmedian(draws.own(draws.d00))))
    half = 1.96 * math.sqrt(power * (1.0 - power) / draws.n_draws)
    # The searches for the MDE and its two bounds step through the same grid of effects,
    # each starting at zero (the size): each power is computed once (390 of the grant
    # report's 565 were distinct).
    known: dict[tuple[float, bool], float] = {}

    def at(delta: float, analytic: bool) -> float:
        key = (delta, analytic)
        if key not in known:
            known[key] = draws.power(delta, alpha, df=df if analytic else None)
        return known[key]

    def detect(target: float, analytic: bool) -> float:
        up = smallest_effect(lambda d: at(d, analytic), target, scale)
        down = smallest_effect(lambda d: at(-d, analytic), target, scale)
        return max(up, down)

    estimate = detect(power, analytic=False)
    size = at(0.0, analytic=False)
    analytic_size = at(0.0, analytic=True)
    return {
        "n_treated": n,
        "estimate": estimate,
        "se": math.nan,
        "p": math.nan,
        "ci_low": detect(max(power - half, 1e-9), analytic=False),
        "ci_high": detect(min(power + half, 1.0), analytic=False),
        "estimate_sd": estimate / outcome_sd if outcome_sd > 0 else math.nan,
        "size": size,
        # a test that rejects far too often without an effect has no meaningful power
        "analytic_mde": detect(power, analytic=True) if analytic_size <= 2 * alpha else math.nan,
        "analytic_size": analytic_size,
        "draws": draws.n_draws,
        "reference": draws.n0.shape[1],
    }
