"""Data overview tables for the top of a report."""

from __future__ import annotations

import pandas as pd


def panel_overview(
    panel: pd.DataFrame,
    outcome: str,
    *,
    unit: str = "vestiging",
    time: str = "jaar",
    cohort: str = "cohort",
    gemeente: str = "gemeente_code",
) -> pd.DataFrame:
    """Per year: schools, gemeenten, schools with the outcome, its mean and SD, share treated."""
    treated = (panel[cohort].fillna(0) > 0) & (panel[time] >= panel[cohort].fillna(0))
    grouped = panel.assign(_treated=treated).groupby(time)
    table = pd.DataFrame(
        {
            "schools": grouped[unit].nunique(),
            "gemeenten": grouped[gemeente].nunique(),
            "with outcome": grouped[outcome].count(),
            "mean": grouped[outcome].mean(),
            "sd": grouped[outcome].std(),
            "share treated": grouped["_treated"].mean(),
        }
    )
    table.index.name = time
    return table


def cohort_overview(
    panel: pd.DataFrame, *, unit: str = "vestiging", cohort: str = "cohort"
) -> pd.DataFrame:
    """Number of schools per treatment wave (0 = never treated)."""
    waves = panel.groupby(unit)[cohort].first().fillna(0).astype(int)
    table = waves.value_counts().sort_index().rename("schools").to_frame()
    table.index = table.index.map(lambda g: "never treated" if g == 0 else f"wave {g}")
    table.index.name = "group"
    return table
