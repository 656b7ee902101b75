"""The *bestuurlijke samenvatting*: three to five sentences a wethouder can read first,
followed by the questions of the Regeling Periodiek Evaluatieonderzoek (RPE 2022).

Generated from the numbers, like every sentence of a report: the effect in the
outcome's own unit and relative to its level before and its spread, the interval, how
sure the data are in words, and what size of effect the design could have found. Then,
answered in a few lines each, what the RPE asks of an evaluation (:func:`rpe_sections`):
which policy and goal, whether the goal was reached *thanks to* the policy
(doeltreffendheid), the design and its identifying assumption, robustness, and the
limitations. The notebook computes all this where the numbers are, and
:func:`show_summary` marks it so that the report puts it on the first screen, under the
title (:func:`evaluatie.workbench.report.lift_summary`); the technical sections follow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from evaluatie.core.language import Catalogue, number, p_statement, percent

SUMMARY_MIME = "application/vnd.evaluatie.summary+json"

TEXT = Catalogue(
    {
        "title": {"nl": "Bestuurlijke samenvatting", "en": "Summary"},
        "rpe.policy": {"nl": "Welk beleid, welk doel", "en": "Which policy, which goal"},
        "rpe.effect": {
            "nl": "Doeltreffendheid: is het doel bereikt dankzij het beleid?",
            "en": "Effectiveness: was the goal reached thanks to the policy?",
        },
        "rpe.design": {"nl": "Opzet en aanname", "en": "Design and assumption"},
        "rpe.robustness": {"nl": "Robuustheid", "en": "Robustness"},
        "rpe.limits": {"nl": "Beperkingen", "en": "Limitations"},
        "rpe.thanks": {
            "nl": "Dat dit *dankzij* {policy} is, volgt alleen als de aanname hieronder klopt.",
            "en": "That this is *thanks to* {policy} follows only if the assumption below holds.",
        },
        "rpe.simulated": {
            "nl": "De gegevens zijn gesimuleerd: de uitkomst zegt iets over de methode, niets "
            "over echte scholen of gemeenten.",
            "en": "The data are simulated: the result speaks about the method, not about real "
            "schools or gemeenten.",
        },
        "rpe.details": {
            "nl": "De technische verantwoording staat hieronder (uitklappen).",
            "en": "The technical detail is below (click to unfold).",
        },
        "technical": {
            "nl": "Technische verantwoording: methoden, tabellen en figuren",
            "en": "Technical detail: methods, tables and figures",
        },
        "effect": {
            "nl": "{who} veranderde {subject} na de start met gemiddeld {estimate} {unit}",
            "en": "{who}, {subject} changed by {estimate} {unit} on average after the start",
        },
        "relative": {
            "nl": "; dat is {share} van het niveau vooraf ({level}) en {sd} standaardafwijking",
            "en": "; that is {share} of the level before ({level}) and {sd} standard deviations",
        },
        "interval": {
            "nl": "Met 95% betrouwbaarheid ligt het effect tussen {low} en {high} {unit} "
            "({inference}).",
            "en": "With 95% confidence the effect lies between {low} and {high} {unit} "
            "({inference}).",
        },
        "sure": {
            "nl": "Dat het effect {direction} is, is vrijwel zeker ({p}).",
            "en": "The data leave little doubt that the effect is {direction} ({p}).",
        },
        "likely": {
            "nl": "De gegevens wijzen op een {direction} effect ({p}), maar de "
            "onzekerheid is groot: de grenzen van het interval liggen ver uit elkaar.",
            "en": "The data point to a {direction} effect ({p}), but the uncertainty "
            "is large: the interval is wide.",
        },
        "unsure": {
            "nl": "Het effect is niet te onderscheiden van nul ({p}): de gegevens "
            "passen ook bij geen effect.",
            "en": "The effect cannot be told apart from zero ({p}): the data also fit "
            "no effect at all.",
        },
        "no_test": {
            "nl": "Voor deze opzet is geen eerlijke p-waarde te geven; lees het interval.",
            "en": "No honest p-value exists for this design; read the interval.",
        },
        "positive": {"nl": "positief", "en": "positive"},
        "negative": {"nl": "negatief", "en": "negative"},
        "mde": {
            "nl": "Deze opzet vindt een effect van {mde} {unit} of groter met 80% kans; "
            "kleinere effecten kunnen onopgemerkt blijven.",
            "en": "This design finds an effect of {mde} {unit} or more with 80% "
            "probability; smaller effects may go unnoticed.",
        },
        "inference.analytic": {
            "nl": "clusterrobuuste standaardfout",
            "en": "cluster-robust standard error",
        },
        "inference.wild cluster bootstrap": {
            "nl": "wild cluster bootstrap",
            "en": "wild cluster bootstrap",
        },
        "inference.randomization": {
            "nl": "randomisatie-inferentie: de behandeling opnieuw toegewezen",
            "en": "randomization inference: the treatment re-assigned",
        },
        "inference.placebo": {
            "nl": "placebo-interval uit de vergelijkingsgemeenten",
            "en": "placebo interval from the comparison gemeenten",
        },
        "inference.placebo_regions": {
            "nl": "placebo-interval uit de vergelijkingsregio's",
            "en": "placebo interval from the comparison regions",
        },
        "inference.multiplier bootstrap": {
            "nl": "multiplier bootstrap",
            "en": "multiplier bootstrap",
        },
        "no_mde": {
            "nl": "Geen enkel effect, hoe groot ook, is met deze opzet betrouwbaar aan te "
            "tonen: er zijn te weinig vergelijkingen voor een kleine p-waarde.",
            "en": "No effect, however large, can be shown reliably with this design: there "
            "are too few comparisons for a small p-value.",
        },
    }
)


@dataclass(frozen=True)
class Finding:
    """What the summary says, in the report's language.

    ``who`` names where the effect was measured ("Op de subsidiescholen", "In Leiden"),
    ``subject`` the outcome as a sentence's subject ("de gemiddelde eindtoetsscore"),
    ``inference`` how the interval was made, in words. ``baseline`` and ``sd`` are the
    outcome's mean and standard deviation before the start among the treated; ``mde``
    the minimum detectable effect (``inf``: none is detectable; ``None``: not computed).
    """

    who: str
    subject: str
    unit: str
    estimate: float
    ci_low: float
    ci_high: float
    p: float
    inference: str
    baseline: float | None = None
    sd: float | None = None
    mde: float | None = None
    #: The unit of the outcome's level, where it differs from that of its changes
    #: (a share: level in %, changes in percentage points).
    level_unit: str | None = None


def _with_unit(value: str, unit: str) -> str:
    return f"{value}{unit}" if unit == "%" else f"{value} {unit}"  # "6,2%", "535,0 punten"


def inference_words(procedure: str | None) -> str:
    """How an interval was made, in the reader's words (the procedure's name otherwise)."""
    key = f"inference.{procedure}"
    return TEXT(key) if key in TEXT else str(procedure or "")


def summary_sentences(finding: Finding) -> list[str]:
    """Three to five sentences from ``finding`` (see the module docstring)."""
    f = finding
    unit = f.unit
    effect = TEXT(
        "effect",
        who=f.who,
        subject=f.subject,
        estimate=number(f.estimate, 2, signed=True),
        unit=unit,
    )
    if f.baseline and f.sd and math.isfinite(f.baseline) and f.sd > 0:
        effect += TEXT(
            "relative",
            share=percent(f.estimate / f.baseline, 1, signed=True),
            level=_with_unit(number(f.baseline, 1), f.level_unit or unit),
            sd=number(f.estimate / f.sd, 2, signed=True),
        )
    out = [effect + "."]
    if math.isfinite(f.ci_low) and math.isfinite(f.ci_high):
        low, high = number(f.ci_low, 2, signed=True), number(f.ci_high, 2, signed=True)
        out.append(TEXT("interval", low=low, high=high, unit=unit, inference=f.inference))
    direction = TEXT("positive" if f.estimate > 0 else "negative")
    excludes_zero = f.ci_low > 0 or f.ci_high < 0
    if not math.isfinite(f.p):
        out.append(TEXT("no_test"))
    elif excludes_zero and f.p < 0.01:
        out.append(TEXT("sure", direction=direction, p=p_statement(f.p)))
    elif excludes_zero or f.p < 0.05:
        out.append(TEXT("likely", direction=direction, p=p_statement(f.p)))
    else:
        out.append(TEXT("unsure", p=p_statement(f.p)))
    if f.mde is not None:
        if math.isfinite(f.mde):
            out.append(TEXT("mde", mde=number(f.mde, 2), unit=unit))
        else:
            out.append(TEXT("no_mde"))
    return out


def rpe_sections(
    *,
    policy: str,
    effect: str,
    thanks_to: str,
    design: str,
    robustness: str,
    limitations: Sequence[str],
    simulated: bool,
) -> list[tuple[str, str]]:
    """The RPE questions with their answers, as (heading, Markdown) pairs in the
    report's language. ``effect`` is followed by the caveat that it is *thanks to*
    ``thanks_to`` (the policy, as a noun phrase) only under the design's assumption;
    ``limitations`` becomes a list, with the simulated data last when ``simulated``."""
    items = [*limitations, TEXT("rpe.simulated")] if simulated else list(limitations)
    limits = "\n".join(f"- {item}" for item in items if item)
    return [
        (TEXT("rpe.policy"), policy),
        (TEXT("rpe.effect"), f"{effect} {TEXT('rpe.thanks', policy=thanks_to)}"),
        (TEXT("rpe.design"), design),
        (TEXT("rpe.robustness"), robustness),
        (TEXT("rpe.limits"), f"{limits}\n\n{TEXT('rpe.details')}"),
    ]


def summary_markdown(sentences: Sequence[str], sections: Sequence[tuple[str, str]] = ()) -> str:
    """The summary as one Markdown section (without its heading): the sentences, then
    each of ``sections`` under its own subheading."""
    parts = [" ".join(s.strip() for s in sentences if s.strip())]
    parts += [f"### {heading}\n\n{text.strip()}" for heading, text in sections]
    return "\n\n".join(parts)


def show_summary(sentences: Sequence[str], sections: Sequence[tuple[str, str]] = ()) -> None:
    """Display the summary (and the RPE ``sections``), marked so that the report lifts
    it to the first screen."""
    from IPython.display import display

    text = summary_markdown(sentences, sections)
    markdown = f"## {TEXT('title')}\n\n{text}"
    display(
        {"text/markdown": markdown, "text/plain": markdown, SUMMARY_MIME: {"text": text}},
        raw=True,
    )
