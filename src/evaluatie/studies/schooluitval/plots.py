"""The schooluitval report's trend plot: the region against the rest of the country."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from evaluatie.core.language import Catalogue
from evaluatie.plots.grid import small_multiples
from evaluatie.plots.labels import LABELS, localize
from evaluatie.sources.vsv import region_rates
from evaluatie.studies.schooluitval.design import GROUPS, VsvData, group_rates

TEXT = Catalogue(
    {
        "rest": {"nl": "rest van Nederland", "en": "rest of the Netherlands"},
        "all": {"nl": "alle leerlingen", "en": "all pupils"},
        "rate": {"nl": "voortijdig schoolverlaters (%)", "en": "early school leavers (%)"},
        "start": {"nl": "start aanpak", "en": "start of the approach"},
    }
)
_COLOURS = sns.color_palette("colorblind", 2)


def _region_vs_rest(rates: pd.DataFrame, code: str) -> pd.DataFrame:
    """Per jaar: the region's rate and the rate of all other regions pooled."""
    regional = region_rates(rates)
    inside = regional["gemeente_code"] == code
    out = {}
    for label, rows in ((code, regional[inside]), ("rest", regional[~inside])):
        sums = rows.groupby("jaar")[["vsv", "leerlingen"]].sum()
        out[label] = 100.0 * sums["vsv"] / sums["leerlingen"]
    return pd.DataFrame(out)


def trend_plot(
    data: VsvData, *, code: str, name: str, first_year: int, labels: dict[str, str]
) -> Figure:
    """The region's VSV rate against the rest of the country, for all pupils and (when
    the data have them) per school type, one panel each with its own scale: MBO1's rate
    is some thirty times VO's."""
    groups: list[str | None] = [None]
    if not data.by_type.empty:
        groups += [g for g in GROUPS if g != "MBO"]
    fig, axes = small_multiples(len(groups))
    for ax, group in zip(axes, groups, strict=True):
        series = _region_vs_rest(group_rates(data, group), code)
        ax.plot(series.index, series[code], marker="o", color=_COLOURS[0], label=name)
        ax.plot(series.index, series["rest"], marker="o", color=_COLOURS[1], label=TEXT("rest"))
        ax.axvline(first_year - 0.5, color="grey", linestyle="--", linewidth=1)
        ax.set_title(TEXT("all") if group is None else labels[group])
        ax.set_xlabel(LABELS("school_year"))
        ax.set_ylabel(TEXT("rate"))
        localize(ax)
    axes[0].legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig
