"""Sentences generated from the numbers, so that the text never disagrees with the tables.

Every sentence exists in Dutch and English (:data:`TEXT`) and is written in the
report's language (:func:`evaluatie.core.language.set_language`), numbers included.
"""

from __future__ import annotations

import numpy as np

from evaluatie.core.language import Catalogue, number, p_statement
from evaluatie.core.results import Result

TEXT = Catalogue(
    {
        "effect": {
            "nl": "Na de start veranderde {outcome} op {treated} met {estimate} {unit} "
            "ten opzichte van de vergelijkingsgroep ({level}%-betrouwbaarheidsinterval "
            "{low} tot {high} {unit}).{sample} ",
            "en": "After the start, {outcome} at {treated} changed by {estimate} {unit} "
            "relative to the comparison group ({level}% CI {low} to {high} {unit}).{sample} ",
        },
        "sample": {"nl": " De schatting gebruikt {parts}.", "en": " The estimate uses {parts}."},
        "n_units": {"nl": "{n} scholen", "en": "{n} schools"},
        "n_clusters": {"nl": "{n} clusters", "en": "{n} clusters"},
        "n_obs": {"nl": "{n} waarnemingen", "en": "{n} observations"},
        "excludes_zero": {
            "nl": "Nul ligt buiten het interval: de gegevens laten {direction} zien.",
            "en": "Zero lies outside the interval: the data show {direction}.",
        },
        "up": {"nl": "een verbetering", "en": "an improvement"},
        "down": {"nl": "een achteruitgang", "en": "a decline"},
        "includes_zero": {
            "nl": "Het interval bevat nul: de gegevens kunnen het effect niet onderscheiden "
            "van geen effect, en sluiten effecten tot {bound} {unit} in beide richtingen "
            "niet uit.",
            "en": "The interval includes zero: the data cannot distinguish the effect from "
            "no effect, and cannot rule out effects as large as {bound} {unit} in either "
            "direction.",
        },
        "thin": {
            "nl": "Let op: {cells} op minder dan {min_obs} waarnemingen; zulke "
            "schattingen zijn onzeker en hangen aan enkele scholen.",
            "en": "Note: {cells} on fewer than {min_obs} observations; such "
            "estimates are noisy and hang on a few schools.",
        },
        "thin.one": {
            "nl": "rust de schatting voor jaar {cells}",
            "en": "the estimate for year {cells} rests",
        },
        "thin.many": {
            "nl": "rusten de schattingen voor de jaren {cells}",
            "en": "the estimates for years {cells} rest",
        },
        # the defaults of every generated sentence here and in compare and power
        "the_outcome": {"nl": "de uitkomst", "en": "the outcome"},
        "points": {"nl": "punten", "en": "points"},
        "the_treated": {"nl": "de behandelde eenheden", "en": "the treated units"},
        "pretrend.none": {
            "nl": "Voor deze opzet is geen eerlijke toets op trends vooraf beschikbaar. {note}",
            "en": "No honest pre-trend test is available for this design. {note}",
        },
        "pretrend.rejects": {
            "nl": "verwerpt parallelle trends vooraf op het 5%-niveau",
            "en": "rejects parallel pre-trends at the 5% level",
        },
        "pretrend.accepts": {
            "nl": "verwerpt parallelle trends vooraf niet op het 5%-niveau",
            "en": "does not reject parallel pre-trends at the 5% level",
        },
        "pretrend.randomization": {
            "nl": "De randomisatietoets op trends vooraf (som van de gekwadrateerde "
            "t-waarden = {statistic} over {df} schattingen vóór de start, {p} uit "
            "{draws} toewijzingen) {verdict}.",
            "en": "The pre-trend randomization test (sum of squared t statistics = "
            "{statistic} over {df} pre-period estimates, {p} from {draws} "
            "assignments) {verdict}.",
        },
        "pretrend.wald": {
            "nl": "De Waldtoets op trends vooraf (χ² = {statistic}, vrijheidsgraden = {df}, "
            "{p}) {verdict}.",
            "en": "The pre-trend Wald test (χ² = {statistic}, df = {df}, {p}) {verdict}.",
        },
        "pretrend.caution": {
            "nl": " Let op: de behandelde eenheden liggen in slechts {n} clusters, te weinig "
            "voor deze χ²-p-waarde, die bij weinig behandelde clusters veel te vaak "
            "verwerpt (op een echt placebopanel gaven 12 behandelde gemeenten 95% "
            "verwerpingen bij 5%); lees de randomisatietoets (inference='auto').",
            "en": " Caution: the treated units lie in only {n} clusters, too few for this "
            "chi-square p-value, which over-rejects by far with few treated clusters (on a "
            "real placebo panel, 12 treated gemeenten gave 95% rejections at 5%); the "
            "randomization test (inference='auto') is the one to read.",
        },
    }
)


