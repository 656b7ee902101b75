"""Benchmark: how long the reports take, how much of it is start-up, how a batch scales.

Usage:  python bench/reports.py [--jobs 1,2] [--rounds 2] [--params params/a.yaml ...]

Runs ``evaluatie run <params> --force -j N`` for each ``N`` of ``--jobs``, in
``--rounds`` interleaved rounds, each into a fresh temporary folder (default: every
params/*.yaml, the reports `make reports` writes, on the data in data/raw, which are
simulated first, untimed, where there are none, as `make reports` does), with a cache
of its own, filled first by an untimed check of the params files (each timed batch is
then a rerun on unchanged inputs), and prints:

* the wall time of each batch, the minimum and median per ``N`` and the scaling
  ``time(-j 1) / time(-j N)`` of both;
* per report, from the executed notebook's papermill timings (fastest round): its
  time, and its *start-up*: from papermill's start to the end of the first code cell
  after the parameters (kernel start, or the reset of a reused kernel, plus imports);
* the start-up share: all start-up over all report time.

The load average is printed before and after: other users of a shared machine slow the
batches (and the parallel one most). Nothing here is a test; run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

from evaluatie.core.errors import DataQualityWarning
from evaluatie.core.memo import CACHE_ENV
from evaluatie.sources.panel import has_eindscores
from evaluatie.workbench.batch import environment
from evaluatie.workbench.sweep import load_runs

ROOT = Path(__file__).resolve().parents[1]
EVALUATIE = Path(sys.executable).with_name("evaluatie")


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def timings(notebook: Path) -> tuple[float, float]:
    """(report time, start-up) of an executed notebook, from papermill's metadata."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    meta = nb["metadata"]["papermill"]
    total = _seconds(meta["start_time"], meta["end_time"])
    for cell in nb["cells"]:
        tags = cell["metadata"].get("tags", [])
        ran = cell["metadata"].get("papermill", {})
        if cell["cell_type"] != "code" or "parameters" in tags or "injected-parameters" in tags:
            continue
        return total, _seconds(meta["start_time"], ran["end_time"])
    return total, total


def run_batch(params: list[Path], jobs: int, folder: Path, cache: Path) -> float:
    """Wall time of one forced batch of ``params`` on ``jobs`` workers, reading through
    the readers' cache in ``cache``."""
    cmd = [str(EVALUATIE), "run", *map(str, params), "--force", "-j", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run(
        [*cmd, "--reports", str(folder)],
        cwd=ROOT,
        env={**os.environ, CACHE_ENV: str(cache)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if done.returncode != 0:  # a failed report has no timings to read
        sys.exit(f"the batch failed (exit {done.returncode}):\n{done.stderr.decode()[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1,2", help="worker counts to compare (default 1,2)")
    parser.add_argument("--params", nargs="*", type=Path, help="params files (default: all)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    args = parser.parse_args()
    params = args.params or sorted((ROOT / "params").glob("*.yaml"))
    if missing := [str(p) for p in params if not p.is_file()]:
        parser.error(f"no such params file: {', '.join(missing)}")
    try:
        jobs = [int(j) for j in args.jobs.split(",")]
    except ValueError:
        parser.error(f"--jobs takes worker counts like 1,2; got {args.jobs!r}")
    if min(jobs) < 1 or len(set(jobs)) != len(jobs):
        parser.error(f"--jobs takes distinct worker counts of at least 1; got {args.jobs!r}")
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1; got {args.rounds}")
    print(
        f"{len(params)} reports; load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    raw = ROOT / "data" / "raw"
    if not args.params and not has_eindscores(raw):
        # A fresh clone has no data yet: the synthetic data `make reports` would write
        # (untimed; without them every params file is refused).
        done = subprocess.run(
            [str(EVALUATIE), "simulate", "--out", str(raw)], cwd=ROOT, stdout=subprocess.DEVNULL
        )
        if done.returncode != 0:  # its own error is on stderr, above
            sys.exit(f"writing the synthetic data to {raw} failed (exit {done.returncode})")
        print(f"untimed: no data in {raw.relative_to(ROOT)}, the synthetic data written there")
    walls: dict[int, list[float]] = {n: [] for n in jobs}
    with tempfile.TemporaryDirectory(prefix="evaluatie-bench-") as tmp:
        # A readers' cache of this bench only (evaluatie.core.memo): checking the params
        # files once, untimed, parses the raw files into it and keeps the check, so that
        # every timed batch is a rerun on unchanged inputs. (When the first timed batch
        # did that, its 5 s went to -j 1 alone and the median of two rounds flattered
        # the scaling: 1.82x against 1.73x on the minimum.) Interleaved rounds.
        cache = Path(tmp) / "cache"
        start = time.perf_counter()
        with environment(CACHE_ENV, str(cache)), warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)  # the reports say them
            load_runs(params, root=ROOT, sweeps=False)
        print(
            f"untimed: the params files checked, the raw files parsed in "
            f"{time.perf_counter() - start:.1f} s"
        )
        for r in range(1, args.rounds + 1):
            for n in jobs:
                walls[n].append(run_batch(params, n, Path(tmp) / f"j{n}-r{r}", cache))
                print(f"round {r}, -j {n}: {walls[n][-1]:.1f} s wall", flush=True)
        for n in jobs:
            best = min(range(args.rounds), key=walls[n].__getitem__)
            folder = Path(tmp) / f"j{n}-r{best + 1}"
            rows = [(p.stem, *timings(folder / f"{p.stem}.ipynb")) for p in params]
            total = sum(r[1] for r in rows)
            startup = sum(r[2] for r in rows)
            print(
                f"\n-j {n}: {min(walls[n]):.1f} s wall (min; median "
                f"{statistics.median(walls[n]):.1f} s) for {len(rows)} reports "
                f"({total:.1f} s in notebooks, fastest round)"
            )
            for name, seconds, start in rows:
                print(
                    f"  {name:<32} {seconds:6.1f} s   start-up {start:5.1f} s ({start / seconds:4.0%})"
                )
            print(f"  start-up share: {startup / total:.1%} ({startup:.1f} of {total:.1f} s)")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    base = jobs[0]
    for n in jobs[1:]:
        print(
            f"scaling -j {base} / -j {n}: {min(walls[base]) / min(walls[n]):.2f}x (min), "
            f"{statistics.median(walls[base]) / statistics.median(walls[n]):.2f}x (median)"
        )


if __name__ == "__main__":
    main()
