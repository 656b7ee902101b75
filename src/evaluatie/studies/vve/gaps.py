"""Gelijke kansen in the VVE study: the funding slope at schools with more and with
less achterstand.

Schools are split at the median of their schoolweging (the CBS onderwijsachterstanden-
indicator; the simulator's ``vestigingen`` file carries it, DUO publishes it in a
separate file). Each band gets the report's TWFE on the measured cohort's funding per
target child (:func:`~evaluatie.studies.vve.design.exposure_twfe` on the band's
schools), and the difference of the two slopes is :func:`evaluatie.twfe_difference`
(year effects per band, CRV1 by gemeente, pupil-weighted). Every gemeente's funding
changed, so there are some 340 clusters with a dose each; on the real exam panel with a
placebo dose N(0, 1) per gemeente (groups: VMBO and HAVO/VWO programmes) that test
rejected a non-existent difference in 6.0% of 200 draws (``tests/test_placebo_size.py``,
slow). The simulated VVE effect depends
on the gemeente's dose only, not on the schoolweging: on simulated data the true
difference is 0.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from evaluatie.core.language import Catalogue, p_statement
from evaluatie.core.memo import reused
from evaluatie.core.results import RegressionResult
from evaluatie.estimators.group_difference import twfe_difference
from evaluatie.reporting.interpret import signed
from evaluatie.sources.duo import read_duo
from evaluatie.sources.panel import files_by_kind
from evaluatie.sources.sample import WEGING_BANDS
from evaluatie.sources.sample import weging_bands as median_bands
from evaluatie.studies.vve.design import VveStudy, _weight, exposure_twfe

BANDS = WEGING_BANDS


def schoolweging(raw_dir: str | Path) -> pd.Series | None:
    """Each vestiging's schoolweging from the ``vestigingen`` file in ``raw_dir``, or
    ``None`` when there is none."""
    found = files_by_kind(Path(raw_dir)).get("vestigingen", [])
    if not found:
        return None
    frame = pd.concat([read_duo(path) for path in found], ignore_index=True)
    if "schoolweging" not in frame:
        return None
    return frame.groupby("vestiging")["schoolweging"].mean().dropna()


def weging_bands(study: VveStudy, weging: pd.Series | None) -> pd.Series | None:
    """``meer`` above the median schoolweging of the study's schools, else ``minder``;
    ``None`` without schoolweging for them."""
    if weging is None:
        return None
    mine = weging.reindex(study.schools["vestiging"].unique()).dropna()
    if len(mine) < 4:
        return None
    return median_bands(mine)


def _banded(study: VveStudy, bands: pd.Series) -> pd.DataFrame:
    schools = study.schools.assign(band=study.schools["vestiging"].map(bands))
    return schools.dropna(subset=["band"])


@reused
def band_slopes(study: VveStudy, bands: pd.Series) -> dict[str, RegressionResult]:
    """The report's exposure TWFE within each band."""
    schools = _banded(study, bands)
    return {
        band: exposure_twfe(_with_schools(study, schools[schools["band"] == band]))
        for band in BANDS
    }


def _with_schools(study: VveStudy, schools: pd.DataFrame) -> VveStudy:
    return replace(study, schools=schools.drop(columns="band"))


@reused
def difference(study: VveStudy, bands: pd.Series) -> RegressionResult:
    """The ``meer`` minus ``minder`` slope (:func:`evaluatie.twfe_difference`)."""
    schools = _banded(study, bands)
    return twfe_difference(
        schools.assign(meer=schools["band"] == BANDS[0]), outcome=study.outcome,
        treatment="exposure", unit="vestiging", time="jaar", group="meer",
        cluster="gemeente_code", weights=_weight(study.outcome), inference="analytic",
    )  # fmt: skip


TEXT = Catalogue(
    {
        "section": {
            "nl": "## Gelijke kansen: scholen met meer en minder achterstand\n\nDezelfde "
            "regressie met vaste effecten, apart voor de scholen boven en onder de mediaan "
            "van de schoolweging (de CBS-indicator voor onderwijsachterstand), en het "
            "verschil tussen de twee hellingen (vaste jaareffecten per groep, CRV1 "
            "geclusterd per gemeente; op echte examengegevens met een placebodosis vond die "
            "toets een niet-bestaand verschil in 6,0% van de gevallen, waar 5% hoort).",
            "en": "## Equal opportunities: schools with more and less achterstand\n\nThe "
            "same TWFE regression, separately for the schools above and below the median "
            "schoolweging (the CBS achterstand indicator), and the difference between the two "
            "slopes (year effects per group, CRV1 clustered by gemeente; on real exam data "
            "with a placebo dose this test found a non-existent difference in 6.0% of cases, "
            "where 5% belongs).",
        },
        "none": {
            "nl": "De gegevens bevatten geen schoolweging per school (DUO publiceert die in "
            "een apart bestand): de uitsplitsing naar achterstand ontbreekt.",
            "en": "The data carry no schoolweging per school (DUO publishes it in a separate "
            "file): the split by achterstand is missing.",
        },
        "row": {
            "nl": "{outcome}, scholen met {band} achterstand: {estimate} {unit} per € 1.000 "
            "(95%-BI {low} tot {high}).",
            "en": "{outcome}, schools with {band} achterstand: {estimate} {unit} per EUR "
            "1,000 (95% CI {low} to {high}).",
        },
        "band.meer": {"nl": "meer", "en": "more"},
        "band.minder": {"nl": "minder", "en": "less"},
        "difference": {
            "nl": "Verschil (meer − minder): {estimate} {unit} per € 1.000 (95%-BI {low} tot "
            "{high}, {p}).",
            "en": "Difference (more − less): {estimate} {unit} per EUR 1,000 (95% CI {low} to "
            "{high}, {p}).",
        },
        "truth": {
            "nl": " *Gesimuleerde gegevens:* het ware effect hangt alleen van de dosis van "
            "de gemeente af, niet van de schoolweging: het ware verschil is 0.",
            "en": " *Simulated data:* the true effect depends on the gemeente's dose only, "
            "not on the schoolweging: the true difference is 0.",
        },
    }
)


def section() -> str:
    return TEXT("section")


def none_sentence() -> str:
    return TEXT("none")


def sentences(
    slopes: dict[str, RegressionResult], diff: RegressionResult, *, outcome: str, unit: str,
    simulated: bool,
) -> str:  # fmt: skip
    """Each band's slope and the difference, in words."""
    parts = []
    outcome = outcome[:1].upper() + outcome[1:]  # it opens a sentence
    for band, result in slopes.items():
        o = result.headline()
        parts.append(
            TEXT(
                "row",
                outcome=outcome,
                band=TEXT(f"band.{band}"),
                unit=unit,
                estimate=signed(o.estimate, 3),
                low=signed(o.ci_low, 3),
                high=signed(o.ci_high, 3),
            )
        )
    o = diff.headline()
    parts.append(
        TEXT(
            "difference",
            unit=unit,
            estimate=signed(o.estimate, 3),
            low=signed(o.ci_low, 3),
            high=signed(o.ci_high, 3),
            p=p_statement(o.p),
        )
        + (TEXT("truth") if simulated else "")
    )
    return " ".join(parts)
