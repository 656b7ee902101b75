"""The sensitivity plot of :func:`evaluatie.honest_did`: one interval per bound ``m``."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes

from evaluatie.core.errors import ParameterError
from evaluatie.core.language import Catalogue, number
from evaluatie.core.results import Result
from evaluatie.plots.labels import localize, outside_legend

TEXTS = Catalogue(
    {
        "original": {"nl": "origineel", "en": "original"},
        "robust": {"nl": "robuust interval ({method})", "en": "robust interval ({method})"},
        "breakdown": {"nl": "omslagpunt m = {value}", "en": "breakdown m = {value}"},
        "relative_magnitude": {
            "nl": "M̄: max. schending na de start, als veelvoud van de grootste ervoor",
            "en": "M̄: largest post-period violation relative to the largest pre-period one",
        },
        "smoothness": {
            "nl": "M: max. verandering van de trendhelling per periode",
            "en": "M: largest change in the slope of the trend per period",
        },
        "effect": {"nl": "effect ({target})", "en": "effect ({target})"},
    }
)


def sensitivity_plot(result: Result, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Intervals of ``result`` (a :func:`evaluatie.honest_did` result) against ``m``, the
    original interval at the left and the breakdown value as a dashed line."""
    kind = result.meta.get("kind")
    if kind not in ("relative_magnitude", "smoothness") or result.overall is None:
        raise ParameterError(f"sensitivity_plot needs an honest_did result, got {result.method}")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    table = result.table
    m = table.index.to_numpy(dtype=float)
    step = float(np.min(np.diff(m))) if len(m) > 1 else max(abs(m[0]), 1.0)
    colour, grey = sns.color_palette("colorblind", 2)[0], "0.35"
    ax.vlines(m, table["ci_low"], table["ci_high"], color=colour, lw=2.5,
              label=TEXTS("robust", method=table["method"].iloc[0]))  # fmt: skip
    o = result.overall
    x0 = m[0] - step
    ax.vlines([x0], [o.ci_low], [o.ci_high], color=grey, lw=2.5, label=TEXTS("original"))
    ax.plot([x0], [o.estimate], "o", color=grey, ms=4)
    breakdown = float(result.meta.get("breakdown", math.nan))
    if math.isfinite(breakdown):
        ax.axvline(breakdown, color="0.2", ls="--", lw=1,
                   label=TEXTS("breakdown", value=number(breakdown, 3)))  # fmt: skip
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xlabel(TEXTS(str(kind)))
    ax.set_ylabel(TEXTS("effect", target=result.meta.get("target", "")))
    if title:
        ax.set_title(title)
    outside_legend(ax)
    sns.despine(ax=ax)
    return localize(ax)
