"""The VVE funding design: policy dose per gemeente, comparison group, analysis panels.

The 2019 OAB redistribution changed each gemeente's VVE budget once, phased in over
2019-2022 (docs/domain.md §1). The design summarises that change by a **policy dose**
per gemeente, the change in funding per target child from the last year of the old
allocation to the first year of the new one::

    D_m = (budget_m,2022 / doelgroepkinderen_m,2022 - budget_m,2018 / doelgroepkinderen_m,2018) / 1000

in EUR 1,000 per target child per year. Every gemeente's funding moved, so no gemeente
is untreated; the comparison group is the gemeenten whose funding per target child
moved by at most ``comparison_band`` (default EUR 500): their dose is set to zero
(:func:`dose_groups`). This is the "least-treated comparison" variant of Callaway,
Goodman-Bacon & Sant'Anna (2024, Remark 3.1): it identifies ``ATT(d) - ATT(d_0)``, the
effect relative to a change of at most ``comparison_band``; when the response is near zero there
(a small change does little), this is ``ATT(d)``. The bias is at most the response
to a change of ``comparison_band``; the notebook reports the comparison group's range of doses.

Which measured years carry the change follows from the exposure mapping
(:mod:`evaluatie.sources.exposure`): the reference year of an outcome is the last year
whose measured cohort was wholly of VVE age before 2019.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.language import Catalogue
from evaluatie.core.memo import reused
from evaluatie.core.results import RegressionResult, Result
from evaluatie.estimators.contdid import ContDidResult, cont_did
from evaluatie.estimators.dose_event import DoseEventResult, dose_event_study
from evaluatie.estimators.single_unit import single_unit_did
from evaluatie.estimators.twfe import twfe
from evaluatie.reporting.headline import Headline
from evaluatie.sources.exposure import ExposureTiming, exposure, exposure_timing
from evaluatie.sources.vve import VVE_OUTCOMES, VveData, gemeente_outcomes, outcome_column
from evaluatie.synth.truth import known_dose_response

#: Last year of the old allocation and first year fully under the new one.
POLICY_YEARS = (2018, 2022)
#: Default half-width of the comparison band, EUR 1,000 per target child.
COMPARISON_BAND = 0.5
#: Fewest comparison gemeenten the design accepts (one gives no variance at all).
MIN_COMPARISON = 5
#: The two sides of the redistribution, estimated apart (:func:`side_panel`).
SIDES = {"gain": "gained", "loss": "lost"}


def policy_dose(budget: pd.DataFrame, years: tuple[int, int] = POLICY_YEARS) -> pd.DataFrame:
    """Budget and funding per target child before and after, and the dose, per gemeente.

    Columns: ``budget_before, budget_after, budget_change_pct, per_child_before,
    per_child_after, dose`` (EUR 1,000 per target child per year), indexed by
    ``gemeente_code``. Gemeenten missing either year are left out.
    """
    before, after = years
    if before >= after:
        raise ParameterError(
            f"policy years must be (before, after) with before < after, got {years}"
        )
    wide = budget.pivot_table(
        index="gemeente_code",
        columns="jaar",
        values=["budget_eur", "doelgroepkinderen"],
        aggfunc="first",
        observed=True,
    )
    have = set(budget["jaar"])
    missing = [y for y in (before, after) if y not in have]
    if missing:
        raise DesignError(
            f"the budget table has no rows for {missing}; the policy dose compares "
            f"{before} with {after}"
        )
    columns = {}
    for col in ("budget_eur", "doelgroepkinderen"):
        for y in (before, after):
            if (col, y) not in wide.columns or wide[(col, y)].isna().all():
                raise DesignError(
                    f"{col.upper()} has no value for any gemeente in {y}; the policy dose "
                    f"needs budget and target children in {before} and {after}"
                )
            values = wide[(col, y)].astype(float)
            bad = values[values <= 0]
            if len(bad):
                raise DesignError(
                    f"{col.upper()} is {bad.iloc[0]:g} for {bad.index[0]} in {y} "
                    f"({len(bad)} gemeente(n) with a value <= 0): funding per target child "
                    "and its change are undefined"
                )
            columns[(col, y)] = values
    b0, b1 = columns[("budget_eur", before)], columns[("budget_eur", after)]
    k0, k1 = columns[("doelgroepkinderen", before)], columns[("doelgroepkinderen", after)]
    out = pd.DataFrame(
        {
            "budget_before": b0,
            "budget_after": b1,
            "budget_change_pct": 100.0 * (b1 / b0 - 1.0),
            "per_child_before": b0 / k0,
            "per_child_after": b1 / k1,
        }
    )
    out["dose"] = (out["per_child_after"] - out["per_child_before"]) / 1000.0
    out.index.name = "gemeente_code"
    return out.dropna(subset=["dose"])


def dose_groups(dose: pd.Series, comparison_band: float = COMPARISON_BAND) -> pd.Series:
    """``"comparison"`` (|dose| <= comparison_band), ``"gain"`` or ``"loss"`` per gemeente."""
    if not comparison_band >= 0:
        raise ParameterError(
            f"comparison_band must be >= 0 (EUR 1,000 per child), got {comparison_band}"
        )
    group = np.where(
        dose.abs() <= comparison_band, "comparison", np.where(dose > 0, "gain", "loss")
    )
    return pd.Series(group, index=dose.index, name="group")


@dataclass(frozen=True)
class VveStudy:
    """One outcome's analysis data.

    ``schools``: vestiging x jaar with the outcome, its pupil weight, the gemeente's
    ``dose`` and the measured cohort's ``exposure`` (EUR 1,000 per target child).
    ``gemeenten``: gemeente x jaar outcome means with ``n_pupils``, ``dose``, ``group``,
    ``dose_cdid`` (the dose, zero in the comparison group: the continuous-DiD input) and
    ``pupils`` (mean pupils over the years: a time-invariant weight).
    ``dropped``: the ``years`` and ``gemeenten`` left out to balance the gemeente panel,
    and (``no_budget``) gemeenten with outcomes but no policy dose.
    ``doses``: :func:`policy_dose` with ``group``.
    """

    outcome: str
    timing: ExposureTiming
    reference: int
    years: tuple[int, ...]
    comparison_band: float
    schools: pd.DataFrame
    gemeenten: pd.DataFrame
    doses: pd.DataFrame
    dropped: dict[str, list] = field(default_factory=dict)

    @property
    def units(self) -> pd.DataFrame:
        """One row per gemeente of the balanced panel: ``gemeente_code, dose, group,
        dose_cdid, pupils``."""
        cols = ["gemeente_code", "dose", "group", "dose_cdid", "pupils"]
        return self.gemeenten.drop_duplicates("gemeente_code")[cols].reset_index(drop=True)

    @property
    def pre_years(self) -> tuple[int, ...]:
        return tuple(y for y in self.years if y <= self.reference)

    @property
    def post_years(self) -> tuple[int, ...]:
        return tuple(y for y in self.years if y > self.reference)


@reused  # each VVE params check and report asks for it per outcome (63 ms each)
def vve_study(
    data: VveData,
    *,
    outcome: str,
    comparison_band: float = COMPARISON_BAND,
    policy_years: tuple[int, int] = POLICY_YEARS,
) -> VveStudy:
    """Assemble the school and gemeente panels for ``outcome`` (see :class:`VveStudy`).

    Gemeenten without a policy dose, and measured years whose VVE window the budget
    does not cover, are left out. The gemeente panel is balanced (the continuous DiD
    compares each gemeente with itself): years with outcomes for fewer than half of the
    gemeenten go first, then gemeenten missing a remaining year; both are listed in
    ``dropped``. Fewer than :data:`MIN_COMPARISON` comparison gemeenten is an error.
    """
    outcome_column(outcome)
    timing = exposure_timing(outcome, start=policy_years[0] + 1)
    reference = timing.first_any - 1
    doses = policy_dose(data.budget, policy_years)
    doses["group"] = dose_groups(doses["dose"], comparison_band)
    expo = exposure(data.budget, outcome)
    expo = expo.dropna(subset=["funding_per_child"]).set_index(["gemeente_code", "jaar"])
    schools = data.schools[["vestiging", "gemeente_code", "jaar", outcome, _weight(outcome)]]
    with_data = schools.loc[schools[outcome].notna(), "gemeente_code"].dropna().unique()
    no_budget = sorted(set(with_data) - set(doses.index))
    schools = schools[schools["gemeente_code"].isin(doses.index)]
    key = pd.MultiIndex.from_arrays([schools["gemeente_code"], schools["jaar"]])
    schools = schools.assign(
        exposure=expo["funding_per_child"].reindex(key).to_numpy() / 1000.0,
        dose=schools["gemeente_code"].map(doses["dose"]).to_numpy(),
    ).dropna(subset=["exposure", outcome])
    schools = schools[schools[_weight(outcome)] > 0].reset_index(drop=True)
    if schools.empty:
        raise DesignError(
            f"no {outcome} rows in a year whose VVE window the budget table covers "
            f"(budget years {data.budget['jaar'].min()}-{data.budget['jaar'].max()})"
        )
    years = tuple(int(y) for y in sorted(schools["jaar"].unique()))
    if years[-1] <= reference:
        raise DesignError(
            f"{outcome}: no measured cohort after {reference} in the data ({years[0]}-"
            f"{years[-1]}): the change of {policy_years[0] + 1} cannot show yet"
        )
    gem = gemeente_outcomes(schools, outcome)
    gem, years, dropped = _balance(gem, years, reference)
    dropped["no_budget"] = no_budget
    schools = schools[schools["jaar"].isin(years)].reset_index(drop=True)
    gem = gem.assign(
        dose=gem["gemeente_code"].map(doses["dose"]).to_numpy(),
        group=gem["gemeente_code"].map(doses["group"]).to_numpy(),
    )
    gem["dose_cdid"] = np.where(gem["group"] == "comparison", 0.0, gem["dose"])
    # A time-invariant weight per gemeente (the continuous DiD's unit weight): its mean
    # pupils over the study years.
    gem["pupils"] = gem.groupby("gemeente_code")["n_pupils"].transform("mean")
    study = VveStudy(
        outcome=outcome,
        timing=timing,
        reference=reference,
        years=years,
        comparison_band=comparison_band,
        schools=schools,
        gemeenten=gem,
        doses=doses,
        dropped=dropped,
    )
    n_comparison = int((study.units["group"] == "comparison").sum())
    if n_comparison < MIN_COMPARISON:
        raise DesignError(
            f"{outcome}: only {n_comparison} gemeente(n) have a change in funding per target "
            f"child within comparison_band = {comparison_band} (EUR 1,000) and a complete outcome "
            f"series; at least {MIN_COMPARISON} are needed for a comparison group: widen "
            "comparison_band"
        )
    return study


def _weight(outcome: str) -> str:
    return VVE_OUTCOMES[outcome].weight


def _balance(
    gem: pd.DataFrame, years: tuple[int, ...], reference: int
) -> tuple[pd.DataFrame, tuple[int, ...], dict[str, list]]:
    """Balance the gemeente x year panel, dropping sparse *years* before gemeenten.

    A year in which fewer than half of the gemeenten have outcomes (e.g. a stray row
    of a newer school year) is dropped; then gemeenten missing any remaining year.
    The reference year is never dropped: without it there is no base period.
    """
    n = gem["gemeente_code"].nunique()
    per_year = gem.groupby("jaar")["gemeente_code"].nunique()
    sparse = [int(y) for y in years if per_year.get(y, 0) < n / 2 and y != reference]
    if reference not in per_year.index or per_year[reference] < n / 2:
        raise DesignError(
            f"the reference year {reference} (the last cohort measured wholly before the "
            f"change) has outcomes for {int(per_year.get(reference, 0))} of {n} gemeenten; "
            f"data years: {list(years)}"
        )
    kept = tuple(y for y in years if y not in sparse)
    gem = gem[gem["jaar"].isin(kept)]
    counts = gem.groupby("gemeente_code")["jaar"].transform("size")
    incomplete = sorted(gem.loc[counts < len(kept), "gemeente_code"].unique())
    gem = gem[counts == len(kept)].reset_index(drop=True)
    return gem, kept, {"years": sparse, "gemeenten": incomplete}


def received_share(study: VveStudy) -> pd.Series:
    """Share of the full policy dose each measured year's cohort received, by year.

    The least-squares slope (through the origin, over gemeenten) of the cohort's change
    in exposure since the reference year on the policy dose: 0 up to the reference
    year, rising to 1 once a cohort's whole VVE window lies in the new allocation.
    Computed from the measured cohorts' exposure (budget data mapped to cohorts), so it
    shows the phase-in the data actually contain.
    """
    s = study.schools.drop_duplicates(["gemeente_code", "jaar"])
    wide = s.pivot(index="gemeente_code", columns="jaar", values="exposure")
    change = wide.sub(wide[study.reference], axis=0)
    dose = s.groupby("gemeente_code")["dose"].first().reindex(change.index)
    ok = dose.notna()
    change, dose = change[ok], dose[ok]
    # Per year over the gemeenten with a value that year (a gap must not shrink it).
    present = change.notna()
    denom = present.mul(dose**2, axis=0).sum()
    share = change.mul(dose, axis=0).sum() / denom.where(denom > 0)
    share.index.name = "jaar"
    return share.rename("share")


@reused
def exposure_twfe(study: VveStudy) -> RegressionResult:
    """TWFE of the outcome on the measured cohort's funding per target child (EUR 1,000),
    school and year effects, school-years weighted by their pupils, CRV1 by gemeente: one
    slope for everyone, assuming a linear response that is the same everywhere."""
    return twfe(
        study.schools,
        outcome=study.outcome,
        treatment="exposure",
        unit="vestiging",
        time="jaar",
        cluster="gemeente_code",
        weights=_weight(study.outcome),
    )


@reused
def dose_event(study: VveStudy) -> DoseEventResult:
    """The event study in the policy dose: the outcome's change from the reference year
    per EUR 1,000 of dose, placebo leads before it (CRV1 by gemeente, pupil-weighted)."""
    return dose_event_study(
        study.schools,
        outcome=study.outcome,
        unit="vestiging",
        time="jaar",
        dose="dose",
        reference=study.reference,
        group="gemeente_code",
        cluster="gemeente_code",
        weights=_weight(study.outcome),
    )


def slope_per_policy_dose(fit: RegressionResult, received: float) -> float:
    """:func:`exposure_twfe`'s slope per EUR 1,000 of the measured cohorts' funding,
    converted to one per EUR 1,000 of policy dose (``received``: the mean share of the
    dose the measured cohorts received, :func:`mean_received_share`)."""
    return received * fit.headline().estimate


def side_panel(study: VveStudy, side: str) -> pd.DataFrame:
    """The gemeente panel of one side (``"gain"`` or ``"loss"``) plus the comparison group.

    Gains and losses are estimated apart: one curve through both would assume the
    response is smooth across the comparison band, where no treated gemeente is. On the
    loss side ``dose_cdid`` stays negative (a loss of EUR 1,000 is dose -1).
    """
    if side not in SIDES:
        raise ParameterError(f"side must be one of {sorted(SIDES)}, got {side!r}")
    gem = study.gemeenten
    return gem[gem["group"].isin([side, "comparison"])].reset_index(drop=True)


def dose_grid(study: VveStudy, side: str, n: int = 50) -> np.ndarray:
    """``n`` doses across the treated gemeenten of ``side`` (from its smallest to its
    largest dose), at which to evaluate that side's dose-response."""
    if side not in SIDES:
        raise ParameterError(f"side must be one of {sorted(SIDES)}, got {side!r}")
    units = study.units
    treated = units.loc[units["group"] == side, "dose"].to_numpy(dtype=float)
    if len(treated) < 2:
        return np.array([])
    return np.linspace(treated.min(), treated.max(), n)


