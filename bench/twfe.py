"""Benchmark: evaluatie's ``twfe`` against pyfixest ``feols`` and linearmodels ``AbsorbingLS``.

Pupil-level panels of two layouts, at several sizes (``--rows``, default 0.5M, 2M, 8M):

* ``balanced``: every school in every year (12 years, 2012-2024 without 2020),
  Poisson(30) pupils per school-year, integer ids; schools spread evenly over ~340
  gemeenten;
* ``unbalanced``: the realistic one. A quarter of the school-years is missing (schools
  that open late or close early, and gaps), school sizes are uneven (log-normal, mean
  30 pupils a year), gemeenten too, and school and gemeente ids are pandas categoricals
  of strings (``"BR00042"``, ``"GM0363"``) as :mod:`evaluatie.synth` makes them.

Both have school and year effects, a gemeente-level treatment adopted in staggered
waves (true effect 0.2), a school-year shock and pupil noise; the model is
``y ~ d | school + year`` with standard errors clustered by gemeente. At each size, ours
and pyfixest run once to warm up (imports, numba compilation, caches), then
``--repeats`` rounds alternate between them, so that load from other users of a shared
machine slows both alike; the minimum and median of the rounds are reported.
linearmodels runs at the smallest size only (all sizes with ``--linearmodels``).

Also reported: the slope of log time on log rows per estimator and layout (1 is linear
scaling), the peak extra memory of one fit (Linux: the resident-set high-water mark
``VmHWM`` after the fit minus ``VmRSS`` before it, the mark reset through
``/proc/self/clear_refs``; it counts what numpy, polars and numba allocate alike), the
load average before and after, and how far the estimates and standard errors are from
pyfixest's (and linearmodels' under its own convention). Memory is measured in a fresh
process per estimator and size, after a warm-up fit on a small panel of the same
layout: in the timing process, allocator pools kept from earlier fits (polars keeps
its own) would hide what a fit touches.

Like-for-like conventions:

* ours ``vcov="CRV1"`` vs pyfixest ``vcov={"CRV1": "gemeente"}``;
* ours ``vcov="linearmodels-absorbing"`` vs ``AbsorbingLS(...).fit(cov_type="clustered",
  debiased=True)``.

Run:  ``python bench/twfe.py``  (``--help`` for the options; ``--memory-only`` for the
peak-memory table alone, e.g. ``--memory-only --layout unbalanced --rows 8e6``).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing import timed_rounds  # bench/timing.py (this folder is on sys.path as a script)

LAYOUTS = ("balanced", "unbalanced")
YEARS = 12
PUPILS = 30.0
GEMEENTEN = 340
#: Share of school-years missing from the unbalanced layout.
MISSING = 0.25
#: Expected rows per school, to size a panel by its rows.
ROWS_PER_SCHOOL = {"balanced": YEARS * PUPILS, "unbalanced": YEARS * (1 - MISSING) * PUPILS}


def panel_years(n_years: int) -> np.ndarray:
    """School years from 2012 on, without 2020 (no exams in the COVID year)."""
    return np.array([y for y in range(2012, 2012 + n_years + 1) if y != 2020][:n_years])


def make_panel(
    n_schools: int, n_years: int, pupils: float, n_gemeenten: int, seed: int
) -> pd.DataFrame:
    """Balanced pupil rows: school and year effects, a gemeente-level staggered treatment (0.2)."""
    rng = np.random.default_rng(seed)
    years = panel_years(n_years)
    gemeente_of_school = rng.integers(0, n_gemeenten, n_schools)
    cohort_choices = np.array([0, *years[3:-2:2]])
    cohort_of_gemeente = rng.choice(cohort_choices, n_gemeenten)
    cell_school = np.repeat(np.arange(n_schools), years.size)
    cell_year = np.tile(years, n_schools)
    size = rng.poisson(pupils, cell_school.size).clip(1)
    school = np.repeat(cell_school, size)
    year = np.repeat(cell_year, size)
    gemeente = gemeente_of_school[school]
    cohort = cohort_of_gemeente[gemeente]
    d = ((cohort > 0) & (year >= cohort)).astype(np.float64)
    school_fe = rng.normal(0.0, 1.0, n_schools)
    year_fe = rng.normal(0.0, 0.3, years.size)
    cell_shock = np.repeat(rng.normal(0.0, 0.3, cell_school.size), size)
    y = (
        school_fe[school]
        + year_fe[np.searchsorted(years, year)]
        + 0.2 * d
        + cell_shock
        + rng.normal(0.0, 1.0, school.size)
    )
    return pd.DataFrame({"school": school, "year": year, "gemeente": gemeente, "d": d, "y": y})


def make_unbalanced_panel(
    n_schools: int, n_years: int, pupils: float, n_gemeenten: int, seed: int
) -> pd.DataFrame:
    """Unbalanced pupil rows (module docstring), sorted by school and year.

    A quarter of the schools open after the first year, a quarter close before the last
    (each at least two years open), and further random gaps bring the missing share of
    school-years to about :data:`MISSING`. A school's mean size is log-normal (mean
    ``pupils``, coefficient of variation ~0.9), each year's count Poisson around it;
    gemeenten get schools in log-normal proportions.
    """
    rng = np.random.default_rng(seed)
    years = panel_years(n_years)
    n_y = years.size
    share = rng.lognormal(0.0, 1.0, n_gemeenten)
    gemeente_of_school = rng.choice(n_gemeenten, n_schools, p=share / share.sum())
    opens = np.where(rng.random(n_schools) < 0.25, rng.integers(1, n_y - 2, n_schools), 0)
    closes = np.where(rng.random(n_schools) < 0.25, rng.integers(opens + 2, n_y + 1), n_y)
    cell_school = np.repeat(np.arange(n_schools), n_y)
    cell_t = np.tile(np.arange(n_y), n_schools)
    is_open = (cell_t >= opens[cell_school]) & (cell_t < closes[cell_school])
    gap = 1.0 - (1.0 - MISSING) / is_open.mean()  # random gaps up to the missing share
    present = is_open & (rng.random(cell_school.size) >= gap)
    cell_school, cell_t = cell_school[present], cell_t[present]
    sigma = 0.8
    mean_size = rng.lognormal(np.log(pupils) - sigma**2 / 2, sigma, n_schools)
    size = rng.poisson(mean_size[cell_school]).clip(1)
    school = np.repeat(cell_school, size)
    t = np.repeat(cell_t, size)
    gemeente = gemeente_of_school[school]
    cohort_of_gemeente = rng.choice(np.array([-1, *range(3, n_y - 2, 2)]), n_gemeenten)
    cohort = cohort_of_gemeente[gemeente]
    d = ((cohort >= 0) & (t >= cohort)).astype(np.float64)
    y = (
        rng.normal(0.0, 1.0, n_schools)[school]
        + rng.normal(0.0, 0.3, n_y)[t]
        + 0.2 * d
        + np.repeat(rng.normal(0.0, 0.3, cell_school.size), size)
        + rng.normal(0.0, 1.0, school.size)
    )
    return pd.DataFrame(
        {
            "school": pd.Categorical.from_codes(
                school, categories=[f"BR{i:05d}" for i in range(n_schools)]
            ),
            "year": years[t].astype(np.int16),
            "gemeente": pd.Categorical.from_codes(
                gemeente, categories=[f"GM{i:04d}" for i in range(n_gemeenten)]
            ),
            "d": d,
            "y": y,
        }
    )


def make_layout(layout: str, rows: float, seed: int) -> pd.DataFrame:
    """A panel of ``layout`` with about ``rows`` rows."""
    n_schools = max(10, round(rows / ROWS_PER_SCHOOL[layout]))
    make = make_panel if layout == "balanced" else make_unbalanced_panel
    return make(n_schools, YEARS, PUPILS, GEMEENTEN, seed)


class PeakMemory:
    """Peak extra resident memory of a call, from ``/proc/self`` (Linux only).

    glibc's ``mallopt`` fixes the mmap threshold at 128 kB, so that large arrays are
    mapped and unmapped rather than kept in the heap, and ``malloc_trim`` hands freed
    heap back before each measurement: otherwise pages left resident by an earlier fit
    would hide what the next one touches.
    """

    def __init__(self) -> None:
        self.available = Path("/proc/self/clear_refs").exists()
        self._libc: Any = None
        if self.available:
            try:
                self._libc = ctypes.CDLL("libc.so.6")
                self._libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
            except OSError:
                self._libc = None

    @staticmethod
    def _status(key: str) -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        raise KeyError(key)

    def measure(self, fn: Callable[[], Any]) -> float:
        """Bytes by which the resident set's high-water mark rose during ``fn()``."""
        if not self.available:
            return float("nan")
        if self._libc is not None:
            self._libc.malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset VmHWM to the current VmRSS
        before = self._status("VmRSS:")
        fn()
        return float(self._status("VmHWM:") - before)


