"""The data-generating process behind :func:`evaluatie.synth.simulate.simulate`.

Two steps: :func:`draw_schools` (time-invariant: gemeente, size, schoolweging, stable
school effect, identifiers, grants) and :func:`draw_school_years` (per school and year:
groep-8 size, takers, eindtoets mean, referentieniveau counts). Numbers come from
docs/domain.md unless marked (u), which means an assumption without a public source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from evaluatie.core.errors import ParameterError
from evaluatie.sources.gemeenten import load_gemeenten

#: Seed of the default synthetic data (simulate() and simulate_pupils()).
DEFAULT_SEED = 20240601

#: End years of the school years with an eindtoets file; 2019-20 had none (COVID).
YEARS = (2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024)
#: The last year with the Centrale Eindtoets; 2023-24 has the doorstroomtoets (LIB here).
LAST_CET_YEAR = 2023

#: National eindtoets means (docs/domain.md §4: Centrale Eindtoets 2015-2023). 2014 repeats 2015,
#: 2022 interpolates 2021 and 2023, and 2024 (no CET) repeats 2023: all three (u).
NATIONAL_MEAN = {
    2014: 535.3, 2015: 535.3, 2016: 534.9, 2017: 535.6, 2018: 535.6, 2019: 536.1,
    2021: 535.0, 2022: 535.15, 2023: 535.3, 2024: 535.3,
}  # fmt: skip

#: LIB scores are on their own scale, around 174 (docs/domain.md §4); the linear map from the
#: CET scale and its slope are (u).
LIB_CENTRE, LIB_SLOPE = 174.0, 1.2

PUPIL_SD = 9.5  # docs/domain.md §4: pupil-level SD about 9-10 (u)
# Stable school effect, chosen so the SD of school means is ~3.5 (docs/domain.md §4) as in DUO's
# 2022-23 file (3.49 for bo schools with >= 20 CET takers, 3.73 for all).
SCHOOL_SD = 2.5
YEAR_SD = 1.0  # school x year shock beyond sampling noise (u)
WEGING_EFFECT = -0.45  # eindtoets points per schoolweging point (u)
# Sbo schools score far lower: 515.7 vs 535.1 for bo CET users in DUO's 2022-23 file.
SBO_OFFSET = -19.4
SBO_SHARE = 0.035  # 161 of 4,693 vestigingen in DUO's 2022-23 file are sbo
# Groep-8 pupils per pupil on the roll: median takers 23 in DUO's 2022-23 file at a
# median size of ~200; 3.6% of groep 8 exempt there (ONTHEFFING_REDEN_ND / takers).
GROEP8_RATE, EXEMPT_RATE, COHORT_SD = 0.118, 0.036, 0.12

#: CBS-schoolweging-like score: mean 30, SD 3 within gemeenten, gemeente SD 1 (u).
WEGING_MEAN, WEGING_SD, WEGING_GEMEENTE_SD = 30.0, 3.0, 1.0
#: Gemeenten whose OAB budget rose most under the CBS indicator (docs/domain.md §1: Almere
#: +176%, Nissewaard +422%, Zaanstad +70%) get a higher mean schoolweging (size (u)).
WEGING_SHIFT = {"GM0034": 2.5, "GM1930": 2.0, "GM0479": 1.5}

#: School sizes: quantile knots interpolated log-linearly. Domain.md bands (2022/23):
#: <=100: 1,060, 101-200: 1,958, 201-500: 2,778, 501-1,000: 257 of 6,053, mean ~226;
#: the 300 and 700 knots and the 20-pupil minimum are (u), chosen to hit the mean.
SIZE_KNOTS = (
    (0.0, 20),
    (0.175, 100),
    (0.498, 200),
    (0.75, 300),
    (0.958, 500),
    (0.99, 700),
    (1.0, 1000),
)

#: Shares of pupils reaching a level (docs/domain.md §5, 2018-19; rekenen also 2023), as
#: (at least 1F, top level). Rekenen moves linearly from the 2019 to the 2023 values.
REF_SHARES = {"LV": (0.984, 0.779), "TV": (0.970, 0.602)}
REKENEN_2019, REKENEN_2023 = (0.935, 0.471), (0.84, 0.33)

#: Denominations with their counts in DUO's 2022-23 file (first 4,693 rows, top 8).
DENOMINATIES = {
    "Rooms-Katholiek": 1591, "Protestants-Christelijk": 1348, "Openbaar": 1159,
    "Algemeen bijzonder": 235, "Reformatorisch": 143, "Gereformeerd vrijgemaakt": 89,
    "Antroposofisch": 60, "Samenwerking PC, RK": 43,
}  # fmt: skip
_PREFIX = {"Openbaar": "OBS", "Protestants-Christelijk": "CBS", "Rooms-Katholiek": "RKBS"}
_NAMES = (
    "De Regenboog", "Het Kompas", "De Wegwijzer", "De Linde", "De Vlinder", "Het Palet",
    "De Springplank", "De Sterrenboog", "Het Mozaïek", "De Fontein", "De Klimop",
    "De Zonnewijzer", "'t Schrijverke", "De Horizon", "De Tweemaster", "De Ark",
    "Het Baken", "De Wilgen", "De Kameleon", "De Reinbôge", "Eben-Haëzer", "De Meander",
)  # fmt: skip


@dataclass(frozen=True)
class GrantDesign:
    """Who gets an innovation grant when, and the true effect tau(g, e) = a_g + b*e."""

    waves: tuple[int, ...] = (2018, 2019, 2021, 2022)
    effect_base: dict[int, float] = field(
        default_factory=lambda: {2018: 0.4, 2019: 0.8, 2021: 1.2, 2022: 0.6}
    )
    effect_slope: float = 0.15
    # Leiden has had an innovatiebudget since 2017 and Den Haag (GM0518) granted EUR 0.4m
    # in 2018 (docs/domain.md §1); the other gemeenten are an arbitrary mix of large and small (u).
    gemeenten: tuple[str, ...] = (
        "GM0546", "GM0518", "GM0034", "GM0453", "GM0479", "GM0344", "GM0014", "GM0772",
        "GM0599", "GM0363", "GM0268", "GM0855",
    )  # fmt: skip
    share: float = 0.6
    selection: float = 0.15

    def __post_init__(self) -> None:
        if not self.waves:
            raise ParameterError("waves: give at least one grant wave (a cohort year)")
        bad = [w for w in self.waves if not YEARS[0] < w <= YEARS[-1]]
        if bad:
            raise ParameterError(
                f"waves {bad}: a cohort is the end year of the first grant school year and "
                f"must lie in {YEARS[0] + 1}..{YEARS[-1]} (at least one year before it)"
            )
        missing = [w for w in self.waves if w not in self.effect_base]
        if missing:
            raise ParameterError(f"effect_base has no effect for wave(s) {missing}")
        if not 0.0 < self.share <= 1.0:
            raise ParameterError(f"grant share must be in (0, 1], got {self.share}")

    def tau(self, cohort: np.ndarray, jaar: np.ndarray) -> np.ndarray:
        """True effect in eindtoets (CET) points; 0 before the grant and when never treated."""
        cohort = np.asarray(cohort)
        event = np.asarray(jaar) - cohort
        a = pd.Series(cohort).map(self.effect_base).fillna(0.0).to_numpy(dtype=float)
        return np.where((cohort > 0) & (event >= 0), a + self.effect_slope * event, 0.0)


def allocate(n_schools: int, weights: pd.Series, must: tuple[str, ...]) -> pd.Series:
    """Split ``n_schools`` over gemeenten in proportion to ``weights`` (largest remainder).

    Every gemeente gets at least one school when there are enough schools, otherwise
    at least those in ``must`` do; the schools this takes come from the largest ones.
    """
    quota = weights.astype(float) / float(weights.sum()) * n_schools
    counts = np.floor(quota).astype(int)
    remainder = (quota - counts).sort_values(ascending=False, kind="stable")
    counts[remainder.index[: n_schools - int(counts.sum())]] += 1
    need = counts.index if n_schools >= len(weights) else pd.Index(must)
    short = [g for g in need if counts[g] == 0]
    if len(short) > n_schools // 2:
        raise ParameterError(
            f"n_schools={n_schools} is too small for {len(short)} required gemeenten"
        )
    for g in short:
        counts[counts.idxmax()] -= 1
        counts[g] = 1
    return counts


def draw_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pupils per school from the size-band quantile knots (log-linear between knots)."""
    p, size = (np.array(v, dtype=float) for v in zip(*SIZE_KNOTS, strict=True))
    return np.rint(np.exp(np.interp(rng.random(n), p, np.log(size)))).astype(int)


