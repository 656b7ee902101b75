"""Plot text in the report's language, and axes that write numbers as it does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matplotlib.ticker import ScalarFormatter

from evaluatie.core.language import Catalogue, current_language

if TYPE_CHECKING:
    from matplotlib.axes import Axes

LABELS = Catalogue(
    {
        "never_treated": {"nl": "nooit behandeld", "en": "never treated"},
        "wave": {"nl": "golf {year}", "en": "wave {year}"},
        "school_year": {"nl": "schooljaar (eindjaar)", "en": "school year (end year)"},
        "uniform_band": {"nl": "{label}: 95%-band (simultaan)", "en": "{label}: 95% uniform band"},
        "true_effect": {"nl": "waar effect (simulatie)", "en": "true effect (simulation)"},
        "years_since": {
            "nl": "jaren sinds de eerste subsidie (referentie: −1)",
            "en": "years relative to first grant (reference: −1)",
        },
        "effect": {"nl": "effect", "en": "effect"},
        "weight": {"nl": "gewicht (logaritmische schaal)", "en": "weight (log scale)"},
        "weight.linear": {"nl": "gewicht", "en": "weight"},
        "bacon_estimate": {"nl": "2×2-schatting", "en": "2×2 DiD estimate"},
        "twfe_line": {"nl": "vaste effecten = {beta}", "en": "TWFE = {beta}"},
        # the comparison types of evaluatie.bacon
        "earlier vs later treated": {
            "nl": "eerder tegen later behandeld",
            "en": "earlier vs later treated",
        },
        "later vs earlier treated": {
            "nl": "later tegen eerder behandeld",
            "en": "later vs earlier treated",
        },
        "treated vs never treated": {
            "nl": "behandeld tegen nooit behandeld",
            "en": "treated vs never treated",
        },
        "treated vs already treated": {
            "nl": "behandeld tegen al behandeld",
            "en": "treated vs already treated",
        },
    }
)


class _LocalFormatter(ScalarFormatter):
    """matplotlib's tick labels with a decimal comma in Dutch (no locale needed)."""

    def __call__(self, x: float, pos: Any = None) -> str:
        text = super().__call__(x, pos)
        if current_language() == "nl":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text


def localize(ax: Axes, *, axes: str = "xy") -> Axes:
    """Tick labels of the numeric ``axes`` ("x", "y" or "xy") in the report's language (a
    log axis keeps its own; a categorical axis is left out, or its labels become numbers)."""
    for axis in [a for name, a in (("x", ax.xaxis), ("y", ax.yaxis)) if name in axes]:
        if axis.get_scale() == "linear":
            formatter = _LocalFormatter(useOffset=False)
            axis.set_major_formatter(formatter)
    return ax


def outside_legend(ax: Axes) -> None:
    """The legend right of the plot, where it covers no data (a band, a line)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
