"""Honest p-values and intervals for the panel regressions: the bootstrap and randomization.

``twfe``, ``event_study(estimator="twfe")`` and ``dose_event_study`` fit a regression
with unit and period effects; this module gives the rows of its table the p-values and
intervals of the inference chosen by :func:`evaluatie.inference.choice.choose`:

* the **wild cluster bootstrap** (:mod:`evaluatie.inference.wild`) on the regression with
  the unit effects partialled out and the period effects as explicit dummies, which is
  exact because every unit lies in one cluster (checked);
* **randomization inference** (:mod:`evaluatie.inference.randomization`): the treatment
  regressors are paths over periods per *assignment unit* (the cluster when the
  treatment is the same for all its units in every period, else the unit), re-assigned
  among the assignment units with the design kept.

Both reproduce the analytic fit for the observed data exactly (tested), so they differ
only in the reference distribution of the statistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError
from evaluatie.core.results import Inference
from evaluatie.engine.ols import AbsorbedFit
from evaluatie.engine.within import (
    FixedEffects,
    compact_codes,
    dummies,
    factorize,
    is_nested,
    row_chunks,
)
from evaluatie.estimators.sample import PanelSample
from evaluatie.inference.choice import Choice
from evaluatie.inference.inversion import linear_test
from evaluatie.inference.randomization import (
    PathDesign,
    Randomization,
    assignments,
    permutation_p,
)
from evaluatie.inference.wild import (
    ClusterMoments,
    WildBootstrap,
    draw_weights,
    wild_t_tests,
    wild_wald_test,
)

#: Dtype kinds of columns that can name groups of units (not measurements).
_GROUP_KINDS = "iubOSUT"


def assignment_column(
    data: pd.DataFrame, *, unit: str, time: str, values: np.ndarray, exclude: set[str]
) -> str | None:
    """The coarsest grouping of units within which the treatment is the same.

    Candidates are the columns of ``data`` (other than ``exclude``) that hold labels
    (strings, categories, integers: not measurements), are constant within every unit,
    and have between 2 levels and fewer levels than there are units; a numeric column
    whose nonzero values all lie within the range of ``time`` is a date (a cohort, a
    first-grant year), not a grouping, and is skipped. Of those on which
    ``values`` (the treatment, one row per row of ``data``) is constant within every
    group and period, the one with the fewest levels is the level at which treatment
    was assigned; ``None`` if there is none (treatment assigned to units).
    """
    unit_codes, n_units = factorize(data[unit])
    time_codes, n_periods = factorize(data[time])
    ok = (unit_codes >= 0) & (time_codes >= 0) & np.isfinite(values)
    times = pd.to_numeric(data[time], errors="coerce")
    t_lo, t_hi = times.min(), times.max()
    best: tuple[int, str] | None = None
    for name in data.columns:
        if name in exclude or name in (unit, time) or not isinstance(name, str):
            continue
        series = data[name]
        kind = getattr(series.dtype, "kind", "O")
        if kind not in _GROUP_KINDS and not isinstance(series.dtype, pd.CategoricalDtype):
            continue
        codes, n_levels = factorize(series)
        if not 2 <= n_levels < n_units or (codes[ok] < 0).any():
            continue
        if kind in "iu" and pd.notna(t_lo):
            dates = series[series != 0]
            if len(dates) and dates.min() >= t_lo and dates.max() <= t_hi:
                continue
        if not is_nested(unit_codes[ok], n_units, codes[ok]):
            continue
        coarser = best is None or n_levels < best[0]
        if coarser and _constant_within(codes[ok] * n_periods + time_codes[ok], values[ok]):
            best = (n_levels, name)
    return None if best is None else best[1]


def _constant_within(groups: np.ndarray, values: np.ndarray) -> bool:
    size = int(groups.max()) + 1
    lo = np.full(size, np.inf)
    hi = np.full(size, -np.inf)
    np.minimum.at(lo, groups, values)
    np.maximum.at(hi, groups, values)
    used = np.isfinite(lo)
    return bool(np.all(hi[used] - lo[used] <= 1e-12 * np.maximum(1.0, np.abs(hi[used]))))


@dataclass
class PanelDesign:
    """A fitted panel regression prepared for the bootstrap and randomization.

    ``terms``: how many leading columns of ``sample.x`` are treatment regressors (the
    rest are covariates, held fixed under randomization). ``cluster`` codes of the rows.
    """

    sample: PanelSample
    cluster: np.ndarray
    n_clusters: int
    terms: int
    factor: float

    @classmethod
    def of(cls, sample: PanelSample, fit: AbsorbedFit, terms: int) -> PanelDesign:
        if sample.cluster is None:
            cluster, n_clusters = sample.unit, sample.n_units
        else:
            cluster, n_clusters = sample.cluster, int(sample.n_clusters or 0)
        return cls(sample, cluster, n_clusters, terms, fit.vcov.factor)

    def subset(self, keep: np.ndarray, factor: float) -> PanelDesign:
        """The design on the rows ``keep`` (a mask) with units and clusters renumbered,
        and the small-sample ``factor`` of its own size.

        Meant for dropping whole units (e.g. the treated ones); every period must keep
        rows, since the paths are indexed by period.
        """
        s = self.sample
        time = s.time[keep]
        if np.unique(time).size < s.n_periods:
            raise DesignError(
                "without the treated units some period has no rows left: the comparison "
                "units alone do not cover the panel's periods"
            )
        unit, n_units = compact_codes(s.unit[keep], s.n_units)
        cluster, n_clusters = compact_codes(self.cluster[keep], self.n_clusters)
        sample = replace(
            s,
            y=s.y[keep],
            x=s.x[keep],
            unit=unit,
            n_units=n_units,
            time=time,
            cluster=None if s.cluster is None else cluster,
            n_clusters=None if s.cluster is None else n_clusters,
            weights=None if s.weights is None else s.weights[keep],
            rows=None,
        )
        return PanelDesign(sample, cluster, n_clusters, self.terms, factor)

    def require_nested(self) -> None:
        """Resampling keeps the regression exact only when units lie within clusters."""
        if not is_nested(self.sample.unit, self.sample.n_units, self.cluster):
            raise DesignError(
                "the bootstrap and randomization inference need every unit inside one "
                "cluster, but some units change cluster (e.g. a school whose gemeente "
                "merged): cluster on a column that is constant within each unit, or "
                "pass inference='analytic'"
            )

    def _partial(self, columns: np.ndarray) -> np.ndarray:
        s = self.sample
        fe = FixedEffects([s.unit], [s.n_units], s.weights)
        return np.asarray(fe.demean(columns).values, dtype=float)

    def _period_dummies(self) -> np.ndarray:
        return dummies(self.sample.time, self.sample.n_periods)

    def treated_clusters(self) -> int:
        """Clusters in which some treatment regressor changes over time."""
        # a cluster whose units are treated throughout is absorbed by the unit effects;
        # within-unit change is what identifies, so count clusters with a unit whose
        # treatment differs from one of its own rows (a unit that changes makes its
        # cluster change too). Plain gathers: np.minimum.at per column took a third of an
        # analytic twfe on 1.7M rows. In chunks of rows: row-length temporaries here
        # topped the peak memory of a whole twfe.
        x = self.sample.x[:, : self.terms]
        unit = self.sample.unit
        unit_change = np.zeros(self.sample.n_units, dtype=bool)
        for j in range(x.shape[1]):
            some = np.empty(self.sample.n_units)
            some[unit] = x[:, j]  # one row's value per unit
            for rows in row_chunks(unit.size):
                unit_change[unit[rows][x[rows, j] != some[unit[rows]]]] = True
        by_cluster = np.zeros(self.n_clusters, dtype=bool)
        for rows in row_chunks(unit.size):
            by_cluster[self.cluster[rows][unit_change[unit[rows]]]] = True
        return int(by_cluster.sum())

    def moments(self, *, by_unit: bool = False) -> ClusterMoments:
        """Cluster cross products of the regression with the unit effects partialled out
        (``by_unit``: per unit, for the subcluster bootstrap)."""
        s = self.sample
        x = self._partial(np.column_stack([s.x, self._period_dummies()]))
        y = self._partial(s.y)
        return ClusterMoments.from_arrays(
            x,
            y,
            self.cluster,
            self.n_clusters,
            weights=s.weights,
            factor=self.factor,
            fine=(s.unit, s.n_units) if by_unit else None,
        )

    def assignment_units(self) -> tuple[np.ndarray, int]:
        """Row codes of the units the treatment was assigned to, and their number: the
        clusters when the treatment is the same for all units of a cluster in every
        period, else the units."""
        s = self.sample
        x = s.x[:, : self.terms]
        cell_c = self.cluster * s.n_periods + s.time
        if all(_constant_within(cell_c, x[:, j]) for j in range(x.shape[1])):
            return self.cluster, self.n_clusters
        cell_u = s.unit * s.n_periods + s.time
        if not all(_constant_within(cell_u, x[:, j]) for j in range(x.shape[1])):
            raise DesignError(
                "the treatment varies within a unit and period (several rows per "
                "unit-period with different treatment): there is no assignment of "
                "units to re-draw for randomization inference"
            )
        return s.unit, s.n_units

    def path_design(self, assign: np.ndarray, n_assign: int) -> PathDesign:
        """The per-assignment-unit sums of randomization inference (period effects as
        dummies and the covariates held fixed)."""
        s = self.sample
        fixed = np.column_stack([self._period_dummies(), s.x[:, self.terms :]])
        return PathDesign.build(
            self._partial(s.y),
            self._partial(fixed),
            unit=s.unit,
            period=s.time,
            n_periods=s.n_periods,
            assign=assign,
            n_assign=n_assign,
            cluster=self.cluster,
            n_clusters=self.n_clusters,
            weights=s.weights,
            factor=self.factor,
        )

    def observed_paths(self, assign: np.ndarray, n_assign: int) -> np.ndarray:
        """Each assignment unit's treatment regressors by period (A x P x k)."""
        s = self.sample
        return _observed_paths(s.x[:, : self.terms], assign, n_assign, s.time, s.n_periods)

    def paths(self) -> tuple[PathDesign, np.ndarray, np.ndarray, int]:
        """The randomization design: ``(design, observed paths (A x P x k), labels,
        number of assignment units that are clusters or units)``."""
        assign, n_assign = self.assignment_units()
        design = self.path_design(assign, n_assign)
        observed = self.observed_paths(assign, n_assign)
        _, labels = np.unique(observed.reshape(n_assign, -1), axis=0, return_inverse=True)
        return design, observed, labels.reshape(-1), n_assign


