"""Two-way fixed-effects (TWFE) regression of an outcome on a treatment.

Model (e.g. Angrist & Pischke 2009, ch. 5; Wooldridge 2010, sec. 10.5):

    y_it = beta * D_it + gamma' X_it + alpha_i + lambda_t + u_it,

with unit effects ``alpha_i`` and period effects ``lambda_t`` absorbed by the within
transformation (:mod:`evaluatie.engine.within`). Data may hold several rows per
unit-period (pupils within a school-year): the fixed effects are still those of the
unit and of the period.

Estimand and assumptions: ``beta`` is the ATT under parallel trends and no
anticipation *if* the effect is homogeneous across cohorts and over time; with
staggered adoption and heterogeneous effects it is a variance-weighted average that
can put negative weights on some effects (Goodman-Bacon 2021; de Chaisemartin &
D'Haultfoeuille 2020) -- use :func:`evaluatie.estimators.event.study.event_study` or
heterogeneity-robust estimators then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluatie.core.checks import numeric_values, require_alpha, require_columns, require_frame
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Overall, RegressionResult, call_record, inference_table
from evaluatie.engine.ols import AbsorbedFit, resolve_backend
from evaluatie.estimators.resample import default_cluster, finish
from evaluatie.estimators.sample import (
    PanelSample,
    build_sample,
    check_cluster_argument,
    fit_panel,
    sample_meta,
)
from evaluatie.inference.randomization import Randomization
from evaluatie.inference.vcov import get_convention
from evaluatie.inference.wild import WildBootstrap


def _as_list(columns: Sequence[str] | str | None) -> list[str]:
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def twfe(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    unit: str,
    time: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    weights: str | None = None,
    vcov: str = "CRV1",
    alpha: float = 0.05,
    backend: str = "auto",
    drop_singletons: bool = True,
    inference: str | WildBootstrap | Randomization = "auto",
) -> RegressionResult:
    """Two-way fixed-effects regression of ``outcome`` on ``treatment`` (+ ``covariates``).

    Fits ``y_it = beta D_it + gamma' X_it + alpha_i + lambda_t + u_it`` by least squares
    with the unit and period effects absorbed (Frisch-Waugh-Lovell). ``beta`` is the ATT
    under parallel trends and no anticipation only if effects are homogeneous; with
    staggered adoption it is a weighted average that may weight some effects negatively
    (Goodman-Bacon 2021) -- see the module docstring.

    Parameters
    ----------
    data
        Long data, one row per observation; several rows per unit-period are allowed.
    outcome, treatment, covariates
        Numeric columns (booleans allowed). Rows with a missing value in any of them, in
        ``weights``, ``unit``, ``time`` or ``cluster`` are dropped (``meta["dropped_missing"]``,
        per column in ``meta["missing_by_column"]``).
    unit, time
        Identifier columns of the two absorbed fixed effects (any hashable values).
    cluster
        Cluster column for clustered conventions. ``None``: the level at which the
        treatment was assigned, detected from the data (the coarsest label column within
        which the treatment is the same in every period, e.g. ``gemeente_code`` for a
        gemeente policy), else ``unit``; ``meta["cluster_choice"]`` says which and why.
    weights
        Analytic (regression) weights, strictly positive: weighted least squares as
        pyfixest's ``weights=`` / linearmodels' ``weights=``.
    vcov
        Standard-error convention (formulas in :mod:`evaluatie.inference.vcov`):

        * ``"CRV1"`` (default, = fixest/pyfixest ``vcov={"CRV1": cluster}``):
          ``V = G/(G-1) * (N-1)/(N-K) * B (sum_g S_g S_g') B`` with
          ``B = (X~'WX~)^-1``, ``S_g = sum_{i in g} w_i x~_i u_i`` and
          ``K = k + 1 + sum of (levels - 1) over the fixed effects *not* nested in the
          clusters`` (K counts everything when none is nested); t with ``G - 1`` df.
        * ``"linearmodels"`` (= ``PanelOLS(..., entity_effects=True, time_effects=True)
          .fit(cov_type="clustered", clusters=...)``): ``V = N/(N-K_full) * B M B``,
          ``K_full = k + n_units + n_periods - 1``, no ``G/(G-1)``; t with ``N - K_full`` df.
        * ``"linearmodels-absorbing"`` (= ``AbsorbingLS(...).fit(cov_type="clustered",
          debiased=True)``): ``G/(G-1) * (N-1)/(N-K_full)``; t with ``N - K_full`` df.
        * ``"HC1"``: ``N/(N-K_full) * B (sum_i s_i s_i') B``; ``"iid"``:
          ``sum_i w_i u_i^2 / (N-K_full) * B``; both t with ``N - K_full`` df.
        * ``"CR2"``: Bell & McCaffrey's bias-reduced cluster-robust covariance, each
          slope tested against t with its own Bell-McCaffrey (Satterthwaite) df
          (Pustejovsky & Tipton 2018; ``meta["df_bell_mccaffrey"]``); unweighted, the
          units nested in the clusters. It is the honest *analytic* choice with
          few treated clusters: on placebo policies in the real VO panel it rejected
          5.9%, 6.8%, 7.6% and 3.0% with 84, 40, 12 and 3 treated gemeenten where
          CRV1 rejected 7.3%, 9.4%, 15.9% and 35.2%
          (:mod:`evaluatie.inference.choice`). With one treated cluster it does not
          exist (left empty, with a warning).
    alpha
        Confidence intervals have level ``1 - alpha``.
    backend
        ``"auto"`` and ``"numpy"``: our alternating projections on unit-period cell
        sums (always used by ``"auto"``). ``"linearmodels"``: within transformation by
        ``linearmodels.AbsorbingLS`` (slow; for cross-checks). The convention is the
        same either way.
    drop_singletons
        Drop rows alone in their unit or period, repeatedly (default, as fixest's and
        pyfixest's ``fixef_rm="singleton"``); counted in ``meta["dropped_singletons"]``.
    inference
        Where the p-values and intervals come from: ``"auto"`` (default: chosen from the
        number of treated and untreated clusters, :mod:`evaluatie.inference.choice`),
        ``"analytic"`` (the ``vcov`` convention), ``"wild"`` (wild cluster bootstrap,
        restricted, intervals by test inversion) or ``"randomization"`` (the treatment
        re-assigned among clusters, or units, keeping the design), or a
        :class:`~evaluatie.inference.WildBootstrap` / :class:`~evaluatie.inference.Randomization`
        with settings. ``se`` and ``t`` stay the analytic ones; ``p``, ``ci_low``,
        ``ci_high`` and ``overall`` are those of the inference used, which
        ``meta["inference"]`` names with the reason. Covariates keep analytic inference
        under randomization (they are not re-assigned).

    Returns
    -------
    RegressionResult
        ``table`` indexed by term (treatment first), ``overall`` the treatment's row,
        ``vcov`` and ``meta`` with sample sizes, ``df``, the convention
        (``meta["inference"]``), dropped rows and the call (``meta["call"]``).
    """
    covs = _as_list(covariates)
    arguments = {
        "outcome": outcome,
        "treatment": treatment,
        "unit": unit,
        "time": time,
        "covariates": covs,
        "cluster": cluster,
        "weights": weights,
        "vcov": vcov,
        "alpha": alpha,
        "backend": backend,
        "drop_singletons": drop_singletons,
    }
    call = call_record("twfe", {**arguments, "inference": inference})
    prepared = prepare_regression(
        data,
        outcome=outcome,
        treatments=[treatment],
        covariates=covs,
        unit=unit,
        time=time,
        cluster=cluster,
        weights=weights,
        vcov=vcov,
        alpha=alpha,
        backend=backend,
        drop_singletons=drop_singletons,
    )
    return panel_regression(prepared, inference=inference, call=call)


def panel_regression(
    prepared: Prepared,
    *,
    inference: object = "auto",
    call: dict[str, object],
    method: str = "twfe",
    joint: list[str] | None = None,
) -> RegressionResult:
    """The regression behind :func:`twfe`, from :func:`prepare_regression`, with the
    chosen inference for its treatment regressors (re-assigned by randomization
    inference; covariates are held fixed). ``overall`` is the treatment's row when there
    is one treatment, else ``None``. ``joint``: terms whose joint null is tested with
    the same inference (``meta["joint_p"]``).
    """
    sample, fit, terms = prepared.sample, prepared.fit, prepared.terms
    alpha, cluster_column = prepared.alpha, prepared.cluster_column
    n_treatments = len(terms) - len(prepared.covariates)
    index = pd.Index(terms, name="term")
    se = np.sqrt(np.diag(fit.vcov.matrix))
    table = inference_table(fit.coef, se, index, df=fit.vcov.t_df, alpha=alpha)
    done = finish(
        table,
        sample,
        fit,
        inference=inference,
        terms=n_treatments,
        rows=list(range(len(terms))),
        alpha=alpha,
        cluster_column=cluster_column,
        cluster_reason=prepared.cluster_reason,
        joint=[terms.index(t) for t in joint] if joint else None,
    )
    meta = {
        "formula": (
            f"{prepared.outcome} ~ {' + '.join(terms)} | {prepared.unit} + {prepared.time}"
        ),
        "joint_p": done.pretrend_p,
        "cluster": cluster_column,
        "weights": prepared.weights,
        **sample_meta(sample, fit, cluster_column),
        **done.meta(),
        "call": call,
    }
    first = terms[0]
    return RegressionResult(
        table=done.table,
        method=method,
        meta=meta,
        overall=(
            Overall.from_row(done.table.loc[first], label=f"effect of {first}")
            if n_treatments == 1
            else None
        ),
        vcov=pd.DataFrame(fit.vcov.matrix, index=index, columns=index),
    )


@dataclass(frozen=True)
class Prepared:
    """A validated panel regression, fitted with analytic inference: what
    :func:`panel_regression` and :func:`evaluatie.estimators.power.mde` build on.
    ``terms``: the treatment regressors, then the ``covariates``."""

    sample: PanelSample
    fit: AbsorbedFit
    terms: list[str]
    covariates: list[str]
    alpha: float
    cluster_column: str | None
    cluster_reason: str
    outcome: str
    unit: str
    time: str
    weights: str | None


def prepare_regression(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatments: list[str],
    covariates: list[str],
    unit: str,
    time: str,
    cluster: str | None,
    weights: str | None,
    vcov: str,
    alpha: float,
    backend: str = "auto",
    drop_singletons: bool = True,
    assignment: np.ndarray | None = None,
) -> Prepared:
    """Check the arguments, choose the default cluster, build the sample and fit it.

    ``treatments`` are what randomization inference re-assigns; ``assignment`` (one
    value per row, default the first treatment) is what the default cluster must keep
    constant, e.g. the dose behind dose x period regressors.
    """
    data = require_frame(data)
    convention = get_convention(vcov)
    backend_used = resolve_backend(backend)
    alpha = require_alpha(alpha)
    require_columns(
        data,
        {
            "outcome": outcome,
            "treatment": treatments,
            "unit": unit,
            "time": time,
            "covariates": covariates,
            "cluster": cluster,
            "weights": weights,
        },
    )
    check_cluster_argument(convention, cluster)
    terms = [*treatments, *covariates]
    if len(set(terms)) != len(terms) or outcome in terms:
        raise ParameterError(
            f"outcome, treatment and covariates must be distinct columns, got "
            f"outcome={outcome!r}, treatment={treatments[0] if len(treatments) == 1 else treatments!r}, "
            f"covariates={covariates!r}"
        )
    regressors = {t: numeric_values(data, t, "treatment") for t in treatments}
    for c in covariates:
        regressors[c] = numeric_values(data, c, "covariate")
    cluster_reason = ""
    if convention.clustered:
        cluster, cluster_reason = default_cluster(
            data,
            cluster,
            unit=unit,
            time=time,
            values=regressors[treatments[0]] if assignment is None else assignment,
            exclude={outcome, *terms, *([weights] if weights else [])},
        )
    sample = build_sample(
        data,
        outcome=outcome,
        regressors=regressors,
        unit=unit,
        time=time,
        cluster=cluster,
        weights=weights,
        drop_singletons=drop_singletons,
    )
    d = sample.x[:, 0]
    if len(treatments) == 1 and np.all(d == d[0]):
        raise DesignError(
            f"treatment column {treatments[0]!r} is constant ({d[0]:g}) in the estimation "
            f"sample of {sample.n_obs} rows: there is no treatment variation"
        )
    fit = fit_panel(sample, convention, backend_used)
    cluster_column = (cluster or unit) if convention.clustered else None
    return Prepared(
        sample,
        fit,
        terms,
        covariates,
        alpha,
        cluster_column,
        cluster_reason,
        outcome,
        unit,
        time,
        weights,
    )