def estimators(data: pd.DataFrame) -> dict[str, Callable[..., Any]]:
    """The fits to compare on ``data``, by name."""
    import pyfixest as pf

    from evaluatie.estimators.twfe import twfe

    def ours(vcov: str = "CRV1") -> Any:
        return twfe(
            data,
            outcome="y",
            treatment="d",
            unit="school",
            time="year",
            cluster="gemeente",
            vcov=vcov,
            inference="analytic",  # the peers' work: CRV1 p-values, no resampling
        )

    def pyfixest() -> Any:
        return pf.feols("y ~ d | school + year", data=data, vcov={"CRV1": "gemeente"})

    def linearmodels() -> Any:
        from linearmodels import AbsorbingLS

        absorb = data[["school", "year"]].astype("category")
        model = AbsorbingLS(data["y"], data[["d"]], absorb=absorb)
        ids = data["gemeente"]
        codes = ids.cat.codes if isinstance(ids.dtype, pd.CategoricalDtype) else ids
        return model.fit(cov_type="clustered", clusters=codes.to_numpy(), debiased=True)

    return {"ours": ours, "pyfixest": pyfixest, "linearmodels": linearmodels}


def quiet_peers() -> None:
    """pyfixest's pandas-deprecation and singleton notices would bury the report."""
    warnings.filterwarnings("ignore", message=".*inplace keyword.*")
    warnings.filterwarnings("ignore", message=".*singleton fixed effect.*")


