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
from evaluatie.reporting.power import mde_sentence, mde_table
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


def true_event_path(raw_dir: str | Path, outcome: str, window: tuple[int, int]) -> pd.Series | None:
    """On simulated data, the true effect by years since the first grant, binned as the
    event studies bin it (the last bin averages every school-year at or beyond it,
    weighted by the school-years with an observed outcome); ``None`` on real data."""
    truth = known_effect(raw_dir, outcome, by="rel_time", window=window)
    return None if truth is None else pd.Series(truth)


def overall_estimates(twfe: Result, cs: AttGtResult) -> dict[str, Overall]:
    """TWFE's coefficient beside the Callaway–Sant'Anna simple ATT (every treated
    school-year, weighted by wave size) and its average over relative times."""
    return {
        "TWFE": twfe.headline(),
        "Callaway–Sant'Anna (simple)": cs.aggregate("simple").headline(),
        "Callaway–Sant'Anna (event-time average)": cs.aggregate("dynamic").headline(),
    }


def headline(twfe: RegressionResult, outcome: str) -> Headline:
    """The report's headline, by rule: the TWFE coefficient on the grant indicator."""
    return Headline(twfe, None, f"TWFE effect on {outcome}")


#: Numbers of grant schools the report also shows the MDE for, where the panel has room.
POWER_SIZES = (10, 50)


def detectable_effect(
    panel: pd.DataFrame, *, outcome: str, cluster: str
) -> tuple[str, pd.DataFrame | None]:
    """The report's "what could this design detect" paragraph and table: the MDE of
    the grant design (:func:`evaluatie.mde`), also for :data:`POWER_SIZES` treated
    units where they fit. Where the design cannot be simulated (e.g. more grant
    schools than schools without one) the paragraph says why and there is no table."""
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
        return f"The minimum detectable effect cannot be simulated for this panel: {error}.", None
    return mde_sentence(result, outcome_label=f"the {outcome}"), mde_table(result)
