"""Input validation and estimation-sample construction shared by the panel estimators.

Everything here turns a user's DataFrame and column names into clean numpy arrays
(factorized once) or raises an :mod:`evaluatie.core.errors` exception that names the
argument, the column and what was expected.

Sample rules (documented in the estimators): rows with a missing outcome, regressor,
weight, unit, period or cluster are dropped and counted; then fixed-effect singletons
(rows alone in their unit or period) are dropped repeatedly, as fixest's and pyfixest's
default ``fixef_rm="singleton"`` does (they are fitted exactly by their own fixed effect
and carry no information on the slopes, but would inflate ``N``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.core.checks import numeric_values
from evaluatie.core.errors import DataFormatError, DesignError, ParameterError
from evaluatie.core.results import Inference
from evaluatie.engine.ols import AbsorbedFit, fit_absorbed_ols
from evaluatie.engine.within import (
    FixedEffects,
    compact_codes,
    factorize,
    is_nested,
    singleton_mask,
)
from evaluatie.inference.vcov import Convention, FixedEffectCount


def key_codes(data: pd.DataFrame, column: str) -> tuple[np.ndarray, int]:
    """Factorized identifier column (unit, period, cluster); missing values get -1."""
    series = data[column]
    if isinstance(series, pd.DataFrame):
        raise DataFormatError("the column name is duplicated in data", column=column)
    return factorize(series)


@dataclass
class PanelSample:
    """The cleaned estimation sample as arrays, plus what was dropped on the way."""

    y: np.ndarray
    x: np.ndarray
    names: list[str]
    unit: np.ndarray
    n_units: int
    time: np.ndarray
    n_periods: int
    cluster: np.ndarray | None
    n_clusters: int | None
    weights: np.ndarray | None
    rows: np.ndarray | None  # positions in the input data (None: all rows, in order)
    n_input: int
    dropped_missing: int
    missing_by_column: dict[str, int] = field(default_factory=dict)
    dropped_singletons: int = 0

    @property
    def n_obs(self) -> int:
        return int(self.y.size)


def _subset(keep: np.ndarray, *arrays: np.ndarray | None) -> list[Any]:
    return [None if a is None else a[keep] for a in arrays]


def build_sample(
    data: pd.DataFrame,
    *,
    outcome: str,
    regressors: Mapping[str, np.ndarray],
    unit: str,
    time: str,
    cluster: str | None,
    weights: str | None,
    drop_singletons: bool = True,
) -> PanelSample:
    """Extract, clean and factorize the estimation sample (see module docstring)."""
    y = numeric_values(data, outcome, "outcome")
    names = list(regressors)
    columns = [np.asarray(regressors[n], dtype=np.float64) for n in names]
    x = columns[0][:, None] if len(columns) == 1 else np.column_stack(columns)
    w = None if weights is None else numeric_values(data, weights, "weights")
    if w is not None and np.any(w <= 0):  # NaN compares False: missing weights are dropped
        raise DataFormatError("weights must be strictly positive", column=weights)
    unit_codes, n_units = key_codes(data, unit)
    time_codes, n_periods = key_codes(data, time)
    if cluster is None or cluster == unit:
        cluster_codes, n_clusters = None, None  # clustered by unit: reuse the unit codes
    else:
        cluster_codes, n_clusters = key_codes(data, cluster)

    missing: dict[str, np.ndarray] = {}
    float_columns = [(outcome, y), *((n, x[:, j]) for j, n in enumerate(names))]
    if weights is not None and w is not None:
        float_columns.append((weights, w))
    for name, values in float_columns:
        if not np.isfinite(values.sum()):  # one fast reduction; masks only if needed
            missing[name] = np.isnan(values)
    for key, codes in ((unit, unit_codes), (time, time_codes), (cluster, cluster_codes)):
        if key is None or codes is None:
            continue
        dtype = data[key].dtype
        if not (isinstance(dtype, np.dtype) and dtype.kind in "iub"):
            missing[key] = codes < 0  # numpy integer columns cannot hold missing values
    counts = {k: int(v.sum()) for k, v in missing.items()}
    missing_by_column = {k: c for k, c in counts.items() if c > 0}
    rows = None
    if missing_by_column:
        drop = np.logical_or.reduce([missing[k] for k in missing_by_column])
        rows = np.flatnonzero(~drop)
        y, x, w, unit_codes, time_codes, cluster_codes = _subset(
            rows, y, x, w, unit_codes, time_codes, cluster_codes
        )
    dropped_missing = data.shape[0] - y.size

    n_single = 0
    if drop_singletons and y.size:
        single = singleton_mask([unit_codes, time_codes], [n_units, n_periods])
        n_single = int(single.sum())
        if n_single:
            keep = np.flatnonzero(~single)
            rows = keep if rows is None else rows[keep]
            y, x, w, unit_codes, time_codes, cluster_codes = _subset(
                keep, y, x, w, unit_codes, time_codes, cluster_codes
            )
    if y.size == 0:
        reasons = []
        if dropped_missing:
            by_column = ", ".join(f"{k}: {c}" for k, c in missing_by_column.items())
            reasons.append(f"{dropped_missing} rows have missing values ({by_column})")
        if n_single:
            reasons.append(
                f"{n_single} rows are fixed-effect singletons (a unit or period seen once)"
            )
        raise DesignError(
            "no observations left: " + (" and ".join(reasons) or "the data have no rows")
        )
    if rows is not None:  # levels may have disappeared with the dropped rows
        unit_codes, n_units = compact_codes(unit_codes, n_units)
        time_codes, n_periods = compact_codes(time_codes, n_periods)
        if cluster_codes is not None and n_clusters is not None:
            cluster_codes, n_clusters = compact_codes(cluster_codes, n_clusters)
    return PanelSample(
        y=y,
        x=x,
        names=names,
        unit=unit_codes,
        n_units=n_units,
        time=time_codes,
        n_periods=n_periods,
        cluster=cluster_codes,
        n_clusters=n_clusters,
        weights=w,
        rows=rows,
        n_input=int(data.shape[0]),
        dropped_missing=int(dropped_missing),
        missing_by_column=missing_by_column,
        dropped_singletons=n_single,
    )


def check_cluster_argument(convention: Convention, cluster: str | None) -> None:
    """Clustered conventions default to the unit; the others take no cluster."""
    if cluster is not None and not convention.clustered:
        raise ParameterError(
            f"cluster={cluster!r} was given but vcov={convention.name!r} is not clustered; "
            "use vcov='CRV1' (or another clustered convention) or drop cluster"
        )


def fit_panel(sample: PanelSample, convention: Convention, backend: str) -> AbsorbedFit:
    """Regress ``sample.y`` on ``sample.x`` with unit and period fixed effects absorbed."""
    fe = FixedEffects(
        [sample.unit, sample.time], [sample.n_units, sample.n_periods], sample.weights
    )
    cluster, n_clusters = None, None
    nested = (False, False)
    if convention.clustered:
        if sample.cluster is None:  # clustered by unit
            cluster, n_clusters = sample.unit, sample.n_units
            nested = (True, is_nested(sample.time, sample.n_periods, cluster))
        else:
            cluster, n_clusters = sample.cluster, sample.n_clusters
            nested = (
                is_nested(sample.unit, sample.n_units, cluster),
                is_nested(sample.time, sample.n_periods, cluster),
            )
    fe_count = FixedEffectCount((sample.n_units, sample.n_periods), nested)
    return fit_absorbed_ols(
        sample.y,
        sample.x,
        sample.names,
        fe,
        convention,
        fe_count,
        cluster=cluster,
        n_clusters=n_clusters,
        backend=backend,
    )


def regression_inference(fit: AbsorbedFit, cluster: str | None) -> Inference:
    """The :class:`Inference` of a fit under its standard-error convention.

    ``cluster`` is the column the errors are clustered by (``None``: not clustered).
    """
    v = fit.vcov
    return Inference(
        procedure="analytic",
        se=f"{v.convention.name} ({v.convention.description})",
        distribution=v.distribution(),
        cluster=cluster if v.convention.clustered else None,
        n_clusters=v.n_clusters,
    )


def sample_meta(sample: PanelSample, fit: AbsorbedFit, cluster: str | None) -> dict[str, Any]:
    """The sample and covariance entries of ``Result.meta`` shared by the estimators;
    ``cluster`` names the cluster column of a clustered convention."""
    v = fit.vcov
    return {
        "inference": regression_inference(fit, cluster),
        "n_obs": sample.n_obs,
        "n_units": sample.n_units,
        "n_periods": sample.n_periods,
        "n_clusters": v.n_clusters,
        "df": v.df,
        **({} if v.df_coef is None else {"df_bell_mccaffrey": v.df_coef.tolist()}),
        "vcov_type": v.convention.name,
        "vcov_description": v.convention.description,
        "vcov_factor": v.factor,
        "k_df": v.k_df,
        "n_input_rows": sample.n_input,
        "dropped_missing": sample.dropped_missing,
        "missing_by_column": sample.missing_by_column,
        "dropped_singletons": sample.dropped_singletons,
        "backend": fit.backend,
        "fe_iterations": fit.fe_iterations,
    }
