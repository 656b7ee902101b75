"""Command line: ``evaluatie simulate | build | params | run | batch | all | index | lab``.

Every user error (bad params file, parameters the data cannot serve, malformed data
file, impossible design, an output folder that cannot be written) ends in one message
listing every problem and exit status 2, before any kernel starts; a notebook that
fails while running ends in exit status 1 with its report still written (other runs of
the batch go on). Ctrl-C ends in status 130 and leaves no half-written report or run
record. Data-quality notes found while checking are printed as ``warning: ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from evaluatie.core.errors import DataQualityWarning, EvaluatieError, ParameterError

# nbformat validates notebooks with jsonschema, which on import also loads
# rfc3987_syntax (it builds a lark grammar: ~1 s) for an "iri" format checker that the
# notebook schema never uses. jsonschema skips that checker when the import fails, so
# this process marks the module absent. Kernels and JupyterLab run in their own
# processes and are unaffected.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def writable_folder(path: Path, option: str) -> Path:
    """``path`` as an output folder: created if absent, and proven writable by writing a
    probe file, so a run never fails on its output after minutes of work."""
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{option} {path} is a file; give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".evaluatie-probe-"):
            pass
    except OSError as exc:
        raise ParameterError(
            f"{option} {path}: cannot write there ({exc.strerror}); choose another folder"
        ) from None
    return path


def _check_simulation(args: argparse.Namespace, out: str = "--out") -> None:
    """Refuse the simulation's options before anything runs."""
    if args.pupils < 0:
        raise ParameterError(f"--pupils must be 0 (none) or a positive number, got {args.pupils}")
    if args.scale <= 0:
        raise ParameterError(f"--scale must be positive, got {args.scale}")
    if args.seed is not None and args.seed < 0:  # numpy's generators take non-negative seeds
        raise ParameterError(f"--seed must be 0 or a positive whole number, got {args.seed}")
    writable_folder(Path(args.out), out)


def _seed(args: argparse.Namespace) -> int:
    """``--seed`` where given, otherwise the simulator's default (imported here, when the
    simulation runs: the CLI's import path stays without the simulator)."""
    from evaluatie.synth.simulate import DEFAULT_SEED

    return DEFAULT_SEED if args.seed is None else args.seed


def _cmd_simulate(args: argparse.Namespace) -> int:
    from evaluatie.synth.simulate import simulate

    _check_simulation(args)
    t0 = time.perf_counter()
    manifest = simulate(out_dir=args.out, scale=args.scale, seed=_seed(args))
    files = getattr(manifest, "files", None) or []
    print(f"wrote {len(files)} files to {args.out} in {time.perf_counter() - t0:.1f} s")
    if getattr(args, "pupils", 0):
        _write_pupils(args)
    return 0


def _write_pupils(args: argparse.Namespace) -> None:
    """Pupil-level rows (not a DUO publication: for benchmarks and pupil-level TWFE)."""
    from evaluatie.core.atomic import atomic_path
    from evaluatie.synth.simulate import n_schools_for, simulate_pupils

    t0 = time.perf_counter()
    pupils = simulate_pupils(
        n_schools=n_schools_for(args.scale), pupils_per_school=args.pupils, seed=_seed(args)
    )
    target = Path(args.out) / "leerlingen-synthetisch.parquet"
    with atomic_path(target) as tmp:
        pupils.to_parquet(tmp, index=False)
    print(f"wrote {len(pupils):,} pupil rows to {target} in {time.perf_counter() - t0:.1f} s")


