"""Synthetic voortijdig schoolverlaten (VSV) per gemeente, by school type, with a known
effect of a regional programme.

Used by :func:`evaluatie.synth.simulate.simulate` with its own random stream, so these
files leave every other simulated file byte-identical for the same seed. Per gemeente m
in RMC region r, school type k (VO, MBO1, MBO2, MBO34) and school year t (end year)::

    n_mt   = round(1.0 * bo pupils of m's simulated schools open in t)            (u)
    n_mkt  = share_k * n_mt (rounded down; the rest to VO)                         (u)
    logit p0_mkt = logit(rate_k) + c_t + 0.08 (mean schoolweging_m - 30) + g_m + s_rt
    g_m ~ N(0, 0.15^2), s_rt ~ N(0, 0.04^2): gemeente level and a regional shock  (u)
    c_t makes the pupil-weighted mean of p0 over all m, k equal the national rate_t
    p_mkt  = p0_mkt (1 - reduction_k) in the programme's region from its first year
    vsv_mkt ~ Binomial(n_mkt, p_mkt)

rate_t is the published national VSV rate (docs/domain.md §6), linear between the
published years. The **programme** (default: extra funds in RMC region 26, Zuid-Holland-
Noord / Holland Rijnland, whose contactgemeente is Leiden, from school year 2021-2022)
lowers the dropout risk by 25% in MBO1, 20% in MBO2, 10% in MBO34 and not at all in VO
(u): about -0.2 percentage points on a gemeente's total rate. The truth file holds the
expected effect ``TAU = 100 (p_mkt - p0_mkt)`` per gemeente x year x type and, as type
``TOTAAL``, its pupil-weighted mean over the types, with the pupils (``DEELNEMERS``)
it applies to.

Files: the CBS table (84780NED layout: gemeenten, the RMC regions as ``RM01``-``RM39``
and ``NL01``, both sexes only) and the table by school type (layout
``vsv-onderwijssoort``). School years that began before 1 January 2019 are published
under the gemeente codes of that time: Noordwijk (GM0575) and Noordwijkerhout
(GM0576), which merged then, appear separately, as in the real tables
(:func:`evaluatie.sources.rmc.fold_mergers` joins them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from evaluatie.sources.layouts_extra import GESLACHT_TOTAAL, ONDERWIJSSOORTEN
from evaluatie.sources.rmc import load_rmc_regions

#: National VSV rate in % by end year of the school year (docs/domain.md §6: 2012-13 2.1,
#: 2016-17 1.75, 2019-20 1.72, 2020-21 1.87); linear in between, flat outside (u).
RATE_ANCHORS = {2013: 2.10, 2017: 1.75, 2020: 1.72, 2021: 1.87}
#: School years (end years) of the simulated table, 2013-2014 to 2023-2024.
YEARS = tuple(range(2014, 2025))
PUPILS_PER_BO_PUPIL = 1.0  # VO + MBO pupils under 23 per bo pupil in the gemeente (u)
WEGING_LOGIT = 0.08  # logit VSV per schoolweging point (u)
GEMEENTE_SD = 0.15  # gemeente effect on the logit scale (u)
REGION_SD = 0.04  # region x year shock on the logit scale (u)
#: Share of the pupils under 23 in each school type (u), chosen with TYPE_RATES so that
#: MBO's rate comes out near the published "about 6%" and the total near the national
#: rate (docs/domain.md §6).
TYPE_SHARES = {"VO": 0.74, "MBO1": 0.01, "MBO2": 0.05, "MBO34": 0.20}
#: Dropout risk per school type before calibration (u; the VSV norms OCW set per type
#: were ordered the same way: MBO1 far above MBO2, MBO2 above MBO3/4, VO lowest).
TYPE_RATES = {"VO": 0.006, "MBO1": 0.25, "MBO2": 0.10, "MBO34": 0.04}
#: Noordwijkerhout (GM0576) merged into Noordwijk (GM0575) on 1 January 2019; its share
#: of the merged gemeente's pupils (about its share of the inhabitants (u)).
MERGED_INTO, MERGED, MERGER_YEAR, MERGED_SHARE = "GM0575", "GM0576", 2019, 0.39
TOTAAL = "TOTAAL"


@dataclass(frozen=True)
class Programme:
    """A regional VSV programme: the RMC region, the first school year (end year) it
    works in, and the relative reduction of the dropout risk per school type."""

    rmc: str = "RMC26"
    first_year: int = 2022
    reduction: Mapping[str, float] = field(
        default_factory=lambda: {"VO": 0.0, "MBO1": 0.25, "MBO2": 0.20, "MBO34": 0.10}
    )


def national_rate(jaar: int) -> float:
    """The national VSV rate (%) the simulation targets for school year ending ``jaar``."""
    years = sorted(RATE_ANCHORS)
    return float(np.interp(jaar, years, [RATE_ANCHORS[y] for y in years]))


def _shift(pupils: np.ndarray, logit: np.ndarray, target: float) -> float:
    """The intercept c with sum(pupils * expit(logit + c)) = target * sum(pupils)."""

    def excess(c: float) -> float:
        return float(np.average(special.expit(logit + c), weights=pupils)) - target

    return float(optimize.brentq(excess, -5.0, 5.0))


def _split_types(pupils: np.ndarray) -> np.ndarray:
    """Pupils per gemeente x type (columns in ONDERWIJSSOORTEN order); the rounding
    remainder goes to VO so every row sums to ``pupils``."""
    shares = np.array([TYPE_SHARES[k] for k in ONDERWIJSSOORTEN])
    out = np.floor(pupils[:, None] * shares[None, :]).astype("int64")
    out[:, 0] += pupils - out.sum(axis=1)
    return out


def draw(
    rng: np.random.Generator, schools: pd.DataFrame, programme: Programme | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The CBS table, the table by school type and the truth for ``schools`` (as drawn by
    ``_dgp.draw_schools``), tidy columns."""
    programme = programme or Programme()
    gemeenten = np.asarray(sorted(schools["gemeente_code"].unique()))
    regions = load_rmc_regions().set_index("gemeente_code")["rmc_code"]
    region_of = regions.reindex(gemeenten).to_numpy()
    region_codes = sorted(set(region_of))
    weging = schools.groupby("gemeente_code")["schoolweging"].mean()[gemeenten].to_numpy()
    level = WEGING_LOGIT * (weging - 30.0) + rng.normal(0.0, GEMEENTE_SD, len(gemeenten))
    shocks = rng.normal(0.0, REGION_SD, (len(YEARS), len(region_codes)))
    region_index = np.searchsorted(region_codes, region_of)
    treated_gemeente = region_of == programme.rmc
    type_logit = special.logit([TYPE_RATES[k] for k in ONDERWIJSSOORTEN])
    keep_share = 1.0 - np.array([programme.reduction.get(k, 0.0) for k in ONDERWIJSSOORTEN])

    by_type, truth = [], []
    for i, jaar in enumerate(YEARS):
        open_ = schools[(schools["first_year"] <= jaar) & (schools["last_year"] >= jaar)]
        bo = open_.groupby("gemeente_code")["aantal_leerlingen"].sum()
        pupils = np.rint(bo.reindex(gemeenten, fill_value=0).to_numpy() * PUPILS_PER_BO_PUPIL)
        n = _split_types(pupils.astype("int64"))
        base = type_logit[None, :] + (level + shocks[i, region_index])[:, None]
        p0 = special.expit(base + _shift(n.ravel(), base.ravel(), national_rate(jaar) / 100))
        on = treated_gemeente & (jaar >= programme.first_year)
        p = np.where(on[:, None], p0 * keep_share[None, :], p0)
        vsv = rng.binomial(n, p)
        by_type.append(_long(gemeenten, jaar, n, vsv))
        tau = 100.0 * (p - p0)[treated_gemeente]
        truth.append(_truth_rows(gemeenten[treated_gemeente], jaar, n[treated_gemeente], tau))
    soort = _publish_merger(rng, pd.concat(by_type, ignore_index=True))
    return _cbs(soort, regions), soort, pd.concat(truth, ignore_index=True)


