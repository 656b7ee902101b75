"""Data overview tables for the top of a report."""

from __future__ import annotations

import pandas as pd

from evaluatie.core.language import Catalogue
from evaluatie.estimators.bacon import BaconResult
from evaluatie.plots.labels import LABELS

COLUMNS = Catalogue(
    {
        "schools": {"nl": "scholen", "en": "schools"},
        "gemeenten": {"nl": "gemeenten", "en": "gemeenten"},
        "with outcome": {"nl": "met uitkomst", "en": "with outcome"},
        "mean": {"nl": "gemiddelde", "en": "mean"},
        "sd": {"nl": "standaardafwijking", "en": "sd"},
        "share treated": {"nl": "aandeel behandeld (%)", "en": "share treated (%)"},
        "never treated": {"nl": "nooit behandeld", "en": "never treated"},
        "wave": {"nl": "golf {year}", "en": "wave {year}"},
        "group": {"nl": "groep", "en": "group"},
        "type": {"nl": "vergelijking", "en": "comparison"},
        "n_comparisons": {"nl": "aantal 2×2", "en": "number of 2×2s"},
        "contribution": {"nl": "bijdrage", "en": "contribution"},
    }
)


def panel_overview(
    panel: pd.DataFrame,
    outcome: str,
    *,
    unit: str = "vestiging",
    time: str = "jaar",
    cohort: str = "cohort",
    gemeente: str = "gemeente_code",
) -> pd.DataFrame:
    """Per year: schools, gemeenten, schools with the outcome, its mean and SD, and the
    percentage of schools already treated."""
    treated = (panel[cohort].fillna(0) > 0) & (panel[time] >= panel[cohort].fillna(0))
    grouped = panel.assign(_treated=treated).groupby(time)
    table = pd.DataFrame(
        {
            COLUMNS("schools"): grouped[unit].nunique(),
            COLUMNS("gemeenten"): grouped[gemeente].nunique(),
            COLUMNS("with outcome"): grouped[outcome].count(),
            COLUMNS("mean"): grouped[outcome].mean(),
            COLUMNS("sd"): grouped[outcome].std(),
            COLUMNS("share treated"): 100 * grouped["_treated"].mean(),
        }
    )
    table.index.name = time
    return table


def cohort_overview(
    panel: pd.DataFrame, *, unit: str = "vestiging", cohort: str = "cohort"
) -> pd.DataFrame:
    """Number of schools per treatment wave (0 = never treated)."""
    waves = panel.groupby(unit)[cohort].first().fillna(0).astype(int)
    table = waves.value_counts().sort_index().rename(COLUMNS("schools")).to_frame()
    table.index = table.index.map(
        lambda g: COLUMNS("never treated") if g == 0 else COLUMNS("wave", year=g)
    )
    table.index.name = COLUMNS("group")
    return table


def bacon_table(result: BaconResult) -> pd.DataFrame:
    """The decomposition by comparison type, with the types and columns named for a reader."""
    table = result.by_type()
    table.index = [LABELS(t) if t in LABELS else t for t in table.index]
    table.index.name = COLUMNS("type")
    return table.rename(columns={c: COLUMNS(c) for c in ("n_comparisons", "contribution")})
