"""Synthetic DUO-style raw data with a known innovation-grant effect.

:func:`simulate` writes, into ``out_dir`` (each file atomically, byte-identical for the
same seed and arguments):

- ``05.-gemiddelde-eindscores-bo-sbo-YYYY-YYYY.csv`` for 2013-2014 ... 2023-2024, except
  2019-2020 (no eindtoets: COVID). Up to 2022-23 in DUO's 2022-23 layout with every
  school's scores under CET (the other providers ``"0"``/``0``: a simplification; real
  schools spread over five providers). 2023-24 in the doorstroomtoets layout with all
  scores under LIB, on its own scale (``LIB = 174 + 1.2 * (CET-scale score - 535.3)``);
  never mix it with CET.
- ``10.-leerlingen-bo-referentieniveaus-YYYY-YYYY.csv``: pupils per level for rekenen,
  reading (LV) and taalverzorging (TV), same years, in DUO's column names and order
  (``REKENEN_2F`` is ``"0"``, as in DUO's recent files: the groep-8 target is 1S).
- ``vestigingen-bo.csv``: every simulated vestiging with gemeente, pupils, schoolweging.
- ``innovatiebudget-subsidies.csv``: first grant school year and amount per vestiging.
- ``innovatiebudget-waarheid.csv``: the true effect per cohort x year (see below).
- ``vsv-gemeenten.csv``: voortijdig schoolverlaters per gemeente, RMC region and school
  year 2013-2014 ... 2023-2024 in CBS StatLine's 84780NED layout, national rate 1.7-2.1%
  as published; ``vsv-onderwijssoort.csv`` (``vsv-onderwijssoort``) the same per gemeente
  by school type (VO, MBO1, MBO2, MBO34); ``vsv-waarheid.csv`` (``vsv-waarheid``) the
  true effect of a regional programme (RMC region Zuid-Holland-Noord, from 2021-2022) per
  gemeente x year x type. All three from their own random stream (``_sim_vsv``), so the
  other files are the same as without them.
- ``doorstroom-povo.csv`` (``doorstroom-povo``): per gemeente, groep-8 school year
  2013-2014 ... 2020-2021 and school advice, the pupils in VO year 3 three years later and
  how many are below and above their advice; ``doorstroom-povo-waarheid.csv`` the true
  effect of a transition programme in Almere from the 2018-2019 cohort (``_sim_povo``,
  its own random stream).
- ``oab-budget-gemeenten.csv`` (layout ``oab-budget``): OAB/VVE budget and target
  children per gemeente (all 344) and calendar year 2012-2024, with the 2019
  redistribution phased in; ``vve-uitkomsten-bo.csv`` (``vve-uitkomsten``): groep-2
  pupils, kleuterverlenging, groep-3 pupils and mean groep-3 score per bo vestiging
  and school year 2015-2016 ... 2023-2024; ``vve-waarheid.csv`` (``vve-waarheid``): the
  true VVE effect per gemeente x measured year x outcome (see below). All three come
  from a fourth random stream (``_sim_vve``), so the other files are unchanged.
- ``manifest.json``: seed, arguments, and name, rows and SHA-256 of every file.

The data-generating process (``_dgp`` has every constant with its source), for vestiging
i in gemeente m and year t (the calendar year a school year ends)::

    latent_it = mu_t + 0.68 - 19.4*sbo_i + alpha_i - 0.45*(w_i - 30) + u_it + tau_it
    mean_it   = latent_it + e_it,  e_it ~ N(0, 9.5^2 / takers_it), rounded to a
                whole-point total, clipped to 501..550
    alpha_i ~ N(0, 2.5^2), u_it ~ N(0, 1), w_i = 30 + g_m + N(0, 3^2) clipped to 20..40
    g_m ~ N(0, 1) plus +2.5 Almere, +2.0 Nissewaard, +1.5 Zaanstad (schoolweging)
    groep8_it ~ Poisson(0.118 * size_i * exp(N(0, 0.12^2))), 3.6% of them exempt
    tau_it  = a_g + b*(t - g) for t >= g = cohort_i > 0, else 0

Sizes follow the domain size bands (mean ~226). Referentieniveau counts are binomial
draws of pupils N(latent_it, 9.5^2) above thresholds calibrated to the published
national shares (2018-19; rekenen moving to its 2023 shares).

mu_t is the published national mean; 0.68 = 0.035 * 19.4 keeps the all-pupil mean at
mu_t despite the sbo schools. Defaults: a = {2018: 0.4, 2019: 0.8, 2021: 1.2, 2022: 0.6},
b = 0.15 points a year; grants go to ~60% of schools in 12 gemeenten (Leiden among
them, each funding at least one school), a wave drawn uniformly, more often to schools
with a higher schoolweging (a time-invariant selection that school fixed effects
absorb, so parallel trends hold). Treated schools are open in every year.

**Estimand.** The truth file has one row per cohort g and measured year t with
``TAU`` (the effect on that year's provider scale: CET up to 2023, LIB in 2024),
``N_VESTIGINGEN`` (cohort schools open that year) and ``N_WAARGENOMEN`` (those with a
published, unsuppressed mean). The ATT over treated school-years with an observed CET
mean is ``sum(N_WAARGENOMEN * TAU) / sum(N_WAARGENOMEN)`` over rows with
``EVENT_TIJD >= 0`` and ``AANBIEDER == "CET"``; :func:`true_att` computes it (also per
event time or cohort) and the manifest records it as ``att_cet``.

**VVE** (``_sim_vve`` has every constant with its source). Budgets: the published 2018
and new levels for Almere, Zaanstad, Nissewaard, Leiden, Amsterdam and Utrecht; the
others drawn by size and achterstand and rescaled so gainers get +EUR 135m, exactly 38
losers -EUR 15m, the new total is EUR 486m and nobody gets less than EUR 64k
(docs/domain.md §1). Per gemeente m and budget year Y, with kids_m target children
(constant, about 40,000 in all, roughly proportional to the new level (u))::

    B_mY = old_m + s_Y (new_m - old_m),  s = 0 to 2018, .25, .5, .75, 1 from 2022  (u)

For outcome o (groep 2: kleuterverlenging; groep 3: score) measured in year t, the
cohort's exposure E_mt = sum_Y w_o(t, Y) B_mY / kids_m (:mod:`evaluatie.sources.exposure`)
and E0_mt the same with B_m2018 continued; DOSIS = (E_mt - E0_mt) / 1000 and::

    TAU_mt = f_o(DOSIS),  f_o(d) = A_o c (1 - exp(-d / c)),  c = vve_saturation = 6
    A = {kleuterverlenging: -0.25 pp, groep3: +0.12 points} per EUR 1k per child   (u)
    logit p_it = logit(0.105) + k + 0.06 (w_i - 30) + g_m + v_i + y_t + e_it
    kleuterverlenging_it ~ Binomial(groep2_it, clip(p_it + TAU_mt / 100, .005, .5))
    groep3_gem_it = mean of groep3_it pupil scores N(50 + 0.8 alpha_i - 0.45 (w_i - 30)
                    + school + year + shock + TAU_mt, 10^2), as a whole-point total / n

TAU is 0 for cohorts whose VVE years all precede 2019 (groep 2 up to 2020, groep 3 up
to 2021). With D_m = (B_m2022 - B_m2018) / kids_m / 1000, the policy dose,
E - E0 = phi_o(t) D_m with phi_o(t) = sum_Y w_o(t, Y) s_Y, so the true average effect
over measured years T is mean_{t in T} f_o(phi_o(t) D_m): :func:`true_dose_response`.
No trend depends on the dose (parallel trends hold), levels do: gemeenten with more
achterstand gain more and have lower scores and more kleuterverlenging.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.core.atomic import atomic_open
from evaluatie.core.errors import ParameterError
from evaluatie.sources.layouts import (
    EINDSCORES_2022,
    EINDSCORES_2023,
    PROVIDERS_2022,
    PROVIDERS_2023,
    REFERENTIENIVEAU_COUNTS,
    REFERENTIENIVEAUS,
    SUBSIDIES,
    VESTIGINGEN,
    WAARHEID,
    Layout,
)
from evaluatie.sources.layouts_extra import (
    BUDGET,
    POVO,
    POVO_WAARHEID,
    VSV_CBS,
    VSV_ONDERWIJSSOORT,
    VSV_WAARHEID,
    VVE_UITKOMSTEN,
    VVE_WAARHEID,
)
from evaluatie.sources.writer import write_duo
from evaluatie.synth import _dgp, _sim_povo, _sim_vsv, _sim_vve
from evaluatie.synth._sim_pupils import simulate_pupils as simulate_pupils  # public API
from evaluatie.synth.files import (
    BUDGET_FILE,
    MANIFEST_FILE,
    POVO_FILE,
    POVO_WAARHEID_FILE,
    SUBSIDIES_FILE,
    VESTIGINGEN_FILE,
    VSV_FILE,
    VSV_SOORT_FILE,
    VSV_WAARHEID_FILE,
    VVE_FILE,
    VVE_WAARHEID_FILE,
    WAARHEID_FILE,
    SimulationManifest,
    eindscores_file,
    n_schools_for,
    referentieniveaus_file,
    schooljaar,
)
from evaluatie.synth.truth import true_att

DEFAULT_SEED = _dgp.DEFAULT_SEED


def _effect_base(
    waves: tuple[int, ...], effect_base: float | Mapping[int, float] | None
) -> dict[int, float]:
    if effect_base is None:
        defaults = _dgp.GrantDesign().effect_base
        # Waves outside the default set get the mean default level.
        fallback = float(np.mean(list(defaults.values())))
        return {w: defaults.get(w, fallback) for w in waves}
    if isinstance(effect_base, Mapping):
        return {int(k): float(v) for k, v in effect_base.items()}
    return dict.fromkeys(waves, float(effect_base))


def simulate(
    out_dir: str | Path = "data/raw",
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    *,
    n_schools: int | None = None,
    waves: Sequence[int] = (2018, 2019, 2021, 2022),
    effect_base: float | Mapping[int, float] | None = None,
    effect_slope: float = 0.15,
    grant_gemeenten: Sequence[str] | None = None,
    grant_share: float = 0.6,
    selection: float = 0.15,
    turnover: float = 0.02,
    vve: bool = True,
    vve_effect: Mapping[str, float] | None = None,
    vve_saturation: float = _sim_vve.DEFAULT_SATURATION,
) -> SimulationManifest:
    """Write a synthetic raw-data folder (see the module docstring) and return its manifest.

    ``scale`` multiplies the number of schools (6,000 at 1); ``n_schools`` overrides it.
    ``waves`` are grant cohorts (end year of the first grant school year, e.g. 2018 for
    2017-2018); the true effect is ``effect_base[g] + effect_slope * (t - g)`` from
    ``t = g`` on (a float ``effect_base`` applies to every wave; ``effect_slope=0`` and
    one wave give a constant effect). ``grant_share`` is the share of schools in the
    ``grant_gemeenten`` that get a grant, ``selection`` how much more likely (logit per
    schoolweging point) schools with more achterstand are; ``turnover`` the share of
    schools that open late and, again, close early (never treated ones).

    ``vve`` writes the OAB budget, VVE outcome and VVE truth files (from their own
    random stream; ``False`` leaves them out and changes no other file).
    ``vve_effect`` maps ``"kleuterverlenging"`` (percentage points) and ``"groep3"``
    (points) to the slope of the true dose-response at zero, per EUR 1,000 per target
    child per year (missing outcomes keep their defaults, -0.25 and 0.12);
    ``vve_saturation`` is its saturation c in EUR 1,000s (module docstring).
    """
    if n_schools is None:
        n_schools = n_schools_for(scale)
    if n_schools < 20:
        raise ParameterError(f"need at least 20 schools, got {n_schools}")
    if not 0.0 <= turnover <= 0.2:
        raise ParameterError(f"turnover must be in 0..0.2, got {turnover}")
    waves = tuple(sorted({int(w) for w in waves}))
    slopes = _sim_vve.effects(vve_effect)
    if not (np.isfinite(vve_saturation) and vve_saturation > 0):
        raise ParameterError(f"vve_saturation must be positive and finite, got {vve_saturation}")
    design = _dgp.GrantDesign(
        waves=waves,
        effect_base=_effect_base(waves, effect_base),
        effect_slope=float(effect_slope),
        gemeenten=tuple(grant_gemeenten)
        if grant_gemeenten is not None
        else _dgp.GrantDesign().gemeenten,
        share=float(grant_share),
        selection=float(selection),
    )
    # Independent streams, so e.g. a new outcome draw does not reshuffle the schools.
    # Child i of a SeedSequence does not depend on how many are spawned: the VSV stream
    # (third) leaves the first two, and so the DUO files, as they were; the VVE stream
    # (fourth) leaves all three, the po -> vo stream (fifth) all four.
    rng_schools, rng_years, rng_vsv, rng_vve, rng_povo = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    schools = _dgp.draw_schools(rng_schools, n_schools, design, turnover)
    years = _dgp.draw_school_years(rng_years, schools, design)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[str, Any]] = {}

    def put(name: str, frame: pd.DataFrame, layout: Layout, **kwargs: Any) -> None:
        path = write_duo(frame, out / name, layout, **kwargs)
        written[name] = {
            "rows": len(frame),
            "layout": layout.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }

    merged = years.merge(schools, on="vestiging", how="left", validate="many_to_one")
    for jaar, rows in merged.groupby("jaar", sort=True):
        put(
            eindscores_file(int(jaar)),
            _eindscores_frame(rows, int(jaar)),
            _eindscores_layout(int(jaar)),
        )
        put(
            referentieniveaus_file(int(jaar)), _referentie_frame(rows, int(jaar)), REFERENTIENIVEAUS
        )
    put(VESTIGINGEN_FILE, schools, VESTIGINGEN)
    grants = schools.loc[
        schools["cohort"] > 0, ["instellingscode", "vestigingscode", "cohort", "bedrag"]
    ]
    grants = grants.assign(eerste_schooljaar=[schooljaar(int(c)) for c in grants["cohort"]])
    put(SUBSIDIES_FILE, grants, SUBSIDIES)
    truth = _truth(merged, design)
    put(WAARHEID_FILE, truth, WAARHEID)
    cbs, soort, vsv_truth = _sim_vsv.draw(rng_vsv, schools)
    put(VSV_FILE, cbs, VSV_CBS)
    put(VSV_SOORT_FILE, soort, VSV_ONDERWIJSSOORT)
    put(VSV_WAARHEID_FILE, vsv_truth, VSV_WAARHEID)
    povo, povo_truth = _sim_povo.draw(rng_povo, schools)
    put(POVO_FILE, povo, POVO)
    put(POVO_WAARHEID_FILE, povo_truth, POVO_WAARHEID)
    if vve:
        budget, outcomes, vve_truth = _sim_vve.draw(rng_vve, schools, slopes, vve_saturation)
        put(BUDGET_FILE, budget, BUDGET)
        # Small counts are written as they are (no "<5"): the layout is ours, not DUO's.
        put(VVE_FILE, outcomes, VVE_UITKOMSTEN, suppress_below=1)
        put(VVE_WAARHEID_FILE, vve_truth, VVE_WAARHEID)

    params = {
        "scale": scale,
        "n_schools": n_schools,
        "waves": list(waves),
        "effect_base": {str(k): v for k, v in design.effect_base.items()},
        "effect_slope": design.effect_slope,
        "grant_gemeenten": list(design.gemeenten),
        "grant_share": design.share,
        "selection": design.selection,
        "turnover": turnover,
        "lib_map": {"centre": _dgp.LIB_CENTRE, "slope": _dgp.LIB_SLOPE, "cet_reference": 535.3},
        "vve": bool(vve),
        "vve_effect": slopes,
        "vve_saturation": float(vve_saturation),
        "vve_phase_in": {str(y): _sim_vve.phase_in(y) for y in _sim_vve.BUDGET_YEARS},
    }
    manifest = SimulationManifest(
        out_dir=out,
        seed=seed,
        params=params,
        files=written,
        att_cet=round(true_att(truth), 12),
        path=out / MANIFEST_FILE,
    )
    with atomic_open(manifest.path, newline="\n") as fh:
        json.dump(manifest.to_dict(), fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    return manifest


def _eindscores_layout(jaar: int) -> Layout:
    return EINDSCORES_2023 if jaar > _dgp.LAST_CET_YEAR else EINDSCORES_2022


def _school_year_columns(jaar: int) -> dict[str, Any]:
    return {
        "peildatum_leerlingen": pd.Timestamp(jaar - 1, 10, 1),
        # DUO's 2022-23 file has PRIKDATUM_SCORES 20230601.
        "prikdatum": pd.Timestamp(jaar, 6, 1),
    }


def _eindscores_frame(rows: pd.DataFrame, jaar: int) -> pd.DataFrame:
    frame = rows.assign(**_school_year_columns(jaar))
    used = "LIB" if jaar > _dgp.LAST_CET_YEAR else "CET"
    providers = PROVIDERS_2023 if used == "LIB" else PROVIDERS_2022
    extra: dict[str, Any] = {}
    for p in providers:
        extra[f"{p.lower()}_aantal"] = rows["takers"] if p == used else 0
        extra[f"{p.lower()}_gem"] = rows["score"] if p == used else np.nan
    return frame.assign(**extra)


def _referentie_frame(rows: pd.DataFrame, jaar: int) -> pd.DataFrame:
    # DUO's recent files report no groep-8 pupil at rekenen 2F (the target is 1S).
    frame = rows.assign(**_school_year_columns(jaar), rekenen_2f=0)
    missing = [c.lower() for c in REFERENTIENIVEAU_COUNTS if c.lower() not in frame]
    if missing:  # pragma: no cover - guards the DGP and the layout staying in step
        raise RuntimeError(f"DGP lacks referentieniveau counts {missing}")
    return frame


def _truth(merged: pd.DataFrame, design: _dgp.GrantDesign) -> pd.DataFrame:
    """True effect per cohort x measured year, with the numbers needed to weight it."""
    treated = merged[merged["cohort"] > 0]
    # Published means need at least 5 takers (DUO suppresses 1-4 as "<5").
    observed = treated["takers"] >= 5
    counts = (
        treated.assign(obs=observed)
        .groupby(["cohort", "jaar"])
        .agg(n_vestigingen=("vestiging", "size"), n_waargenomen=("obs", "sum"))
    )
    grid = pd.MultiIndex.from_product([design.waves, _dgp.YEARS], names=["cohort", "jaar"])
    truth = counts.reindex(grid, fill_value=0).reset_index()
    lib = truth["jaar"] > _dgp.LAST_CET_YEAR
    tau = design.tau(truth["cohort"].to_numpy(), truth["jaar"].to_numpy())
    return truth.assign(
        schooljaar=[schooljaar(int(j)) for j in truth["jaar"]],
        event_tijd=truth["jaar"] - truth["cohort"],
        aanbieder=np.where(lib, "LIB", "CET"),
        tau=np.where(lib, _dgp.LIB_SLOPE * tau, tau),
    )
