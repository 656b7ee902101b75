"""Event-study (dynamic difference-in-differences) estimates by relative time.

Relative time is ``rel_time = time - cohort`` in calendar units (gaps in ``time``, such
as a missing 2020, do not shift it), where ``cohort`` is the first treated period of a
unit; ``cohort`` 0 or missing means never treated. Endpoints are binned: every
``rel_time <= lower`` counts as ``lower`` and every ``rel_time >= upper`` as ``upper``
(so the end coefficients average the effects beyond the window). Never-treated units get
no relative-time dummies.

``method="twfe"`` estimates the dynamic TWFE regression

    y_it = sum_{l != reference} beta_l * 1[rel_time_it = l] + alpha_i + lambda_t + u_it

(e.g. Freyaldenhoven et al. 2021; the reference period normalises ``beta_reference = 0``).
Estimand and assumptions: ``beta_l`` is the average effect ``l`` periods after adoption
relative to the reference period under parallel trends and no anticipation, *if*
effects are homogeneous across cohorts; otherwise ``beta_l`` mixes effects of other
relative periods (Sun & Abraham 2021).

Heterogeneity-robust methods (same assumptions: parallel trends, no anticipation,
staggered absorbing adoption; no homogeneity) estimate the average effect on the
treated observations ``l`` periods after adoption:

* ``"sun_abraham"`` -- Sun & Abraham (2021) interaction-weighted estimator
  (:mod:`evaluatie.estimators.sun_abraham`);
* ``"imputation"`` -- Borusyak, Jaravel & Spiess (2024) imputation estimator
  (:mod:`evaluatie.estimators.imputation`);
* ``"callaway_santanna"`` -- Callaway & Sant'Anna (2021) ``att_gt(control=
  "never_treated", method="dr", base_period="universal")`` aggregated by event time
  (:func:`_fit_callaway_santanna`).

Every method takes the validated :class:`EventDesign` and returns the same table:
indexed by ``rel_time``, columns ``estimate, se, t, p, ci_low, ci_high, reference,
n_obs``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.errors import DataFormatError, DesignError, ParameterError
from evaluatie.estimators._design import (
    build_sample,
    check_cluster_argument,
    fit_panel,
    key_codes,
    numeric_values,
    require_alpha,
    require_columns,
    require_frame,
    sample_meta,
)
from evaluatie.inference.vcov import Convention, get_convention
from evaluatie.results import TABLE_COLUMNS, RegressionResult, inference_table


@dataclass(frozen=True)
class EventDesign:
    """Validated event-study inputs, shared by every method.

    Row arrays are aligned with ``data``; ``rel_time`` is binned to the window and NaN
    for never-treated units (and rows with a missing time).
    """

    data: pd.DataFrame
    outcome: str
    unit: str
    time: str
    cohort: str
    cluster: str | None
    weights: str | None
    window: tuple[int, int]
    reference: int
    convention: Convention
    alpha: float
    cohort_values: np.ndarray  # 0 for never treated
    time_values: np.ndarray
    rel_time: np.ndarray
    call: dict[str, Any]

    @property
    def ever_treated(self) -> np.ndarray:
        return self.cohort_values > 0


def _check_window(window: Any, reference: Any) -> tuple[tuple[int, int], int]:
    try:
        lower, upper = (int(v) for v in window)
        ok = all(float(v) == int(v) for v in window)
    except (TypeError, ValueError):
        ok = False
    if not ok or lower >= upper:
        raise ParameterError(
            f"window must be two integers (lower, upper) with lower < upper, got {window!r}"
        )
    if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)):
        raise ParameterError(f"reference must be an integer relative period, got {reference!r}")
    if not lower <= reference <= upper:
        raise ParameterError(f"reference={reference} must lie inside window={window!r}")
    return (lower, upper), int(reference)


def _unit_cohorts(data: pd.DataFrame, unit: str, cohort: str) -> np.ndarray:
    """Row-level cohort (0 = never treated); the cohort must be constant within a unit."""
    values = numeric_values(data, cohort, "cohort")
    values = np.where(np.isnan(values), 0.0, values)
    if np.any(values < 0):
        raise DataFormatError(
            "cohort must be a first treated period, or 0/NaN for never treated", column=cohort
        )
    codes, n_units = key_codes(data, unit)
    ok = codes >= 0
    per_unit = np.zeros(n_units)
    per_unit[codes[ok]] = values[ok]
    bad = ok & (per_unit[np.where(ok, codes, 0)] != values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        label = data[unit].iloc[row]
        label = label.item() if isinstance(label, np.generic) else label
        found = sorted(set(values[ok & (codes == codes[row])].tolist()))
        raise DesignError(
            f"cohort column {cohort!r} must be constant within each unit, but unit "
            f"{label!r} has cohorts {', '.join(f'{c:g}' for c in found)} (0 = never treated)"
        )
    return values


def prepare_event_design(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    window: Any,
    reference: Any,
    cluster: str | None,
    weights: str | None,
    vcov: str,
    alpha: float,
    call: dict[str, Any],
) -> EventDesign:
    """Validate arguments and data, and compute the binned relative time of each row."""
    data = require_frame(data)
    convention = get_convention(vcov)
    alpha = require_alpha(alpha)
    window, reference = _check_window(window, reference)
    require_columns(
        data,
        {
            "outcome": outcome,
            "unit": unit,
            "time": time,
            "cohort": cohort,
            "cluster": cluster,
            "weights": weights,
        },
    )
    check_cluster_argument(convention, cluster)
    time_values = numeric_values(data, time, "time (a calendar period such as the year)")
    cohort_values = _unit_cohorts(data, unit, cohort)
    treated = cohort_values > 0
    if not treated.any():
        raise DesignError(f"no unit is ever treated: cohort column {cohort!r} is 0/NaN everywhere")
    cohorts = np.unique(cohort_values[treated])
    if treated.all() and cohorts.size == 1:
        raise DesignError(
            f"all units are treated in the same period ({cohorts[0]:g}) and none is never "
            "treated: relative time is collinear with calendar time, so there is no "
            "comparison group (neither never-treated nor not-yet-treated units)"
        )
    rel = np.where(treated, time_values - cohort_values, np.nan)
    finite = np.isfinite(rel)
    if np.any(rel[finite] != np.round(rel[finite])):
        raise DataFormatError(
            f"time minus cohort must be whole periods; time {time!r} and cohort "
            f"{cohort!r} must use the same integer calendar units",
            column=time,
        )
    rel = np.clip(rel, window[0], window[1])  # bin the endpoints (NaN stays NaN)
    return EventDesign(
        data=data,
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        cluster=cluster,
        weights=weights,
        window=window,
        reference=reference,
        convention=convention,
        alpha=alpha,
        cohort_values=cohort_values,
        time_values=time_values,
        rel_time=rel,
        call=call,
    )


def nonempty_periods(
    periods: Sequence[int], n_by_period: Mapping[int, int]
) -> tuple[list[int], list[int]]:
    """Split ``periods`` into those with observations and the empty ones (warning)."""
    empty = [p for p in periods if n_by_period.get(p, 0) == 0]
    if empty:
        warnings.warn(
            f"relative periods {empty} have no observations of treated units in the "
            "estimation sample; they are left out",
            UserWarning,
            stacklevel=4,
        )
    return [p for p in periods if p not in empty], empty


def event_table(
    estimated: pd.DataFrame, reference: int, n_by_period: Mapping[int, int]
) -> pd.DataFrame:
    """The common table: estimated rows (from :func:`inference_table`, indexed by
    relative period) plus the reference row (estimate 0, NaN inference), sorted, with
    the ``reference`` flag and ``n_obs`` columns."""
    row = {c: [0.0 if c == "estimate" else np.nan] for c in TABLE_COLUMNS}
    ref_row = pd.DataFrame(row, index=pd.Index([reference], name="rel_time"))
    table = pd.concat([estimated, ref_row]).sort_index()
    table.index = pd.Index(table.index.astype(np.int64), name="rel_time")
    table["reference"] = table.index == reference
    table["n_obs"] = [int(n_by_period.get(p, 0)) for p in table.index]
    return table


def design_meta(design: EventDesign, method: str, rows: np.ndarray | None = None) -> dict[str, Any]:
    """``meta`` entries every method shares; ``rows``: the rows used (default all)."""
    lower, upper = design.window
    units = key_codes(design.data, design.unit)[0]
    ever = design.ever_treated
    if rows is not None:
        units, ever = units[rows], ever[rows]
    return {
        "method": method,
        "window": design.window,
        "reference": design.reference,
        "binning": f"rel_time <= {lower} -> {lower}; rel_time >= {upper} -> {upper}",
        "cluster": (design.cluster or design.unit) if design.convention.clustered else None,
        "weights": design.weights,
        "n_treated_units": int(np.unique(units[ever]).size),
        "n_never_treated_units": int(np.unique(units[~ever]).size),
        "cohorts": [
            int(c) if c == int(c) else c
            for c in np.unique(design.cohort_values[design.ever_treated]).tolist()
        ],
    }


def _fit_twfe(design: EventDesign) -> RegressionResult:
    """Dynamic TWFE regression on relative-time dummies (see module docstring)."""
    lower, upper = design.window
    periods = [p for p in range(lower, upper + 1) if p != design.reference]
    regressors = {f"rel_time={p}": (design.rel_time == p).astype(np.float64) for p in periods}
    sample = build_sample(
        design.data,
        outcome=design.outcome,
        regressors=regressors,
        unit=design.unit,
        time=design.time,
        cluster=design.cluster,
        weights=design.weights,
    )
    rel = design.rel_time if sample.rows is None else design.rel_time[sample.rows]
    n_by_period = {p: int(np.count_nonzero(rel == p)) for p in range(lower, upper + 1)}
    if n_by_period[design.reference] == 0:
        raise DesignError(
            f"the reference period {design.reference} has no observations of treated "
            "units in the estimation sample; choose another reference"
        )
    kept, empty = nonempty_periods(periods, n_by_period)
    if not kept:
        raise DesignError("no relative period other than the reference has observations")
    if empty:
        present = np.array([p in kept for p in periods])
        sample.x = sample.x[:, present]
        sample.names = [n for n, ok in zip(sample.names, present, strict=True) if ok]
    fit = fit_panel(sample, design.convention, "numpy")
    index = pd.Index(kept, name="rel_time")
    se = np.sqrt(np.diag(fit.vcov.matrix))
    est = inference_table(fit.coef, se, index, df=fit.vcov.df, alpha=design.alpha)
    meta = {
        "formula": (
            f"{design.outcome} ~ i(rel_time, ref={design.reference}) | "
            f"{design.unit} + {design.time}"
        ),
        **design_meta(design, "twfe", sample.rows),
        "empty_rel_times": empty,
        **sample_meta(sample, fit),
        "call": design.call,
    }
    return RegressionResult(
        table=event_table(est, design.reference, n_by_period),
        method="event_study[twfe]",
        meta=meta,
        vcov=pd.DataFrame(fit.vcov.matrix, index=index, columns=index),
        vcov_type=design.convention.name,
    )


def _fit_callaway_santanna(design: EventDesign) -> RegressionResult:
    from evaluatie.estimators.did.event import fit_callaway_santanna

    return fit_callaway_santanna(design)


def _fit_sun_abraham(design: EventDesign) -> RegressionResult:
    from evaluatie.estimators.sun_abraham import fit_sun_abraham

    return fit_sun_abraham(design)


def _fit_imputation(design: EventDesign) -> RegressionResult:
    from evaluatie.estimators.imputation import fit_imputation

    return fit_imputation(design)


#: Method name -> estimator taking the validated design. Add new methods here.
METHODS: dict[str, Callable[[EventDesign], RegressionResult]] = {
    "twfe": _fit_twfe,
    "sun_abraham": _fit_sun_abraham,
    "imputation": _fit_imputation,
    "callaway_santanna": _fit_callaway_santanna,
}


def event_study(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    window: tuple[int, int] = (-4, 4),
    reference: int = -1,
    cluster: str | None = None,
    weights: str | None = None,
    vcov: str = "CRV1",
    method: str = "twfe",
    alpha: float = 0.05,
) -> RegressionResult:
    """Event-study coefficients by relative time (see the module docstring for the model).

    Parameters
    ----------
    data
        Long data; several rows per unit-period are allowed.
    outcome
        Numeric outcome column.
    unit, time
        Unit identifier and numeric calendar period (e.g. the year; gaps allowed).
    cohort
        First treated period of the unit, constant within unit; 0 or NaN = never treated.
    window, reference
        Relative periods ``lower..upper`` get their own coefficient, the endpoints
        binned (``<= lower`` -> ``lower``, ``>= upper`` -> ``upper``); ``reference`` is
        the omitted period (estimate 0).
    cluster, weights, vcov, alpha
        As in :func:`evaluatie.estimators.twfe.twfe` (default: CRV1 clustered by unit).
        Rows with missing values are dropped, and fixed-effect singletons too (by the
        regression methods). ``"imputation"`` and ``"callaway_santanna"`` have their
        own clustered standard errors (see their modules) and accept only
        ``vcov="CRV1"`` (imputation: any clustered convention, used for its leads).
    method
        ``"twfe"``, ``"sun_abraham"``, ``"imputation"`` or ``"callaway_santanna"``
        (module docstring). The last needs one row per unit-period.

    Returns
    -------
    RegressionResult
        ``table`` indexed by ``rel_time`` (int) with the usual columns plus
        ``reference`` (True on the reference row: estimate 0, NaN inference) and
        ``n_obs`` (treated rows at that relative period in the sample). Relative periods
        without treated observations are left out with a warning
        (``meta["empty_rel_times"]``). ``meta["method"]`` names the method.
    """
    call = {k: v for k, v in locals().items() if k != "data"}  # the arguments
    if method not in METHODS:
        raise ParameterError(f"method={method!r} is not known; available: {sorted(METHODS)}")
    design = prepare_event_design(
        data, outcome, unit, time, cohort, window, reference, cluster, weights, vcov, alpha, call
    )
    return METHODS[method](design)
