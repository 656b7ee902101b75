"""Benchmark: evaluatie's ``cont_did`` against diff-diff and moderndid (continuous-dose DiD).

Usage:  python bench/contdid.py [--units 6000] [--years 8] [--degree 3] [--knots 2] [--repeats 3]

A balanced panel (default 6,000 units x 8 years, 2015-2022, one treatment date 2019; 30%
comparison units with dose 0, the others a log-normal dose; a concave dose response,
unit levels correlated with the dose, year shocks, noise) is fitted by each package doing
the same work: the ATT(d) and ACRT(d) curves on a 50-point grid, ATT^o and ACRT^o, pooled
over the four post years against the base year 2018, with analytic standard errors:

* ours: ``cont_did(data, "y", "unit", "year", "dose", 2019, degree=, num_knots=, dvals=)``;
* diff-diff: ``ContinuousDiD(degree=, num_knots=, dvals=, control_group="never_treated")``;
* moderndid: ``cont_did(..., aggregation="dose", control_group="nevertreated", biters=1)``
  on the same data with the years numbered 1..8 (its dose path fails on calendar years).
  Its dose aggregation always runs a multiplier bootstrap for its SEs (one draw here);
  its analytic influence functions are compared instead.

The same work is then timed with sampling weights (a unit's number of pupils, 10-500):
ours with ``weights="pupils"`` against diff-diff with
``fit(..., survey_design=SurveyDesign(weights="pupils"))``. moderndid 0.2 is left out
there: its dose path ignores ``weightsname``. Their SEs are not compared under one
convention: diff-diff's survey SEs multiply its (already weighted) influence functions by
the weights again (pinned in ``tests/estimators/contdid/test_contdid.py``), and both are printed.

The number of treated units is set so that the interior-knot quantiles fall on doses:
moderndid takes them over unit x post-year rows, diff-diff and we over units, and the
knots then agree. Every call runs once to warm up, then the best of ``--repeats`` runs is
reported, the three packages interleaved. The fits are compared: max |difference| of the
curves, of ATT^o and ACRT^o, and of the SEs under the same convention (diff-diff: all but
the ACRT^o SE, which leaves out the dose-averaging term; moderndid: the ACRT(d) SEs from
its influence functions).
"""

from __future__ import annotations

import argparse
import os
import warnings
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.testing import moderndid_polars_compat
from timing import best_times  # bench/timing.py (this folder is on sys.path as a script)


