"""Synthetic OAB/VVE budgets per gemeente and early-years outcomes with a known dose-response.

Used by :func:`evaluatie.synth.simulate.simulate` with its own random stream (the fourth
child of the seed), so these files leave every other simulated file byte-identical for
the same seed. Numbers come from docs/domain.md unless marked (u): an assumption.

**Budget** per gemeente m and calendar year Y (2012-2024), for all 344 gemeenten::

    B_mY = old_m + s_Y * (new_m - old_m)
    s_Y  = 0 up to 2018, 0.25 (2019), 0.5 (2020), 0.75 (2021), 1 from 2022       (u)

docs/domain.md §1: the CBS indicator was phased in 2019-2022, fully in 2022, but the path is
not published, so it is linear here; the published "new (2020)" figures are taken as
the full new level. Six gemeenten have their published 2018 and new levels exactly;
for the others::

    old_m ~ n_vestigingen_m^1.2 * exp(0.15 * z_m + N(0, 0.25^2))               (u)
    z_m   = gemeente mean schoolweging - 30 of the simulated schools, shrunk by
            n/(n + 9) (else N(0, 1)): the achterstand the old weights also saw

and new_m = old_m + delta_m, with 38 losers (the three named ones plus 35 drawn, more
often large gemeenten with little achterstand) and everyone else gaining; 10 losers
and 28 gainers change by less than 3% (a comparison group with a near-zero change in
funding per target child), the other gains have a long right tail
(log gain ~ N(log 0.3, 0.75^2) + 0.35 z_m (u)). Old budgets are rescaled to a total
of EUR 366m and gains and losses to +EUR 135m / -EUR 15m (docs/domain.md §1), so the new total
is EUR 486m, every new budget at least EUR 64k, all exact to the euro.

**Target children** (DOELGROEPKINDEREN), one CBS indicator measurement, constant over the
years (u): round(new_m / 12,150 * exp(N(0, 0.08^2))), at least 1, about 40,000 in all
(u) -- the new allocation follows the indicator, so funding per target child is about
equal from 2022 and varies widely before.

**Truth.** For outcome o and measured year t, E_mt is the measured cohort's funding per
target child (:func:`evaluatie.sources.exposure.exposure`) and E0_mt the same with the
2018 budget continued. DOSIS = (E_mt - E0_mt) / 1000 and::

    TAU = f_o(DOSIS),  f_o(d) = A_o * c * (1 - exp(-d / c)),  c = 6 (EUR 1,000s) (u)

Because target children are constant, E - E0 = phi_o(t) * D_m with the policy dose
D_m = (new_m - old_m) / kids_m / 1000 and phi_o(t) = sum_Y w_o(t, Y) s_Y (:func:`phi`).

**Outcomes** per bo vestiging i and school year ending t (2016-2024)::

    groep2_it, groep3_it ~ Poisson(size_i / 8 * exp(N(0, 0.12^2)))                (u)
    logit p_it = logit(0.105) + k + 0.06 (w_i - 30) + g_m + v_i + y_t + e_it          (u)
    g_m ~ N(0, 0.2^2), v_i ~ N(0, 0.3^2), y_t ~ N(0, 0.03^2), e_it ~ N(0, 0.1^2);
    k makes the groep-2-weighted mean of p_it 10.5% (docs/domain.md §7: CPB 2016)
    kleuterverlenging_it ~ Binomial(groep2_it, clip(p_it + TAU/100, 0.005, 0.5))
    latent_it = 50 + 0.8 alpha_i - 0.45 (w_i - 30) + N(0, 1.2^2)_i + N(0, 0.3^2)_t
                + N(0, 1)_it + TAU                                                  (u)
    groep3_gem_it = round(n * (latent_it + N(0, 10^2 / n))) / n,  n = groep3_it

(pupil scale mean 50, SD 10 (u); alpha_i and w_i are the school's eindtoets effect and
schoolweging). Nothing trends with the dose: parallel trends hold by construction.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import optimize, special

from evaluatie.core.errors import ParameterError
from evaluatie.sources import vve
from evaluatie.sources.exposure import exposure, exposure_weights
from evaluatie.sources.gemeenten import load_gemeenten
from evaluatie.synth import _dgp

VVE_OUTCOMES = tuple(vve.VVE_OUTCOMES)
BUDGET_YEARS = tuple(range(2012, 2025))
#: End years of the school years with VVE outcomes (2015-2016 ... 2023-2024).
OUTCOME_YEARS = tuple(range(2016, 2025))
#: Share of the move to the new allocation by year (u: docs/domain.md §1 gives no path).
PHASE_IN = {2019: 0.25, 2020: 0.5, 2021: 0.75}
FIRST_YEAR = 2019  # the first year of the new allocation

#: Published OAB levels 2018 and new (2020), EUR (docs/domain.md §1 table).
ANCHORS = {
    "GM0034": (4_390_000, 12_127_000),  # Almere +176%
    "GM0479": (4_343_000, 7_371_000),  # Zaanstad +70%
    "GM1930": (663_000, 3_460_000),  # Nissewaard +422%
    "GM0546": (3_200_000, 2_539_000),  # Leiden -21%
    "GM0363": (56_412_000, 51_032_000),  # Amsterdam -10%
    "GM0344": (18_489_000, 13_045_000),  # Utrecht -29%
}
# docs/domain.md §1: gainers +EUR 135m in all, 38 losers -EUR 15m, every gemeente at least EUR 64k,
# about EUR 486m to gemeenten from 2020 (taken as the new total; so the old one is 366m).
GAIN_TOTAL, LOSS_TOTAL, N_LOSERS = 135_000_000, 15_000_000, 38
MIN_BUDGET, NEW_TOTAL = 64_000, 486_000_000
OLD_TOTAL = NEW_TOTAL - GAIN_TOTAL + LOSS_TOTAL
TARGET_CHILDREN = 40_000  # national total (u)
PER_CHILD = NEW_TOTAL / TARGET_CHILDREN  # EUR 12,150 per target child under the new level

# Old allocation and changes (all (u)).
SIZE_POWER, OLD_WEGING, OLD_SD = 1.2, 0.15, 0.25
N_SMALL_LOSERS, N_SMALL_GAINERS, SMALL_CHANGE = 10, 28, (0.002, 0.03)
GAIN_LOG_MEAN, GAIN_LOG_SD, GAIN_WEGING = np.log(0.3), 0.75, 0.35
LOSER_WEGING, LOSS_RANGE, LOSS_CAP = 0.8, (0.03, 0.3), 0.45
KIDS_SD = 0.08

#: Defaults of the true dose-response: slope at zero per EUR 1,000 per target child per
#: year (groep3: points on a pupil SD of 10; kleuterverlenging: percentage points) and
#: the saturation c in EUR 1,000s. docs/domain.md §7: CPB (2016) found an extra EUR 95m cut
#: kleuterverlenging by 1-3 pp (boys); Dutch VVE effects on scores are small or nil, so
#: 0.012 SD per EUR 1k is an assumption chosen to be detectable (u).
DEFAULT_EFFECT = {"kleuterverlenging": -0.25, "groep3": 0.12}
DEFAULT_SATURATION = 6.0

KV_SHARE = 0.105  # docs/domain.md §7: kleuterverlenging about 10.5% of pupils (CPB 2016)
KV_WEGING, KV_GEMEENTE_SD, KV_SCHOOL_SD, KV_YEAR_SD, KV_SHOCK_SD = 0.06, 0.2, 0.3, 0.03, 0.1
KV_CLIP = (0.005, 0.5)
G3_MEAN, G3_PUPIL_SD = 50.0, 10.0  # pupil scale (u)
G3_ALPHA, G3_WEGING, G3_SCHOOL_SD, G3_YEAR_SD, G3_SHOCK_SD = 0.8, -0.45, 1.2, 0.3, 1.0
GROEP_RATE, COHORT_SD = 1 / 8, 0.12  # pupils per groep ~ size / 8 (u)


def phase_in(jaar: int) -> float:
    """Share s_Y of the way from the old to the new allocation in budget year ``jaar``."""
    return 0.0 if jaar < FIRST_YEAR else PHASE_IN.get(int(jaar), 1.0)


def phi(outcome: str, jaar: int) -> float:
    """phi_o(t) = sum_Y w_o(t, Y) s_Y: the share of the policy dose a cohort received."""

    w = exposure_weights(outcome, jaar)
    return float(sum(weight * phase_in(int(y)) for y, weight in w.items()))


def dose_response(dose: np.ndarray, slope: float, saturation: float) -> np.ndarray:
    """f(d) = slope * c * (1 - exp(-d / c)): concave, slope ``slope`` at 0, f(0) = 0."""
    d = np.asarray(dose, dtype="float64")
    return -slope * saturation * np.expm1(-d / saturation) + 0.0  # + 0.0: no -0.0


def effects(vve_effect: Mapping[str, float] | None) -> dict[str, float]:
    """Slopes per outcome: the defaults, overridden by ``vve_effect``."""
    given = dict(vve_effect or {})
    unknown = sorted(set(given) - set(VVE_OUTCOMES))
    if unknown:
        raise ParameterError(f"vve_effect: unknown outcome(s) {unknown}; use {VVE_OUTCOMES}")
    out = {**DEFAULT_EFFECT, **{k: float(v) for k, v in given.items()}}
    if not all(np.isfinite(v) for v in out.values()):
        raise ParameterError(f"vve_effect must be finite, got {out}")
    return out


def _round_to_total(values: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers with exactly ``total`` as sum (largest remainder); values >= 0."""
    base = np.floor(values).astype("int64")
    short = int(total - base.sum())
    if not 0 <= short <= len(values):  # pragma: no cover - guards the callers
        raise RuntimeError(f"cannot round {values.sum()} to {total}")
    order = np.argsort(-(values - base), kind="stable")
    base[order[:short]] += 1
    return base