def curve_sides(
    study: VveStudy, *, degree: int = 3, num_knots: int = 0, min_treated: int = 10
) -> list[str]:
    """The sides (of :data:`SIDES`) with enough treated gemeenten for a dose-response:
    ``min_treated``, and more than the spline's degrees of freedom."""
    units = study.units
    return [
        side
        for side in SIDES
        if (units["group"] == side).sum() >= max(min_treated, degree + num_knots + 2)
    ]


def design_problems(
    data: VveData,
    *,
    outcomes: Sequence[str],
    comparison_band: float,
    gemeenten: Sequence[str] | None = None,
    degree: int = 3,
    num_knots: int = 0,
) -> list[str]:
    """Every reason the study cannot run on ``data`` with these parameters (empty: it can):
    :func:`vve_study` refuses an outcome, neither side has a dose-response, or a focus
    gemeente has no complete series. Phrased in the params file's terms."""
    problems = []
    for outcome in outcomes:
        try:
            study = vve_study(data, outcome=outcome, comparison_band=comparison_band)
        except DesignError as exc:
            problems.append(str(exc))
            continue
        if not curve_sides(study, degree=degree, num_knots=num_knots):
            problems.append(
                f"{outcome}: neither the gains nor the losses have enough gemeenten beyond "
                f"comparison_band = {comparison_band} for a dose-response with degree "
                f"{degree} and num_knots {num_knots}; narrow comparison_band"
            )
        absent = [c for c in gemeenten or [] if c not in set(study.units["gemeente_code"])]
        if absent:
            problems.append(
                f"gemeenten: {', '.join(absent)} ha{'s' if len(absent) == 1 else 've'} no "
                f"complete {outcome} series in the study years {study.years[0]}-"
                f"{study.years[-1]} (or no OAB budget)"
            )
    return problems