def _observed_paths(
    x: np.ndarray, assign: np.ndarray, n_assign: int, period: np.ndarray, n_periods: int
) -> np.ndarray:
    """Each assignment unit's regressors by period; a period without rows takes the
    nearest earlier value, else the nearest later one (the path is then defined
    wherever another unit that receives it has rows)."""
    k = x.shape[1]
    out = np.full((n_assign, n_periods, k), np.nan)
    out[assign, period, :] = x
    for j in range(k):
        frame = pd.DataFrame(out[:, :, j])
        out[:, :, j] = frame.ffill(axis=1).bfill(axis=1).fillna(0.0).to_numpy()
    return out


@dataclass(frozen=True)
class Resampled:
    """The p-values and intervals a resampling method gives the rows of a table."""

    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    inference: Inference
    pretrend: float | None = None


def resample(
    design: PanelDesign,
    choice: Choice,
    *,
    alpha: float,
    rows: list[int],
    cluster_name: str,
    joint: list[int] | None = None,
) -> Resampled | None:
    """Apply ``choice`` to the regressors ``rows``; ``None`` for analytic inference.

    ``joint``: regressors whose joint null (all zero) is tested too (the pre-trends).
    """
    method = choice.method
    if isinstance(method, (WildBootstrap, Randomization)):
        design.require_nested()
    if isinstance(method, WildBootstrap):
        return _wild(design, method, choice, alpha, rows, cluster_name, joint)
    if isinstance(method, Randomization):
        # covariates are not re-assigned: their rows keep the analytic inference
        treatment_rows = [r for r in rows if r < design.terms]
        return _randomization(design, method, choice, alpha, treatment_rows, cluster_name, joint)
    return None


