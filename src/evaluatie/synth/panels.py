"""Small simulated panels with a known effect, for tests, benchmarks and examples.

:func:`staggered_panel` -- staggered adoption with heterogeneous, dynamic effects (the
event-study estimators' test bed): ``y_it = alpha_i + lambda_t + tau_it + noise * e_it``
with one row per unit-year (or a Poisson number of rows per unit-year: pupils in a
school), years 2012-2023 without 2020, units nested in groups (the cluster), adoption
staggered by group. The effect of cohort ``g`` at relative time ``l = t - g >= 0`` is

    tau_g(l) = LEVEL[g] + SLOPE[g] * min(l, PLATEAU),

so effects differ across cohorts and grow with time since adoption until ``PLATEAU``,
after which they are constant (a window with ``upper = PLATEAU`` bins only constant
effects). Before adoption it is 0: parallel trends and no anticipation hold exactly, so
with ``noise=0`` every heterogeneity-robust estimator recovers the effects exactly, while
the dynamic TWFE regression mixes effects across relative periods (Sun & Abraham 2021).
The true average effect at ``l`` is the mean of ``tau_it`` over the treated rows at
``l`` (:func:`true_event_effects`).

:func:`clustered_panel` -- the TWFE test bed: schools nested in gemeenten, adoption
staggered by gemeente (cohort 0 = never treated), years 2014-2023 without 2020, and

    y = unit effect + year effect + effect(rel_time) * treated + 0.4 x
        + gemeente-year shock + noise,

with ``effect(l) = effect + slope * l`` for ``l >= 0`` and 0 before adoption: a
homogeneous effect when ``slope = 0``, so TWFE recovers ``effect`` exactly in
expectation, and errors correlated within gemeente-years, so clustering matters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STAGGERED_YEARS = np.array([2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023])
COHORTS = (2015, 2017, 2019, 2022)
LEVEL = {2015: 2.0, 2017: 1.0, 2019: 0.5, 2022: 0.2}
SLOPE = {2015: 0.8, 2017: 0.4, 2019: 0.1, 2022: 0.0}
PLATEAU = 4


def staggered_effect(cohort: np.ndarray, year: np.ndarray) -> np.ndarray:
    """``tau_it`` of the DGP (0 for never treated, cohort 0, and before adoption)."""
    cohort = np.asarray(cohort)
    level = np.array([LEVEL.get(int(g), 0.0) for g in cohort])
    slope = np.array([SLOPE.get(int(g), 0.0) for g in cohort])
    rel = np.asarray(year) - cohort
    post = (cohort > 0) & (rel >= 0)
    return np.where(post, level + slope * np.minimum(rel, PLATEAU), 0.0)


def staggered_panel(
    n_units: int = 200,
    n_groups: int = 40,
    cohorts: tuple[int, ...] = (0, *COHORTS),
    noise: float = 1.0,
    rows_per_cell: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Columns: unit, group, year, cohort (0 = never treated), rel_time (NaN never
    treated), treated (0/1), tau (the true effect), w (a positive weight), y."""
    rng = np.random.default_rng(seed)
    group_of_unit = rng.integers(0, n_groups, n_units)
    cohort_of_group = np.asarray(cohorts)[np.arange(n_groups) % len(cohorts)]
    rng.shuffle(cohort_of_group)
    cell_unit = np.repeat(np.arange(n_units), STAGGERED_YEARS.size)
    cell_year = np.tile(STAGGERED_YEARS, n_units)
    size = np.ones(cell_unit.size, int)
    if rows_per_cell > 1:
        size = rng.poisson(rows_per_cell, cell_unit.size).clip(1)
    unit = np.repeat(cell_unit, size)
    year = np.repeat(cell_year, size)
    group = group_of_unit[unit]
    cohort = cohort_of_group[group]
    alpha = rng.normal(0.0, 1.0, n_units) + 0.3 * (cohort_of_group[group_of_unit] > 2018)
    lam = np.cumsum(rng.normal(0.2, 0.3, STAGGERED_YEARS.size))
    tau = staggered_effect(cohort, year)
    y = alpha[unit] + lam[np.searchsorted(STAGGERED_YEARS, year)] + tau
    y = y + noise * rng.normal(0.0, 1.0, unit.size)
    rel = np.where(cohort > 0, year - cohort, np.nan)
    return pd.DataFrame(
        {
            "unit": unit,
            "group": group,
            "year": year,
            "cohort": cohort,
            "rel_time": rel,
            "treated": ((cohort > 0) & (rel >= 0)).astype(int),
            "tau": tau,
            "w": rng.uniform(0.5, 2.0, n_units)[unit],
            "y": y,
        }
    )


def true_event_effects(data: pd.DataFrame, window: tuple[int, int]) -> pd.Series:
    """Mean true effect over the treated rows at each binned post-period ``l >= 0``."""
    treated = data.loc[data["treated"] == 1]
    rel = treated["rel_time"].clip(upper=window[1]).astype(int)
    return treated.groupby(rel)["tau"].mean()


CLUSTERED_YEARS = np.array([2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023])


def clustered_panel(
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
    cell_unit = np.repeat(np.arange(n_units), CLUSTERED_YEARS.size)
    cell_year = np.tile(CLUSTERED_YEARS, n_units)
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
    year_fe = rng.normal(0.0, 0.5, CLUSTERED_YEARS.size)
    shock = rng.normal(0.0, 0.2, (n_groups, CLUSTERED_YEARS.size))
    year_idx = np.searchsorted(CLUSTERED_YEARS, year)
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