@reused
def dose_response_by_side(
    study: VveStudy, *, degree: int = 3, num_knots: int = 0, min_treated: int = 10
) -> dict[str, ContDidResult]:
    """:func:`~evaluatie.estimators.contdid.cont_did` for the gains and for the losses,
    each against the comparison group, pupil-weighted; a side with fewer than
    ``min_treated`` gemeenten is left out (its curve would rest on a handful of points)."""
    out: dict[str, ContDidResult] = {}
    for side in curve_sides(study, degree=degree, num_knots=num_knots, min_treated=min_treated):
        panel = side_panel(study, side)
        out[side] = cont_did(
            panel,
            outcome=study.outcome,
            unit="gemeente_code",
            time="jaar",
            dose="dose_cdid",
            first_period=study.post_years[0],
            weights="pupils",
            dvals=dose_grid(study, side),
            degree=degree,
            num_knots=num_knots,
        )
    if not out:
        raise DesignError(
            f"{study.outcome}: neither the gains nor the losses have {min_treated} gemeenten "
            f"beyond the comparison band of EUR {study.comparison_band * 1000:,.0f}: no dose-response"
        )
    return out


def mean_received_share(study: VveStudy, share: pd.Series | None = None) -> float:
    """Mean of :func:`received_share` over the post years (pass ``share`` if already
    computed): converts a slope per EUR 1,000 of the measured cohorts' funding into one
    per EUR 1,000 of policy dose."""
    share = received_share(study) if share is None else share
    return float(share.reindex(list(study.post_years)).mean())