def make_panel(n_units: int, n_years: int, first: int, knots: int, seed: int) -> pd.DataFrame:
    """One row per unit-year (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n1 = int(0.7 * n_units)
    n1 -= (n1 - 1) % (knots + 1)  # n1 = 1 mod (knots + 1): knot quantiles land on doses
    dose = np.concatenate([rng.lognormal(0.0, 0.5, n1), np.zeros(n_units - n1)])
    years = np.arange(first - n_years // 2, first - n_years // 2 + n_years)
    unit, year = np.repeat(np.arange(n_units), years.size), np.tile(years, n_units)
    d = dose[unit]
    y = (
        rng.normal(0.0, 1.0, n_units)[unit]
        + 0.5 * d
        + rng.normal(0.0, 0.3, years.size)[year - years[0]]
        + np.where(year >= first, 2.0 * (1.0 - np.exp(-d / 2.0)), 0.0)
        + rng.normal(0.0, 1.0, unit.size)
    )
    pupils = rng.integers(10, 501, n_units).astype(float)
    t = year - years[0] + 1  # moderndid wants periods 1..T
    return pd.DataFrame(
        {
            "unit": unit,
            "year": year,
            "y": y,
            "dose": d,
            "g": np.where(d > 0, first, 0),
            "t": t,
            "g_t": np.where(d > 0, first - years[0] + 1, 0),
            "pupils": pupils[unit],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=6000)
    parser.add_argument("--years", type=int, default=8)
    parser.add_argument("--degree", type=int, default=3)
    parser.add_argument("--knots", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # peers' notes (bootstrap with one draw, conventions)

    import diff_diff
    import moderndid

    from evaluatie.estimators.contdid import cont_did

    first = 2019
    data = make_panel(args.units, args.years, first, args.knots, args.seed)
    d1 = data.loc[data["dose"] > 0].groupby("unit")["dose"].first()
    dvals = np.linspace(d1.min(), d1.max(), 50)
    print(
        f"panel: {len(data):,} rows, {data['unit'].nunique():,} units ({d1.size:,} treated), "
        f"{args.years} years ({data['year'].min()}-{data['year'].max()}), treatment from "
        f"{first}; B-spline degree {args.degree}, {args.knots} interior knot(s), 50 doses"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    def ours(weights: str | None = None) -> Any:
        return cont_did(
            data, outcome="y", unit="unit", time="year", dose="dose", first_period=first,
            degree=args.degree, num_knots=args.knots, dvals=dvals, weights=weights,
        )  # fmt: skip

    def ddiff(weights: str | None = None) -> Any:
        est = diff_diff.ContinuousDiD(
            degree=args.degree, num_knots=args.knots, dvals=dvals, control_group="never_treated"
        )
        survey = None if weights is None else diff_diff.SurveyDesign(weights=weights)
        return est.fit(data, "y", "unit", "year", "g", "dose", survey_design=survey)

    def mdid() -> Any:
        with moderndid_polars_compat():
            return moderndid.cont_did(
                data, yname="y", tname="t", idname="unit", gname="g_t", dname="dose",
                target_parameter="level", aggregation="dose", control_group="nevertreated",
                degree=args.degree, num_knots=args.knots, dvals=dvals, biters=1, random_state=1,
            )  # fmt: skip

    timed = best_times({"ours": ours, "diff-diff": ddiff, "moderndid": mdid}, args.repeats)
    print(f"load average after : {os.getloadavg()[0]:.2f}")
    print("\ncont_did, curves + overall, analytic SEs:")
    for name, (seconds, _) in timed.items():
        print(f"  {name:<10}: {seconds:8.3f} s")
    for peer in ("diff-diff", "moderndid"):
        print(f"  ratio ours / {peer:<10}: {timed['ours'][0] / timed[peer][0]:8.4f}")

    res, dd, md = (timed[k][1] for k in ("ours", "diff-diff", "moderndid"))
    c, tab = res.curve, res.table

    def gap(a: Any, b: Any) -> float:
        return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))

    print("\nmax |difference| (estimates; SEs where the conventions agree):")
    print(
        f"  vs diff-diff : ATT(d) {gap(c['att'], dd.dose_response_att.effects):.3e}  "
        f"ACRT(d) {gap(c['acrt'], dd.dose_response_acrt.effects):.3e}  "
        f"ATT^o {gap(tab.loc['ATT_o', 'estimate'], dd.overall_att):.3e}  "
        f"ACRT^o {gap(tab.loc['ACRT_o', 'estimate'], dd.overall_acrt):.3e}\n"
        f"                 SE ATT(d) {gap(c['att_se'], dd.dose_response_att.se):.3e}  "
        f"SE ACRT(d) {gap(c['acrt_se'], dd.dose_response_acrt.se):.3e}  "
        f"SE ATT^o {gap(tab.loc['ATT_o', 'se'], dd.overall_att_se):.3e}"
    )
    n = md.acrt_d_inf_func.shape[0]
    md_acrt_se = np.sqrt((md.acrt_d_inf_func**2).sum(axis=0)) / n
    print(
        f"  vs moderndid : ATT(d) {gap(c['att'], md.att_d):.3e}  "
        f"ACRT(d) {gap(c['acrt'], md.acrt_d):.3e}  "
        f"ATT^o {gap(tab.loc['ATT_o', 'estimate'], md.overall_att):.3e}  "
        f"ACRT^o {gap(tab.loc['ACRT_o', 'estimate'], md.overall_acrt):.3e}\n"
        f"                 SE ACRT(d) (from its IFs) {gap(c['acrt_se'], md_acrt_se):.3e}"
    )
    print(
        f"ACRT^o SE: ours {tab.loc['ACRT_o', 'se']:.6f} (with the dose-averaging term), "
        f"diff-diff {dd.overall_acrt_se:.6f} (without)"
    )

    timed_w = best_times(
        {"ours": lambda: ours("pupils"), "diff-diff": lambda: ddiff("pupils")}, args.repeats
    )
    print("\ncont_did weighted by pupils, curves + overall, analytic SEs:")
    for name, (seconds, _) in timed_w.items():
        print(f"  {name:<10}: {seconds:8.3f} s")
    print(f"  ratio ours / diff-diff  : {timed_w['ours'][0] / timed_w['diff-diff'][0]:8.4f}")
    res, dd = timed_w["ours"][1], timed_w["diff-diff"][1]
    c, tab = res.curve, res.table
    print(
        f"max |difference| vs diff-diff: ATT(d) {gap(c['att'], dd.dose_response_att.effects):.3e}"
        f"  ACRT(d) {gap(c['acrt'], dd.dose_response_acrt.effects):.3e}  "
        f"ATT^o {gap(tab.loc['ATT_o', 'estimate'], dd.overall_att):.3e}  "
        f"ACRT^o {gap(tab.loc['ACRT_o', 'estimate'], dd.overall_acrt):.3e}"
    )
    print(
        f"ATT^o SE: ours {tab.loc['ATT_o', 'se']:.6f}, diff-diff {dd.overall_att_se:.6f} "
        "(weights applied twice)"
    )


if __name__ == "__main__":
    main()