def _wild(
    design: PanelDesign,
    method: WildBootstrap,
    choice: Choice,
    alpha: float,
    rows: list[int],
    cluster_name: str,
    joint: list[int] | None,
) -> Resampled:
    m = design.moments(by_unit=method.bootcluster == "unit")
    v, enumerated = draw_weights(m.n_groups, method)
    tests = wild_t_tests(
        m, rows, v, restricted=method.restricted, enumerated=enumerated, alpha=alpha
    )
    pre = None
    if joint:
        pre = wild_wald_test(m, joint, v, restricted=method.restricted, enumerated=enumerated).p
    draws = int(v.shape[1])
    note = choice.reason + "."
    if enumerated:
        note += (
            f" All {draws} sign patterns enumerated: exact p-values (resolution {1 / draws:.2g})."
        )
    return Resampled(
        p=np.array([t.p for t in tests]),
        ci_low=np.array([t.ci[0] for t in tests]),
        ci_high=np.array([t.ci[1] for t in tests]),
        inference=Inference(
            procedure="wild cluster bootstrap",
            se=f"{method.name}, {method.weights} weights; intervals by test inversion",
            distribution="bootstrap",
            cluster=cluster_name,
            n_clusters=design.n_clusters,
            draws=draws,
            note=note,
        ),
        pretrend=pre,
    )