def known_curve(study: VveStudy, raw_dir: str | Path, doses: np.ndarray) -> pd.Series | None:
    """On simulated data, the truth the continuous DiD targets at ``doses``, else None.

    With a least-treated comparison group the estimand is ATT(d) minus the comparison
    group's own effect (CGBS 2024, Remark 3.1): the true response at ``d``, averaged
    over the post years, minus the pupil-weighted true effect of the comparison
    gemeenten at their (small) doses.
    """
    truth = known_dose_response(raw_dir, study.outcome, np.asarray(doses), study.post_years)
    if truth is None:
        return None
    comp = study.units.query("group == 'comparison'")
    own = known_dose_response(raw_dir, study.outcome, comp["dose"].to_numpy(), study.post_years)
    assert own is not None  # the same folder gave a truth just above
    base = float(np.average(own.to_numpy(), weights=comp["pupils"].to_numpy()))
    return truth - base


def known_curves(
    study: VveStudy, raw_dir: str | Path, curves: dict[str, ContDidResult]
) -> dict[str, pd.Series]:
    """:func:`known_curve` on each side's dose grid (``result.curve["dose"]``); empty
    for a user's real data."""
    out = {}
    for side, res in curves.items():
        truth = known_curve(study, raw_dir, res.curve["dose"].to_numpy())
        if truth is not None:
            out[side] = truth
    return out


