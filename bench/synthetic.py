"""Benchmark: evaluatie's synthetic DiD and synthetic control against diff-diff's.

Usage:  python bench/synthetic.py [--units 40 340] [--periods 12] [--repeats 5]

A balanced gemeente x year panel from a two-factor model (the size of the real panel:
340 gemeenten, 12 years), one treated unit from period 9 with an effect of 2. Each
package does the same work:

* synthetic DiD with 200 placebo replications for the standard error (ours:
  ``synthetic_did(..., variance="placebo", replications=200)``; diff-diff:
  ``SyntheticDiD(variance_method="placebo", n_bootstrap=200)``);
* synthetic control with every pre-period outcome an equally weighted predictor and
  the placebo-in-space refits of every donor (ours: ``synthetic_control``; diff-diff:
  ``SyntheticControl(v_method="custom", custom_v=ones, standardize="none")`` then
  ``in_space_placebo()``).

Every call runs once to warm up (imports, numba compilation); the rounds then alternate
between the packages so that load from other users slows both alike. The script prints
the load average, min and median times, their ratio (ours / diff-diff) and the largest
difference between the estimates (the SDID point estimates and weights must agree to
rounding; the placebo SEs differ by their random draws).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import evaluatie as ev


def make_panel(n_units: int, n_periods: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n_periods, 2)).cumsum(axis=0)
    y = (
        rng.normal(size=(n_units, 1))
        + rng.normal(size=(n_units, 2)) @ factors.T
        + 0.5 * rng.normal(size=(n_units, n_periods))
    )
    d = np.zeros((n_units, n_periods))
    d[0, 8:] = 1.0
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_units), n_periods),
            "year": np.tile(np.arange(2013, 2013 + n_periods), n_units),
            "y": (y + 2.0 * d).ravel(),
            "d": d.ravel().astype(int),
        }
    )


def timed(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, tuple[float, float, Any]]:
    """Warm up, then ``repeats`` interleaved rounds: (min, median, last result) per name."""
    results = {name: fn() for name, fn in fns.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {n: (min(t), float(np.median(t)), results[n]) for n, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[40, 340])
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from diff_diff import SyntheticControl, SyntheticDiD

    keys = {"outcome": "y", "unit": "unit", "time": "year", "treatment": "d"}
    post = list(range(2013 + 8, 2013 + args.periods))
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    header = f"{'units':>6} {'estimator':<18} {'ours min/med (s)':>18} {'diff-diff min/med (s)':>22} {'ratio min/med':>14}  max |diff|"
    print(header)
    for n in args.units:
        data = make_panel(n, args.periods, args.seed)
        marked = data.assign(ever=(data["unit"] == 0).astype(int))
        pre = args.periods - len(post)

        def dd_sc(data: pd.DataFrame = data, pre: int = pre) -> Any:
            fit = SyntheticControl(v_method="custom", custom_v=np.ones(pre), standardize="none")
            result = fit.fit(data, outcome="y", treatment="d", unit="unit", time="year")
            result.in_space_placebo()
            return result

        def dd_sdid(marked: pd.DataFrame = marked) -> Any:
            fit = SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1)
            return fit.fit(
                marked, outcome="y", treatment="ever", unit="unit", time="year", post_periods=post
            )

        runs = {
            "sdid": {
                "ours": lambda data=data: ev.synthetic_did(data, **keys, replications=200),
                "peer": dd_sdid,
            },
            "synthetic control": {
                "ours": lambda data=data: ev.synthetic_control(data, **keys),
                "peer": dd_sc,
            },
        }
        for name, fns in runs.items():
            out = timed(fns, args.repeats)
            (o_min, o_med, ours), (p_min, p_med, peer) = out["ours"], out["peer"]
            diff = abs(ours.overall.estimate - peer.att)
            print(
                f"{n:>6} {name:<18} {o_min:>8.3f} / {o_med:<7.3f} {p_min:>11.3f} / {p_med:<8.3f}"
                f" {o_min / p_min:>6.2f} / {o_med / p_med:<5.2f}  {diff:.1e}"
            )
    print(f"load average after : {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
