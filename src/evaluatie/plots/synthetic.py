"""The three pictures of a synthetic comparison (Abadie, Diamond & Hainmueller 2010,
Figures 2, 4 and 7): the treated unit against its synthetic twin, its gap among the
placebo gaps, and who the twin is made of."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from evaluatie.core.language import Catalogue, number
from evaluatie.estimators.synthetic import SyntheticResult
from evaluatie.plots.labels import localize, outside_legend

TEXTS = Catalogue(
    {
        "treated": {"nl": "{name}", "en": "{name}"},
        "synthetic": {"nl": "synthetisch {name}", "en": "synthetic {name}"},
        "policy": {"nl": "beleid vanaf {period}", "en": "policy from {period}"},
        "gap": {"nl": "verschil met synthetisch {name}", "en": "gap to synthetic {name}"},
        "gap_axis": {"nl": "verschil ({unit})", "en": "gap ({unit})"},
        "placebos": {
            "nl": "{n} vergelijkingseenheden als placebo",
            "en": "{n} donors as placebos",
        },
        "weight": {
            "nl": "gewicht in de synthetische eenheid",
            "en": "weight in the synthetic unit",
        },
        "others": {"nl": "{n} overige (samen {share})", "en": "{n} others (together {share})"},
    }
)


def _policy_line(ax: Axes, period: Any) -> None:
    ax.axvline(period, color="0.4", lw=0.8, ls=":", label=TEXTS("policy", period=period))


def _finish(ax: Axes) -> Axes:
    """Whole periods on the time axis (not 2020,5), the legend outside, numbers localised."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    outside_legend(ax)
    sns.despine(ax=ax)
    return localize(ax)


def _first_post(result: SyntheticResult) -> Any:
    if "post" in result.table:
        return result.table.index[result.table["post"].to_numpy()][0]
    return result.table.index[0]  # synthetic DiD: the (first) cohort's first period


def synthetic_paths(
    result: SyntheticResult, *, name: str, ylabel: str = "", ax: Axes | None = None
) -> Axes:
    """The treated unit's outcome and its synthetic twin's, the policy start marked.

    For synthetic DiD the twin is shifted by the level difference SDID allows, so the two
    lines meet on the time-weighted pre-period average rather than year by year.
    """
    if result.paths is None:
        raise ValueError("the result has no paths to draw")
    paths = result.paths
    if isinstance(paths.columns, pd.MultiIndex):  # several cohorts: the first one's
        paths = paths[paths.columns.get_level_values(0)[0]]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    colors = sns.color_palette("colorblind", 2)
    ax.plot(
        paths.index,
        paths["treated"],
        "-o",
        ms=4,
        color=colors[0],
        label=TEXTS("treated", name=name),
    )
    ax.plot(
        paths.index, paths["synthetic"], "--o", ms=4, color=colors[1], label=TEXTS("synthetic", name=name)
    )  # fmt: skip
    _policy_line(ax, _first_post(result))
    ax.set_ylabel(ylabel)
    return _finish(ax)


def placebo_gaps(
    result: SyntheticResult, *, name: str, unit: str = "", max_pre_ratio: float | None = 5.0,
    ax: Axes | None = None,
) -> Axes:  # fmt: skip
    """The treated unit's gap (bold) among every donor's placebo gap (grey).

    ``max_pre_ratio``: leave out placebos whose pre-period mean squared gap exceeds this
    multiple of the treated unit's (ADH 2010, Figure 5-7: a placebo that never fitted says
    nothing about what a good fit's post-period gap looks like). The p-value uses them all.
    """
    if result.placebos is None:
        raise ValueError("only synthetic control results carry placebo gaps")
    table = result.table
    pre = ~table["post"].to_numpy()
    placebos = result.placebos
    if max_pre_ratio is not None:
        own = float(np.mean(table["estimate"].to_numpy()[pre] ** 2))
        fit = (placebos.to_numpy()[pre] ** 2).mean(axis=0)
        placebos = placebos.loc[:, fit <= max_pre_ratio * max(own, 1e-12)]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(placebos.index, placebos.to_numpy(), color="0.75", lw=0.8)
    ax.plot([], [], color="0.75", lw=0.8, label=TEXTS("placebos", n=placebos.shape[1]))
    ax.plot(
        table.index,
        table["estimate"],
        "-o",
        ms=4,
        color="black",
        lw=2,
        label=TEXTS("gap", name=name),
    )
    ax.axhline(0.0, color="0.3", lw=0.6)
    _policy_line(ax, _first_post(result))
    if unit:
        ax.set_ylabel(TEXTS("gap_axis", unit=unit))
    return _finish(ax)


def donor_weights(result: SyntheticResult, *, top: int = 10, labels: dict | None = None,
                  ax: Axes | None = None) -> Axes:  # fmt: skip
    """The largest donor weights as bars (the first cohort's for synthetic DiD), the rest
    summed in one line; ``labels`` maps unit codes to names."""
    if result.weights is None:
        raise ValueError("the result has no donor weights")
    weights = result.weights.iloc[:, 0].sort_values(ascending=False)
    shown = weights[weights > 0].head(top)
    rest = weights.drop(shown.index)
    names = [str((labels or {}).get(u, u)) for u in shown.index]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(shown) + 1.2))
    ax.barh(names[::-1], shown.to_numpy()[::-1], color=sns.color_palette("colorblind", 1)[0])
    ax.set_xlabel(TEXTS("weight"))
    if (rest > 0).any():
        share = number(float(rest.sum()), digits=2)
        ax.set_title(TEXTS("others", n=int((rest > 0).sum()), share=share), fontsize=9, loc="left")
    sns.despine(ax=ax)
    return localize(ax, axes="x")  # the y axis holds the names
