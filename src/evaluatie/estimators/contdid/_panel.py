"""The long panel of :func:`.cont_did` as a wide, balanced array, with unit doses and
unit sampling weights; every bad input ends in an error naming the column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluatie.core.checks import (
    numeric_values,
    plain,
    require_columns,
    require_constant_within_unit,
    require_frame,
    require_unique_unit_periods,
)
from evaluatie.core.errors import DataFormatError, DesignError


@dataclass(frozen=True)
class Panel:
    units: np.ndarray
    periods: np.ndarray
    y: np.ndarray  # (n, T)
    dose: np.ndarray  # (n,)
    weights: np.ndarray  # (n,), mean 1 (all ones without a weights column)


def wide_panel(
    data: pd.DataFrame, outcome: str, unit: str, time: str, dose: str, weights: str | None
) -> Panel:
    require_frame(data)
    require_columns(
        data, {"outcome": outcome, "unit": unit, "time": time, "dose": dose, "weights": weights}
    )
    y = numeric_values(data, outcome, "outcome")
    numeric_values(data, time, "time")  # numeric and finite, or a clear error
    dv = numeric_values(data, dose, "dose")
    wv = None if weights is None else numeric_values(data, weights, "weights")
    for col, role in ((unit, "unit"), (time, "time")):
        n_na = int(data[col].isna().sum())
        if n_na:
            raise DesignError(f"{role} column {col!r} has {n_na} missing value(s).")
    codes, units = sorted_codes(data[unit])
    tcodes, periods = sorted_codes(data[time])
    require_unique_unit_periods(codes, units, tcodes, periods, time)
    if np.isnan(dv).any():
        bad = units[codes[np.flatnonzero(np.isnan(dv))[0]]]
        raise DesignError(
            f"dose column {dose!r} has {int(np.isnan(dv).sum())} missing value(s) "
            f"(e.g. unit {plain(bad)!r}); use 0 for comparison units."
        )
    require_constant_within_unit(codes, dv, units, "Dose", dose)
    n, T = len(units), len(periods)
    wide = np.full((n, T), np.nan)
    wide[codes, tcodes] = y
    gaps = np.isnan(wide)
    if gaps.any():
        i, j = np.argwhere(gaps)[0]
        missing_rows = int(gaps.sum()) - int(np.isnan(y).sum())
        raise DesignError(
            f"the panel must be balanced with a non-missing {outcome!r} in every period "
            f"({time}: {', '.join(map(str, periods.tolist()))}): {int(gaps.any(axis=1).sum())} "
            f"unit(s) lack one ({missing_rows} absent row(s), {int(np.isnan(y).sum())} missing "
            f"value(s)), e.g. unit {plain(units[i])!r} at {time}={plain(periods[j])!r}."
        )
    unit_dose = np.empty(n)
    unit_dose[codes] = dv
    return Panel(
        units=units,
        periods=periods,
        y=wide,
        dose=unit_dose,
        weights=np.ones(n)
        if wv is None or weights is None
        else _unit_weights(wv, codes, units, weights),
    )


def _unit_weights(wv: np.ndarray, codes: np.ndarray, units: np.ndarray, col: str) -> np.ndarray:
    """One positive weight per unit, normalised to mean 1 over the units."""
    for bad, what in ((np.isnan(wv), "missing"), (wv <= 0, "zero or negative")):
        if bad.any():
            raise DataFormatError(
                f"weights has {int(bad.sum())} {what} value(s) (e.g. unit "
                f"{plain(units[codes[np.flatnonzero(bad)[0]]])!r}); sampling weights must be "
                "positive for every unit.",
                column=col,
            )
    require_constant_within_unit(codes, wv, units, "Weights", col)
    w = np.empty(len(units))
    w[codes] = wv
    return w / w.mean()


def sorted_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``0..L-1`` in sorted order of the values, and the sorted distinct values
    (integer ids of modest range by offset and ``np.bincount``, no sort)."""
    arr = series.to_numpy()
    if arr.dtype.kind in "iu" and arr.size:
        lo, span = arr.min(), int(arr.max() - arr.min())
        if span <= 4 * arr.size + 1024:
            present = np.bincount(arr - lo, minlength=span + 1) > 0
            codes = (np.cumsum(present) - 1)[arr - lo]
            return codes, (np.flatnonzero(present) + lo).astype(arr.dtype)
    codes, uniques = pd.factorize(series, sort=True)
    return codes, np.asarray(uniques)