def _cmd_build(args: argparse.Namespace) -> int:
    from evaluatie.sources.panel import build_panel, files_by_kind

    writable_folder(Path(args.out).parent, "--out (its folder)")
    t0 = time.perf_counter()
    out = build_panel(args.raw, args.out)
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s")
    if Path(args.raw).is_dir() and "subsidies" not in files_by_kind(args.raw):
        # Fine for descriptive work; the innovatiebudget study will refuse it.
        warnings.warn(
            f"no grant table in {args.raw} (layout innovatiebudget-subsidies): cohort is 0 "
            "and treated False for every school",
            DataQualityWarning,
            stacklevel=1,
        )
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    from evaluatie.workbench.params import NOTEBOOK_PARAMS, describe

    names = [args.notebook] if args.notebook else sorted(NOTEBOOK_PARAMS)
    described = {name: describe(name) for name in names}  # unknown name: error, nothing printed
    for name, rows in described.items():
        print(f"{name}  (notebooks/{name}.ipynb)")
        for row in rows:
            print(f"  {row['name']}: {row['type']} = {row['default']!r}")
            if row["help"]:
                print(f"      {row['help']}")
    return 0


def _check_jobs(args: argparse.Namespace) -> None:
    if args.jobs < 1:
        raise EvaluatieError(f"-j/--jobs must be at least 1, got {args.jobs}")


def _run_files(
    paths: Sequence[Path],
    args: argparse.Namespace,
    *,
    sweeps: bool,
    before: Callable[[], object] | None = None,
) -> int:
    """Check ``paths`` and run them; ``before``: what to wait for first (the simulated
    data), while the kernels start."""
    from evaluatie.core.heap import keep_freed_memory
    from evaluatie.core.memo import CACHE_ENV
    from evaluatie.workbench.batch import environment, plan_batch, run_batch, started_ahead
    from evaluatie.workbench.run import project_root
    from evaluatie.workbench.sweep import kept_runs, load_runs

    t0 = time.perf_counter()
    keep_freed_memory()  # the check; the forked workers inherit it
    _check_jobs(args)
    root = project_root()
    reports = writable_folder(Path(args.reports) if args.reports else root / "reports", "--reports")
    browser = None
    if getattr(args, "pdf", False):
        from evaluatie.workbench.pdf import find_browser

        browser = find_browser()  # refused now, not after the runs
    # What the readers parse is kept in data/processed/cache (evaluatie.core.memo.
    # stored_read) for the checks, the kernels and the next run; EVALUATIE_CACHE= turns
    # it off, EVALUATIE_CACHE=<folder> puts it elsewhere.
    cache = os.environ.get(CACHE_ENV, str(root / "data" / "processed" / "cache"))
    with environment(CACHE_ENV, cache):
        # A check kept from before takes no time: then only the runs that are not cached
        # get kernels (a rerun of unchanged inputs waited 1.5 s for two it did not use).
        # Else the kernels boot while the params files are checked (no run starts before
        # all are); a sweep file may hold several runs; a scheduler brings its own workers.
        specs = None if before is not None else kept_runs(paths, root=root, sweeps=sweeps)
        planned = None
        if specs is None:
            may_run = max(len(paths), 2) if sweeps else len(paths)
        elif args.force:
            may_run = len(specs)  # all of them: the kernels boot while the runs are prepared
        else:
            planned = plan_batch(specs, root=root, reports_dir=reports, show_code=args.show_code)
            may_run = len(planned.tasks)
        with started_ahead(root, args.jobs, 0 if args.scheduler else may_run) as ahead:
            if before is not None:
                before()
            if specs is None:  # the workers, started ahead, check some of the files
                helpers = ahead.pool if ahead is not None else None
                specs = load_runs(paths, root=root, sweeps=sweeps, helpers=helpers)
            result = run_batch(
                specs,
                started=t0,
                root=root,
                reports_dir=reports,
                jobs=args.jobs,
                scheduler=args.scheduler,
                force=args.force,
                show_code=args.show_code,
                ahead=ahead,
                planned=planned,
            )
    print(result.summary())
    if browser is not None:
        from evaluatie.workbench.pdf import print_pdf

        for outcome in result.outcomes:
            if outcome.status != "failed" and outcome.html.is_file():
                print(f"pdf: {print_pdf(outcome.html, browser)}")
    return 1 if result.failed else 0


def _cmd_run(args: argparse.Namespace) -> int:
    return _run_files([Path(p) for p in args.params], args, sweeps=False)


def _cmd_batch(args: argparse.Namespace) -> int:
    return _run_files([Path(p) for p in args.sweeps], args, sweeps=True)


