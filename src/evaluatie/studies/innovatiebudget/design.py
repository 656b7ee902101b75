"""The innovatiebudget design: school and year fixed effects, first grant year as cohort.

The panel is one row per vestiging and school year (``jaar``: the calendar year in which
the school year ends), ``cohort`` the first grant year (0 = no grant), ``treated`` = 1
from the cohort on. TWFE estimates one coefficient; the event studies estimate the effect
by years since the first grant, with TWFE and three estimators that stay unbiased when
effects differ by grant wave and grow over time (Sun & Abraham 2021; Borusyak, Jaravel &
Spiess 2024; Callaway & Sant'Anna 2021). Identifying assumption of all of them: without
the grant, grant schools' outcomes would have moved parallel to the others' (no
anticipation).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluatie.core.errors import DesignError
from evaluatie.core.results import Overall, RegressionResult, Result
from evaluatie.estimators.did import AttGtResult
from evaluatie.estimators.event import event_study
from evaluatie.estimators.power import mde
from evaluatie.reporting.headline import Headline
from evaluatie.reporting.interpret import describe_effect, signed
from evaluatie.reporting.power import mde_sentence, mde_table
from evaluatie.reporting.summary import (
    Finding,
    inference_words,
    rpe_sections,
    summary_sentences,
)
from evaluatie.sources.outcomes import outcome_info
from evaluatie.studies.innovatiebudget.text import SECTIONS
from evaluatie.synth.truth import known_effect

#: Report label -> ``event_study(estimator=...)`` of the heterogeneity-robust estimators.
ROBUST_ESTIMATORS = {
    "Callaway–Sant'Anna": "callaway_santanna",
    "Sun–Abraham": "sun_abraham",
    "Imputation (BJS)": "imputation",
}


def event_studies(
    panel: pd.DataFrame,
    *,
    outcome: str,
    window: tuple[int, int],
    cluster: str,
    twfe: RegressionResult | None = None,
) -> dict[str, RegressionResult]:
    """``"TWFE"`` and every estimator of :data:`ROBUST_ESTIMATORS` on the same panel,
    window and clusters (``twfe``: an already fitted TWFE event study to reuse)."""

    def fit(estimator: str) -> RegressionResult:
        return event_study(
            panel,
            outcome=outcome,
            unit="vestiging",
            time="jaar",
            cohort="cohort",
            window=window,
            cluster=cluster,
            estimator=estimator,
        )

    out = {"TWFE": twfe if twfe is not None else fit("twfe")}
    out.update({label: fit(estimator) for label, estimator in ROBUST_ESTIMATORS.items()})
    return out


def true_event_path(
    raw_dir: str | Path, outcome: str, window: tuple[int, int], panel: pd.DataFrame
) -> pd.Series | None:
    """On simulated data, the true effect by years since the first grant over the
    school-years of ``panel``, binned as the event studies bin it (the last bin averages
    every school-year at or beyond it); ``None`` on real data."""
    truth = known_effect(raw_dir, outcome, by="rel_time", window=window, sample=panel)
    return None if truth is None else pd.Series(truth)


def truth_sentence(raw_dir: str | Path, outcome: str, panel: pd.DataFrame) -> str | None:
    """On simulated data, the true average effect over the treated school-years of
    ``panel`` (the run's own sample, not the national mix of grant waves); else None."""
    truth = known_effect(raw_dir, outcome, sample=panel)
    if truth is None:
        return None
    info = outcome_info(outcome, panel.attrs.get("provider"))
    return SECTIONS("truth", truth=signed(float(truth)), unit=info.unit)


def overall_estimates(twfe: Result, cs: AttGtResult) -> dict[str, Overall]:
    """TWFE's coefficient beside the Callaway–Sant'Anna simple ATT (every treated
    school-year, weighted by wave size) and its average over relative times."""
    return {
        "TWFE": twfe.headline(),
        SECTIONS("cs.simple"): cs.aggregate("simple").headline(),
        SECTIONS("cs.dynamic"): cs.aggregate("dynamic").headline(),
    }


def headline(twfe: RegressionResult, outcome: str, provider: str | None = None) -> Headline:
    """The report's headline, by rule: the TWFE coefficient on the grant indicator."""
    info = outcome_info(outcome, provider)
    return Headline(twfe, None, SECTIONS("headline", outcome=info.subject), unit=info.unit)


#: Numbers of grant schools the report also shows the MDE for, where the panel has room.
POWER_SIZES = (10, 50)


def detectable_effect(
    panel: pd.DataFrame, *, outcome: str, cluster: str
) -> tuple[str, pd.DataFrame | None, float | None]:
    """The report's "what could this design detect" paragraph, table and the MDE of
    the grant design itself (:func:`evaluatie.mde`; ``inf`` when no effect is
    detectable), the table also for :data:`POWER_SIZES` treated units where they fit.
    Where the design cannot be simulated (e.g. more grant schools than schools without
    one) the paragraph says why and there is no table and no MDE."""
    try:
        result = mde(
            panel,
            outcome=outcome,
            treatment="treated",
            unit="vestiging",
            time="jaar",
            cluster=cluster,
            n_treated=list(POWER_SIZES),
        )
    except DesignError as error:
        return SECTIONS("mde.impossible", error=error), None, None
    info = outcome_info(outcome, panel.attrs.get("provider"))
    text = mde_sentence(result, outcome_label=info.subject, unit_label=info.unit)
    own = float(result.table.loc[int(result.meta["n_treated"]), "estimate"])
    return text, mde_table(result), own


def rpe(
    fit: RegressionResult,
    panel: pd.DataFrame,
    *,
    outcome: str,
    agreement: str,
    pretrend: str,
    simulated: bool,
) -> list[tuple[str, str]]:
    """The RPE questions answered for this run (:func:`evaluatie.reporting.rpe_sections`):
    ``agreement`` and ``pretrend`` are the report's own sentences on the robust
    estimators and the pre-trend test, so the answer repeats what the detail shows."""
    info = outcome_info(outcome, panel.attrs.get("provider"))
    effect = describe_effect(
        fit,
        outcome_label=info.subject,
        unit_label=info.unit,
        treated_label=SECTIONS("treated_label"),
    )
    limits = [SECTIONS("limit.selection")]
    years = set(panel["jaar"].unique())
    if min(years) < 2020 < max(years):
        limits.append(SECTIONS("limit.2020"))
    if max(years) >= 2021:
        limits.append(SECTIONS("limit.npo"))
    return rpe_sections(
        policy=SECTIONS("rpe.policy", outcome=info.subject),
        effect=effect,
        thanks_to=SECTIONS("thanks_to"),
        design=SECTIONS("rpe.design"),
        robustness=SECTIONS(
            "rpe.robustness",
            inference=inference_words(getattr(fit.inference, "procedure", None)),
            agreement=agreement,
            pretrend=pretrend,
        ),
        limitations=limits,
        simulated=simulated,
    )


def summary(
    fit: RegressionResult, panel: pd.DataFrame, *, outcome: str, mde: float | None
) -> list[str]:
    """The bestuurlijke samenvatting of :func:`summary_finding`, in sentences."""
    return summary_sentences(summary_finding(fit, panel, outcome=outcome, mde=mde))


def summary_finding(
    fit: RegressionResult, panel: pd.DataFrame, *, outcome: str, mde: float | None
) -> Finding:
    """What the summary says: the TWFE effect on the grant schools, relative to their
    outcome's mean and SD over their school-years before the grant, its interval,
    certainty and the MDE."""
    info = outcome_info(outcome, panel.attrs.get("provider"))
    head = fit.headline()
    before = panel[(panel["cohort"] > 0) & (panel["jaar"] < panel["cohort"])][outcome].dropna()
    return Finding(
        who=SECTIONS("summary.who"),
        subject=info.subject,
        unit=info.unit,
        estimate=head.estimate,
        ci_low=head.ci_low,
        ci_high=head.ci_high,
        p=head.p,
        inference=inference_words(getattr(fit.inference, "procedure", None)),
        baseline=float(before.mean()) if len(before) else None,
        sd=float(before.std()) if len(before) > 1 else None,
        mde=mde,
        level_unit=info.level_unit,
    )