def has_series(study: VveStudy, code: str) -> bool:
    """Whether gemeente ``code`` has the complete outcome series the study analyses (a
    focus gemeente without one gets a sentence, not an estimate or a plot)."""
    return bool((study.gemeenten["gemeente_code"] == code).any())


def focus_estimates(
    study: VveStudy, curves: Mapping[str, ContDidResult], code: str
) -> tuple[Result, tuple[float, float] | None]:
    """A focus gemeente's own DiD against the comparison group
    (:func:`~evaluatie.estimators.single_unit.single_unit_did`, size-rescaled placebo
    interval) and, when its side has a dose-response, that curve's (estimate, se) at
    its dose."""
    units = study.units
    comparison = units.loc[units["group"] == "comparison", "gemeente_code"]
    one = single_unit_did(
        study.gemeenten,
        outcome=study.outcome,
        unit="gemeente_code",
        time="jaar",
        treated=code,
        comparison=comparison,
        pre=study.pre_years,
        post=study.post_years,
        size="n_pupils",
    )
    side = str(study.doses.loc[code, "group"])
    if side not in curves:
        return one, None
    est, se = curves[side].predict(float(study.doses.loc[code, "dose"]))
    return one, (float(est[0]), float(se[0]))


_HEADLINE = Catalogue(
    {
        "gain": {
            "nl": "{outcome}: gemiddeld effect bij gemeenten die erop vooruitgingen",
            "en": "{outcome}: average effect where funding rose",
        },
        "loss": {
            "nl": "{outcome}: gemiddeld effect bij gemeenten die erop achteruitgingen",
            "en": "{outcome}: average effect where funding fell",
        },
        "focus": {
            "nl": "{name}, {outcome}: verschil met de vergelijkingsgemeenten",
            "en": "{name}, {outcome}: difference from the comparison gemeenten",
        },
    }
)


def headline(
    curves: Mapping[str, Mapping[str, ContDidResult]],
    outcomes: Sequence[str],
    *,
    studies: Mapping[str, VveStudy] | None = None,
    focus: tuple[str, str] | None = None,
) -> Headline:
    """The report's headline, by rule, for the first listed outcome.

    A run about one gemeente (``focus``: its code and name, with ``studies``) leads with
    that gemeente's own difference from the comparison group (:func:`focus_estimates`),
    not with the national curve. Otherwise: the average effect ``ATT^o`` (in the
    outcome's unit) on the first side in :data:`SIDES` order (gains before losses) that
    has a dose-response.
    """
    first = outcomes[0]
    outcome = VVE_OUTCOMES[first]
    if focus is not None and studies is not None:
        code, name = focus
        if has_series(studies[first], code):
            one, _ = focus_estimates(studies[first], curves[first], code)
            label = _HEADLINE("focus", name=name, outcome=outcome.label)
            return Headline(one, None, label, unit=outcome.unit)
    side, result = next(iter(curves[first].items()))
    return Headline(result, "ATT_o", _HEADLINE(side, outcome=outcome.label), unit=outcome.unit)
