"""Synthetic voortijdig schoolverlaten (VSV) per gemeente, in CBS StatLine's 84780NED layout.

Used by :func:`evaluatie.synth.simulate.simulate` with its own random stream, so adding
this file leaves every other simulated file byte-identical for the same seed. The
process, per gemeente m and school year t (end year)::

    leerlingen_mt = round(1.0 * bo pupils of m's simulated schools open in t)       (u)
    logit p_mt    = logit(rate_t) + c_t + 0.08 * (mean schoolweging_m - 30) + g_m  (u)
    g_m ~ N(0, 0.15^2);  c_t makes the pupil-weighted mean of p_mt equal rate_t
    vsv_mt ~ Binomial(leerlingen_mt, p_mt)

rate_t is the published national VSV rate (docs/domain.md §6), linear between the
published years. One row per gemeente with simulated schools plus the national row
``NL01`` (sums); only the total over both sexes (``T001038``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special

from evaluatie.sources.layouts_extra import GESLACHT_TOTAAL

#: National VSV rate in % by end year of the school year (docs/domain.md §6: 2012-13 2.1,
#: 2016-17 1.75, 2019-20 1.72, 2020-21 1.87); linear in between, flat outside (u).
RATE_ANCHORS = {2013: 2.10, 2017: 1.75, 2020: 1.72, 2021: 1.87}
#: School years (end years) of the simulated table, 2013-2014 to 2023-2024.
YEARS = tuple(range(2014, 2025))
PUPILS_PER_BO_PUPIL = 1.0  # VO + MBO pupils under 23 per bo pupil in the gemeente (u)
WEGING_LOGIT = 0.08  # logit VSV per schoolweging point (u)
GEMEENTE_SD = 0.15  # gemeente effect on the logit scale (u)


def national_rate(jaar: int) -> float:
    """The national VSV rate (%) the simulation targets for school year ending ``jaar``."""
    years = sorted(RATE_ANCHORS)
    return float(np.interp(jaar, years, [RATE_ANCHORS[y] for y in years]))


def _shift(pupils: np.ndarray, logit: np.ndarray, target: float) -> float:
    """The intercept c with sum(pupils * expit(logit + c)) = target * sum(pupils)."""

    def excess(c: float) -> float:
        return float(np.average(special.expit(logit + c), weights=pupils)) - target

    return float(optimize.brentq(excess, -5.0, 5.0))


def vsv_frame(rng: np.random.Generator, schools: pd.DataFrame) -> pd.DataFrame:
    """The VSV table for ``schools`` (as drawn by ``_dgp.draw_schools``), tidy columns."""
    gemeenten = sorted(schools["gemeente_code"].unique())
    weging = schools.groupby("gemeente_code")["schoolweging"].mean()[gemeenten].to_numpy()
    effect = WEGING_LOGIT * (weging - 30.0) + rng.normal(0.0, GEMEENTE_SD, len(gemeenten))
    rows = []
    for jaar in YEARS:
        open_ = schools[(schools["first_year"] <= jaar) & (schools["last_year"] >= jaar)]
        bo = open_.groupby("gemeente_code")["aantal_leerlingen"].sum()
        pupils = np.rint(bo.reindex(gemeenten, fill_value=0).to_numpy() * PUPILS_PER_BO_PUPIL)
        pupils = pupils.astype("int64")
        rate = national_rate(jaar) / 100.0
        base = special.logit(rate) + effect
        p = special.expit(base + _shift(pupils, base, rate))
        vsv = rng.binomial(pupils, p)
        keep = pupils > 0
        schooljaar = f"{jaar - 1}-{jaar}"
        rows.append(
            pd.DataFrame(
                {
                    "regio": ["NL01", *np.asarray(gemeenten)[keep]],
                    "schooljaar": schooljaar,
                    "leerlingen": [int(pupils.sum()), *pupils[keep]],
                    "vsv": [int(vsv.sum()), *vsv[keep]],
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    frame = frame.sort_values(["regio", "schooljaar"], ignore_index=True, kind="stable")
    percentage = np.round(100.0 * frame["vsv"] / frame["leerlingen"], 2)
    return frame.assign(
        cbs_id=[str(i) for i in range(len(frame))],
        geslacht=GESLACHT_TOTAAL,
        vsv_percentage=percentage,
    )
