"""Event-study (dynamic difference-in-differences) estimates by relative time.

Relative time is ``rel_time = time - cohort`` in calendar units (gaps in ``time``, such
as a missing 2020, do not shift it), where ``cohort`` is the first treated period of a
unit; ``cohort`` 0 or missing means never treated. Endpoints are binned: every
``rel_time <= lower`` counts as ``lower`` and every ``rel_time >= upper`` as ``upper``
(so the end coefficients average the effects beyond the window). Never-treated units get
no relative-time dummies.

Estimators (``estimator=``), each in its own module:

* ``"twfe"`` -- the dynamic TWFE regression (:mod:`.twfe`): the average effect ``l``
  periods after adoption *if* effects are homogeneous across cohorts;

and the heterogeneity-robust ones (same assumptions: parallel trends, no anticipation,
staggered absorbing adoption; no homogeneity), which estimate the average effect on the
treated observations ``l`` periods after adoption:

* ``"sun_abraham"`` -- Sun & Abraham (2021) interaction-weighted estimator (:mod:`.sun_abraham`);
* ``"imputation"`` -- Borusyak, Jaravel & Spiess (2024) imputation estimator (:mod:`.imputation`);
* ``"callaway_santanna"`` -- Callaway & Sant'Anna (2021) ``att_gt(control=
  "never_treated", est_method="dr", base_period="universal")`` aggregated by relative
  time (:mod:`.callaway_santanna`).

Every estimator takes the validated :class:`~.design.EventDesign` and returns the same
table: indexed by ``rel_time``, columns ``estimate, se, t, p, ci_low, ci_high,
reference, n_obs``.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from evaluatie.core.errors import ParameterError
from evaluatie.core.results import call_record
from evaluatie.estimators.event.callaway_santanna import fit_callaway_santanna
from evaluatie.estimators.event.design import EventDesign, EventStudyResult, prepare_event_design
from evaluatie.estimators.event.imputation import fit_imputation
from evaluatie.estimators.event.sun_abraham import fit_sun_abraham
from evaluatie.estimators.event.twfe import fit_twfe
from evaluatie.inference.randomization import Randomization
from evaluatie.inference.wild import WildBootstrap

#: Estimator name -> function of the validated design. Add new estimators here.
ESTIMATORS: dict[str, Callable[[EventDesign], EventStudyResult]] = {
    "twfe": fit_twfe,
    "sun_abraham": fit_sun_abraham,
    "imputation": fit_imputation,
    "callaway_santanna": fit_callaway_santanna,
}


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    window: tuple[int, int] = (-4, 4),
    reference: int = -1,
    estimator: str = "twfe",
    cluster: str | None = None,
    weights: str | None = None,
    vcov: str = "CRV1",
    alpha: float = 0.05,
    inference: str | WildBootstrap | Randomization = "auto",
) -> EventStudyResult:
    """Event-study coefficients by relative time (see the module docstring for the models).

    Parameters
    ----------
    data
        Long data; several rows per unit-period are allowed.
    outcome
        Numeric outcome column.
    unit, time
        Unit identifier and numeric calendar period (e.g. the year; gaps allowed).
    cohort
        First treated period of the unit, constant within unit; 0 or NaN = never treated.
    window, reference
        Relative periods ``lower..upper`` get their own coefficient, the endpoints
        binned (``<= lower`` -> ``lower``, ``>= upper`` -> ``upper``); ``reference`` is
        the omitted period (estimate 0).
    estimator
        ``"twfe"``, ``"sun_abraham"``, ``"imputation"`` or ``"callaway_santanna"``
        (module docstring). The last needs one row per unit-period.
    cluster, weights, vcov, alpha
        As in :func:`evaluatie.twfe` (default: CRV1 clustered at the level the cohorts
        were assigned, detected from the data, else the unit). Rows with missing values
        are dropped, and fixed-effect singletons too (by the regression estimators).
        ``"imputation"`` and ``"callaway_santanna"`` have their own clustered standard
        errors (see their modules) and accept only ``vcov="CRV1"`` (imputation: any
        clustered convention, used for its leads).
    inference
        As in :func:`evaluatie.twfe`, for every coefficient and the joint pre-trend
        test (``.pretrend_test()``), with ``estimator="twfe"``. The heterogeneity-robust
        estimators have analytic inference only: under ``"auto"`` with too few treated
        clusters for it their p-values and intervals are left empty (NaN) and
        ``meta["inference"]`` says why and what to use instead.

    Returns
    -------
    EventStudyResult
        ``table`` indexed by ``rel_time`` (int) with the usual columns plus
        ``reference`` (True on the reference row: estimate 0, NaN inference) and
        ``n_obs`` (treated rows at that relative period in the sample). Relative periods
        without treated observations are left out with a warning
        (``meta["empty_rel_times"]``). ``meta["estimator"]`` names the estimator;
        ``overall`` is ``None`` (publish one relative time with ``term=``).
    """
    call = call_record("event_study", {k: v for k, v in locals().items() if k != "data"})
    if estimator not in ESTIMATORS:
        raise ParameterError(
            f"estimator={estimator!r} is not known; available: {sorted(ESTIMATORS)}"
        )
    design = prepare_event_design(
        data,
        outcome,
        unit,
        time,
        cohort,
        window,
        reference,
        cluster,
        weights,
        vcov,
        alpha,
        call,
        inference,
    )
    return ESTIMATORS[estimator](design)
