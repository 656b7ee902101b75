"""Event-study plots: point estimates with confidence intervals by relative time."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from evaluatie.core.results import Result


def event_study_plot(
    results: Result | Mapping[str, Result],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str = "effect",
    truth: pd.Series | None = None,
) -> Axes:
    """Plot one or several event studies (overlaid, dodged) with their CIs.

    Each result's ``table`` must be indexed by ``rel_time`` with ``estimate``,
    ``ci_low`` and ``ci_high``. ``truth`` (indexed by relative time) is drawn as a
    dashed line when the true effects are known (simulated data).
    """
    if isinstance(results, Result):
        results = {results.method: results}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    palette = sns.color_palette("colorblind", len(results))
    width = 0.5
    offsets = np.linspace(-width / 2, width / 2, len(results)) if len(results) > 1 else [0.0]
    for (label, res), colour, dx in zip(results.items(), palette, offsets, strict=True):
        table = res.table
        x = table.index.to_numpy(dtype=float) + dx
        est = table["estimate"].to_numpy(dtype=float)
        lo = table["ci_low"].to_numpy(dtype=float)
        hi = table["ci_high"].to_numpy(dtype=float)
        err = np.vstack([est - lo, hi - est])
        ax.errorbar(x, est, yerr=err, fmt="o", color=colour, capsize=3, ms=5, label=label)
    if truth is not None:
        ax.plot(truth.index, truth.to_numpy(), "k--", lw=1, label="true effect")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.axvline(-0.5, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("years relative to first grant (reference: -1)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    sns.despine(ax=ax)
    return ax