def _long(gemeenten: np.ndarray, jaar: int, n: np.ndarray, vsv: np.ndarray) -> pd.DataFrame:
    rows = n.sum(axis=1) > 0
    k = len(ONDERWIJSSOORTEN)
    return pd.DataFrame(
        {
            "gemeente_code": np.repeat(gemeenten[rows], k),
            "jaar": jaar,
            "onderwijssoort": np.tile(ONDERWIJSSOORTEN, int(rows.sum())),
            "deelnemers": n[rows].ravel(),
            "vsv": vsv[rows].ravel(),
        }
    )


def _truth_rows(codes: np.ndarray, jaar: int, n: np.ndarray, tau: np.ndarray) -> pd.DataFrame:
    total = n.sum(axis=1)
    mean = np.divide((n * tau).sum(axis=1), total, out=np.zeros(len(total)), where=total > 0)
    k = len(ONDERWIJSSOORTEN)
    return pd.DataFrame(
        {
            "gemeente_code": np.repeat(codes, k + 1),
            "jaar": jaar,
            "onderwijssoort": np.tile([*ONDERWIJSSOORTEN, TOTAAL], len(codes)),
            "deelnemers": np.column_stack([n, total]).ravel(),
            "tau": np.round(np.column_stack([tau, mean]).ravel(), 10),
        }
    )


