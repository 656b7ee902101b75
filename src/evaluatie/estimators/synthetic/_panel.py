"""The unit x period matrix the synthetic comparison designs work on.

Synthetic control and synthetic DiD compare whole outcome paths, so they need a balanced
panel: every unit observed in every period. The treatment is an absorbing 0/1 indicator,
as in :func:`evaluatie.twfe`: it switches on in a unit's first policy period and stays on.
Units never treated are the donors; each treated unit's first treated period is its
adoption period (its cohort).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluatie.core.checks import (
    numeric_values,
    plain,
    require_columns,
    require_frame,
    require_unique_unit_periods,
)
from evaluatie.core.errors import DataFormatError, DesignError


@dataclass(frozen=True)
class Matrix:
    """A balanced panel as a matrix, donors first, then the treated units by cohort."""

    y: np.ndarray  # (units, periods)
    units: np.ndarray  # labels, in the rows' order
    periods: np.ndarray  # sorted period labels
    adoption: np.ndarray  # per row: index of the first treated period, -1 for donors

    @property
    def n_donors(self) -> int:
        return int((self.adoption < 0).sum())

    @property
    def cohorts(self) -> list[int]:
        """The adoption periods (as column indices) present, in time order."""
        return sorted({int(a) for a in self.adoption if a >= 0})


def outcome_matrix(
    data: pd.DataFrame, *, outcome: str, unit: str, time: str, treatment: str
) -> Matrix:
    """Check the long panel and pivot it to a :class:`Matrix`.

    Every problem is a :class:`DesignError` or :class:`DataFormatError` naming the
    column and an example: a missing outcome, a unit missing a period, a treatment that
    is not 0/1, switches off again, or is on from the first period.
    """
    data = require_frame(data)
    require_columns(data, {"outcome": outcome, "unit": unit, "time": time, "treatment": treatment})
    y = numeric_values(data, outcome, "outcome")
    d = numeric_values(data, treatment, "treatment")
    if np.isnan(y).any():
        row = int(np.argmax(np.isnan(y)))
        raise DataFormatError(
            f"outcome is missing in {int(np.isnan(y).sum())} row(s) (e.g. {unit} "
            f"{plain(data[unit].iloc[row])!r}, {time} {plain(data[time].iloc[row])!r}); a "
            "synthetic comparison needs every unit's whole path: drop or impute those units",
            column=outcome,
        )
    if np.isnan(d).any() or not np.isin(d, (0.0, 1.0)).all():
        raise DataFormatError("treatment must be 0 or 1 in every row", column=treatment)
    unit_codes, units = pd.factorize(data[unit], sort=True)
    period_codes, periods = pd.factorize(data[time], sort=True)
    for codes, column in ((unit_codes, unit), (period_codes, time)):
        if (codes < 0).any():
            raise DataFormatError(
                f"missing in {int((codes < 0).sum())} row(s): every row needs a {column}",
                column=column,
            )
    units, periods = np.asarray(units), np.asarray(periods)
    require_unique_unit_periods(unit_codes, units, period_codes, periods, time)
    n_units, n_periods = len(units), len(periods)
    if len(y) != n_units * n_periods:
        seen = np.zeros((n_units, n_periods), dtype=bool)
        seen[unit_codes, period_codes] = True
        u, t = np.argwhere(~seen)[0]
        raise DesignError(
            f"the panel is not balanced: {n_units * n_periods - len(y)} unit-period(s) are "
            f"missing (e.g. {unit} {plain(units[u])!r} in {time} {plain(periods[t])!r}); "
            "a synthetic comparison needs every unit in every period"
        )
    wide = np.empty((n_units, n_periods))
    wide[unit_codes, period_codes] = y
    on = np.zeros((n_units, n_periods), dtype=bool)
    on[unit_codes, period_codes] = d == 1.0
    first = np.where(on.any(axis=1), on.argmax(axis=1), -1)
    switched_off = on.any(axis=1) & (on.sum(axis=1) != n_periods - first)
    if switched_off.any():
        raise DesignError(
            f"treatment must stay 1 once it is 1 (absorbing), but it switches off for "
            f"{int(switched_off.sum())} unit(s), e.g. {unit} "
            f"{plain(units[int(np.argmax(switched_off))])!r}"
        )
    if (first == 0).any():
        raise DesignError(
            f"{int((first == 0).sum())} unit(s) are treated from the first {time} on (e.g. "
            f"{unit} {plain(units[int(np.argmax(first == 0))])!r}): a synthetic comparison "
            "needs at least one period before the policy"
        )
    if (first < 0).sum() < 2:
        raise DesignError(f"need at least 2 never-treated units as donors, got {(first < 0).sum()}")
    if not (first > 0).any():
        raise DesignError(f"no unit is ever treated: {treatment!r} is 0 in every row")
    order = np.lexsort((np.arange(n_units), first))  # donors (-1) first, then by cohort
    return Matrix(wide[order], units[order], periods, first[order])
