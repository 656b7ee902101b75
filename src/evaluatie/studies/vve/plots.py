"""Plots for the VVE funding study: budget changes, dose-response, dose event study."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from evaluatie.core.language import Catalogue, number
from evaluatie.core.results import Result
from evaluatie.estimators.contdid import ContDidResult
from evaluatie.plots.labels import LABELS, localize, outside_legend
from evaluatie.studies.vve.design import VveStudy, has_series

_MARK = sns.color_palette("colorblind", 8)

TEXT = Catalogue(
    {
        "budget_change": {"nl": "verandering OAB-budget (%)", "en": "change in OAB budget (%)"},
        "dose": {
            "nl": "verandering financiering per doelgroepkind (× € 1.000)",
            "en": "change in funding per target child (EUR 1,000)",
        },
        "comparison": {"nl": "vergelijkingsgroep", "en": "comparison group"},
        "sorted": {"nl": "gemeenten, gesorteerd", "en": "gemeenten, sorted"},
        "budget_title": {"nl": "OAB-budget 2018 → 2022", "en": "OAB budget 2018 → 2022"},
        "dose_title": {"nl": "beleidsdosis", "en": "policy dose"},
        "band": {"nl": "95%-band (hele curve)", "en": "95% uniform band (whole curve)"},
        "pointwise": {"nl": "95%-BI per dosis", "en": "95% pointwise CI"},
        "curve": {"nl": "ATT(d), continue DiD", "en": "ATT(d), continuous DiD"},
        "twfe": {"nl": "vaste effecten (lineair)", "en": "TWFE (linear)"},
        "dose_axis": {
            "nl": "beleidsdosis: verandering financiering per doelgroepkind (× € 1.000 per jaar)",
            "en": "policy dose: change in funding per target child (EUR 1,000 per year)",
        },
        "estimate": {"nl": "schatting", "en": "estimate"},
        "measured_year": {
            "nl": "gemeten schooljaar (eindjaar; referentie {ref})",
            "en": "measured school year (end year; reference {ref})",
        },
        "share_received": {
            "nl": "aandeel van de verandering ontvangen",
            "en": "share of the change received",
        },
        "per_1000": {"nl": "{unit} per € 1.000", "en": "{unit} per EUR 1,000"},
        "cut": {
            "nl": "De simultane band is afgekapt aan de as waar weinig gemeenten de curve dragen.",
            "en": "The uniform band is cut at the axis where few gemeenten carry the curve.",
        },
    }
)


def budget_change_plot(
    doses: pd.DataFrame,
    marked: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
    *,
    comparison_band: float | None = None,
) -> Figure:
    """Every gemeente's budget change (%) and change in funding per target child, sorted.

    ``doses`` is :func:`evaluatie.studies.vve.design.policy_dose` (indexed by gemeente code);
    ``marked`` gemeenten are drawn larger and named; ``comparison_band`` shades the comparison
    group's range of the per-child change.
    """
    names = names or {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = (("budget_change_pct", TEXT("budget_change")), ("dose", TEXT("dose")))
    for ax, (col, label) in zip(axes, panels, strict=True):
        values = doses[col].sort_values()
        rank = np.arange(len(values))
        ax.scatter(rank, values.to_numpy(), s=6, color="0.55", lw=0)
        for i, code in enumerate(c for c in marked if c in values.index):
            x = int(values.index.get_loc(code))
            y = float(values[code])
            colour = _MARK[i % len(_MARK)]
            ax.scatter([x], [y], s=45, color=colour, zorder=3, edgecolor="black", lw=0.6)
            left = x < len(values) / 2  # label towards the middle of the panel
            shown = number(y, 1, signed=True) + ("%" if col == "budget_change_pct" else "")
            ax.annotate(
                f"{names.get(code, code)} ({shown})",
                (x, y),
                xytext=(8 if left else -8, 10 if y >= 0 else -14),
                textcoords="offset points",
                ha="left" if left else "right",
                fontsize=9,
                color=colour,
            )
        ax.axhline(0, color="0.3", lw=0.8)
        if col == "dose" and comparison_band is not None:
            ax.axhspan(
                -comparison_band, comparison_band, color="0.85", zorder=0, label=TEXT("comparison")
            )
            ax.legend(frameon=False, loc="upper left")
        ax.set_xlabel(TEXT("sorted"))
        ax.set_ylabel(label)
        ax.margins(x=0.12)  # room for the labels of the gemeenten at either end
        sns.despine(ax=ax)
        localize(ax)
    axes[0].set_title(TEXT("budget_title"))
    axes[1].set_title(TEXT("dose_title"))
    fig.tight_layout()
    return fig


def dose_response_plot(
    results: ContDidResult | Mapping[str, ContDidResult],
    *,
    ax: Axes | None = None,
    truth: pd.Series | Mapping[str, pd.Series | None] | None = None,
    slope: float | None = None,
    doses: np.ndarray | None = None,
    comparison_band: float | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """ATT(d) with its pointwise CI and, lighter, its uniform band (the whole curve at
    once) from one or several continuous DiD results (``result.curve``; e.g. one per side
    of the redistribution, drawn alike).

    ``truth`` (indexed by dose; per result when a mapping) is drawn dashed on simulated
    data; ``slope`` adds a line through the origin (e.g. TWFE's, in the same dose units);
    ``doses`` draws a rug of the gemeenten's doses; ``comparison_band`` shades the comparison group.
    """
    if isinstance(results, ContDidResult):
        results = {"": results}
    if truth is None or isinstance(truth, pd.Series):
        truth = dict.fromkeys(results, truth) if len(results) == 1 else {}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    first = True
    for key, res in results.items():
        curve = res.curve
        d = curve["dose"].to_numpy(dtype=float)
        if "att_band_low" in curve:
            ax.fill_between(
                d, curve["att_band_low"], curve["att_band_high"], color=_MARK[0], alpha=0.1,
                lw=0, label=TEXT("band") if first else None,
            )  # fmt: skip
        ax.fill_between(
            d, curve["att_ci_low"], curve["att_ci_high"], color=_MARK[0], alpha=0.2, lw=0,
            label=TEXT("pointwise") if first else None,
        )  # fmt: skip
        ax.plot(d, curve["att"], color=_MARK[0], lw=2,
                label=TEXT("curve") if first else None)  # fmt: skip
        true = truth.get(key)
        if true is not None:
            ax.plot(true.index, true.to_numpy(), "k--", lw=1.2,
                    label=LABELS("true_effect") if first else None)  # fmt: skip
        first = False
    _clip_to_pointwise(ax, results, truth)
    if slope is not None:
        lo, hi = ax.get_xlim()
        x = np.array([lo, hi])
        ax.plot(x, slope * x, color=_MARK[1], lw=1.2, ls="-.", label=TEXT("twfe"))
    if comparison_band is not None:
        ax.axvspan(
            -comparison_band, comparison_band, color="0.88", zorder=0, label=TEXT("comparison")
        )
    if doses is not None:
        lo = ax.get_ylim()[0]
        ax.plot(doses, np.full(len(doses), lo), "|", color="0.4", ms=8, alpha=0.6)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xlabel(TEXT("dose_axis"))
    ax.set_ylabel(ylabel or LABELS("effect"))
    if title:
        ax.set_title(title)
    outside_legend(ax)
    sns.despine(ax=ax)
    return localize(ax)


def dose_event_plot(
    result: Result,
    *,
    ax: Axes | None = None,
    share: pd.Series | None = None,
    truth: pd.Series | None = None,
    ylabel: str | None = None,
    unit: str | None = None,
    title: str | None = None,
) -> Axes:
    """Dose event-study coefficients by measured year; ``share`` (0..1 by year, e.g. the
    measured cohort's share of the full funding change) on a second axis. The y-axis
    reads "<unit> per € 1.000" (``unit``: the outcome's) unless ``ylabel`` is given."""
    table = result.table
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    x = table.index.to_numpy(dtype=float)
    est = table["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - table["ci_low"], table["ci_high"] - est])
    ax.errorbar(x, est, yerr=err, fmt="o", color=_MARK[0], capsize=3, ms=5, label=TEXT("estimate"))
    if truth is not None:
        ax.plot(truth.index, truth.to_numpy(), "k--", lw=1, label=LABELS("true_effect"))
    ref = result.meta["reference"]
    ax.axvline(ref + 0.5, color="0.6", lw=0.8, ls=":")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xlabel(TEXT("measured_year", ref=ref))
    ax.set_ylabel(ylabel or TEXT("per_1000", unit=unit or LABELS("effect")))
    localize(ax)
    if share is not None:
        twin = ax.twinx()
        twin.step(share.index, share.to_numpy(), where="mid", color=_MARK[2], lw=1.2)
        twin.set_ylim(0, 1.05)
        twin.set_ylabel(TEXT("share_received"), color=_MARK[2])
        localize(twin)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, loc="upper left")
    return ax


def _clip_to_pointwise(
    ax: Axes, results: Mapping[str, ContDidResult], truth: Mapping[str, pd.Series | None]
) -> None:
    """Keep the y-axis on the pointwise intervals and the truth: where one or two
    gemeenten carry the curve the uniform band can be many times wider, and drawn in
    full it would flatten everything else. Said on the plot when it is cut."""
    parts = [
        r.curve[["att_ci_low", "att_ci_high", "att"]].to_numpy(dtype=float)
        for r in results.values()
    ]
    parts += [t.to_numpy(dtype=float) for t in truth.values() if t is not None]
    values = np.concatenate([p.ravel() for p in parts])
    values = values[np.isfinite(values)]
    if not values.size:
        return
    lo, hi = float(values.min()), float(values.max())
    pad = 0.3 * max(hi - lo, 1e-9)
    lo, hi = lo - pad, hi + pad
    band = [
        r.curve[["att_band_low", "att_band_high"]].to_numpy(dtype=float)
        for r in results.values()
        if "att_band_low" in r.curve
    ]
    if band and (np.nanmin(np.concatenate(band)) < lo or np.nanmax(np.concatenate(band)) > hi):
        ax.set_ylim(lo, hi)
        ax.text(
            0.0, -0.2, TEXT("cut"),
            transform=ax.transAxes, fontsize=8, color="0.35", va="top",
        )  # fmt: skip


def focus_plot(
    study: VveStudy,
    code: str,
    name: str,
    *,
    ax: Axes | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Axes | None:
    """One gemeente's outcome by measured year beside the comparison group's
    (pupil-weighted mean), with the reference year marked: what the gemeente's own
    difference-in-differences compares, for a reader to see. ``None`` (and no figure)
    when the gemeente has no complete series."""
    if not has_series(study, code):
        return None
    panel = study.gemeenten
    outcome = study.outcome
    own = panel[panel["gemeente_code"] == code].set_index("jaar")[outcome].sort_index()
    comparison = panel[panel["group"] == "comparison"]
    weighted = comparison.assign(_w=comparison[outcome] * comparison["n_pupils"])
    sums = weighted.groupby("jaar")[["_w", "n_pupils"]].sum()
    mean = (sums["_w"] / sums["n_pupils"]).sort_index()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    ax.plot(own.index, own.to_numpy(), "o-", color=_MARK[0], lw=2, label=name)
    ax.plot(mean.index, mean.to_numpy(), "s--", color="0.45", lw=1.2, label=TEXT("comparison"))
    ax.axvline(study.reference + 0.5, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel(TEXT("measured_year", ref=study.reference))
    ax.set_ylabel(ylabel or outcome)
    if title:
        ax.set_title(title)
    outside_legend(ax)
    sns.despine(ax=ax)
    return localize(ax)