def _cmd_all(args: argparse.Namespace) -> int:
    raw = Path(args.raw)
    # Only the top level: sweeps live in params/sweeps/ and run with `evaluatie batch`.
    paths = sorted(Path(args.params_dir).glob("*.yaml"))
    if not paths:
        raise EvaluatieError(f"no params files (*.yaml) in {args.params_dir}")

    # Data already there (real files, or synthetic ones made with other settings) are
    # kept, so `all` never overwrites a user's choice; `evaluatie simulate` rewrites them.
    # The simulation starts once every option is checked, and writes the data while this
    # process imports the batch machinery and the kernels start.
    from evaluatie.sources.panel import has_eindscores

    simulation = argparse.Namespace(out=str(raw), seed=args.seed, scale=1.0, pupils=0)
    if has_eindscores(raw):
        print(f"using the data in {raw} (run `evaluatie simulate` to rewrite synthetic data)")
        return _run_files(paths, args, sweeps=False)
    _check_simulation(simulation, out="--raw")
    _check_jobs(args)
    with _simulating(simulation) as simulated:
        return _run_files(paths, args, sweeps=False, before=simulated)


@contextlib.contextmanager
def _simulating(options: argparse.Namespace) -> Iterator[Callable[[], None]]:
    """``evaluatie simulate`` with ``options``, in a child process started now, where
    processes can be forked: on a fresh clone, writing the data (2.9 s) and this process's
    imports for the batch (3.1 s) ran one after the other on one of two cores. Gives the
    function that waits for the data and raises the simulation's error, if any; leaving
    the block waits for the child either way, so the data are never left half-written
    by this command. Elsewhere the data are simulated when waited for, as before."""
    if sys.platform != "linux":

        def simulate_now() -> None:
            _cmd_simulate(options)

        yield simulate_now
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_simulate_child, args=(options, send), name="simulate")
    child.start()
    send.close()

    def simulated() -> None:
        child.join()
        if child.exitcode != 0:
            told = receive.recv() if receive.poll() else None
            raise EvaluatieError(told or f"simulating the data failed (exit {child.exitcode})")

    try:
        yield simulated
    finally:
        child.join()
        receive.close()


def _simulate_child(options: argparse.Namespace, failure: Any) -> None:
    """The child of :func:`_simulating`: its error goes to the parent, which says it."""
    from evaluatie.core.heap import keep_freed_memory

    keep_freed_memory()
    try:
        _cmd_simulate(options)
    except (EvaluatieError, OSError) as exc:
        failure.send(_error_text(exc))
        sys.exit(2)
    except KeyboardInterrupt:  # the parent, interrupted too, says so
        sys.exit(130)


def _cmd_index(args: argparse.Namespace) -> int:
    from evaluatie.workbench.index import write_index
    from evaluatie.workbench.run import project_root

    reports = Path(args.reports) if args.reports else project_root() / "reports"
    folder = writable_folder(reports, "--reports")
    print(f"wrote {write_index(folder, language=args.language)}")
    return 0


def _cmd_lab(args: argparse.Namespace) -> int:
    import subprocess

    from evaluatie.workbench.lab import describe_launch, lab_command, register_kernel
    from evaluatie.workbench.run import project_root

    root = project_root()
    extra = args.lab_args[1:] if args.lab_args[:1] == ["--"] else args.lab_args
    if args.dry_run:
        print(describe_launch(root, extra))
        return 0
    print(f"registered kernel in {register_kernel()}")
    return subprocess.call(lab_command(root, extra), cwd=root)


def _add_run_options(p: argparse.ArgumentParser, *, jobs: int = 1, jobs_help: str = "1") -> None:
    p.add_argument("--show-code", action="store_true", help="show code cells in the report")
    p.add_argument("--reports", default=None, help="output folder (default: reports/)")
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=jobs,
        help=f"runs at once, one process (and one reused kernel) each (default: {jobs_help})",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="submit the runs to this Dask distributed scheduler (e.g. tcp://10.0.0.5:8786) "
        "instead of local processes (-j is then ignored)",
    )
    p.add_argument(
        "--force", action="store_true", help="rerun even if inputs are unchanged since the last run"
    )
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also print each report to <name>.pdf with a headless Chromium (on PATH)",
    )


