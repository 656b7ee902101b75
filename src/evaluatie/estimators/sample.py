"""Input validation and estimation-sample construction shared by the panel estimators.

Everything here turns a user's DataFrame and column names into clean numpy arrays
(factorized once) or raises an :mod:`evaluatie.core.errors` exception that names the
argument, the column and what was expected.

Sample rules (documented in the estimators): rows with a missing outcome, regressor,
weight, unit, period or cluster are dropped and counted; then fixed-effect singletons
(rows alone in their unit or period) are dropped repeatedly, as fixest's and pyfixest's
default ``fixef_rm="singleton"`` does (they are fitted exactly by their own fixed effect
and carry no information on the slopes, but would inflate ``N``).

Passes over the rows are kept few, since each costs ~1.7 ms per 2M rows: a column is
masked for missing values only when one fast reduction finds some, singletons are found
on the unit-period cells of :class:`~evaluatie.engine.within.FixedEffects` (built once
and handed to the fit), and the nesting of the fixed effects in the clusters is decided
on cells too.

Memory, since the peak of a fit on a large panel is the sample plus the fixed effects:
dropped rows are selected by a mask (1-D arrays) or int32 positions (the regressors),
one array at a time, the identifier codes first; after singletons the fit's fixed
effects are built before the outcome and regressors are copied; ``rows`` are int32.
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
    index_dtype,
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
    """The cleaned estimation sample as arrays, plus what was dropped on the way.

    :meth:`fixed_effects` gives the unit and period effects on these rows.
    """

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
    # positions in the input data (None: all rows, in order), int32 below 2**31 rows
    rows: np.ndarray | None
    n_input: int
    dropped_missing: int
    missing_by_column: dict[str, int] = field(default_factory=dict)
    dropped_singletons: int = 0
    # built by build_sample, handed to the fit; not copied by dataclasses.replace
    _fixed_effects: FixedEffects | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_obs(self) -> int:
        return int(self.y.size)

    def fixed_effects(self) -> FixedEffects:
        """The unit and period fixed effects (with the weights) on the sample's rows.

        Those :func:`build_sample` built to find the singletons are handed over once, so
        that the sample does not keep their cell codes (4 bytes a row) after the fit;
        later calls, or calls after ``unit``, ``time`` or ``weights`` were replaced,
        build them again.
        """
        fe, self._fixed_effects = self._fixed_effects, None
        if fe is None or not (
            fe.codes[0] is self.unit and fe.codes[1] is self.time and fe.weights is self.weights
        ):
            fe = FixedEffects([self.unit, self.time], [self.n_units, self.n_periods], self.weights)
        return fe


#: The row arrays the fixed effects are built from, and the others.
_KEYS = ("unit", "time", "cluster", "w")
_VALUES = ("y", "x")


@dataclass
class _Rows:
    """The row arrays of a sample being built, dropped together, with the numbers of
    unit, period and cluster levels."""

    y: np.ndarray
    x: np.ndarray
    w: np.ndarray | None
    unit: np.ndarray
    n_units: int
    time: np.ndarray
    n_periods: int
    cluster: np.ndarray | None
    n_clusters: int | None
    dropped: bool = False  # codes lost rows since they were last compacted

    def keep(
        self, kept: np.ndarray, positions: np.ndarray, names: tuple[str, ...] = _KEYS + _VALUES
    ) -> None:
        """Keep the rows where ``kept`` is true (at ``positions``) in the arrays ``names``,
        one array at a time: each old array (if not referenced elsewhere) is freed before
        the next is copied, so dropping a few rows of a large panel costs one array of
        extra memory, not all of them. A mask selects from a 1-D array without more
        memory; the 2-D regressors take the positions (numpy would turn a mask into
        8-byte positions first)."""
        for name in names:
            values = getattr(self, name)
            if values is not None:
                setattr(self, name, values[kept] if values.ndim == 1 else values[positions])
        self.dropped |= not set(names).isdisjoint(_KEYS)

    def compact(self) -> None:
        """Renumber the unit, period and cluster codes (fresh copies after :meth:`keep`,
        so in place) so that only levels that occur are kept."""
        if not self.dropped:
            return
        self.unit, self.n_units = compact_codes(self.unit, self.n_units, overwrite=True)
        self.time, self.n_periods = compact_codes(self.time, self.n_periods, overwrite=True)
        if self.cluster is not None and self.n_clusters is not None:
            self.cluster, self.n_clusters = compact_codes(
                self.cluster, self.n_clusters, overwrite=True
            )
        self.dropped = False

    def fixed_effects(self) -> FixedEffects:
        """The unit and period fixed effects on the current rows (compacted codes)."""
        return FixedEffects([self.unit, self.time], [self.n_units, self.n_periods], self.w)


def _positions(kept: np.ndarray) -> np.ndarray:
    """Positions of the true entries of ``kept``, in 4 bytes each below 2**31 rows."""
    return np.flatnonzero(kept).astype(index_dtype(kept.size), copy=False)


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
    names = list(regressors)
    columns = [np.asarray(regressors[n], dtype=np.float64) for n in names]
    w = None if weights is None else numeric_values(data, weights, "weights")
    if w is not None and np.any(w <= 0):  # NaN compares False: missing weights are dropped
        raise DataFormatError("weights must be strictly positive", column=weights)
    unit_codes, n_units = key_codes(data, unit)
    time_codes, n_periods = key_codes(data, time)
    if cluster is None or cluster == unit:
        cluster_codes, n_clusters = None, None  # clustered by unit: reuse the unit codes
    else:
        cluster_codes, n_clusters = key_codes(data, cluster)
    r = _Rows(
        y=numeric_values(data, outcome, "outcome"),
        x=columns[0][:, None] if len(columns) == 1 else np.column_stack(columns),
        w=w,
        unit=unit_codes,
        n_units=n_units,
        time=time_codes,
        n_periods=n_periods,
        cluster=cluster_codes,
        n_clusters=n_clusters,
    )
    del columns, w, unit_codes, time_codes, cluster_codes  # r holds the only references

    missing: dict[str, np.ndarray] = {}
    float_columns = [(outcome, r.y), *((n, r.x[:, j]) for j, n in enumerate(names))]
    if weights is not None and r.w is not None:
        float_columns.append((weights, r.w))
    for name, values in float_columns:
        if not np.isfinite(values.sum()):  # one fast reduction; masks only if needed
            missing[name] = np.isnan(values)
    for key, codes in ((unit, r.unit), (time, r.time), (cluster, r.cluster)):
        if key is not None and codes is not None and codes.min(initial=0) < 0:
            missing[key] = codes < 0  # factorize codes a missing identifier -1
    del float_columns, values, codes  # so that dropping rows can free what it replaces
    counts = {k: int(v.sum()) for k, v in missing.items()}
    missing_by_column = {k: c for k, c in counts.items() if c > 0}
    rows = None
    if missing_by_column:
        kept = ~np.logical_or.reduce([missing[k] for k in missing_by_column])
        missing.clear()
        rows = _positions(kept)
        r.keep(kept, rows)
        del kept
    dropped_missing = data.shape[0] - r.y.size

    fe = None
    n_single = 0
    if drop_singletons and r.y.size:
        r.compact()  # the fixed effects need every level present
        fe = r.fixed_effects()
        # a cell's rows share their unit and period: singletons are whole cells
        single_cells = singleton_mask(fe.cell_codes, fe.n_levels, fe.cell_rows)
        if single_cells.any():
            kept = (~single_cells)[fe.cell]
            fe = None  # its cells no longer fit; free them before copying the rows
            positions = _positions(kept)
            n_single = kept.size - positions.size
            rows = positions if rows is None else rows[positions]
            r.keep(kept, positions, _KEYS)
            r.compact()
            # the fit's fixed effects, built before the outcome and regressors are copied:
            # the transient arrays of their construction then do not top the peak memory
            fe = r.fixed_effects()
            r.keep(kept, positions, _VALUES)
            del kept, positions
    if r.y.size == 0:
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
    r.compact()  # levels may have disappeared with the dropped rows
    sample = PanelSample(
        y=r.y,
        x=r.x,
        names=names,
        unit=r.unit,
        n_units=r.n_units,
        time=r.time,
        n_periods=r.n_periods,
        cluster=r.cluster,
        n_clusters=r.n_clusters,
        weights=r.w,
        rows=rows,
        n_input=int(data.shape[0]),
        dropped_missing=int(dropped_missing),
        missing_by_column=missing_by_column,
        dropped_singletons=n_single,
    )
    if fe is not None and fe.codes[0] is r.unit and fe.codes[1] is r.time:
        sample._fixed_effects = fe
    return sample


def check_cluster_argument(convention: Convention, cluster: str | None) -> None:
    """Clustered conventions default to the unit; the others take no cluster."""
    if cluster is not None and not convention.clustered:
        raise ParameterError(
            f"cluster={cluster!r} was given but vcov={convention.name!r} is not clustered; "
            "use vcov='CRV1' (or another clustered convention) or drop cluster"
        )


def fit_panel(sample: PanelSample, convention: Convention, backend: str) -> AbsorbedFit:
    """Regress ``sample.y`` on ``sample.x`` with unit and period fixed effects absorbed."""
    fe = sample.fixed_effects()
    cluster, n_clusters, cell_cluster = None, None, None
    nested = (False, False)
    if convention.clustered:
        if sample.cluster is None:  # clustered by unit
            cluster, n_clusters = sample.unit, sample.n_units
            cell_cluster = fe.cell_codes[0]
        else:
            cluster, n_clusters = sample.cluster, sample.n_clusters
            cell_cluster = fe.cell_values(cluster)
        # a factor nested in the clusters has each cell in one cluster: decided on cells
        # (if some cell spans clusters, its unit and period do too: nothing is nested)
        if cell_cluster is not None:
            unit_nested, time_nested = (
                is_nested(c, n, cell_cluster)
                for c, n in zip(fe.cell_codes, fe.n_levels, strict=True)
            )
            nested = (unit_nested, time_nested)
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
        cell_cluster=cell_cluster,
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
