"""Simulated school panels for the TWFE / event-study tests.

Units (schools) are nested in groups (gemeenten); treatment adoption is staggered by
group (cohort 0 = never treated); years skip 2020 as in the DUO data. The outcome is

    y = unit effect + year effect + effect(rel_time) * treated + group-year shock + noise,

with ``effect(l) = effect + slope * l`` for ``l >= 0`` and 0 before adoption.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

YEARS = np.array([2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023])


def simulate_panel(
    n_units: int = 120,
    n_groups: int = 24,
    rows_per_cell: int = 1,
    cohorts: tuple[int, ...] = (0, 2017, 2019, 2022),
    effect: float = 0.5,
    slope: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per unit-year (``rows_per_cell=1``) or a Poisson number of rows per cell.

    Columns: unit, year, group, cohort, rel_time (NaN never treated), d, x, w, y.
    """
    rng = np.random.default_rng(seed)
    group_of_unit = rng.integers(0, n_groups, n_units)
    cohort_of_group = rng.choice(np.asarray(cohorts), n_groups)
    cell_unit = np.repeat(np.arange(n_units), YEARS.size)
    cell_year = np.tile(YEARS, n_units)
    if rows_per_cell == 1:
        size = np.ones(cell_unit.size, dtype=int)
    else:
        size = rng.poisson(rows_per_cell, cell_unit.size).clip(1)
    unit = np.repeat(cell_unit, size)
    year = np.repeat(cell_year, size)
    group = group_of_unit[unit]
    cohort = cohort_of_group[group]
    treated = cohort > 0
    rel = np.where(treated, year - cohort, np.nan)
    d = (treated & (rel >= 0)).astype(float)
    tau = np.where(d > 0, effect + slope * np.nan_to_num(rel), 0.0)
    unit_fe = rng.normal(0.0, 1.0, n_units)
    year_fe = rng.normal(0.0, 0.5, YEARS.size)
    shock = rng.normal(0.0, 0.2, (n_groups, YEARS.size))
    year_idx = np.searchsorted(YEARS, year)
    x = rng.normal(0.0, 1.0, unit.size) + 0.3 * unit_fe[unit]
    y = (
        unit_fe[unit]
        + year_fe[year_idx]
        + tau
        + 0.4 * x
        + shock[group, year_idx]
        + rng.normal(0.0, 1.0, unit.size)
    )
    return pd.DataFrame(
        {
            "unit": unit,
            "year": year,
            "group": group,
            "cohort": cohort,
            "rel_time": rel,
            "d": d,
            "x": x,
            "w": rng.uniform(0.5, 2.0, unit.size),
            "y": y,
        }
    )
