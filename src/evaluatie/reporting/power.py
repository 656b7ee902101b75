"""What a design could detect, and how much a conclusion depends on the inference.

Both answer a reader's question before they read a p-value: would this design have
found an effect of a size that matters (:func:`mde_sentence`, :func:`mde_table`), and
would the headline's verdict change with another way of computing its p-value
(:func:`inference_alternatives`)?
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from evaluatie.core.errors import EvaluatieError, ParameterError
from evaluatie.core.language import Catalogue, number, percent
from evaluatie.core.memo import reused
from evaluatie.core.results import Result
from evaluatie.inference.choice import same_fit
from evaluatie.reporting.interpret import TEXT as WORDS
from evaluatie.reporting.summary import inference_words

TEXT = Catalogue(
    {
        "head": {
            "nl": "Wat had deze opzet kunnen vinden? Met {n} behandelde eenheden (per {level}) ",
            "en": "What could this design detect? With {n} treated units (by {level}) ",
        },
        "none": {
            "nl": "wordt geen effect op {outcome}, hoe groot ook, met {power} kans "
            "gevonden door de toets die hier gebruikt wordt: er zijn te weinig manieren "
            "om de behandeling opnieuw toe te wijzen voor een kleine p-waarde. Daarvoor "
            "is een opzet met meer behandelde eenheden nodig, of een vergelijking van één "
            "gemeente met haar eigen verleden en met andere gemeenten (single_unit_did).",
            "en": "no effect on {outcome}, however large, is found with {power} probability "
            "by the test used here: there are too few ways to re-assign the treatment for "
            "a small p-value. A design with more treated units, or a comparison of one "
            "gemeente with its own past and with others (single_unit_did), is needed.",
        },
        "some": {
            "nl": "en de eigen ruis van dit panel wordt een effect op {outcome} van "
            "{mde} {unit} ({sd} standaardafwijking) in een van beide richtingen met {power} "
            "kans gevonden door de toets hierboven (randomisatie-inferentie); de simulatie "
            "plaatst dit tussen {low} en {high}. Kleinere effecten kunnen goed onopgemerkt "
            "blijven: een niet-significante uitkomst laat niet zien dat er geen effect van "
            "die grootte was.",
            "en": "and this panel's own noise, an effect on {outcome} of {mde} {unit} ({sd} "
            "standard deviations) in either direction is found with {power} probability by "
            "the test used above (randomization inference); the simulation puts this "
            "between {low} and {high}. Smaller effects may well go unnoticed: a result that "
            "is not significant does not show that there was no effect of that size.",
        },
        "others": {
            "nl": " Met andere aantallen behandelde eenheden: {others}.",
            "en": " With other numbers of treated units: {others}.",
        },
        "no_size": {"nl": "geen effectgrootte", "en": "no effect size"},
        "range": {"nl": "{low} tot {high}", "en": "{low} to {high}"},
        "col.treated": {"nl": "behandelde eenheden", "en": "treated units"},
        "col.mde": {"nl": "MDE", "en": "MDE"},
        "col.mde_sd": {"nl": "MDE (in sd)", "en": "MDE (sd)"},
        "col.range": {"nl": "simulatiebereik", "en": "simulation range"},
        "col.size": {"nl": "onterechte verwerpingen bij nul", "en": "size at zero effect"},
        "col.analytic_mde": {"nl": "MDE, analytische SE", "en": "MDE, analytic SE"},
        "col.analytic_size": {
            "nl": "onterecht verworpen, analytische SE",
            "en": "size, analytic SE",
        },
        "col.how": {"nl": "hoe", "en": "how"},
        "method.analytic": {"nl": "analytisch (clusterrobuust)", "en": "analytic"},
        "method.wild": {"nl": "wild cluster bootstrap", "en": "wild cluster bootstrap"},
        "method.randomization": {"nl": "randomisatie", "en": "randomization"},
        "unavailable": {"nl": "niet beschikbaar: {error}", "en": "not available: {error}"},
    }
)


def _amount(value: float, unit_label: str) -> str:
    return f"{number(value, 2)} {unit_label}" if math.isfinite(value) else TEXT("no_size")


def mde_sentence(
    result: Result, *, outcome_label: str | None = None, unit_label: str | None = None
) -> str:
    """One paragraph on an :func:`evaluatie.mde` result: the effect this design finds
    with the target power, in outcome units and standard deviations, and the others."""
    table = result.table
    meta = result.meta
    if not {"n_treated", "assignment_level", "power"} <= set(meta):
        raise ParameterError(
            f"mde_sentence needs a result of evaluatie.mde, got one of {result.method!r}"
        )
    n = int(meta["n_treated"])
    level = str(meta["assignment_level"])
    row = table.loc[n]
    power = float(meta["power"])
    outcome_label = outcome_label or WORDS("the_outcome")
    unit_label = unit_label or WORDS("points")
    head = TEXT("head", n=n, level=level)
    if not math.isfinite(row["estimate"]):
        text = head + TEXT("none", outcome=outcome_label, power=percent(power))
    else:
        text = head + TEXT(
            "some",
            outcome=outcome_label,
            mde=number(row["estimate"], 2),
            unit=unit_label,
            sd=number(row["estimate_sd"], 2),
            power=percent(power),
            low=number(row["ci_low"], 2),
            high=number(row["ci_high"], 2),
        )
    others = [
        f"{int(k)}: {_amount(float(r['estimate']), unit_label)}"
        for k, r in table.iterrows()
        if int(k) != n
    ]
    if others:
        text += TEXT("others", others="; ".join(others))
    return text


def mde_table(result: Result) -> pd.DataFrame:
    """The MDE per number of treated units, for a report (rounded, plain names)."""
    t = result.table
    ranges = [
        TEXT("range", low=number(lo, 2), high=number(hi, 2))
        for lo, hi in zip(t["ci_low"], t["ci_high"], strict=True)
    ]
    out = pd.DataFrame(
        {
            TEXT("col.mde"): t["estimate"],
            TEXT("col.mde_sd"): t["estimate_sd"],
            TEXT("col.range"): ranges,
            TEXT("col.size"): t["size"],
            TEXT("col.analytic_mde"): t["analytic_mde"],
            TEXT("col.analytic_size"): t["analytic_size"],
        },
        index=t.index.rename(TEXT("col.treated")),
    )
    return out


def inference_alternatives(
    result: Result,
    data: pd.DataFrame,
    *,
    methods: Sequence[str] = ("analytic", "wild", "randomization"),
    term: object = None,
) -> pd.DataFrame:
    """The headline's p-value and interval under each inference in ``methods``: the
    result's call run again on ``data`` with ``inference=`` changed. A method the design
    does not allow gets its reason instead of numbers.

    The row of the call the result came from is the result itself, unless the other
    rows' estimates show that ``data`` is not what it was fitted on (then that row is
    fitted on ``data`` too).
    """
    estimate = result.headline(term).estimate  # a term the table lacks: said before any fit
    call = result.call
    requested = call.get("arguments", {}).get("inference")
    procedure = result.inference.procedure if result.inference is not None else ""
    own = [m for m in methods if same_fit(requested, procedure, m)]
    fits = {m: _fit_or_error(call, m, data) for m in methods if m not in own}
    others = [f.headline(term).estimate for f in fits.values() if isinstance(f, Result)]
    same_data = all(_same_number(e, estimate) for e in others)
    for method in own:
        fits[method] = result if same_data else _fit_or_error(call, method, data)
    rows: dict[str, dict[str, object]] = {}
    for method in methods:
        fitted = fits[method]
        if isinstance(fitted, EvaluatieError):
            rows[method] = {TEXT("col.how"): TEXT("unavailable", error=fitted)}
            continue
        head = fitted.headline(term)
        info = fitted.inference
        rows[method] = {
            "estimate": head.estimate,
            "p": head.p,
            "ci_low": head.ci_low,
            "ci_high": head.ci_high,
            # in words (the technical convention is in the result's meta)
            TEXT("col.how"): inference_words(info.procedure) if info is not None else "",
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = [TEXT(f"method.{m}") if f"method.{m}" in TEXT else m for m in table.index]
    table.index.name = "inference"
    return table


def _fit_or_error(call: dict[str, Any], method: str, data: pd.DataFrame) -> Result | EvaluatieError:
    """The call rerun on ``data`` with ``inference=method``, or why the design refuses it."""
    arguments = {**call.get("arguments", {}), "inference": method}
    try:
        return _rerun({**call, "arguments": arguments}, data)
    except EvaluatieError as error:
        return error


def _same_number(a: float, b: float) -> bool:
    """Equal point estimates (the inference does not change them; NaN equals NaN)."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))


@reused  # the five VVE reports (one per gemeente) rerun the same national fits: 1 s each
def _rerun(call: dict[str, Any], data: pd.DataFrame) -> Result:
    """The recorded ``call`` run on ``data`` (:meth:`Result.rerun`)."""
    return Result(pd.DataFrame(), "", {"call": call}).rerun(data)
