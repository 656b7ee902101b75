"""Gelijke kansen: the grant effect at schools with more and with less achterstand.

Schools are split at the median of their schoolweging (the CBS onderwijsachterstanden-
indicator of their pupils; higher = more expected achterstand), each band gets the
report's TWFE with its own inference (:func:`band_effects`), and the gap between the
bands' mean outcome is shown per year for grant schools and for the others
(:func:`gap_table`).

The difference between the two effects is the coefficient on ``D x band`` in a fully
interacted TWFE (school effects, year effects per band: the two bands may follow
different trends, and a common year effect would load those onto the interaction).
Whether its test holds its size was measured on the real VO exam panel
(``tests/test_placebo_size.py``, slow): a placebo policy in random gemeenten, 200 draws,
the groups VMBO and HAVO/VWO programmes. The wild cluster bootstrap (WCR, by gemeente)
rejected a non-existent difference in 0.0% of draws with 3 treated gemeenten, 2.5% and
5.5% with 12 (two sets of 200 draws), 6.5% and 9.0% with 40 and 6.0% with 84: about 5%
where the report uses it by default, a little above with many treated gemeenten; the
cluster-robust t-test 37.0%, 10.0%, 8.5% and 6.5%.
(With one common year effect instead of one per group WCR rejected 15.5% at 12 and 69%
at 84: each group's own trend loaded onto the interaction.) So the report runs WCR from
:data:`MIN_TREATED_FOR_DIFFERENCE` treated gemeenten; with fewer, WCR cannot reject at
all and the t-test rejects far too often, and the report says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluatie.core.language import Catalogue, p_statement
from evaluatie.core.results import RegressionResult
from evaluatie.estimators.group_difference import twfe_difference
from evaluatie.estimators.twfe import twfe
from evaluatie.inference.wild import WildBootstrap
from evaluatie.reporting.display import show_markdown
from evaluatie.reporting.interpret import signed
from evaluatie.sources.sample import WEGING_BANDS
from evaluatie.sources.sample import weging_bands as median_bands
from evaluatie.synth.truth import known_effect

#: Bands of schoolweging, in the order the report shows them.
BANDS = WEGING_BANDS
#: Treated clusters from which the WCR test of the difference was measured to keep about
#: its size and to reject at all (module docstring).
MIN_TREATED_FOR_DIFFERENCE = 12


@dataclass(frozen=True)
class Difference:
    """The interaction test, or why there is none (``result`` None, ``reason`` said)."""

    result: RegressionResult | None
    treated_clusters: int
    reason: str = ""


def weging_bands(panel: pd.DataFrame) -> pd.Series | None:
    """Each vestiging's band: ``meer`` achterstand when its mean schoolweging is above the
    median of the panel's vestigingen, else ``minder``; ``None`` when the data carry no
    schoolweging (DUO's eindscores files do not: the simulator's vestigingen file does)."""
    weging = panel.groupby("vestiging")["schoolweging"].mean().dropna()
    treated = panel.loc[panel["cohort"] > 0, "vestiging"].unique()
    if weging.index.isin(treated).sum() < 2 or len(weging) < 4:
        return None
    return median_bands(weging)


def _with_band(panel: pd.DataFrame, bands: pd.Series) -> pd.DataFrame:
    return panel.assign(band=panel["vestiging"].map(bands)).dropna(subset=["band"])


def band_effects(
    panel: pd.DataFrame, *, outcome: str, cluster: str, bands: pd.Series
) -> dict[str, RegressionResult]:
    """The TWFE grant effect within each band, with the inference ``"auto"`` picks."""
    data = _with_band(panel, bands)
    out = {}
    for band in BANDS:
        rows = data[data["band"] == band]
        out[band] = twfe(
            rows, outcome=outcome, treatment="treated", unit="vestiging", time="jaar",
            cluster=cluster,
        )  # fmt: skip
    return out


def gap_table(panel: pd.DataFrame, *, outcome: str, bands: pd.Series) -> pd.DataFrame:
    """Per year: mean ``outcome`` of the ``meer`` band minus the ``minder`` band, among
    grant schools (``cohort > 0``) and among the other schools."""
    data = _with_band(panel, bands).assign(grant=lambda f: f["cohort"] > 0)
    means = data.groupby(["jaar", "grant", "band"])[outcome].mean().unstack("band")
    gap = (means[BANDS[0]] - means[BANDS[1]]).unstack("grant")
    return gap.rename(columns={True: "grant", False: "other"})[["grant", "other"]]


def difference(
    panel: pd.DataFrame, *, outcome: str, cluster: str, bands: pd.Series, draws: int = 9999,
    seed: int | None = None, min_treated: int = MIN_TREATED_FOR_DIFFERENCE,
) -> Difference:  # fmt: skip
    """The ``meer`` minus ``minder`` effect with its WCR p-value, from a TWFE with school
    effects, year effects per band and ``treated`` beside ``treated x meer``; none with
    fewer than ``min_treated`` treated clusters."""
    data = _with_band(panel, bands)
    treated_clusters = int(data.loc[data["treated"] == 1, "gemeente_code"].nunique())
    if cluster != "gemeente_code":
        # the test's size was measured with gemeenten as clusters; nothing else is known
        return Difference(None, treated_clusters, "not_gemeente")
    if treated_clusters < min_treated:
        return Difference(None, treated_clusters, "few_clusters")
    result = twfe_difference(
        data.assign(meer=data["band"] == BANDS[0]), outcome=outcome, treatment="treated",
        unit="vestiging", time="jaar", group="meer", cluster=cluster,
        inference=WildBootstrap(draws=draws, seed=seed),
    )  # fmt: skip
    return Difference(result, treated_clusters)


def band_truths(
    raw_dir: str | Path, *, outcome: str, panel: pd.DataFrame, bands: pd.Series
) -> dict[str, float] | None:
    """On simulated data, each band's true ATT over its own treated school-years
    (:func:`~evaluatie.synth.truth.known_effect` with the band's sample) and their
    difference; ``None`` on a user's data."""
    data = _with_band(panel, bands)
    out: dict[str, float] = {}
    for band in BANDS:
        truth = known_effect(raw_dir, outcome, sample=data[data["band"] == band])
        if truth is None:
            return None
        out[band] = float(truth)
    out["difference"] = out[BANDS[0]] - out[BANDS[1]]
    return out


TEXT = Catalogue(
    {
        "section": {
            "nl": "### Gelijke kansen: scholen met meer en minder achterstand\n\nDe scholen "
            "gesplitst bij de mediaan van hun schoolweging (de CBS-indicator voor "
            "onderwijsachterstand van hun leerlingen): het effect van de subsidie in elke "
            "groep apart, met de inferentie die het rapport voor weinig behandelde "
            "gemeenten kiest, en het verschil in {outcome} tussen de twee groepen per jaar.",
            "en": "### Equal opportunities: schools with more and less achterstand\n\nThe "
            "schools split at the median of their schoolweging (the CBS indicator of their "
            "pupils' expected achterstand): the grant's effect in each group on its own, "
            "with the inference the report picks for few treated gemeenten, and the gap in "
            "{outcome} between the two groups per year.",
        },
        "no_weging": {
            "nl": "De gegevens bevatten geen schoolweging per school (DUO publiceert die in "
            "een apart bestand): de uitsplitsing naar achterstand ontbreekt.",
            "en": "The data carry no schoolweging per school (DUO publishes it in a separate "
            "file): the split by achterstand is missing.",
        },
        "band.meer": {"nl": "meer achterstand", "en": "more achterstand"},
        "band.minder": {"nl": "minder achterstand", "en": "less achterstand"},
        "band.difference": {"nl": "verschil (meer − minder)", "en": "difference (more − less)"},
        "col.band": {"nl": "scholen met", "en": "schools with"},
        "col.inference": {"nl": "onzekerheid uit", "en": "uncertainty from"},
        "col.truth": {"nl": "waar effect", "en": "true effect"},
        "col.year": {"nl": "schooljaar", "en": "school year"},
        "col.grant": {"nl": "subsidiescholen", "en": "grant schools"},
        "col.other": {"nl": "andere scholen", "en": "other schools"},
        "inf.randomization": {"nl": "randomisatie-inferentie", "en": "randomization inference"},
        "inf.wild": {"nl": "wild cluster bootstrap (WCR)", "en": "wild cluster bootstrap (WCR)"},
        "inf.analytic": {"nl": "clusterrobuuste SE", "en": "cluster-robust SE"},
        "gap_note": {
            "nl": "Het verschil in {outcome} tussen scholen met meer en met minder achterstand "
            "(meer − minder), per schooljaar; de subsidiescholen kregen hun eerste subsidie "
            "in verschillende jaren (vanaf 2017-2018). Een verschil dat bij de "
            "subsidiescholen in de latere jaren kleiner wordt en bij de andere scholen niet, "
            "past bij een subsidie die het verschil verkleint; de toets hierboven zegt of dat "
            "meer is dan toeval.",
            "en": "The gap in {outcome} between schools with more and with less achterstand "
            "(more − less), per school year; the grant schools got their first grant in "
            "different years (from 2017-2018). A gap that narrows at the grant schools in the "
            "later years and not at the other schools fits a grant that narrowed it; the "
            "test above says whether that is more than chance.",
        },
        "few_clusters": {
            "nl": "**Is het effect bij de ene groep groter dan bij de andere?** Met {n} "
            "gemeenten met subsidiescholen geven we daarvoor geen toets. Gemeten op echte "
            "examengegevens met een placebobeleid in 3 gemeenten: de gewone clusterrobuuste "
            "toets vond een niet-bestaand verschil in 37% van de gevallen (5% hoort), de wild "
            "cluster bootstrap in 0%, dus ook een echt verschil vindt die niet. Vanaf {min} "
            "gemeenten met subsidie houdt de wild cluster bootstrap zich ongeveer aan de 5% "
            "(gemeten: 2,5 tot 9% bij 12 tot 84 gemeenten). Lees de twee effecten hierboven elk "
            "afzonderlijk, niet als verschil.",
            "en": "**Is the effect larger in one group than in the other?** With {n} "
            "gemeenten with grant schools we give no test for it. Measured on real exam data "
            "with a placebo policy in 3 gemeenten: the usual cluster-robust test found a "
            "non-existent difference in 37% of cases (5% belongs), the wild cluster "
            "bootstrap in 0%, so it cannot find a real one either. From {min} gemeenten with "
            "grants the wild cluster bootstrap keeps to about 5% (measured: 2.5 to 9% with 12 "
            "to 84 gemeenten). Read the two effects above each on its own, not as a "
            "difference.",
        },
        "not_gemeente": {
            "nl": "**Is het effect bij de ene groep groter dan bij de andere?** Met clusters "
            "per school geven we daarvoor geen toets: hoe betrouwbaar die is, is alleen "
            "gemeten met gemeenten als clusters (`cluster: gemeente`).",
            "en": "**Is the effect larger in one group than in the other?** With clusters per "
            "school we give no test: how reliable it is was only measured with gemeenten as "
            "clusters (`cluster: gemeente`).",
        },
        "difference": {
            "nl": "**Is het effect bij de ene groep groter dan bij de andere?** Het verschil "
            "(meer − minder achterstand) is {estimate} {unit} (95%-BI {low} tot {high}, "
            "{p}; wild cluster bootstrap over {n} gemeenten met subsidie, die op echte "
            "examengegevens een niet-bestaand verschil vond in 2,5 tot 5,5% van de gevallen "
            "bij 12 gemeenten en 6 tot 9% bij 40 tot 84).",
            "en": "**Is the effect larger in one group than in the other?** The difference "
            "(more − less achterstand) is {estimate} {unit} (95% CI {low} to {high}, {p}; "
            "wild cluster bootstrap over {n} gemeenten with grants, which found a "
            "non-existent difference on real exam data in 2.5 to 5.5% of cases with 12 "
            "gemeenten and 6 to 9% with 40 to 84).",
        },
        "truth": {
            "nl": "*Gesimuleerde gegevens:* het ware effect hangt niet van de schoolweging "
            "af; over de subsidiejaren van elke groep is het {meer} (meer achterstand) en "
            "{minder} (minder achterstand) {unit}.",
            "en": "*Simulated data:* the true effect does not depend on the schoolweging; "
            "over each group's grant years it is {meer} (more achterstand) and {minder} "
            "(less achterstand) {unit}.",
        },
    }
)


def _inference_words(result: RegressionResult) -> str:
    procedure = getattr(result.meta.get("inference"), "procedure", None)
    key = {"randomization": "randomization", "wild": "wild"}.get(str(procedure), "analytic")
    return TEXT(f"inf.{key}")


def band_table(
    effects: dict[str, RegressionResult], truth: dict[str, float] | None
) -> pd.DataFrame:
    """One row per band: estimate, interval, p, where the uncertainty comes from, and on
    simulated data the band's true effect."""
    rows = []
    for band, result in effects.items():
        o = result.headline()
        row = {
            TEXT("col.band"): TEXT(f"band.{band}"),
            "estimate": o.estimate,
            "ci_low": o.ci_low,
            "ci_high": o.ci_high,
            "p": o.p,
            TEXT("col.inference"): _inference_words(result),
        }
        if truth is not None:
            row[TEXT("col.truth")] = truth[band]
        rows.append(row)
    return pd.DataFrame(rows).set_index(TEXT("col.band"))


def gap_display(gaps: pd.DataFrame) -> pd.DataFrame:
    """:func:`gap_table` with the report's labels."""
    out = gaps.rename(columns={"grant": TEXT("col.grant"), "other": TEXT("col.other")})
    out.index = [f"{y - 1}-{y}" for y in out.index]
    out.index.name = TEXT("col.year")
    return out


def difference_sentence(diff: Difference, *, unit: str) -> str:
    """The test of the difference, or why there is none."""
    if diff.reason == "not_gemeente":
        return TEXT("not_gemeente")
    if diff.result is None:
        return TEXT(
            "few_clusters", n=diff.treated_clusters, min=MIN_TREATED_FOR_DIFFERENCE,
        )  # fmt: skip
    o = diff.result.headline()
    return TEXT(
        "difference", estimate=signed(o.estimate, 2), unit=unit, low=signed(o.ci_low, 2),
        high=signed(o.ci_high, 2), p=p_statement(o.p), n=diff.treated_clusters,
    )  # fmt: skip


def truth_sentence(truth: dict[str, float] | None, *, unit: str) -> str:
    """On simulated data, the bands' true effects; else ""."""
    if truth is None:
        return ""
    return TEXT(
        "truth", meer=signed(truth["meer"], 2), minder=signed(truth["minder"], 2), unit=unit
    )


def section(*, outcome: str) -> None:
    """Show the section's heading and introduction."""
    show_markdown(TEXT("section", outcome=outcome))


def no_weging_sentence() -> str:
    return TEXT("no_weging")


def gap_note(*, outcome: str) -> str:
    return TEXT("gap_note", outcome=outcome)