def _scaled(v: np.ndarray, total: float, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """clip(k * v, low, high) summing to ``total`` (k > 0 found by root search)."""

    def excess(k: float) -> float:
        return float(np.clip(k * v, low, high).sum() - total)

    hi = total / float(v.sum())
    for _ in range(60):  # the sum rises with k up to sum(high)
        if excess(hi) >= 0:
            break
        hi *= 2.0
    if excess(0.0) > 0 or excess(hi) < 0:  # pragma: no cover - guards the constants
        raise RuntimeError("budget totals cannot be met with these bounds")
    k = optimize.brentq(excess, 0.0, hi, xtol=1e-14, rtol=1e-15)
    return np.clip(k * v, low, high)


def _achterstand(rng: np.random.Generator, codes: np.ndarray, schools: pd.DataFrame) -> np.ndarray:
    """z_m: shrunk mean schoolweging - 30 of the gemeente's simulated schools, else random."""
    random = rng.normal(0.0, _dgp.WEGING_GEMEENTE_SD, len(codes))
    agg = schools.groupby("gemeente_code")["schoolweging"].agg(["mean", "size"]).reindex(codes)
    n = agg["size"].to_numpy(dtype="float64")
    shrink = n / (n + (_dgp.WEGING_SD / _dgp.WEGING_GEMEENTE_SD) ** 2)
    z = (agg["mean"].to_numpy(dtype="float64") - _dgp.WEGING_MEAN) * shrink
    return np.where(np.isnan(z), random, z)


def draw_levels(rng: np.random.Generator, schools: pd.DataFrame) -> pd.DataFrame:
    """Old and new budget level and target children for every gemeente (one row each)."""
    gem = load_gemeenten()
    codes = gem["gemeente_code"].to_numpy()
    n = len(codes)
    z = _achterstand(rng, codes, schools)
    anchor = np.isin(codes, list(ANCHORS))
    free = ~anchor
    old, new = np.zeros(n, dtype="int64"), np.zeros(n, dtype="int64")
    for code, (o, nw) in ANCHORS.items():
        old[codes == code], new[codes == code] = o, nw
    weight = gem["n_vestigingen"].to_numpy(dtype="float64") ** SIZE_POWER * np.exp(
        OLD_WEGING * z + rng.normal(0.0, OLD_SD, n)
    )
    rest = OLD_TOTAL - int(old[anchor].sum())
    old[free] = _round_to_total(weight[free] / weight[free].sum() * rest, rest)

    # Who loses: 35 besides the named three, more often large gemeenten with little
    # achterstand; who changes little; everyone else gains.
    anchor_delta = np.where(anchor, new - old, 0)
    can_lose = free & (old >= 150_000)
    p = np.where(can_lose, old * np.exp(-LOSER_WEGING * z), 0.0)
    n_free_losers = N_LOSERS - int((anchor_delta < 0).sum())
    losers = rng.choice(n, size=n_free_losers, replace=False, p=p / p.sum())
    small_losers, big_losers = losers[:N_SMALL_LOSERS], losers[N_SMALL_LOSERS:]
    can_small = free & (old >= 80_000)
    can_small[losers] = False
    small_gainers = rng.choice(np.flatnonzero(can_small), size=N_SMALL_GAINERS, replace=False)
    gainers = np.setdiff1d(np.flatnonzero(free), np.concatenate([losers, small_gainers]))

    delta = anchor_delta.copy()
    small = rng.uniform(*SMALL_CHANGE, size=n)
    delta[small_gainers] = np.maximum(1, np.rint(old[small_gainers] * small[small_gainers]))
    delta[small_losers] = -np.maximum(1, np.rint(old[small_losers] * small[small_losers]))

    loss = old * rng.uniform(*LOSS_RANGE, size=n)
    cap = np.minimum(np.floor(LOSS_CAP * old), old - MIN_BUDGET).astype("float64")
    loss_left = LOSS_TOTAL + int(delta[delta < 0].sum())
    big = _scaled(loss[big_losers], loss_left, np.zeros(len(big_losers)), cap[big_losers])
    delta[big_losers] = -_round_to_total(big, loss_left)

    gain = old * np.exp(rng.normal(GAIN_LOG_MEAN, GAIN_LOG_SD, n) + GAIN_WEGING * z)
    floor = np.maximum(1, MIN_BUDGET - old).astype("float64")  # new >= EUR 64k
    gain_left = GAIN_TOTAL - int(delta[delta > 0].sum())
    scaled = _scaled(gain[gainers], gain_left, floor[gainers], np.full(len(gainers), np.inf))
    delta[gainers] = _round_to_total(scaled, gain_left)
    new[free] = old[free] + delta[free]

    kids = np.maximum(1, np.rint(new / PER_CHILD * np.exp(rng.normal(0.0, KIDS_SD, n))))
    levels = pd.DataFrame(
        {
            "gemeente_code": codes,
            "budget_oud": old,
            "budget_nieuw": new,
            "doelgroepkinderen": kids.astype("int64"),
        }
    )
    _check_levels(levels)
    return levels


def _check_levels(levels: pd.DataFrame) -> None:
    delta = levels["budget_nieuw"] - levels["budget_oud"]
    ok = (
        delta[delta > 0].sum() == GAIN_TOTAL
        and delta[delta < 0].sum() == -LOSS_TOTAL
        and (delta < 0).sum() == N_LOSERS
        and levels["budget_nieuw"].min() >= MIN_BUDGET
        and levels["budget_nieuw"].sum() == NEW_TOTAL
    )
    if not ok:  # pragma: no cover - guards the construction above
        raise RuntimeError("simulated OAB budgets miss the published totals")


def budget_frame(levels: pd.DataFrame) -> pd.DataFrame:
    """The ``oab-budget`` table: one row per gemeente x calendar year 2012-2024."""
    old = levels["budget_oud"].to_numpy(dtype="float64")
    change = levels["budget_nieuw"].to_numpy(dtype="float64") - old
    parts = [
        pd.DataFrame(
            {
                "gemeente_code": levels["gemeente_code"],
                "jaar": jaar,
                "budget_eur": old + phase_in(jaar) * change,  # quarter euros at most
                "doelgroepkinderen": levels["doelgroepkinderen"],
            }
        )
        for jaar in BUDGET_YEARS
    ]
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["gemeente_code", "jaar"], ignore_index=True)


