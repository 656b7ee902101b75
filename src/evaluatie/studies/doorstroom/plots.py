"""The doorstroom report's plot: pass rates per level, gemeente against region and country."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from evaluatie.core.language import Catalogue
from evaluatie.plots.grid import small_multiples
from evaluatie.plots.labels import LABELS, localize

TEXT = Catalogue({"rate": {"nl": "geslaagd (%)", "en": "passed (%)"}})
_COLOURS = {
    "gemeente": sns.color_palette("colorblind")[0],
    "regio": sns.color_palette("colorblind")[1],
    "nederland": "grey",
}


def level_plot(levels: pd.DataFrame, *, labels: dict[str, str], titles: dict[str, str]) -> Figure:
    """One panel per group of :func:`~evaluatie.studies.doorstroom.design.levels`: the
    pass rate per school year of the gemeente, its RMC region and the country."""
    groups = list(dict.fromkeys(levels["group"]))
    fig, axes = small_multiples(len(groups))
    for ax, group in zip(axes, groups, strict=True):
        rows = levels[levels["group"] == group]
        for who, line in rows.groupby("wie", sort=False):
            ax.plot(
                line["jaar"],
                line["slaagpercentage"],
                marker="o",
                color=_COLOURS[who],
                label=labels[who],
            )
        ax.set_title(titles[group])
        ax.set_xlabel(LABELS("school_year"))
        ax.set_ylabel(TEXT("rate"))
        ax.set_xticks(sorted(rows["jaar"].unique()))
        localize(ax)
    axes[0].legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig
