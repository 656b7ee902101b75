"""One gemeente's question: did outcome X change after year T, compared with gemeenten
like it?

A :class:`GemeenteCase` is a balanced gemeente x jaar panel with the focus gemeente
treated from ``first_year`` and, as donors, the gemeenten most like it: the ``donors``
nearest in size (log of mean pupils or exam candidates), among those without the policy.
Like-sized donors matter for the inference, not only for the fit: on the real VO exam
panel, synthetic DiD's placebo variance with all 276 other gemeenten as donors rejected a
true null for 9.7% of the smallest third of gemeenten and 0% of the largest (a small
gemeente's pass rate is noisier than the donors' average); with the 40 nearest in size,
5.4 / 8.7 / 3.3% (``tests/test_placebo_size.py``).

Three designs answer the question side by side (:func:`compare`): synthetic control
(Abadie et al. 2010; rank p-value over the donors), synthetic DiD (Arkhangelsky et al.
2021; placebo standard error) and the long-difference DiD with a size-rescaled
Conley-Taber interval (:func:`~evaluatie.estimators.single_unit.single_unit_did`).
Synthetic DiD is the headline: it has an interval at every donor count and its size was
measured on the real panel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from evaluatie.core.errors import DesignError, EvaluatieError, ParameterError
from evaluatie.core.results import Result
from evaluatie.estimators.single_unit import single_unit_did
from evaluatie.estimators.synthetic import SyntheticResult, synthetic_control, synthetic_did
from evaluatie.sources.examens import complete_series, load_exam_rates
from evaluatie.sources.outcomes import Outcome, outcome_info
from evaluatie.sources.povo import load_povo_rates
from evaluatie.sources.rmc import load_rmc_regions
from evaluatie.sources.vsv import load_vsv_rates
from evaluatie.sources.vve import VveData, load_vve
from evaluatie.studies.vve.design import known_curve, vve_study
from evaluatie.synth.truth import known_povo_effect, known_vsv_effect

#: Donors by default: enough for a rank test at 5% (19) with room for a fit.
DONORS = 40
#: The minimum detectable effect in standard errors: 5% two-sided, 80% power.
MDE_FACTOR = float(special.ndtri(0.975) + special.ndtri(0.8))
KEYS: dict[str, Any] = {
    "outcome": "y",
    "unit": "gemeente_code",
    "time": "jaar",
    "treatment": "treated",
}


@dataclass(frozen=True)
class GemeenteCase:
    """``panel``: ``gemeente_code, jaar, y, size, treated`` for the focus gemeente and its
    donors; ``truth``: the known effect on simulated data (None on real data)."""

    panel: pd.DataFrame
    focus: str
    first_year: int
    outcome: Outcome
    source: str
    truth: float | None = None

    @property
    def donors(self) -> list[str]:
        return sorted(set(self.panel["gemeente_code"]) - {self.focus})

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.panel["jaar"].unique())

    @property
    def pre_years(self) -> list[int]:
        return [y for y in self.years if y < self.first_year]

    @property
    def post_years(self) -> list[int]:
        return [y for y in self.years if y >= self.first_year]

    def focus_series(self) -> pd.Series:
        rows = self.panel[self.panel["gemeente_code"] == self.focus]
        return rows.set_index("jaar")["y"]


def similar_donors(sizes: pd.Series, focus: str, k: int = DONORS) -> list[str]:
    """The ``k`` gemeenten of ``sizes`` (index: code) nearest to ``focus`` in log size."""
    distance = (np.log(sizes.drop(index=focus)) - np.log(sizes[focus])).abs()
    return sorted(distance.sort_values(kind="stable").index[:k])


def case_from_panel(
    panel: pd.DataFrame, *, focus: str, first_year: int, candidates: list[str], donors: int,
    outcome: Outcome, source: str, truth: float | None = None,
) -> GemeenteCase:  # fmt: skip
    """The case of ``panel`` (``gemeente_code, jaar, y, size``; the unit may also be a
    region): checks the focus and the year, picks the ``donors`` nearest in size among
    ``candidates`` and marks the focus treated from ``first_year``."""
    if focus not in set(panel["gemeente_code"]):
        raise DesignError(f"gemeente {focus} has no complete {outcome.name} series in the data")
    years = sorted(panel["jaar"].unique())
    if not years[0] + 2 <= first_year <= years[-1]:
        raise ParameterError(
            f"first_year={first_year}: the data run {years[0]}-{years[-1]}; a synthetic "
            f"comparison needs two years before the start and one after ({years[0] + 2}-"
            f"{years[-1]})"
        )
    sizes = panel.groupby("gemeente_code")["size"].first()
    pool = sizes[sizes.index.isin([*candidates, focus])]
    if len(pool) - 1 < 2:
        raise DesignError(f"only {len(pool) - 1} gemeenten can serve as donors; need 2 or more")
    chosen = [focus, *similar_donors(pool, focus, donors)]
    out = panel[panel["gemeente_code"].isin(chosen)].copy()
    out["treated"] = ((out["gemeente_code"] == focus) & (out["jaar"] >= first_year)).astype(int)
    return GemeenteCase(
        out.sort_values(["gemeente_code", "jaar"], ignore_index=True),
        focus, int(first_year), outcome, source, truth,
    )  # fmt: skip


def _rate_case(
    rates: pd.DataFrame, *, value: str, size: str, gemeente: str, first_year: int,
    donors: int, source: str, exclude: Sequence[str] = (),
    truth_of: Callable[[list[int]], float | None] | None = None,
) -> GemeenteCase:  # fmt: skip
    """The case of one gemeente x jaar rate table; ``truth_of`` gives the known effect
    over the case's post years (called once the start year is checked)."""
    rates = complete_series(rates)  # the synthetic designs need a balanced panel
    panel = pd.DataFrame(
        {
            "gemeente_code": rates["gemeente_code"],
            "jaar": rates["jaar"].astype(int),
            "y": rates[value],
            "size": rates[size],
        }
    )
    codes = sorted(set(panel["gemeente_code"]) - {gemeente} - set(exclude))
    case = case_from_panel(
        panel, focus=gemeente, first_year=first_year, candidates=codes, donors=donors,
        outcome=outcome_info(value), source=source,
    )  # fmt: skip
    return case if truth_of is None else replace(case, truth=truth_of(case.post_years))