def truth_frame(
    budget: pd.DataFrame, gemeenten: np.ndarray, slopes: Mapping[str, float], saturation: float
) -> pd.DataFrame:
    """Exposure with and without the redistribution, dose and TAU per gemeente x year x
    outcome, for ``gemeenten`` and the measured years whose window the budget covers."""

    level_2018 = budget.loc[budget["jaar"] == FIRST_YEAR - 1].set_index("gemeente_code")
    counterfactual = budget.assign(
        budget_eur=budget["gemeente_code"].map(level_2018["budget_eur"]).to_numpy()
    )
    parts = []
    for outcome in VVE_OUTCOMES:
        with_ = exposure(budget, outcome, OUTCOME_YEARS)
        without = exposure(counterfactual, outcome, OUTCOME_YEARS)
        rows = with_[["gemeente_code", "jaar"]].assign(
            uitkomst=outcome,
            blootstelling_eur=with_["funding_per_child"].to_numpy(),
            blootstelling_zonder_eur=without["funding_per_child"].to_numpy(),
        )
        rows = rows[rows["gemeente_code"].isin(gemeenten) & rows["blootstelling_eur"].notna()]
        dosis = (rows["blootstelling_eur"] - rows["blootstelling_zonder_eur"]) / 1000.0
        parts.append(
            rows.assign(
                dosis=dosis, tau=dose_response(dosis.to_numpy(), slopes[outcome], saturation)
            )
        )
    truth = pd.concat(parts, ignore_index=True)
    return truth.sort_values(["gemeente_code", "jaar", "uitkomst"], ignore_index=True)


