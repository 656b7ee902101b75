"""Event-study plots: point estimates with confidence intervals by relative time."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from evaluatie.core.errors import EvaluatieError
from evaluatie.core.results import Result
from evaluatie.plots.labels import LABELS, localize, outside_legend


def event_study_plot(
    results: Result | Mapping[str, Result],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    truth: pd.Series | None = None,
    bands: bool = True,
) -> Axes:
    """Plot one or several event studies (overlaid, dodged) with their CIs.

    Each result's ``table`` must be indexed by ``rel_time`` with ``estimate``,
    ``ci_low`` and ``ci_high``. ``truth`` (indexed by relative time) is drawn as a
    dashed line when the true effects are known (simulated data). ``bands``: shade the
    uniform band of every result that has one (``uniform_band()``: analytic inference),
    so the path can be read as a whole.
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
        band = _band(res) if bands else None
        if band is not None:
            ax.fill_between(
                band.index.to_numpy(dtype=float) + dx,
                band["band_low"].to_numpy(dtype=float),
                band["band_high"].to_numpy(dtype=float),
                color=colour,
                alpha=0.12,
                lw=0,
                label=LABELS("uniform_band", label=label),
            )
    if truth is not None:
        ax.plot(truth.index, truth.to_numpy(), "k--", lw=1, label=LABELS("true_effect"))
    ax.axhline(0, color="0.4", lw=0.8)
    ax.axvline(-0.5, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel(LABELS("years_since"))
    ax.set_ylabel(ylabel or LABELS("effect"))
    if title:
        ax.set_title(title)
    outside_legend(ax)
    sns.despine(ax=ax)
    return localize(ax)


def _band(result: Result) -> pd.DataFrame | None:
    """The result's uniform band, or None where it has none (no analytic covariance)."""
    uniform_band = getattr(result, "uniform_band", None)
    if uniform_band is None:
        return None
    try:
        band: pd.DataFrame = uniform_band()
    except EvaluatieError:
        return None
    return band.sort_index()
