"""Benchmark: evaluatie's wild cluster bootstrap and randomization inference.

Usage:  python bench/wild.py [--draws 9999] [--repeats 3]

1. **Against wildboottest** (the independent Python implementation of Roodman et al.'s
   algorithm), on a model it can handle: a two-way fixed-effects panel small enough
   for its dense dummy columns (default 400 units x 9 years in 40 clusters; every unit
   and year effect a column there). Both run the restricted bootstrap (WCR, Rademacher,
   ``--draws`` draws) for the treatment coefficient; ours is ``twfe(...,
   inference=WildBootstrap(...))``, the whole fit included. Times, ratio, and the two
   p-values (they differ only by Monte Carlo error: the draws differ).
2. **On the real VO exam panel** (``tests/data``: 41,033 rows, 9,552 unit effects, 280
   gemeente clusters), a placebo policy in 12 gemeenten: ``twfe`` with the wild
   bootstrap (``--draws``) and with randomization inference (4,999 re-assignments),
   whole calls, and the peak memory each adds. wildboottest would need a dense
   41,033 x 9,556 design matrix (3.1 GB) here, so it is not run.

Every call runs once to warm up, then the best of ``--repeats`` runs is reported, the
packages interleaved.
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing import best_times  # bench/timing.py (this folder is on sys.path as a script)

KEYS = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d", "cluster": "group"}


def peak_mb(fn: Any) -> float:
    """Peak memory (MB) numpy and Python allocate while ``fn`` runs."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=9999)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--units", type=int, default=400)
    args = parser.parse_args()

    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    from evaluatie import twfe
    from evaluatie.inference import Randomization, WildBootstrap
    from evaluatie.synth.panels import clustered_panel

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    data = clustered_panel(n_units=args.units, n_groups=40, seed=3, effect=0.0)
    dummies = pd.get_dummies(data[["unit", "year"]].astype(str), drop_first=True, dtype=float)
    x = pd.concat([pd.Series(1.0, index=data.index, name="const"), data["d"], dummies], axis=1)
    model = sm.OLS(data["y"].to_numpy(), x)
    setting = WildBootstrap(draws=args.draws)

    def theirs() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = wildboottest(
                model, B=args.draws, cluster=data["group"].to_numpy(), param="d", seed=1, show=False
            )
        return float(out["p-value"].iloc[0])

    def ours() -> float:
        return float(twfe(data, **KEYS, inference=setting).overall.p)

    times = best_times({"ours": ours, "wildboottest": theirs}, args.repeats)
    (t_ours, p_ours), (t_wbt, p_wbt) = times["ours"], times["wildboottest"]
    print(
        f"\n1. WCR, Rademacher, {args.draws} draws; {len(data):,} rows, "
        f"{data['unit'].nunique()} unit + {data['year'].nunique()} year effects, 40 clusters"
    )
    print(f"evaluatie twfe(inference=WildBootstrap) : {t_ours:8.3f} s   p = {p_ours:.4f}")
    print(f"wildboottest (dense dummies)            : {t_wbt:8.3f} s   p = {p_wbt:.4f}")
    print(f"ratio ours / wildboottest               : {t_ours / t_wbt:8.3f}")

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from placebo import placebo, vo_panel

    vo = placebo(vo_panel(), 12, np.random.default_rng(12))
    vo_keys = {
        "outcome": "y",
        "unit": "unit",
        "time": "year",
        "treatment": "d",
        "cluster": "gemeente",
    }
    calls = {
        "analytic": lambda: twfe(vo, **vo_keys, inference="analytic"),
        "wild": lambda: twfe(vo, **vo_keys, inference=setting),
        "randomization": lambda: twfe(vo, **vo_keys, inference=Randomization(draws=4999)),
    }
    vo_times = best_times(calls, args.repeats)
    print(
        f"\n2. real VO panel: {len(vo):,} rows, {vo['unit'].nunique():,} unit effects, "
        f"{vo['gemeente'].nunique()} gemeenten, 12 treated (placebo)"
    )
    for name, (t, fit) in vo_times.items():
        info = fit.meta["inference"]
        mb = peak_mb(calls[name])
        print(
            f"twfe(inference={name!r:16}): {t:7.3f} s  peak {mb:6.0f} MB  "
            f"p = {fit.overall.p:.4f}  ({info.procedure}, {info.draws or '-'} draws)"
        )
    base = vo_times["analytic"][0]
    for name in ("wild", "randomization"):
        print(f"  {name} adds {vo_times[name][0] - base:.3f} s to the analytic fit")
    print(f"load average after : {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