def exam_case(
    rates: pd.DataFrame, *, gemeente: str, first_year: int, donors: int = DONORS
) -> GemeenteCase:
    """The VO exam pass rate (:func:`evaluatie.sources.examens.exam_rates`) of ``gemeente``
    from ``first_year`` against the ``donors`` gemeenten nearest in exam candidates. Real
    data: there is no known truth, and no policy is assumed to be in the data -- the
    report presents it as an illustration of the method."""
    return _rate_case(
        rates, value="slaagpercentage", size="kandidaten_gemiddeld", gemeente=gemeente,
        first_year=first_year, donors=donors, source="examens",
    )  # fmt: skip


def region_members(gemeente: str) -> list[str]:
    """The gemeenten of ``gemeente``'s RMC region (:mod:`evaluatie.sources.rmc`), itself
    included; none when the crosswalk does not know the code (e.g. a gemeente formed
    after the shipped list)."""
    regions = load_rmc_regions().set_index("gemeente_code")["rmc_code"]
    if gemeente not in regions.index:
        return []
    return sorted(regions.index[regions == regions[gemeente]])


def vsv_case(
    rates: pd.DataFrame, *, gemeente: str, first_year: int, raw_dir: str | Path,
    donors: int = DONORS,
) -> GemeenteCase:  # fmt: skip
    """The VSV percentage (:func:`evaluatie.sources.vsv.load_vsv_rates`) of ``gemeente``
    from ``first_year`` against the ``donors`` gemeenten nearest in pupils outside its RMC
    region: VSV policy is regional (the RMC contactgemeente coordinates it for all its
    members), so a neighbour in the region may share the policy. On simulated data the
    truth is the simulated regional programme's effect on ``gemeente`` (0 outside the
    programme's region)."""
    return _rate_case(
        rates, value="vsv_percentage", size="leerlingen_gemiddeld", gemeente=gemeente,
        first_year=first_year, donors=donors, source="vsv", exclude=region_members(gemeente),
        truth_of=lambda years: known_vsv_effect(raw_dir, gemeenten=[gemeente], years=years),
    )  # fmt: skip


def povo_case(
    rates: pd.DataFrame, *, gemeente: str, outcome: str, first_year: int,
    raw_dir: str | Path, donors: int = DONORS,
) -> GemeenteCase:  # fmt: skip
    """The share of ``gemeente``'s pupils below (``afstroom_percentage``) or above
    (``opstroom_percentage``) their school advice in VO year 3
    (:func:`evaluatie.sources.povo.load_povo_rates`), by groep-8 year, from the cohort of
    ``first_year`` against the ``donors`` gemeenten nearest in pupils. On simulated data
    the truth is the simulated transition programme's effect (0 outside it)."""
    return _rate_case(
        rates, value=outcome, size="leerlingen_gemiddeld", gemeente=gemeente,
        first_year=first_year, donors=donors, source="povo",
        truth_of=lambda years: known_povo_effect(
            raw_dir, gemeente=gemeente, years=years, outcome=outcome
        ),
    )  # fmt: skip


