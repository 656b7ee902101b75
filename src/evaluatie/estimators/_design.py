"""Input validation and estimation-sample construction shared by the panel estimators.

Everything here turns a user's DataFrame and column names into clean numpy arrays
(factorized once) or raises an :mod:`evaluatie.errors` exception that names the
argument, the column and what was expected.

Sample rules (documented in the estimators): rows with a missing outcome, regressor,
weight, unit, period or cluster are dropped and counted; then fixed-effect singletons
(rows alone in their unit or period) are dropped repeatedly, as fixest's and pyfixest's
default ``fixef_rm="singleton"`` does (they are fitted exactly by their own fixed effect
and carry no information on the slopes, but would inflate ``N``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.errors import DataFormatError, DesignError, ParameterError
from evaluatie.inference.absorbed_ols import AbsorbedFit, fit_absorbed_ols
from evaluatie.inference.demean import (
    FixedEffects,
    compact_codes,
    factorize,
    is_nested,
    singleton_mask,
)
from evaluatie.inference.vcov import Convention, FixedEffectCount


def require_frame(data: Any) -> pd.DataFrame:
    """``data`` must be a pandas DataFrame with at least one row."""
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if data.empty:
        raise DesignError("data has no rows: nothing to estimate")
    return data


def require_columns(data: pd.DataFrame, columns: Mapping[str, str | Iterable[str] | None]) -> None:
    """Every column named by an argument (``{"outcome": "y", ...}``) must exist."""
    for arg, value in columns.items():
        if value is None:
            continue
        names = [value] if isinstance(value, str) else list(value)
        for name in names:
            if not isinstance(name, str):
                raise ParameterError(f"{arg} must name a column (a str), got {name!r}")
            if name not in data.columns:
                available = ", ".join(map(str, data.columns[:20]))
                more = ", ..." if len(data.columns) > 20 else ""
                raise ParameterError(
                    f"{arg}={name!r} is not a column of data (columns: {available}{more})"
                )


def require_alpha(alpha: float) -> float:
    if not isinstance(alpha, (int, float)) or not 0.0 < float(alpha) < 1.0:
        raise ParameterError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def numeric_values(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """The column as float64 with NaN for missing; booleans become 0/1.

    Raises :class:`DataFormatError` naming the column if it is not numeric or holds
    infinite values.
    """
    series = data[column]
    if isinstance(series, pd.DataFrame):
        raise DataFormatError(f"{role}: the column name is duplicated in data", column=column)
    dtype = series.dtype
    if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
        raise DataFormatError(f"{role} must be numeric, got dtype {dtype}", column=column)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(values.sum()) and np.isinf(values).any():
        raise DataFormatError(f"{role} contains infinite values", column=column)
    return values


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


def _subset(keep: np.ndarray, *arrays: np.ndarray | None) -> list[np.ndarray | None]:
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
    if w is not None:
        float_columns.append((weights, w))
    for name, values in float_columns:
        if not np.isfinite(values.sum()):  # one fast reduction; masks only if needed
            missing[name] = np.isnan(values)
    for name, codes in ((unit, unit_codes), (time, time_codes), (cluster, cluster_codes)):
        dtype = None if codes is None else data[name].dtype
        if codes is not None and not (isinstance(dtype, np.dtype) and dtype.kind in "iub"):
            missing[name] = codes < 0  # numpy integer columns cannot hold missing values
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
        raise DesignError(
            f"no observations left: {dropped_missing} rows have missing values "
            f"({missing_by_column}) and {n_single} are fixed-effect singletons"
        )
    if rows is not None:  # levels may have disappeared with the dropped rows
        unit_codes, n_units = compact_codes(unit_codes, n_units)
        time_codes, n_periods = compact_codes(time_codes, n_periods)
        if cluster_codes is not None:
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


def sample_meta(sample: PanelSample, fit: AbsorbedFit) -> dict[str, Any]:
    """The sample and covariance entries of ``Result.meta`` shared by the estimators."""
    v = fit.vcov
    return {
        "n_obs": sample.n_obs,
        "n_units": sample.n_units,
        "n_periods": sample.n_periods,
        "n_clusters": v.n_clusters,
        "df": v.df,
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


def plain(value: object) -> object:
    """A numpy scalar as the plain Python value (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def require_unique_unit_periods(
    unit_codes: np.ndarray,
    units: np.ndarray,
    period_codes: np.ndarray,
    periods: np.ndarray,
    time: str,
) -> None:
    """Raise DesignError naming an example when a unit-period occurs more than once."""
    n_periods = len(periods)
    key = unit_codes.astype(np.int64) * n_periods + period_codes
    counts = np.bincount(key, minlength=len(units) * n_periods)
    if counts.max(initial=0) > 1:
        first = int(np.argmax(counts > 1))
        raise DesignError(
            f"{int((counts > 1).sum())} unit-period combination(s) occur more than once "
            f"(e.g. unit {plain(units[first // n_periods])!r}, "
            f"{time}={plain(periods[first % n_periods])!r}); "
            "the panel must have one row per unit and period."
        )


def require_constant_within_unit(
    codes: np.ndarray, values: np.ndarray, units: np.ndarray, what: str, col: str
) -> None:
    """Raise DesignError when ``values`` (no NaN) vary within a unit."""
    ref = np.empty(len(units), dtype=values.dtype)
    ref[codes] = values
    bad = np.unique(codes[values != ref[codes]])
    if bad.size:
        raise DesignError(
            f"{what} column {col!r} must be constant within each unit, but it changes over "
            f"time for {bad.size} unit(s), e.g. unit {plain(units[bad[0]])!r}."
        )