def _publish_merger(rng: np.random.Generator, soort: pd.DataFrame) -> pd.DataFrame:
    """Before the merger, the merged gemeente's part under its own code: its pupils are a
    fixed share, its dropouts a hypergeometric draw from the merged counts."""
    before = (soort["gemeente_code"] == MERGED_INTO) & (soort["jaar"] <= MERGER_YEAR)
    if not before.any():
        return soort.assign(schooljaar=[f"{j - 1}-{j}" for j in soort["jaar"]])
    rows = soort[before]
    n_part = np.rint(MERGED_SHARE * rows["deelnemers"].to_numpy()).astype("int64")
    vsv = rows["vsv"].to_numpy()
    vsv_part = rng.hypergeometric(vsv, rows["deelnemers"].to_numpy() - vsv, n_part)
    part = rows.assign(gemeente_code=MERGED, deelnemers=n_part, vsv=vsv_part)
    rest = rows.assign(deelnemers=rows["deelnemers"] - n_part, vsv=vsv - vsv_part)
    out = pd.concat([soort[~before], rest, part], ignore_index=True)
    out = out.sort_values(["gemeente_code", "jaar", "onderwijssoort"], ignore_index=True)
    return out.assign(schooljaar=[f"{j - 1}-{j}" for j in out["jaar"]])


def _cbs(soort: pd.DataFrame, regions: pd.Series) -> pd.DataFrame:
    """The CBS table: totals over the school types per gemeente (codes as published), per
    RMC region (``RM`` + its number) and for the country (``NL01``)."""
    totals = soort.groupby(["gemeente_code", "schooljaar"], as_index=False)[
        ["deelnemers", "vsv"]
    ].sum()
    current = totals["gemeente_code"].replace({MERGED: MERGED_INTO})
    rmc = "RM" + current.map(regions).str[3:]
    parts = [
        totals.rename(columns={"gemeente_code": "regio"}),
        totals.assign(regio=rmc)
        .groupby(["regio", "schooljaar"], as_index=False)[["deelnemers", "vsv"]]
        .sum(),
        totals.assign(regio="NL01")
        .groupby(["regio", "schooljaar"], as_index=False)[["deelnemers", "vsv"]]
        .sum(),
    ]
    frame = pd.concat(parts, ignore_index=True).rename(columns={"deelnemers": "leerlingen"})
    frame = frame.sort_values(["regio", "schooljaar"], ignore_index=True, kind="stable")
    percentage = np.round(100.0 * frame["vsv"] / frame["leerlingen"], 2)
    return frame.assign(
        cbs_id=[str(i) for i in range(len(frame))],
        geslacht=GESLACHT_TOTAAL,
        vsv_percentage=percentage,
    )
