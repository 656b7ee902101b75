"""Benchmark: evaluatie's ``att_gt`` against diff-diff at three panel sizes, analytic SEs.

Usage:  python bench/att_gt_sizes.py [--sizes 5000,50000,500000] [--repeats 5]

For each size (unit-periods; schools x 12 years from ``make_schools`` of bench/att_gt.py)
and each of four configurations -- never-treated or not-yet-treated comparison group,
without or with a time-invariant covariate ``x`` that shifts the trend -- both packages
do the same work: doubly robust ATT(g,t) with analytic standard errors (ours:
``inference="analytic"``, diff-diff: ``n_bootstrap=0``) and the simple, group and
dynamic (event-study) aggregations. Each pair runs once to warm up, then ``--repeats``
rounds (default 5, 3 at the largest size), ours and diff-diff interleaved so that load
from other users slows both alike. Printed per row: the min and median wall times, the
ratios ours / diff-diff of both, and the largest absolute difference of the ATT(g,t) and
of their SEs against diff-diff (with a covariate diff-diff's DR follows another
convention, ~1e-3 apart: tests/estimators/did/test_att_gt.py); and the load average
before and after.
"""

from __future__ import annotations

import argparse
import os
import warnings
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from att_gt import make_schools  # bench/att_gt.py (this folder is on sys.path as a script)
from timing import timed_rounds  # bench/timing.py

YEARS = 12
CONTROLS = ("never_treated", "not_yet_treated")


def add_covariate(data: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A school-level covariate ``x`` ~ N(0, 1) that adds a trend ``0.3 x (year-2012)/10``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=int(data["school"].max()) + 1)[data["school"]]
    return data.assign(x=x, y=data["y"] + 0.3 * x * (data["year"] - 2012) / 10)


def ours(att_gt: Any, data: pd.DataFrame, control: str, covariates: list[str]) -> Any:
    """Our ATT(g,t) with analytic SEs and the three aggregations; the fit."""
    fit = att_gt(
        data,
        outcome="y",
        unit="school",
        time="year",
        cohort="g",
        control=control,
        covariates=covariates,
        inference="analytic",
    )
    for kind in ("simple", "group", "dynamic"):
        fit.aggregate(kind)
    return fit


def peer(diff_diff: Any, data: pd.DataFrame, control: str, covariates: list[str]) -> Any:
    """diff-diff's ATT(g,t) (DR, no bootstrap) and the same three aggregations; the fit."""
    est = diff_diff.CallawaySantAnna(estimation_method="dr", control_group=control, n_bootstrap=0)
    fit = est.fit(
        data,
        outcome="y",
        unit="school",
        time="year",
        first_treat="g",
        covariates=covariates or None,
    )
    for kind in ("simple", "group", "event_study"):
        fit.aggregate(kind)
    return fit


def cell_differences(ours: Any, theirs: Any) -> tuple[float, float]:
    """Max |difference| of the ATT(g,t) and of their SEs; the cell sets must coincide."""
    a = ours.table[["cohort", "time", "estimate", "se"]]
    b = theirs.to_dataframe().rename(columns={"group": "cohort"})[
        ["cohort", "time", "effect", "se"]
    ]
    both = a.merge(b, on=["cohort", "time"], suffixes=("", "_dd"))
    if len(both) != len(a) or len(both) != len(b):
        raise AssertionError(f"ATT(g,t) cells differ: {len(a)} vs {len(b)}")
    att = float((both["estimate"] - both["effect"]).abs().max())
    return att, float((both["se"] - both["se_dd"]).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="5000,50000,500000", help="unit-periods, comma separated"
    )
    parser.add_argument("--repeats", type=int, default=None, help="default 5, 3 at the largest")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # peers' notes (deprecations, conventions)

    import diff_diff

    from evaluatie.estimators.did import att_gt

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    header = (
        f"{'rows':>8} {'control':<16} {'cov':<5} {'ours min':>9} {'dd min':>8} {'ratio':>6}"
        f" {'ours med':>9} {'dd med':>8} {'ratio':>6} {'|d att|':>9} {'|d se|':>9}"
    )
    print(header)
    for size in sizes:
        base = make_schools(max(1, round(size / YEARS)), YEARS, args.seed)
        repeats = args.repeats or (3 if size == max(sizes) and len(sizes) > 1 else 5)
        for control in CONTROLS:
            for covariate in (False, True):
                data = add_covariate(base, args.seed + 1) if covariate else base
                covariates = ["x"] if covariate else []

                work = {
                    "ours": partial(ours, att_gt, data, control, covariates),
                    "dd": partial(peer, diff_diff, data, control, covariates),
                }
                times = timed_rounds(work, repeats)
                d_att, d_se = cell_differences(work["ours"](), work["dd"]())
                lo = {k: min(v) for k, v in times.items()}
                med = {k: float(np.median(v)) for k, v in times.items()}
                print(
                    f"{len(data):>8} {control:<16} {covariate!s:<5} {lo['ours']:>9.4f} "
                    f"{lo['dd']:>8.4f} {lo['ours'] / lo['dd']:>6.3f} {med['ours']:>9.4f} "
                    f"{med['dd']:>8.4f} {med['ours'] / med['dd']:>6.3f} {d_att:>9.1e} {d_se:>9.1e}",
                    flush=True,
                )
    print(f"load average after : {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
