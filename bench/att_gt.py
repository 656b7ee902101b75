"""Benchmark: evaluatie's ``att_gt`` against diff-diff and moderndid (Callaway-Sant'Anna).

Usage:  python bench/att_gt.py [--schools 6000] [--repeats 3] [--boot 999]

A school-level balanced panel (default 6,000 schools x 12 years, 2012-2024 without 2020;
five adoption cohorts, 55% never treated; effects that grow with time since adoption) is
fitted by each package doing the same work:

* ATT(g,t), doubly robust, never-treated comparison group, no covariates, varying base;
* the simple, group, dynamic (event-study) and calendar aggregations (diff-diff has no
  calendar aggregation: it does three);
* a Mammen multiplier bootstrap with ``--boot`` draws (ours: one set of draws shared by
  the ATT(g,t) and every aggregation; moderndid: its ``aggte`` draws again per
  aggregation, as R ``did`` does; diff-diff: fit-time draws replayed by its aggregations).

The same workload is also timed with analytic standard errors only. Every call runs once
to warm up (imports, caches), then the best of ``--repeats`` runs is reported, the three
packages interleaved so that load from other users slows them alike. The analytic fits
are compared: the maximum absolute difference of the ATT(g,t), of their analytic SEs and
of every aggregated estimate and SE (levels and overall) against each peer.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from timing import best_times  # bench/timing.py (this folder is on sys.path as a script)

OUR_KINDS = {"simple": "simple", "group": "group", "dynamic": "dynamic", "calendar": "calendar"}
DD_KINDS = {"simple": "simple", "group": "group", "dynamic": "event_study"}


def make_schools(n_schools: int, n_years: int, seed: int) -> pd.DataFrame:
    """One row per school-year: school and year effects, staggered adoption, noise."""
    rng = np.random.default_rng(seed)
    years = np.array([y for y in range(2012, 2012 + n_years + 1) if y != 2020][:n_years])
    cohorts = np.array([0, *years[[3, 5, 7, 9, 11]]]) if n_years >= 12 else np.array([0])
    share = np.array([0.55, 0.10, 0.10, 0.10, 0.08, 0.07])[: cohorts.size]
    g = rng.choice(cohorts, n_schools, p=share / share.sum())
    school = np.repeat(np.arange(n_schools), years.size)
    year = np.tile(years, n_schools)
    gi = g[school]
    e = year - gi
    effect = np.where((gi > 0) & (e >= 0), 0.1 + 0.02 * e, 0.0)
    y = (
        rng.normal(0.0, 1.0, n_schools)[school]
        + rng.normal(0.0, 0.3, years.size)[np.searchsorted(years, year)]
        + effect
        + rng.normal(0.0, 1.0, year.size)
    )
    return pd.DataFrame({"school": school, "year": year, "g": gi, "y": y})


def tidy(level: Any, att: Any, se: Any) -> pd.DataFrame:
    """Aggregated estimates as ``level, att, se`` (levels as float for joins)."""
    return pd.DataFrame(
        {
            "level": np.asarray(level, dtype=object),
            "att": np.asarray(att, float),
            "se": np.asarray(se, float),
        }
    )


def ours_outputs(fit: Any, aggs: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    cells = fit.table[["cohort", "time", "estimate", "se"]].rename(columns={"estimate": "att"})
    out = {}
    for kind, agg in aggs.items():
        tab = agg.table
        levels = tidy([], [], [])  # simple: the overall estimate only
        if kind != "simple":
            levels = tidy(tab.index, tab["estimate"], tab["se"])
        o = agg.overall
        out[kind] = pd.concat([levels, tidy(["overall"], [o.estimate], [o.se])], ignore_index=True)
    return cells, out


def moderndid_outputs(
    fit: Any, aggs: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    cells = pd.DataFrame({"cohort": fit.groups, "time": fit.times, "att": fit.att_gt})
    cells["se"] = fit.se_gt
    out = {}
    for kind, agg in aggs.items():
        levels = tidy([], [], [])
        if agg.event_times is not None:
            levels = tidy(agg.event_times, agg.att_by_event, agg.se_by_event)
        overall = tidy(["overall"], [agg.overall_att], [agg.overall_se])
        out[kind] = pd.concat([levels, overall], ignore_index=True)
    return cells, out


def diff_diff_outputs(
    fit: Any, aggs: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    cells = fit.to_dataframe().rename(columns={"group": "cohort", "effect": "att"})
    out = {}
    for kind, agg in aggs.items():
        tab = agg.to_dataframe()
        if kind == "simple":
            out[kind] = tidy(["overall"], tab["att"], tab["se"])
        elif kind == "group":
            out[kind] = tidy(tab["label"].astype(float), tab["att"], tab["se"])
        else:
            out[kind] = tidy(tab["event_time"], tab["att"], tab["se"])
    return cells[["cohort", "time", "att", "se"]], out


def _keyed(tab: pd.DataFrame) -> pd.DataFrame:
    """``tab`` with a string join key for its levels (cohorts and event times as numbers)."""
    key = tab["level"].map(lambda v: v if isinstance(v, str) else f"{float(v):.10g}")
    return tab.assign(key=key)


def max_diffs(
    ours: tuple[pd.DataFrame, dict[str, pd.DataFrame]],
    peer: tuple[pd.DataFrame, dict[str, pd.DataFrame]],
) -> dict[str, float]:
    """Max |difference| of the ATT(g,t), their SEs, and of the aggregated estimates and
    SEs over the aggregations both computed; the estimate sets must coincide."""
    a = ours[0].merge(peer[0], on=["cohort", "time"], how="outer", suffixes=("", "_p"))
    if len(a) != len(ours[0]) or len(a) != len(peer[0]):
        raise AssertionError(f"ATT(g,t) cells differ: {len(ours[0])} vs {len(peer[0])}")
    rows = []
    for kind, theirs in peer[1].items():  # diff-diff: no overall row for group/dynamic
        b = _keyed(ours[1][kind]).merge(_keyed(theirs), on="key", suffixes=("", "_p"))
        if len(b) != len(theirs):
            raise AssertionError(f"{kind}: levels differ")
        rows.append(b)
    agg = pd.concat(rows)
    return {
        "att": float((a["att"] - a["att_p"]).abs().max()),
        "se": float((a["se"] - a["se_p"]).abs().max()),
        "agg_att": float((agg["att"] - agg["att_p"]).abs().max()),
        "agg_se": float((agg["se"] - agg["se_p"]).abs().max()),
        "n_agg": len(agg),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=6000)
    parser.add_argument("--years", type=int, default=12)
    parser.add_argument("--boot", type=int, default=999, help="multiplier-bootstrap draws")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # peers' notes (deprecations, conventions)

    import diff_diff
    import moderndid

    from evaluatie.estimators.did import att_gt

    data = make_schools(args.schools, args.years, args.seed)
    n_cohorts = data.loc[data["g"] > 0, "g"].nunique()
    never = (data.groupby("school")["g"].first() == 0).mean()
    print(
        f"panel: {len(data):,} rows, {data['school'].nunique():,} schools, "
        f"{data['year'].nunique()} years ({data['year'].min()}-{data['year'].max()}, "
        f"without 2020), {n_cohorts} cohorts, {never:.0%} never treated; bootstrap draws: {args.boot}"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    def ours(n_boot: int) -> Any:
        fit = att_gt(
            data,
            outcome="y",
            unit="school",
            time="year",
            cohort="g",
            n_boot=n_boot,
            seed=1 if n_boot else None,
            inference="auto" if n_boot else "analytic",  # the peers' work: no randomization
        )
        return fit, {k: fit.aggregate(v) for k, v in OUR_KINDS.items()}

    def mdid(n_boot: int) -> Any:
        fit = moderndid.att_gt(
            data,
            yname="y",
            tname="year",
            idname="school",
            gname="g",
            est_method="dr",
            control_group="nevertreated",
            boot=n_boot > 0,
            biters=max(n_boot, 1),
            cband=n_boot > 0,  # else its aggte bootstraps a band even without boot
            random_state=1,
        )
        return fit, {k: moderndid.aggte(fit, type=k) for k in OUR_KINDS}

    def ddiff(n_boot: int) -> Any:
        est = diff_diff.CallawaySantAnna(
            estimation_method="dr",
            control_group="never_treated",
            n_bootstrap=n_boot,
            bootstrap_weights="mammen",
            seed=1,
        )
        fit = est.fit(data, outcome="y", unit="school", time="year", first_treat="g")
        return fit, {k: fit.aggregate(v) for k, v in DD_KINDS.items()}

    def workload(n_boot: int) -> dict[str, Callable[[], Any]]:
        return {
            "ours": lambda: ours(n_boot),
            "moderndid": lambda: mdid(n_boot),
            "diff-diff": lambda: ddiff(n_boot),
        }

    boot = best_times(workload(args.boot), args.repeats)
    analytic = best_times(workload(0), args.repeats)
    print(f"load average after : {os.getloadavg()[0]:.2f}")

    for label, timed in ((f"{args.boot} bootstrap draws", boot), ("analytic SEs", analytic)):
        print(f"\natt_gt + aggregations, {label}:")
        for name, (seconds, _) in timed.items():
            print(f"  {name:<10}: {seconds:8.3f} s")
        for peer in ("moderndid", "diff-diff"):
            ratio = timed["ours"][0] / timed[peer][0]
            print(f"  ratio ours / {peer:<10}: {ratio:8.4f}")

    ref = ours_outputs(*analytic["ours"][1])
    converters = {"moderndid": moderndid_outputs, "diff-diff": diff_diff_outputs}
    print(f"\nagreement of the analytic fits ({len(ref[0])} ATT(g,t) cells):")
    for peer, convert in converters.items():
        d = max_diffs(ref, convert(*analytic[peer][1]))
        print(
            f"  vs {peer:<10}: ATT(g,t) {d['att']:.3e}  SE {d['se']:.3e}   "
            f"aggregates ({d['n_agg']}) {d['agg_att']:.3e}  SE {d['agg_se']:.3e}"
        )
    print("bootstrap SE / analytic SE of the ATT(g,t), range (Monte Carlo error only):")
    for name, convert in {"ours": ours_outputs, **converters}.items():
        b, a = convert(*boot[name][1])[0], convert(*analytic[name][1])[0]
        r = (b.merge(a, on=["cohort", "time"])).eval("se_x / se_y")
        print(f"  {name:<10}: {r.min():.3f} - {r.max():.3f}")


if __name__ == "__main__":
    main()
