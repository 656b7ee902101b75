"""Descriptive plots of outcomes over time."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from evaluatie.plots.labels import LABELS, localize, outside_legend


def trends_by_cohort(
    panel: pd.DataFrame,
    outcome: str,
    *,
    time: str = "jaar",
    cohort: str = "cohort",
    ax: Axes | None = None,
    ylabel: str | None = None,
) -> Axes:
    """Mean outcome per year for each treatment wave and for never-treated units.

    Years absent from the data (e.g. 2020, no eindtoets) are left as gaps rather than
    bridged, so the plot does not suggest an observation that does not exist.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    wave = panel[cohort].fillna(0).astype(int).rename("group")
    means = panel.groupby([wave, panel[time]])[outcome].mean().unstack(0)
    years = range(int(means.index.min()), int(means.index.max()) + 1)
    means = means.reindex(years)
    groups = sorted(means.columns)  # 0 (never treated) first, then the waves in order
    palette = dict(zip(groups, sns.color_palette("colorblind", len(groups)), strict=True))
    for group in groups:
        never = group == 0
        label = LABELS("never_treated") if never else LABELS("wave", year=group)
        style = "--" if never else "-"
        ax.plot(
            means.index, means[group], style, marker="o", ms=4, color=palette[group], label=label
        )
        if not never:
            ax.axvline(int(group), color=palette[group], lw=0.8, ls=":")
    ax.set_xlabel(LABELS("school_year"))
    ax.set_ylabel(ylabel or outcome)
    outside_legend(ax)
    sns.despine(ax=ax)
    return localize(ax)
