"""Goodman-Bacon decomposition plot: each 2×2 DiD estimate against its weight."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes

from evaluatie.core.language import significant
from evaluatie.estimators.bacon import TYPES, BaconResult
from evaluatie.plots.labels import LABELS, localize, outside_legend


def bacon_plot(
    result: BaconResult,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    unit: str | None = None,
) -> Axes:
    """Scatter of the 2×2 estimates (y) against their weights (x), coloured by comparison
    type, with a horizontal line at the TWFE coefficient (their weighted average;
    Goodman-Bacon 2021, Figure 6). Where the weights span more than a factor 20 the
    x-axis is logarithmic: on a linear one the many small comparisons lie flat on the
    y-axis. ``unit`` (the outcome's) is named on the y-axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    tab = result.table
    present = [t for t in TYPES if (tab["type"] == t).any()]
    palette = dict(zip(TYPES, sns.color_palette("colorblind", len(TYPES)), strict=True))
    markers = dict(zip(TYPES, ("o", "X", "s", "^"), strict=True))
    for kind in present:
        sub = tab[tab["type"] == kind]
        ax.scatter(
            sub["weight"],
            sub["estimate"],
            color=palette[kind],
            marker=markers[kind],
            s=45,
            label=LABELS(kind) if kind in LABELS else kind,
        )
    beta = result.twfe_estimate
    twfe = LABELS("twfe_line", beta=significant(beta, 3))
    ax.axhline(beta, color="0.3", lw=1, ls="--", label=twfe)
    ax.axhline(0, color="0.6", lw=0.6)
    weights = tab.loc[tab["weight"] > 0, "weight"]
    if len(weights) and weights.max() / weights.min() > 20:
        ax.set_xscale("log")
        ax.set_xlabel(LABELS("weight"))
    else:
        ax.set_xlim(left=0)
        ax.set_xlabel(LABELS("weight.linear"))
    ax.set_ylabel(LABELS("bacon_estimate") + (f" ({unit})" if unit else ""))
    if title:
        ax.set_title(title)
    outside_legend(ax)
    sns.despine(ax=ax)
    return localize(ax)