def build_parser() -> argparse.ArgumentParser:
    from evaluatie import __version__

    parser = argparse.ArgumentParser(
        prog="evaluatie",
        description="Evaluate Dutch municipal education policy.",
        epilog="Exit status: 0 ok; 1 a notebook failed (its report is still written); "
        "2 bad input, found before any kernel starts; 130 interrupted (Ctrl-C).",
    )
    parser.add_argument("--version", action="version", version=f"evaluatie {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="write the synthetic DUO-format panel to data/raw/")
    p.add_argument("--out", default="data/raw", help="output folder (default: data/raw)")
    p.add_argument("--seed", type=int, help="random seed (default: the simulator's own)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply the number of schools")
    p.add_argument(
        "--pupils",
        type=int,
        default=0,
        metavar="N",
        help="also write pupil-level rows, about N pupils per school-year (e.g. 30: ~2M rows)",
    )
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("build", help="read data/raw/ into data/processed/panel.parquet")
    p.add_argument("--raw", default="data/raw", help="raw-data folder (default: data/raw)")
    p.add_argument(
        "--out",
        default="data/processed/panel.parquet",
        help="Parquet file to write (default: data/processed/panel.parquet)",
    )
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("params", help="list the parameters of a notebook")
    p.add_argument("notebook", nargs="?", help="notebook name (default: all)")
    p.set_defaults(func=_cmd_params)

    p = sub.add_parser("run", help="run notebooks for params files and write HTML reports")
    p.add_argument("params", nargs="+", help="params/*.yaml files")
    _add_run_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("batch", help="run every combination of a sweep file's matrix")
    p.add_argument("sweeps", nargs="+", help="params/sweeps/*.yaml (plain params files too)")
    _add_run_options(p)
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("all", help="simulate data if absent, then run every params/*.yaml")
    p.add_argument(
        "--raw", default="data/raw", help="raw-data folder, simulated if empty (default: data/raw)"
    )
    p.add_argument(
        "--params-dir", default="params", help="folder whose *.yaml are run (default: params)"
    )
    p.add_argument(
        "--seed", type=int, help="random seed of the simulation (default: the simulator's own)"
    )
    # every report at once is the main job: one worker per core
    _add_run_options(p, jobs=os.cpu_count() or 1, jobs_help="one per core")
    p.set_defaults(func=_cmd_all)

    p = sub.add_parser("index", help="rewrite reports/index.html from the run records")
    p.add_argument("--reports", default=None, help="reports folder (default: reports/)")
    p.add_argument(
        "--language",
        choices=["nl", "en"],
        default="nl",
        help="language of the index page (default: nl)",
    )
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser(
        "lab",
        help="register the kernel and start JupyterLab on the project",
        description="Register the kernel and start JupyterLab on the project. Arguments "
        "for JupyterLab itself go after --, e.g. `evaluatie lab -- --port 8899 --no-browser`. "
        "Run as root (a container), --allow-root is added.",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the kernelspec and command, start nothing"
    )
    p.add_argument(
        "lab_args", nargs=argparse.REMAINDER, help="after --: further arguments for jupyter lab"
    )
    p.set_defaults(func=_cmd_lab)
    return parser


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Data-quality notes as one ``warning:`` line each, without source locations."""
    if issubclass(category, DataQualityWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        _default_show(message, category, filename, lineno, file, line)


_default_show = warnings.showwarning


def _error_text(exc: EvaluatieError | OSError) -> str:
    """An error as one message; an OSError (a disk that fills up, a folder that vanishes
    mid-run) by its reason and file."""
    if isinstance(exc, EvaluatieError):
        return str(exc)
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return int(args.func(args))
        except (EvaluatieError, OSError) as exc:
            print(f"error: {_error_text(exc)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted: no partial output was kept", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
