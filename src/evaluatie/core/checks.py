"""Checks every estimator runs on a user's DataFrame before any work starts.

Each turns a bad argument or column into an :mod:`evaluatie.core.errors` exception that
names the argument, the column and what was expected, instead of a numpy traceback
three calls deep.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.core.errors import DataFormatError, DesignError, ParameterError


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