def signed(x: float, digits: int = 2) -> str:
    """``x`` with its sign and ``digits`` decimals, in the report's language (``+1,23``)."""
    return number(x, digits, signed=True)


def describe_effect(
    result: Result,
    *,
    term: str | None = None,
    outcome_label: str | None = None,
    unit_label: str | None = None,
    treated_label: str | None = None,
) -> str:
    """One paragraph: effect, 95% CI, sample, and whether zero can be ruled out.

    The labels are in the report's language (defaults: "the outcome", "points", "the
    treated units").
    """
    outcome_label = outcome_label or TEXT("the_outcome")
    unit_label = unit_label or TEXT("points")
    treated_label = treated_label or TEXT("the_treated")
    table = result.table
    row = table.loc[term] if term is not None else table.iloc[0]
    est, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    meta = result.meta
    parts = [
        TEXT(key, n=number(int(meta[key]), 0))
        for key in ("n_units", "n_clusters", "n_obs")
        if key in meta
    ]
    sample = TEXT("sample", parts=", ".join(parts)) if parts else ""
    text = TEXT(
        "effect",
        outcome=outcome_label,
        treated=treated_label,
        estimate=signed(est),
        unit=unit_label,
        level=round(100 * (1 - meta.get("alpha", 0.05))),
        low=signed(lo),
        high=signed(hi),
        sample=sample,
    )
    if lo > 0 or hi < 0:
        return text + TEXT("excludes_zero", direction=TEXT("up" if est > 0 else "down"))
    bound = number(max(abs(lo), abs(hi)), 2)
    return text + TEXT("includes_zero", bound=bound, unit=unit_label)


def thin_cells_sentence(result: Result, *, min_obs: int = 5) -> str:
    """A warning naming the event-time cells estimated from fewer than ``min_obs``
    observations (the table's ``n_obs``), or an empty string when there are none."""
    table = result.table
    if "n_obs" not in table:
        return ""
    counts = table["n_obs"]
    if "reference" in table:
        counts = counts[~table["reference"].astype(bool)]
    thin = [number(float(k), 0) for k, n in counts.items() if n < min_obs]
    if not thin:
        return ""
    # the verb lives in the phrase: singular and plural differ in both languages
    phrase = TEXT("thin.one" if len(thin) == 1 else "thin.many", cells=", ".join(thin))
    return TEXT("thin", cells=phrase, min_obs=min_obs)


def pretrend_sentence(test: Result) -> str:
    """Describe a pre-trend test, with the caveat when its chi-square p-value is not to be
    trusted.

    ``test`` is a ``pretrend_test()`` result (``statistic``, ``df``, ``p``,
    ``meta["inference"]`` and ``meta["n_treated_clusters"]``). A randomization p-value
    needs no caveat. A chi-square p-value from a cluster-robust covariance of ``df``
    pre-period estimates driven by only a few treated clusters over-rejects (MacKinnon &
    Webb 2017, J. Applied Econometrics, on few treated clusters).
    """
    row = test.table.iloc[0]
    statistic, df, p = float(row["statistic"]), int(row["df"]), float(row["p"])
    info = test.meta.get("inference")
    procedure = getattr(info, "procedure", "")
    if np.isnan(p):
        return TEXT("pretrend.none", note=getattr(info, "note", "")).strip()
    verdict = TEXT("pretrend.rejects" if p < 0.05 else "pretrend.accepts")
    values = {"statistic": number(statistic, 1), "df": df, "p": p_statement(p), "verdict": verdict}
    if procedure == "randomization":
        draws = getattr(info, "draws", None)
        return TEXT("pretrend.randomization", draws=number(draws, 0), **values)
    text = TEXT("pretrend.wald", **values)
    n_treated = test.meta.get("n_treated_clusters")
    if test.meta.get("clustered") and n_treated is not None and n_treated < 50:
        text += TEXT("pretrend.caution", n=n_treated)
    return text