def child_peak(estimator: str, layout: str, rows: float, seed: int) -> float:
    """In a fresh process: warm ``estimator`` up on a small panel of ``layout``, then
    build the panel and return the peak extra memory of one fit."""
    quiet_peers()
    estimators(make_layout(layout, 20_000, seed + 1))[estimator]()
    data = make_layout(layout, rows, seed)
    return PeakMemory().measure(estimators(data)[estimator])


def peak_in_child(estimator: str, layout: str, rows: float, seed: int) -> float:
    """:func:`child_peak` run by a new interpreter (this script, ``--peak-of``)."""
    command = [sys.executable, __file__, "--peak-of", estimator, "--layout", layout]
    command += ["--rows", repr(rows), "--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


@dataclass
class Row:
    """Measurements of one layout at one size."""

    layout: str
    rows: int
    cells: int
    times: dict[str, list[float]]
    memory: dict[str, float]
    coef: float
    se: float
    diff_pf: tuple[float, float]
    diff_lm: tuple[float, float] | None = None


def measure(layout: str, rows: float, args: argparse.Namespace, memory: PeakMemory) -> Row:
    data = make_layout(layout, rows, args.seed)
    cells = data.groupby(["school", "year"], observed=True).ngroups
    fits = estimators(data)
    ours, pyfixest, linearmodels = fits["ours"], fits["pyfixest"], fits["linearmodels"]
    times = timed_rounds({"ours": ours, "pyfixest": pyfixest}, args.repeats)
    with_lm = args.linearmodels or rows == min(args.rows)
    if with_lm:
        times |= timed_rounds({"linearmodels": linearmodels}, args.lm_repeats)
    peaks = {
        name: peak_in_child(name, layout, rows, args.seed) if memory.available else float("nan")
        for name in ("ours", "pyfixest")
    }
    res, fit_pf = ours(), pyfixest()
    diff_pf = (
        float(abs(res.coef["d"] - fit_pf.coef()["d"])),
        float(abs(res.se["d"] - fit_pf.se()["d"])),
    )
    diff_lm = None
    if with_lm:
        res_lm, fit_lm = ours("linearmodels-absorbing"), linearmodels()
        diff_lm = (
            float(abs(res_lm.coef["d"] - fit_lm.params["d"])),
            float(abs(res_lm.se["d"] - fit_lm.std_errors["d"])),
        )
    return Row(
        layout,
        len(data),
        cells,
        times,
        peaks,
        float(res.coef["d"]),
        float(res.se["d"]),
        diff_pf,
        diff_lm,
    )


def slope(rows: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log time on log rows."""
    if len(rows) < 2:
        return float("nan")
    return float(np.polyfit(np.log(rows), np.log(seconds), 1)[0])


def report(results: list[Row], memory: PeakMemory) -> None:
    print()
    print(
        f"{'layout':<11}{'rows':>11}{'cells':>9} | {'ours min':>8} {'median':>7} | "
        f"{'pyfixest min':>12} {'median':>7} | {'ratio min':>9} {'median':>7}"
    )
    for r in results:
        o, p = np.array(r.times["ours"]), np.array(r.times["pyfixest"])
        print(
            f"{r.layout:<11}{r.rows:>11,}{r.cells:>9,} | {o.min():8.3f} {np.median(o):7.3f} | "
            f"{p.min():12.3f} {np.median(p):7.3f} | {o.min() / p.min():9.3f} "
            f"{np.median(o) / np.median(p):7.3f}"
        )
    lm_rows = [r for r in results if "linearmodels" in r.times]
    if lm_rows:
        print()
        print(
            f"{'layout':<11}{'rows':>11} | {'linearmodels min':>16} | {'ours / linearmodels':>19}"
        )
        for r in lm_rows:
            t_lm, t_ours = min(r.times["linearmodels"]), min(r.times["ours"])
            print(f"{r.layout:<11}{r.rows:>11,} | {t_lm:16.3f} | {t_ours / t_lm:19.4f}")

    print()
    print("scaling: slope of log(min time) on log(rows)")
    for layout in dict.fromkeys(r.layout for r in results):
        sub = [r for r in results if r.layout == layout]
        sizes = [r.rows for r in sub]
        slopes = "  ".join(
            f"{name} {slope(sizes, [min(r.times[name]) for r in sub]):.2f}"
            for name in ("ours", "pyfixest")
        )
        print(f"  {layout:<11}{slopes}")

    print()
    if not memory.available:
        print("peak extra memory: not measured (needs Linux /proc)")
    else:
        memory_report([(r.layout, r.rows, r.memory) for r in results])

    print()
    print("agreement (treatment coefficient and CRV1 SE)")
    for r in results:
        line = (
            f"  {r.layout:<11}{r.rows:>11,}  estimate {r.coef:.10f}  se {r.se:.10f}  "
            f"|diff| vs pyfixest {r.diff_pf[0]:.1e} / {r.diff_pf[1]:.1e}"
        )
        if r.diff_lm is not None:
            line += f"  vs linearmodels {r.diff_lm[0]:.1e} / {r.diff_lm[1]:.1e}"
        print(line)


def memory_report(results: list[tuple[str, int, dict[str, float]]]) -> None:
    """The peak-memory table: layout, rows and the peaks of ours and pyfixest."""
    print("peak extra memory of one fit (VmHWM after - VmRSS before)")
    print(
        f"{'layout':<11}{'rows':>11} | {'ours MB':>8} {'B/row':>6} | "
        f"{'pyfixest MB':>11} {'B/row':>6} | {'ratio':>6}"
    )
    for layout, rows, peaks in results:
        mo, mp = peaks["ours"], peaks["pyfixest"]
        print(
            f"{layout:<11}{rows:>11,} | {mo / 1e6:8.1f} {mo / rows:6.1f} | "
            f"{mp / 1e6:11.1f} {mp / rows:6.1f} | {mo / mp:6.3f}"
        )


def memory_only(args: argparse.Namespace) -> None:
    """``--memory-only``: the peak-memory table alone (a fresh process per fit, as in
    the full run), without the timed rounds and the agreement checks."""
    results = []
    for layout in args.layout:
        for rows in args.rows:
            n = len(make_layout(layout, rows, args.seed))
            peaks = {
                name: peak_in_child(name, layout, rows, args.seed) for name in ("ours", "pyfixest")
            }
            print(f"  done: {layout} {n:,} rows", flush=True)
            results.append((layout, n, peaks))
    memory_report(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--rows",
        type=lambda s: [float(v) for v in s.split(",")],
        default=[0.5e6, 2e6, 8e6],
        help="panel sizes in rows, comma-separated (default 0.5e6,2e6,8e6)",
    )
    parser.add_argument(
        "--layout",
        type=lambda s: s.split(","),
        default=list(LAYOUTS),
        help="balanced, unbalanced or both, comma-separated",
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per size")
    parser.add_argument("--lm-repeats", type=int, default=1, help="timed runs of linearmodels")
    parser.add_argument(
        "--linearmodels", action="store_true", help="run linearmodels at every size"
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--memory-only", action="store_true", help="only the peak memory, no timings (Linux)"
    )
    parser.add_argument("--peak-of", help=argparse.SUPPRESS)  # internal: memory child
    args = parser.parse_args()
    if args.peak_of:
        print(child_peak(args.peak_of, args.layout[0], args.rows[0], args.seed))
        return
    unknown = set(args.layout) - set(LAYOUTS)
    if unknown:
        parser.error(f"unknown layout(s) {sorted(unknown)}; expected {LAYOUTS}")
    quiet_peers()
    if args.memory_only:
        if not PeakMemory().available:
            parser.error("--memory-only needs Linux /proc")
        memory_only(args)
        return

    memory = PeakMemory()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}")
    print(
        f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores"
    )
    results = []
    for layout in args.layout:
        for rows in args.rows:
            row = measure(layout, rows, args, memory)
            print(
                f"  done: {layout} {row.rows:,} rows, ours {min(row.times['ours']):.3f} s, "
                f"pyfixest {min(row.times['pyfixest']):.3f} s, "
                f"load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            results.append(row)
    print(f"load average after : {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    report(results, memory)


if __name__ == "__main__":
    main()