def _codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct 4-character instellingscodes like ``00AP`` / ``16YK``, in random order."""
    letters = np.array([chr(c) for c in range(ord("A"), ord("Z") + 1)])
    pool = np.char.add(
        np.char.add(
            np.repeat([f"{d:02d}" for d in range(32)], 26 * 26), np.tile(np.repeat(letters, 26), 32)
        ),
        np.tile(letters, 32 * 26),
    )
    return rng.choice(pool, size=n, replace=False)


def draw_schools(
    rng: np.random.Generator, n_schools: int, design: GrantDesign, turnover: float
) -> pd.DataFrame:
    """One row per vestiging with everything that does not change over time."""
    gem = load_gemeenten().set_index("gemeente_code")
    must = tuple(dict.fromkeys(("GM0546", "GM0034", "GM0453", *design.gemeenten)))
    unknown = [g for g in must if g not in gem.index]
    if unknown:
        raise ParameterError(f"unknown gemeente code(s) {unknown}; see load_gemeenten()")
    counts = allocate(n_schools, gem["n_vestigingen"], must)
    code = np.repeat(counts.index.to_numpy(), counts.to_numpy())
    n = len(code)
    g_shift = pd.Series(rng.normal(0.0, WEGING_GEMEENTE_SD, len(gem)), index=gem.index)
    g_shift = g_shift.add(pd.Series(WEGING_SHIFT), fill_value=0.0)
    weging = WEGING_MEAN + g_shift[code].to_numpy() + rng.normal(0.0, WEGING_SD, n)
    schools = pd.DataFrame(
        {
            "gemeente_code": code,
            "gemeentenummer": pd.Series(code).str[2:].astype(int).to_numpy(),
            "gemeentenaam": gem.loc[code, "gemeente_naam"].to_numpy(),
            "provincie": gem.loc[code, "provincie"].to_numpy(),
            "soort_po": np.where(rng.random(n) < SBO_SHARE, "Sbo", "Bo"),
            "aantal_leerlingen": draw_sizes(rng, n),
            "schoolweging": np.round(np.clip(weging, 20.0, 40.0), 2),
            "alpha": rng.normal(0.0, SCHOOL_SD, n),
        }
    )
    _identify(rng, schools)
    _grants(rng, schools, design)
    # Opening and closing schools make the panel unbalanced; treated schools stay open
    # throughout so every grant has pre- and post-grant years.
    never = np.flatnonzero(schools["cohort"].to_numpy() == 0)
    first = np.full(n, YEARS[0])
    last = np.full(n, YEARS[-1])
    opens = rng.choice(never, size=int(turnover * n), replace=False)
    closes = rng.choice(np.setdiff1d(never, opens), size=int(turnover * n), replace=False)
    first[opens] = rng.choice(YEARS[1:], size=len(opens))
    last[closes] = rng.choice(YEARS[:-1], size=len(closes))
    schools["first_year"], schools["last_year"] = first, last
    return schools.sort_values("vestiging", ignore_index=True)


def _identify(rng: np.random.Generator, schools: pd.DataFrame) -> None:
    """Add codes, names and other descriptive columns (in place)."""
    n = len(schools)
    # About 1.5% of vestigingen share an instelling with a neighbour (98.5% "00" in DUO's file).
    inst = _codes(rng, n)
    vcode = np.full(n, "00", dtype=object)
    gcode = schools["gemeente_code"].to_numpy()
    # Candidate pairs: neighbours in the (gemeente-sorted) frame within one gemeente.
    pos = np.flatnonzero(gcode[1:] == gcode[:-1]) + 1
    for i in np.sort(rng.choice(pos, size=min(len(pos), int(0.015 * n)), replace=False)):
        if vcode[i - 1] == "00" and vcode[i] == "00":
            inst[i], vcode[i] = inst[i - 1], "01"
    schools["instellingscode"] = inst
    schools["vestigingscode"] = vcode.astype(str)
    schools["vestiging"] = schools["instellingscode"] + schools["vestigingscode"]
    denoms = np.array(list(DENOMINATIES))
    probs = np.array(list(DENOMINATIES.values()), dtype=float)
    denom = rng.choice(denoms, size=n, p=probs / probs.sum())
    base = rng.choice(np.array(_NAMES), size=n)
    # A few names carry double quotes, as DUO's do (BS "De Maasparel"), to keep quoting honest.
    base = np.where(rng.random(n) < 0.02, np.char.add(np.char.add('"', base), '"'), base)
    prefix = np.where(
        schools["soort_po"] == "Sbo", "SBO", [_PREFIX.get(d, "Basisschool") for d in denom]
    )
    schools["instellingsnaam_vestiging"] = np.char.add(
        np.char.add(prefix.astype(str), " "), base.astype(str)
    )
    letters = np.array(list("ABCDEGHJKLMNPRTVWXZ"))
    schools["postcode_vestiging"] = [
        f"{d}{a}{b}"
        for d, a, b in zip(
            rng.integers(1000, 10000, n),
            rng.choice(letters, n),
            rng.choice(letters, n),
            strict=True,
        )
    ]
    schools["plaatsnaam"] = schools["gemeentenaam"].str.upper()
    schools["denominatie_vestiging"] = denom
    # About six vestigingen per bevoegd gezag (u); numbers in the range DUO's file uses.
    besturen = 40001 + rng.permutation(max(1, n // 6))
    schools["bevoegd_gezag_nummer"] = rng.choice(besturen, size=n).astype(str)


def _grants(rng: np.random.Generator, schools: pd.DataFrame, design: GrantDesign) -> None:
    """Assign grant cohorts and amounts (in place); schools with more achterstand apply more."""
    eligible = schools["gemeente_code"].isin(design.gemeenten).to_numpy()
    centred = schools["schoolweging"].to_numpy() - WEGING_MEAN
    p = (
        special.expit(special.logit(design.share) + design.selection * centred)
        if design.share < 1
        else np.ones(len(schools))
    )
    granted = eligible & (rng.random(len(schools)) < p)
    # Every grant gemeente funds at least one school, so a small simulation still has
    # grants in Leiden (and the other named gemeenten).
    gcode = schools["gemeente_code"].to_numpy()
    for g in design.gemeenten:
        members = np.flatnonzero(gcode == g)
        if len(members) and not granted[members].any():
            granted[rng.choice(members)] = True
    wave = rng.choice(np.array(design.waves), size=len(schools))
    schools["cohort"] = np.where(granted, wave, 0)
    # Amounts have no public source (u): median about EUR 15,000, rounded to EUR 500.
    amount = np.maximum(
        2500.0, np.round(rng.lognormal(np.log(15000.0), 0.5, len(schools)) / 500.0) * 500.0
    )
    schools["bedrag"] = np.where(granted, amount, np.nan)


def _threshold(latent: np.ndarray, weight: np.ndarray, share: float) -> float:
    """The pupil score that ``share`` of pupils reach, given school means and takers."""

    def excess(c: float) -> float:
        return float(np.average(special.ndtr((latent - c) / PUPIL_SD), weights=weight)) - share

    return float(optimize.brentq(excess, 400.0, 700.0))


def _ref_thresholds(
    jaar: np.ndarray, latent: np.ndarray, takers: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pupil-score thresholds (CET scale) for reaching 1F and the top level, per row.

    Calibrated so the simulated national shares equal the published ones in the year
    they were measured; reading and taalverzorging keep their 2018-19 thresholds.
    """

    def at(year: int, share: float) -> float:
        rows = (jaar == year) & (takers > 0)
        return _threshold(latent[rows], takers[rows], share)

    out = {}
    for dom, shares in REF_SHARES.items():
        c1, c2 = (np.full(len(jaar), at(2019, s)) for s in shares)
        out[dom] = (c1, c2)
    w = np.clip((jaar - 2019) / (2023 - 2019), 0.0, 1.0)
    c19 = [at(2019, s) for s in REKENEN_2019]
    c23 = [at(2023, s) for s in REKENEN_2023]
    out["REKENEN"] = ((1 - w) * c19[0] + w * c23[0], (1 - w) * c19[1] + w * c23[1])
    return out


