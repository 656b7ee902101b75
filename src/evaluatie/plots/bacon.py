"""Goodman-Bacon decomposition plot: each 2×2 DiD estimate against its weight."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes

from evaluatie.estimators.bacon import TYPES, BaconResult


def bacon_plot(result: BaconResult, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Scatter of the 2×2 estimates (y) against their weights (x), coloured by comparison
    type, with a horizontal line at the TWFE coefficient (their weighted average;
    Goodman-Bacon 2021, Figure 6)."""
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
            label=kind,
        )
    beta = result.twfe_estimate
    ax.axhline(beta, color="0.3", lw=1, ls="--", label=f"TWFE = {beta:.3g}")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel("weight")
    ax.set_ylabel("2x2 DiD estimate")
    ax.set_xlim(left=0)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    sns.despine(ax=ax)
    return ax
