"""Placebo policies on a real panel: the DUO VO exam results in ``tests/data``.

Used by the slow size tests (``tests/test_placebo_size.py``): a random set of gemeenten
gets a 'policy' from a random school year, with a true effect of zero, so a test at the
5% level should reject in about 5% of the draws whatever the number of treated gemeenten.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluatie.sources.examens import exam_rates
from evaluatie.sources.tidy import read_examens

EXAMS = Path(__file__).parent / "data" / "duo" / "examenkandidaten-en-geslaagden-2019-2024.csv"
#: The school years (first calendar year) from which a placebo policy may start.
START_YEARS = (2021, 2022, 2023)


def _published() -> pd.DataFrame:
    """The exam file's rows for all candidates whose counts DUO publishes (not ``<5``),
    in a known gemeente."""
    e = read_examens(EXAMS)
    keep = (
        (e["geslacht"] == "TOTAAL")
        & ~e["examenkandidaten_suppressed"]
        & ~e["geslaagden_suppressed"]
        & e["gemeente_code"].notna()
    )
    return e[keep]


def vo_panel() -> pd.DataFrame:
    """Pass rates per exam programme (vestiging x onderwijstype x opleiding) and school
    year, 2019-20 to 2023-24, all pupils, where DUO publishes the counts; programmes with
    at least two years. Columns ``unit`` (int), ``year`` (first calendar year of the
    school year), ``gemeente``, ``y`` (pass rate, 0-100)."""
    e = _published()
    e = e[e["slaagpercentage"].notna()]
    label = e["vestiging"] + "|" + e["onderwijstype"] + "|" + e["opleiding"]
    panel = pd.DataFrame(
        {
            "unit": pd.factorize(label)[0],
            "year": e["schooljaar"].str[:4].astype(int).to_numpy(),
            "gemeente": e["gemeente_code"].astype(str).to_numpy(),
            "y": e["slaagpercentage"].to_numpy(float),
        }
    )
    years = panel.groupby("unit")["year"].transform("size")
    panel = panel[years >= 2]
    panel["unit"] = pd.factorize(panel["unit"])[0]
    return panel.sort_values(["unit", "year"], ignore_index=True)


def placebo(panel: pd.DataFrame, n_treated: int, rng: np.random.Generator) -> pd.DataFrame:
    """``panel`` with a placebo policy: ``n_treated`` random gemeenten, each from a
    random year in :data:`START_YEARS` (``cohort``: that year, 0 for the others;
    ``d``: 1 from it on)."""
    gemeenten = np.unique(panel["gemeente"])
    treated = rng.choice(gemeenten, n_treated, replace=False)
    start = dict(zip(treated, rng.choice(START_YEARS, n_treated), strict=True))
    cohort = panel["gemeente"].map(start).fillna(0).astype(int).to_numpy()
    d = ((cohort > 0) & (panel["year"].to_numpy() >= cohort)).astype(float)
    return panel.assign(cohort=cohort, d=d)


def vo_gemeenten() -> pd.DataFrame:
    """Pass rates per gemeente and school year (all candidates' passes over all
    candidates, where DUO publishes the counts: :func:`evaluatie.sources.examens.exam_rates`),
    gemeenten with all five years. Columns ``gemeente``, ``year`` (first calendar year of
    the school year), ``y`` (0-100) and ``size`` (mean candidates per year)."""
    rates = exam_rates(read_examens(EXAMS))
    return pd.DataFrame(
        {
            "gemeente": rates["gemeente_code"],
            "year": rates["jaar"] - 1,
            "y": rates["slaagpercentage"],
            "size": rates["kandidaten_gemiddeld"],
        }
    )