def _randomization(
    design: PanelDesign,
    method: Randomization,
    choice: Choice,
    alpha: float,
    rows: list[int],
    cluster_name: str,
    joint: list[int] | None,
) -> Resampled:
    paths_design, observed, labels, n_assign = design.paths()
    plans, enumerated = assignments(labels, method)
    unique_paths = np.stack(
        [observed[np.flatnonzero(labels == lab)[0]] for lab in range(labels.max() + 1)]
    )
    with_ci = len(rows) == 1 and design.terms == 1
    outcomes = [(paths_design.q, paths_design.e)]
    if with_ci:  # the outcome y - r x, for the interval: linear in r
        outcomes.append(paths_design.outcome_of(observed, 0))
    n = len(plans)
    stats = np.empty((len(rows), n))
    pre_stats = np.empty(n)
    lin = {name: np.empty(n) for name in ("n0", "n1", "d00", "d01", "d11")}
    k = observed.shape[2]
    block = max(1, 400_000 // max(1, design.n_clusters * k * k))
    pieces = paths_design.label_pieces(unique_paths)
    products = paths_design.outcome_products(outcomes, unique_paths)
    for start in range(0, n, block):
        chunk = plans[start : start + block]
        sl = slice(start, start + len(chunk))
        bread, betas, scores = paths_design.fit(chunk, unique_paths, outcomes, pieces, products)
        vcov = paths_design.crv1(bread, scores[0])
        for i, j in enumerate(rows):
            stats[i, sl] = betas[0][:, j]
            if method.statistic == "t":
                stats[i, sl] /= np.sqrt(vcov[:, j, j])
        if joint:
            b = betas[0][:, joint]
            v = vcov[:, joint][:, :, joint]
            # an assignment without an estimate (NaN) drops out of the distribution
            ok = np.isfinite(v).all(axis=(1, 2)) & np.isfinite(b).all(axis=1)
            wald = np.full(len(chunk), np.nan)
            wald[ok] = np.einsum("dq,dqr,dr->d", b[ok], np.linalg.pinv(v[ok]), b[ok])
            pre_stats[sl] = wald
        if with_ci:
            b2 = bread[:, 0, 0] ** 2 * paths_design.factor
            s0, s1 = scores[0][:, :, 0], scores[1][:, :, 0]
            lin["n0"][sl], lin["n1"][sl] = betas[0][:, 0], betas[1][:, 0]
            lin["d00"][sl] = b2 * np.einsum("dg,dg->d", s0, s0)
            lin["d01"][sl] = b2 * np.einsum("dg,dg->d", s0, s1)
            lin["d11"][sl] = b2 * np.einsum("dg,dg->d", s1, s1)
    p = np.array([permutation_p(s[0], s) for s in stats])
    pre = None
    if joint:
        finite = pre_stats[np.isfinite(pre_stats)]
        pre = float(np.mean(finite >= pre_stats[0] * (1 - 1e-12)))
    ci_low = np.full(len(rows), math.nan)
    ci_high = np.full(len(rows), math.nan)
    if with_ci:
        _, ci_low[0], ci_high[0] = linear_test(
            lin["n0"],
            lin["n1"],
            lin["d00"],
            lin["d01"],
            lin["d11"],
            statistic=method.statistic,
            alpha=alpha,
        )
    level = "clusters" if n_assign == design.n_clusters else "units"
    draws = len(plans)
    note = choice.reason + "."
    note += (
        f" All {draws} distinct assignments enumerated (exact p-values, resolution {1 / draws:.2g})."
        if enumerated
        else f" {draws} assignments: the observed one and {draws - 1} random re-assignments."
    )
    note += (
        " Valid when the assignment was random; otherwise it assumes the units are exchangeable."
    )
    if not with_ci:
        note += (
            " No intervals: the test re-assigns the whole treatment path, so it tests that "
            "there is no effect at all; an interval for one coefficient would need the "
            "others' effects, which are unknown."
        )
    return Resampled(
        p=p,
        ci_low=ci_low,
        ci_high=ci_high,
        inference=Inference(
            procedure="randomization",
            se=f"{method.statistic} statistic, treatment re-assigned among {n_assign} {level}"
            + (
                "; intervals by inverting the test of a constant effect"
                if design.terms == 1
                else ""
            ),
            distribution="permutation",
            cluster=cluster_name,
            n_clusters=design.n_clusters,
            draws=draws,
            note=note,
        ),
        pretrend=pre,
    )


def apply(table: pd.DataFrame, rows: list[int], result: Resampled) -> pd.DataFrame:
    """The table with the resampled p-values and intervals in the given rows."""
    out = table.copy()
    idx = out.index[rows]
    out.loc[idx, "p"] = result.p
    out.loc[idx, "ci_low"] = result.ci_low
    out.loc[idx, "ci_high"] = result.ci_high
    return out


def default_cluster(
    data: pd.DataFrame,
    cluster: str | None,
    *,
    unit: str,
    time: str,
    values: np.ndarray,
    exclude: set[str],
) -> tuple[str | None, str]:
    """The cluster column to use and a sentence on why.

    An explicit ``cluster`` is kept. Without one, errors are clustered at the level at
    which the treatment was assigned (Abadie, Athey, Imbens & Wooldridge 2023, QJE
    138(1)): the coarsest label column within which the treatment is the same in every
    period (:func:`assignment_column`), else the unit.
    """
    if cluster is not None:
        return cluster, f"clustered by {cluster!r} as asked"
    found = assignment_column(data, unit=unit, time=time, values=values, exclude=exclude)
    if found is None:
        return None, f"clustered by the unit {unit!r}: treatment varies between units"
    return found, (
        f"clustered by {found!r}, the level at which the treatment was assigned (it is "
        f"the same for every {unit} of a {found} in each period); pass cluster= to override"
    )


@dataclass(frozen=True)
class Finished:
    """What :func:`finish` gives an estimator: the table, its inference, and ``meta``."""

    table: pd.DataFrame
    inference: Inference
    n_treated_clusters: int | None = None
    cluster_choice: str = ""
    pretrend_p: float | None = None

    def meta(self) -> dict[str, object]:
        return {
            "inference": self.inference,
            "n_treated_clusters": self.n_treated_clusters,
            "cluster_choice": self.cluster_choice,
        }


def finish(
    table: pd.DataFrame,
    sample: PanelSample,
    fit: AbsorbedFit,
    *,
    inference: object,
    terms: int,
    rows: list[int],
    alpha: float,
    cluster_column: str | None,
    cluster_reason: str,
    joint: list[int] | None = None,
) -> Finished:
    """Choose the inference for a fitted panel regression and apply it to ``rows``.

    The table's ``se`` and ``t`` stay the analytic ones; ``p``, ``ci_low`` and
    ``ci_high`` are those of the inference used. ``joint``: regressors whose joint null
    is tested too (the pre-trends; ``pretrend_p`` when resampled).
    """
    from evaluatie.estimators.sample import regression_inference
    from evaluatie.inference.choice import choose, parse

    method = parse(inference)
    if cluster_column is None:  # not a clustered convention: analytic only
        if method not in ("auto", "analytic"):
            raise DesignError(
                "the bootstrap and randomization inference need clustered errors; use vcov='CRV1'"
            )
        return Finished(table, regression_inference(fit, None))
    design = PanelDesign.of(sample, fit, terms)
    n_treated = design.treated_clusters()
    choice = choose(
        method, n_clusters=design.n_clusters, n_treated=n_treated, unit=f"{cluster_column} clusters"
    )
    done = resample(
        design, choice, alpha=alpha, rows=rows, cluster_name=cluster_column, joint=joint
    )
    if done is None:
        base = regression_inference(fit, cluster_column)
        info = replace(base, note=choice.reason + ".")
        return Finished(table, info, n_treated, cluster_reason)
    changed = (
        rows if not isinstance(choice.method, Randomization) else [r for r in rows if r < terms]
    )
    info = done.inference
    if len(changed) < len(rows):
        info = replace(info, note=info.note + " Covariates keep analytic (CRV1) inference.")
    return Finished(apply(table, changed, done), info, n_treated, cluster_reason, done.pretrend)