def draw_school_years(
    rng: np.random.Generator, schools: pd.DataFrame, design: GrantDesign
) -> pd.DataFrame:
    """One row per vestiging x year with takers, latent and observed eindtoets, levels."""
    years = np.array(YEARS)
    present = (years[None, :] >= schools["first_year"].to_numpy()[:, None]) & (
        years[None, :] <= schools["last_year"].to_numpy()[:, None]
    )
    idx, col = np.nonzero(present)
    jaar = years[col]
    s = schools.iloc[idx].reset_index(drop=True)
    m = len(idx)
    size = s["aantal_leerlingen"].to_numpy()
    groep8 = rng.poisson(size * GROEP8_RATE * np.exp(rng.normal(0.0, COHORT_SD, m)))
    exempt = rng.binomial(groep8, EXEMPT_RATE)
    takers = groep8 - exempt
    tau = design.tau(s["cohort"].to_numpy(), jaar)
    sbo = (s["soort_po"] == "Sbo").to_numpy()
    # The intercept offsets the sbo schools so the all-pupil mean matches the national mean.
    latent = (
        np.array([NATIONAL_MEAN[int(y)] for y in jaar])
        - SBO_SHARE * SBO_OFFSET
        + SBO_OFFSET * sbo
        + s["alpha"].to_numpy()
        + WEGING_EFFECT * (s["schoolweging"].to_numpy() - WEGING_MEAN)
        + rng.normal(0.0, YEAR_SD, m)
        + tau
    )
    safe = np.maximum(takers, 1)
    cet_scale = latent + rng.normal(0.0, PUPIL_SD, m) / np.sqrt(safe)
    lib = jaar > LAST_CET_YEAR
    score = np.where(
        lib,
        LIB_CENTRE + LIB_SLOPE * (cet_scale - NATIONAL_MEAN[2023]),
        np.clip(cet_scale, 501.0, 550.0),
    )
    # A published mean is a whole-point total over the takers (e.g. 4255/8 = 531,875).
    score = np.where(takers > 0, np.rint(score * safe) / safe, np.nan)
    out = pd.DataFrame(
        {
            "vestiging": s["vestiging"],
            "jaar": jaar,
            "groep8": groep8,
            "ontheffing_reden_nd": exempt,
            "takers": takers,
            "latent": latent,
            "tau": tau,
            "score": score,
        }
    )
    thresholds = _ref_thresholds(jaar, latent, takers)
    for dom, (c1, c2) in thresholds.items():
        top_name = "REKENEN_1S" if dom == "REKENEN" else f"{dom}_2F"
        p_top = special.ndtr((latent - c2) / PUPIL_SD)
        p_ge1 = special.ndtr((latent - c1) / PUPIL_SD)
        n_top = rng.binomial(takers, p_top)
        n_mid = rng.binomial(
            takers - n_top, np.clip((p_ge1 - p_top) / np.maximum(1 - p_top, 1e-12), 0, 1)
        )
        out[top_name.lower()] = n_top
        out[f"{dom}_1F".lower()] = n_mid
        out[f"{dom}_LAGER1F".lower()] = takers - n_top - n_mid
    return out