def vve_case(
    data: VveData, *, gemeente: str, outcome: str, raw_dir: str | Path,
    comparison_band: float = 0.5, donors: int = DONORS,
) -> GemeenteCase:  # fmt: skip
    """A VVE outcome of ``gemeente`` from the first year its cohorts had the new funding
    (the VVE study's exposure timing), against the donors nearest in pupils among the
    comparison gemeenten (funding per target child moved by at most ``comparison_band``).
    On simulated data ``truth`` is the true effect at the gemeente's dose relative to the
    comparison group, averaged over the post years (:func:`evaluatie.studies.vve.known_curve`)."""
    study = vve_study(data, outcome=outcome, comparison_band=comparison_band)
    gem = study.gemeenten
    panel = pd.DataFrame(
        {
            "gemeente_code": gem["gemeente_code"].astype(str),
            "jaar": gem["jaar"].astype(int),
            "y": gem[outcome],
            "size": gem["pupils"],
        }
    )
    units = study.units
    comparison = units.loc[units["group"] == "comparison", "gemeente_code"].astype(str).tolist()
    if gemeente in comparison:
        raise DesignError(
            f"{gemeente}'s funding per target child hardly changed (it is in the comparison "
            "group): there is no policy change to evaluate"
        )
    truth = None
    if gemeente in set(study.doses.index):
        dose = np.array([float(study.doses.loc[gemeente, "dose"])])
        known = known_curve(study, raw_dir, dose)
        truth = None if known is None else float(known.iloc[0])
    return case_from_panel(
        panel, focus=gemeente, first_year=study.reference + 1, candidates=comparison,
        donors=donors, outcome=outcome_info(outcome), source="vve", truth=truth,
    )  # fmt: skip


def load(data_kind: str, raw_dir: str | Path) -> pd.DataFrame | VveData:
    """The table :func:`build_case` reads for ``data_kind`` ("examens", "vsv", "povo",
    "vve")."""
    loaders = {
        "examens": load_exam_rates, "vsv": load_vsv_rates, "povo": load_povo_rates,
        "vve": load_vve,
    }  # fmt: skip
    if data_kind not in loaders:
        raise ParameterError(f"data must be one of {sorted(loaders)}, got {data_kind!r}")
    return loaders[data_kind](raw_dir)


def build_case(
    data: pd.DataFrame | VveData, *, data_kind: str, gemeente: str, outcome: str,
    first_year: int | None, donors: int, comparison_band: float, raw_dir: str | Path,
) -> GemeenteCase:  # fmt: skip
    """The case a params file describes: :func:`exam_case` on exam pass rates (``data``
    from :func:`~evaluatie.sources.examens.load_exam_rates`), :func:`vsv_case` on VSV
    rates (``load_vsv_rates``) or :func:`vve_case` on the VVE tables (``data`` from
    :func:`~evaluatie.sources.vve.load_vve`)."""
    if data_kind == "examens":
        assert isinstance(data, pd.DataFrame) and first_year is not None
        return exam_case(data, gemeente=gemeente, first_year=first_year, donors=donors)
    if data_kind == "vsv":
        assert isinstance(data, pd.DataFrame) and first_year is not None
        return vsv_case(
            data, gemeente=gemeente, first_year=first_year, raw_dir=raw_dir, donors=donors
        )
    if data_kind == "povo":
        assert isinstance(data, pd.DataFrame) and first_year is not None
        return povo_case(
            data, gemeente=gemeente, outcome=outcome, first_year=first_year, raw_dir=raw_dir,
            donors=donors,
        )  # fmt: skip
    assert isinstance(data, VveData)
    return vve_case(
        data, gemeente=gemeente, outcome=outcome, raw_dir=raw_dir,
        comparison_band=comparison_band, donors=donors,
    )  # fmt: skip


def case_problems(data: pd.DataFrame | VveData, **arguments: object) -> list[str]:
    """Why :func:`build_case` cannot build the case (empty: it can), checked before a
    kernel starts."""
    try:
        build_case(data, **arguments)  # type: ignore[arg-type]
    except EvaluatieError as exc:
        return [str(exc)]
    return []


@dataclass(frozen=True)
class Comparison:
    """The three designs on one case."""

    sc: SyntheticResult
    sdid: SyntheticResult
    did: Result

    @property
    def mde(self) -> float:
        """Synthetic DiD's minimum detectable effect at 5% with 80% power,
        ``(z_0.975 + z_0.8) x SE`` under its normal approximation (calibrated on the real
        exam panel in ``tests/test_placebo_size.py``)."""
        return MDE_FACTOR * self.sdid.headline().se


def compare(case: GemeenteCase, *, replications: int = 200, seed: int | None = None) -> Comparison:
    """Synthetic control, synthetic DiD and the single-unit DiD of ``case``."""
    sc = synthetic_control(case.panel, **KEYS)
    sdid = synthetic_did(case.panel, **KEYS, replications=replications, seed=seed)
    did = single_unit_did(
        case.panel, outcome="y", unit="gemeente_code", time="jaar", treated=case.focus,
        comparison=case.donors, pre=case.pre_years, post=case.post_years, size="size",
    )  # fmt: skip
    return Comparison(sc, sdid, did)
