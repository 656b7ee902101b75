"""How wrong could an event study be if trends were not quite parallel? The
:func:`evaluatie.honest_did` analysis in one sentence, or why it is not given."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from evaluatie.core.errors import EvaluatieError
from evaluatie.core.language import Catalogue, number
from evaluatie.core.results import Result
from evaluatie.reporting.summary import inference_words

if TYPE_CHECKING:
    from evaluatie.estimators.honest import HonestResult

TEXT = Catalogue(
    {
        "breakdown": {
            "nl": "**Gevoeligheid voor niet-parallelle trends** (Rambachan & Roth 2023, {target}, "
            "ten opzichte van periode {reference}): het effect blijft van nul verschillen "
            "zolang de afwijking van de trend na de start hooguit {m} keer zo groot is als de "
            "grootste afwijking tussen twee jaren ervóór.",
            "en": "**Sensitivity to non-parallel trends** (Rambachan & Roth 2023, {target}, "
            "relative to period {reference}): the effect stays different from zero as long as "
            "the trend's deviation after the start is at most {m} times the largest deviation "
            "between two years before it.",
        },
        "never": {
            "nl": "**Gevoeligheid voor niet-parallelle trends** (Rambachan & Roth 2023): ook "
            "zonder afwijking van parallelle trends omvat het interval nul; er valt niets om "
            "te laten omslaan.",
            "en": "**Sensitivity to non-parallel trends** (Rambachan & Roth 2023): even with "
            "exactly parallel trends the interval holds zero; there is nothing to overturn.",
        },
        "robust": {
            "nl": "**Gevoeligheid voor niet-parallelle trends** (Rambachan & Roth 2023): het "
            "effect blijft van nul verschillen bij elke onderzochte afwijking (tot {m} keer "
            "de grootste vóór de start).",
            "en": "**Sensitivity to non-parallel trends** (Rambachan & Roth 2023): the effect "
            "stays different from zero at every deviation examined (up to {m} times the "
            "largest before the start).",
        },
        "impossible": {
            "nl": "**Geen gevoeligheidsanalyse voor niet-parallelle trends** (Rambachan & Roth "
            "2023) voor deze event study: {reason}",
            "en": "**No sensitivity analysis for non-parallel trends** (Rambachan & Roth 2023) "
            "for this event study: {reason}",
        },
        "unavailable": {
            "nl": "**Geen gevoeligheidsanalyse voor niet-parallelle trends** (Rambachan & Roth "
            "2023): die rust op de covariantie van de event-study-schattingen, en met te "
            "weinig behandelde clusters is die niet te vertrouwen (daarom komen de p-waarden "
            "hierboven uit {procedure}). Lees in plaats daarvan de toets op pre-trends; met "
            "50 of meer behandelde clusters is de analyse wel mogelijk.",
            "en": "**No sensitivity analysis for non-parallel trends** (Rambachan & Roth 2023): "
            "it rests on the covariance of the event-study estimates, which cannot be trusted "
            "with too few treated clusters (hence the p-values above come from {procedure}). "
            "Read the pre-trend test instead; with 50 or more treated clusters the analysis "
            "is possible.",
        },
    }
)


def sensitivity(event_study: Result) -> tuple[HonestResult | None, str]:
    """:func:`evaluatie.honest_did` (relative magnitudes, first post period) of
    ``event_study`` and its sentence; ``None`` and the reason where the event study's
    inference leaves no covariance to trust (few treated clusters), or where the event
    study cannot carry the analysis (its own message: too few pre-periods, gaps)."""
    # Here, not at the top: the workbench imports evaluatie.reporting, and with the
    # estimators it would load scipy.stats (0.35 s) into every command.
    from evaluatie.estimators.honest import TRUSTED, honest_did

    info = event_study.inference
    procedure = info.procedure if info is not None else ""
    if procedure not in TRUSTED:
        return None, TEXT("unavailable", procedure=inference_words(procedure))
    try:
        result = honest_did(event_study)
    except EvaluatieError as exc:  # e.g. one pre-period only, or gaps in the event times
        return None, TEXT("impossible", reason=str(exc))
    breakdown = result.breakdown
    if math.isnan(breakdown):
        return result, TEXT("never")
    if math.isinf(breakdown):
        return result, TEXT("robust", m=number(float(result.table.index.max()), 2))
    return result, TEXT(
        "breakdown",
        m=number(breakdown, 2),
        target=result.meta["target"],
        reference=result.meta["reference_period"],
    )
