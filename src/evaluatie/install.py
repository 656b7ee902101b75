"""Bytecode for the modules the reports import, compiled once when the environment is
made (``make setup`` runs ``python -m evaluatie.install`` after ``uv sync``).

uv installs without bytecode, and compiling every module of the environment (11,600)
took 16 s. Left to Python, each module is compiled on its first import, in every
process that imports it before another has written its bytecode: on a fresh clone
``evaluatie all``'s command, its workers and two kernels import much the same 2,300
modules at the same time, and ran 15-25 s of CPU longer than with the bytecode there.
Compiled here, in parallel and once, the modules listed in ``imported_modules.txt``
take about 6 s of CPU (3.5 s on two cores).

The list holds the files (relative to ``site-packages`` or ``src``) that a fresh
environment's ``evaluatie all`` imported; ``make imported-modules`` rewrites it after a
dependency changes. A listed file that is gone is skipped and a module missing from the
list is compiled on import as before, so a stale list costs time, never correctness.

Imports only the standard library: it runs before anything else is compiled.
"""

from __future__ import annotations

import argparse
import os
import py_compile
import sys
import sysconfig
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

MODULES = Path(__file__).with_name("imported_modules.txt")


def roots() -> list[Path]:
    """Where the listed files are found: this environment's ``site-packages``, then the
    folder holding the ``evaluatie`` package (``src`` in a clone)."""
    return [Path(sysconfig.get_paths()["purelib"]), Path(__file__).resolve().parent.parent]


def _compile(files: Sequence[str]) -> int:
    done = 0
    for file in files:
        try:
            # timestamp-checked, as an import writes it (not the hash-checked bytecode
            # py_compile writes where SOURCE_DATE_EPOCH is set)
            py_compile.compile(
                file, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
            )
        except (py_compile.PyCompileError, OSError):
            continue  # not Python 3 source (some packages ship such files): never imported
        done += 1
    return done


def compile_listed(names: Sequence[str], where: Sequence[Path], *, jobs: int) -> int:
    """Compile each listed file found under one of ``where``; the number compiled.
    ``jobs`` processes share the files (round robin, so that each gets big and small
    packages alike)."""
    files = []
    for name in names:
        for root in where:
            path = root / name
            if path.is_file():
                files.append(str(path))
                break
    if jobs <= 1 or len(files) < 2:
        return _compile(files)
    parts = [files[i :: jobs * 4] for i in range(jobs * 4)]
    with ProcessPoolExecutor(jobs) as pool:
        return sum(pool.map(_compile, parts))


def imported(where: Sequence[Path]) -> list[str]:
    """The source files under ``where`` that have this interpreter's bytecode next to
    them, relative to their root: what has been imported since the environment was
    made without bytecode."""
    tag = sys.implementation.cache_tag
    found = set()
    for root in where:
        for pyc in root.rglob(f"__pycache__/*.{tag}.pyc"):
            source = pyc.parent.parent / (pyc.name.split(".", 1)[0] + ".py")
            if source.is_file():
                found.add(source.relative_to(root).as_posix())
    return sorted(found)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluatie.install", description=__doc__)
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"write {MODULES.name} from the bytecode present (after a fresh environment's "
        "`evaluatie all`) instead of compiling",
    )
    args = parser.parse_args(argv)
    where = roots()
    if args.record:
        names = imported(where)
        MODULES.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        print(f"{MODULES}: {len(names)} files")
        return 0
    names = MODULES.read_text(encoding="utf-8").split()
    start = time.perf_counter()
    done = compile_listed(names, where, jobs=os.cpu_count() or 1)
    print(
        f"compiled the bytecode of {done} of {len(names)} listed modules "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