def _tau_lookup(
    truth: pd.DataFrame, codes: np.ndarray, jaar: np.ndarray, outcome: str
) -> np.ndarray:

    cells = truth[truth["uitkomst"] == outcome].set_index(["gemeente_code", "jaar"])["tau"]
    tau = cells.reindex(pd.MultiIndex.from_arrays([codes, jaar])).to_numpy(dtype="float64")
    gap = np.isnan(tau)
    # Only cohorts whose window the budget does not cover lack a truth row: all pre-2019.
    if any(exposure_weights(outcome, int(t)).index.max() >= FIRST_YEAR for t in set(jaar[gap])):
        raise RuntimeError(f"no true effect for a post-2018 {outcome} cohort")
    return np.where(gap, 0.0, tau)


def outcomes_frame(
    rng: np.random.Generator, schools: pd.DataFrame, truth: pd.DataFrame
) -> pd.DataFrame:
    """The ``vve-uitkomsten`` table: bo vestigingen x school years 2015-2016 ... 2023-2024."""
    bo = schools[schools["soort_po"] == "Bo"]
    years = np.array(OUTCOME_YEARS)
    present = (years[None, :] >= bo["first_year"].to_numpy()[:, None]) & (
        years[None, :] <= bo["last_year"].to_numpy()[:, None]
    )
    idx, col = np.nonzero(present)
    jaar = years[col]
    m = len(idx)
    gem = load_gemeenten()["gemeente_code"]
    code = bo["gemeente_code"].to_numpy()[idx]
    g_pos = pd.Index(gem).get_indexer(code)
    size = bo["aantal_leerlingen"].to_numpy()[idx]
    weging = bo["schoolweging"].to_numpy()[idx] - _dgp.WEGING_MEAN
    alpha = bo["alpha"].to_numpy()[idx]

    groep2 = rng.poisson(size * GROEP_RATE * np.exp(rng.normal(0.0, COHORT_SD, m)))
    groep3 = rng.poisson(size * GROEP_RATE * np.exp(rng.normal(0.0, COHORT_SD, m)))

    logit = (
        special.logit(KV_SHARE)
        + KV_WEGING * weging
        + rng.normal(0.0, KV_GEMEENTE_SD, len(gem))[g_pos]
        + rng.normal(0.0, KV_SCHOOL_SD, len(bo))[idx]
        + rng.normal(0.0, KV_YEAR_SD, len(years))[col]
        + rng.normal(0.0, KV_SHOCK_SD, m)
    )

    def share(c: float) -> float:
        return float(np.average(special.expit(logit + c), weights=groep2)) - KV_SHARE

    p0 = special.expit(logit + optimize.brentq(share, -3.0, 3.0))
    p = np.clip(p0 + _tau_lookup(truth, code, jaar, "kleuterverlenging") / 100.0, *KV_CLIP)
    kv = rng.binomial(groep2, p)

    latent = (
        G3_MEAN
        + G3_ALPHA * alpha
        + G3_WEGING * weging
        + rng.normal(0.0, G3_SCHOOL_SD, len(bo))[idx]
        + rng.normal(0.0, G3_YEAR_SD, len(years))[col]
        + rng.normal(0.0, G3_SHOCK_SD, m)
        + _tau_lookup(truth, code, jaar, "groep3")
    )
    safe = np.maximum(groep3, 1)
    observed = latent + rng.normal(0.0, G3_PUPIL_SD, m) / np.sqrt(safe)
    # A mean as DUO publishes it: a whole-point total over the pupils.
    mean = np.where(groep3 > 0, np.rint(observed * safe) / safe, np.nan)
    return pd.DataFrame(
        {
            "schooljaar": [f"{j - 1}-{j}" for j in jaar],
            "instellingscode": bo["instellingscode"].to_numpy()[idx],
            "vestigingscode": bo["vestigingscode"].to_numpy()[idx],
            "gemeente_code": code,
            "leerlingen_groep2": groep2,
            "kleuterverlenging": kv,
            "leerlingen_groep3": groep3,
            "groep3_gem": mean,
        }
    )


def draw(
    rng: np.random.Generator,
    schools: pd.DataFrame,
    slopes: Mapping[str, float],
    saturation: float,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Budget table, outcome table and truth table (tidy columns) for ``schools``."""
    levels = draw_levels(rng, schools)
    budget = budget_frame(levels)
    truth = truth_frame(budget, levels["gemeente_code"].to_numpy(), slopes, saturation)
    outcomes = outcomes_frame(rng, schools, truth)
    # The truth for gemeenten with outcome rows (a bo school open in 2016-2024).
    # (the distinct codes: pandas' isin on arrow strings converts each value it is given)
    truth = truth[truth["gemeente_code"].isin(outcomes["gemeente_code"].unique())]
    return budget, outcomes, truth.reset_index(drop=True)
