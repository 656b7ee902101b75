"""Synthetic po -> vo transitions per gemeente with a known effect of a transition
programme (layout ``doorstroom-povo``).

Used by :func:`evaluatie.synth.simulate.simulate` with its own random stream, so this
file leaves every other simulated file byte-identical for the same seed. Per gemeente m,
groep-8 school year t (end year) and school advice k::

    n_mt  = round(0.118 * bo pupils of m's simulated schools open in t)   (groep 8, as _dgp)
    n_mtk ~ Multinomial(n_mt, share_k)           shares: docs/domain.md §5 (2019/20)
    logit down_mtk = logit(DOWN_k) + 0.05 (mean schoolweging_m - 30) + g_m + c_t   (u)
    logit up_mtk   = logit(UP_k) - 0.05 (mean schoolweging_m - 30) + h_m + c_t     (u)
    g_m, h_m ~ N(0, 0.15^2); c_t ~ N(0, 0.05^2)
    down_mtk * 0.75 in the programme gemeente from its first cohort on       (u)
    (lager, hoger, rest)_mtk ~ Multinomial(n_mtk, (down, up, 1 - down - up))

LAGER and HOGER count the cohort's pupils below and above their advice in VO year 3,
three school years after groep 8. The advice shares are DUO's 2019/20 categories grouped
by the lower level of a double advice (vso/pro/vmbo-b and b/k: VMBO-B 11.7%; k and k/gt:
VMBO-K 15.0%; gt and gt/havo: VMBO-GT 27.9%; havo and havo/vwo: HAVO 27.3%; vwo 18.1%).
The **programme** (default: Almere, which wants smooth transitions between school types,
from the groep-8 cohort of 2018-2019) cuts the risk of ending below the advice by a
quarter and leaves the rest alone; the truth file holds the expected effect on a
gemeente's share below its advice, ``TAU_LAGER = 100 sum_k n_k (down1_k - down0_k) /
sum_k n_k`` percentage points, per gemeente x cohort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from evaluatie.sources.layouts_extra import ADVIES_NIVEAUS
from evaluatie.synth import _dgp

#: Groep-8 school years (end years) of the table: their VO year 3 is 2016-17 ... 2023-24.
YEARS = tuple(range(2014, 2022))
#: docs/domain.md §5, schooladvies 2019/20, grouped as in the module docstring.
SHARES = {"VMBO-B": 0.117, "VMBO-K": 0.150, "VMBO-GT": 0.279, "HAVO": 0.273, "VWO": 0.181}
#: Risk of being below / above the advice in VO year 3 (u); none below the lowest level
#: (praktijkonderwijs left aside) and none above vwo.
DOWN = {"VMBO-B": 0.0, "VMBO-K": 0.10, "VMBO-GT": 0.12, "HAVO": 0.15, "VWO": 0.12}
UP = {"VMBO-B": 0.12, "VMBO-K": 0.12, "VMBO-GT": 0.10, "HAVO": 0.06, "VWO": 0.0}
WEGING_LOGIT = 0.05  # per schoolweging point: more achterstand, more down, less up (u)
GEMEENTE_SD = 0.15  # (u)
COHORT_SD = 0.05  # (u)


@dataclass(frozen=True)
class Programme:
    """A transition programme: the gemeente, its first groep-8 cohort (end year) and the
    factor on the risk of ending below the advice."""

    gemeente: str = "GM0034"
    first_year: int = 2019
    down_factor: float = 0.75


def _logit(p: float) -> float:
    return float(special.logit(p)) if 0.0 < p < 1.0 else -np.inf


def draw(
    rng: np.random.Generator, schools: pd.DataFrame, programme: Programme | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The po -> vo table and its truth for ``schools`` (``_dgp.draw_schools``), tidy."""
    programme = programme or Programme()
    gemeenten = np.asarray(sorted(schools["gemeente_code"].unique()))
    weging = schools.groupby("gemeente_code")["schoolweging"].mean()[gemeenten].to_numpy() - 30
    g = rng.normal(0.0, GEMEENTE_SD, len(gemeenten))
    h = rng.normal(0.0, GEMEENTE_SD, len(gemeenten))
    shocks = rng.normal(0.0, COHORT_SD, len(YEARS))
    shares = np.array([SHARES[k] for k in ADVIES_NIVEAUS])
    down0 = np.array([_logit(DOWN[k]) for k in ADVIES_NIVEAUS])
    up0 = np.array([_logit(UP[k]) for k in ADVIES_NIVEAUS])
    treated = gemeenten == programme.gemeente
    rows, truth = [], []
    for i, jaar in enumerate(YEARS):
        open_ = schools[(schools["first_year"] <= jaar) & (schools["last_year"] >= jaar)]
        bo = open_.groupby("gemeente_code")["aantal_leerlingen"].sum()
        pupils = np.rint(bo.reindex(gemeenten, fill_value=0).to_numpy() * _dgp.GROEP8_RATE)
        n = rng.multinomial(pupils.astype("int64"), shares / shares.sum())
        p_down0 = special.expit(down0[None, :] + (WEGING_LOGIT * weging + g + shocks[i])[:, None])
        p_up = special.expit(up0[None, :] + (-WEGING_LOGIT * weging + h + shocks[i])[:, None])
        on = treated & (jaar >= programme.first_year)
        p_down = np.where(on[:, None], p_down0 * programme.down_factor, p_down0)
        lager = rng.binomial(n, p_down)
        # the rest are above their advice with probability up / (1 - down): up overall
        hoger = rng.binomial(n - lager, np.clip(p_up / (1.0 - p_down), 0.0, 1.0))
        keep = n.sum(axis=1) > 0
        k = len(ADVIES_NIVEAUS)
        rows.append(
            pd.DataFrame(
                {
                    "gemeente_code": np.repeat(gemeenten[keep], k),
                    "schooljaar": f"{jaar - 1}-{jaar}",
                    "advies": np.tile(ADVIES_NIVEAUS, int(keep.sum())),
                    "leerlingen": n[keep].ravel(),
                    "lager": lager[keep].ravel(),
                    "hoger": hoger[keep].ravel(),
                }
            )
        )
        total = n[treated].sum(axis=1)
        effect = (n[treated] * (p_down - p_down0)[treated]).sum(axis=1)
        tau = 100.0 * np.divide(effect, total, out=np.zeros(len(total)), where=total > 0)
        truth.append(
            pd.DataFrame(
                {
                    "gemeente_code": gemeenten[treated],
                    "jaar": jaar,
                    "leerlingen": total,
                    "tau_lager": np.round(tau, 10),
                }
            )
        )
    return pd.concat(rows, ignore_index=True), pd.concat(truth, ignore_index=True)
