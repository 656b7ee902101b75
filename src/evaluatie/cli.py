"""Command line: ``evaluatie simulate | build | params | run | all``.

Every user error (bad params file, malformed data file, impossible design) ends in a
one-paragraph message and exit status 2; a notebook that fails while running ends in
exit status 1 with its report still written.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from evaluatie.errors import EvaluatieError


def _cmd_simulate(args: argparse.Namespace) -> int:
    from evaluatie.data.simulate import simulate

    t0 = time.perf_counter()
    manifest = simulate(out_dir=args.out, seed=args.seed, scale=args.scale)
    files = getattr(manifest, "files", None) or []
    print(f"wrote {len(files)} files to {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from evaluatie.data.panel import build_panel

    t0 = time.perf_counter()
    out = build_panel(args.raw, args.out)
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    from evaluatie.workbench.params import NOTEBOOK_PARAMS, describe

    names = [args.notebook] if args.notebook else sorted(NOTEBOOK_PARAMS)
    for name in names:
        print(f"{name}  (notebooks/{name}.ipynb)")
        for row in describe(name):
            print(f"  {row['name']}: {row['type']} = {row['default']!r}")
            if row["help"]:
                print(f"      {row['help']}")
    return 0


def _run_many(paths: Sequence[Path], show_code: bool, reports: str | None = None) -> int:
    from evaluatie.workbench.params import read_params_file
    from evaluatie.workbench.run import run_notebook

    specs = [read_params_file(p) for p in paths]  # all validated before any kernel starts
    failed = 0
    for spec in specs:
        outcome = run_notebook(
            spec, show_code=show_code, reports_dir=Path(reports) if reports else None
        )
        if outcome.status == "ok":
            print(f"ok      {outcome.html}  ({outcome.seconds:.1f} s)")
        else:
            failed += 1
            print(f"FAILED  {outcome.html}  ({outcome.seconds:.1f} s): {outcome.error}")
    return 1 if failed else 0


def _cmd_run(args: argparse.Namespace) -> int:
    return _run_many([Path(p) for p in args.params], args.show_code, args.reports)


def _cmd_all(args: argparse.Namespace) -> int:
    raw = Path(args.raw)
    # Synthetic data (recognised by the simulator's manifest) are cheap and deterministic:
    # rewrite them so the reports always match the code. A user's real files are kept.
    synthetic = (raw / "manifest.json").is_file()
    if synthetic or not any(raw.glob("05.-gemiddelde-eindscores-*.csv")):
        _cmd_simulate(argparse.Namespace(out=str(raw), seed=args.seed, scale=1.0))
    paths = sorted(Path(args.params_dir).glob("*.yaml"))
    if not paths:
        raise EvaluatieError(f"no params files (*.yaml) in {args.params_dir}")
    return _run_many(paths, args.show_code, args.reports)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evaluatie", description="Evaluate Dutch municipal education policy."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="write the synthetic DUO-format panel to data/raw/")
    p.add_argument("--out", default="data/raw", help="output folder (default: data/raw)")
    p.add_argument("--seed", type=int, default=20240601, help="random seed")
    p.add_argument("--scale", type=float, default=1.0, help="multiply the number of schools")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("build", help="read data/raw/ into data/processed/panel.parquet")
    p.add_argument("--raw", default="data/raw")
    p.add_argument("--out", default="data/processed/panel.parquet")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("params", help="list the parameters of a notebook")
    p.add_argument("notebook", nargs="?", help="notebook name (default: all)")
    p.set_defaults(func=_cmd_params)

    p = sub.add_parser("run", help="run notebooks for params files and write HTML reports")
    p.add_argument("params", nargs="+", help="params/*.yaml files")
    p.add_argument("--show-code", action="store_true", help="show code cells in the report")
    p.add_argument("--reports", default=None, help="output folder (default: reports/)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("all", help="simulate data if absent, then run every params/*.yaml")
    p.add_argument("--raw", default="data/raw")
    p.add_argument("--params-dir", default="params")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--show-code", action="store_true")
    p.add_argument("--reports", default=None, help="output folder (default: reports/)")
    p.set_defaults(func=_cmd_all)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EvaluatieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no partial output was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
