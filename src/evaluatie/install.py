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

The compiled code is also kept in a store shared by the clones of one user
(:func:`store_folder`), by the SHA-256 of each source file: compilation is a function
of the source, so a second clone, a ``make clean`` or a rebuilt ``.venv`` with the same
packages copies the code (0.4-0.8 s) instead of compiling it. Importing such bytecode
gives the code the new file's name (CPython corrects ``co_filename`` when it loads
bytecode next to a source), so tracebacks point at this clone.

Then the one function numba compiles, synthetic DiD's solver, is compiled into numba's
cache beside its module (3-4 s, which the first report to need it of a new clone paid,
and the other kernel waited for), in a child process; that machine code is kept in the
store too, by the SHA-256 of the module's source and numba's version.

Imports only the standard library: it runs before anything else is compiled.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import marshal
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import NamedTuple

MODULES = Path(__file__).with_name("imported_modules.txt")

#: The folder kept between clones (:func:`store_folder`; the Makefile keeps uv there
#: too); set empty to keep nothing.
STORE_ENV = "EVALUATIE_STORE"
_DIGEST = hashlib.sha256().digest_size


def roots() -> list[Path]:
    """Where the listed files are found: this environment's ``site-packages``, then the
    folder holding the ``evaluatie`` package (``src`` in a clone)."""
    return [Path(sysconfig.get_paths()["purelib"]), Path(__file__).resolve().parent.parent]


def store_folder() -> Path | None:
    """The folder kept between clones: ``$EVALUATIE_STORE`` (none when it is set empty),
    else ``evaluatie`` in the user's cache folder (``$XDG_CACHE_HOME``, else
    ``~/.cache``), as the Makefile's. Any of it may be deleted at any time."""
    chosen = os.environ.get(STORE_ENV)
    if chosen is not None:
        base = Path(chosen) if chosen else None
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = Path(cache) / "evaluatie"
    if base is None or not base.is_absolute():
        return None  # a relative folder would differ from clone to clone: no store
    return base


def bytecode_store(store: Path | None) -> Path | None:
    """Where ``store`` keeps compiled code: one folder per interpreter and bytecode format."""
    if store is None:
        return None
    return (
        store / "bytecode" / f"{sys.implementation.cache_tag}-{importlib.util.MAGIC_NUMBER.hex()}"
    )


def _write_atomic(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Write ``data`` under a temporary name, then rename: a reader (an import, another
    install) sees the whole file or none. (Not :mod:`evaluatie.core.atomic`: this step
    imports nothing of the package, which has no bytecode yet.)"""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_EXCL | os.O_CREAT | os.O_WRONLY, mode & 0o666)
        with open(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def _stored(store: Path | None, key: str) -> bytes | None:
    """The code stored under ``key``, if present and intact (its own digest matches)."""
    if store is None:
        return None
    try:
        data = (store / key[:2] / key[2:]).read_bytes()
    except OSError:
        return None
    code = data[_DIGEST:]
    return code if hashlib.sha256(code).digest() == data[:_DIGEST] else None


def _store(store: Path | None, key: str, code: bytes) -> None:
    if store is None:
        return
    folder = store / key[:2]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / key[2:], hashlib.sha256(code).digest() + code)
    except OSError:
        pass  # no store (read-only home, full disk): compiled all the same


class Compiled(NamedTuple):
    """Files given bytecode, and how many of them took it from the store."""

    done: int
    reused: int


def _compile_file(file: str, store: Path | None) -> Compiled:
    """Write the bytecode of ``file`` where an import looks for it, as an import (or
    ``py_compile``) writes it: timestamp-checked, from ``compile(..., dont_inherit=True)``;
    the code taken from the store when its source was compiled before. Nothing done for
    a file that is not Python 3 source (some packages ship such files, never imported)."""
    path = Path(file)
    try:
        stat = path.stat()
        source = path.read_bytes()
    except OSError:
        return Compiled(0, 0)
    key = hashlib.sha256(source).hexdigest()
    code = _stored(store, key)
    reused = code is not None
    if code is None:
        try:
            compiled = compile(source, file, "exec", dont_inherit=True)
        except Exception:  # as py_compile: a file that does not compile is left to its import
            return Compiled(0, 0)
        # held by a name, as py_compile holds it: marshal marks objects referenced more
        # than once, so the bytes are those an import writes
        code = marshal.dumps(compiled)
        _store(store, key, code)
    header = (
        importlib.util.MAGIC_NUMBER
        + (0).to_bytes(4, "little")  # flags 0: checked by the source's time and size
        + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )
    target = Path(importlib.util.cache_from_source(file))
    try:
        target.parent.mkdir(exist_ok=True)
        _write_atomic(target, header + code, stat.st_mode | 0o200)
    except OSError:
        return Compiled(0, 0)
    return Compiled(1, int(reused))


def _total(counts: Sequence[Compiled]) -> Compiled:
    return Compiled(sum(c.done for c in counts), sum(c.reused for c in counts))


def _compile(files: Sequence[str], store: Path | None = None) -> Compiled:
    return _total([_compile_file(file, store) for file in files])


def compile_listed(
    names: Sequence[str], where: Sequence[Path], *, jobs: int, store: Path | None = None
) -> Compiled:
    """Compile each listed file found under one of ``where``, through ``store`` (if
    any); how many were given bytecode, and how many from the store. ``jobs`` processes
    share the files (round robin, so that each gets big and small packages alike)."""
    files = []
    for name in names:
        for root in where:
            path = root / name
            if path.is_file():
                files.append(str(path))
                break
    if jobs <= 1 or len(files) < 2:
        return _compile(files, store)
    parts = [files[i :: jobs * 4] for i in range(jobs * 4)]
    with ProcessPoolExecutor(jobs) as pool:
        return _total(list(pool.map(partial(_compile, store=store), parts)))


#: The module holding the numba-compiled solver.
SOLVER = "evaluatie.estimators.synthetic._weights"
#: Its source below the package folder, and numba's cache files for it in ``__pycache__``.
_SOLVER_SOURCE = Path(*SOLVER.split(".")[1:]).with_suffix(".py")
_SOLVER_FILES = f"{_SOLVER_SOURCE.stem}.*.nb[ic]"
#: Seconds the compile may take (3-5 s here) before setup goes on without it.
SOLVER_TIMEOUT = 300


def _digests(folder: Path) -> dict[str, str]:
    return {
        file.name: hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(folder.glob(_SOLVER_FILES))
    }


def prepare_solver(store: Path | None, *, package: Path | None = None) -> str:
    """Synthetic DiD's solver in numba's cache beside its module (``package`` holds
    ``evaluatie``'s modules): copied from ``store`` when this source was compiled with
    this numba before, else compiled in a child process and then kept in ``store``.
    What was done, in words; a failure leaves the compile to the reports, as before."""
    package = package or Path(__file__).resolve().parent
    source = package / _SOLVER_SOURCE
    cache = source.parent / "__pycache__"
    try:
        numba = importlib.metadata.version("numba")
        key = hashlib.sha256(source.read_bytes()).hexdigest()
    except (OSError, importlib.metadata.PackageNotFoundError) as exc:
        return f"solver not compiled ({exc})"
    kept = store / "numba" / f"{sys.implementation.cache_tag}-numba{numba}-{key}" if store else None
    if kept is not None and _copy_kept(kept, cache):
        return f"solver taken from {kept}"
    try:
        child = subprocess.run(
            [sys.executable, "-c", f"import {SOLVER} as s; s.compile_ahead()"],
            capture_output=True,
            text=True,
            check=False,
            timeout=SOLVER_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"solver not compiled, the reports will ({exc})"
    if child.returncode != 0:
        last = (child.stderr.strip().splitlines() or ["no message"])[-1]
        return f"solver not compiled, the reports will ({last})"
    if kept is not None:
        _keep(cache, kept)
    return "solver compiled into numba's cache"


def _copy_kept(kept: Path, cache: Path) -> bool:
    """Copy the kept cache files into ``cache`` if all are there and intact."""
    try:
        listed = dict(
            line.split("  ", 1)[::-1]
            for line in (kept / "MANIFEST").read_text(encoding="utf-8").splitlines()
        )
        if not listed or _digests(kept) != listed:
            return False
        cache.mkdir(exist_ok=True)
        for name in listed:
            _write_atomic(cache / name, (kept / name).read_bytes())
    except (OSError, ValueError):
        return False
    return True


def _keep(cache: Path, kept: Path) -> None:
    """The solver's cache files into ``kept``, whole or not at all (a folder renamed
    into place; another setup that got there first wins)."""
    try:
        digests = _digests(cache)
        if not digests:
            return
        kept.parent.mkdir(parents=True, exist_ok=True)
        part = Path(tempfile.mkdtemp(dir=kept.parent, prefix=".part-"))
        try:
            for name in digests:
                shutil.copyfile(cache / name, part / name)
            manifest = "".join(f"{digest}  {name}\n" for name, digest in digests.items())
            (part / "MANIFEST").write_text(manifest, encoding="utf-8")
            part.rename(kept)
        finally:
            shutil.rmtree(part, ignore_errors=True)
    except OSError:
        pass


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
    store = store_folder()
    code = bytecode_store(store)
    done, reused = compile_listed(names, where, jobs=os.cpu_count() or 1, store=code)
    kept = f" ({reused} of them compiled before, taken from {code})" if reused else ""
    print(
        f"compiled the bytecode of {done} of {len(names)} listed modules{kept} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    start = time.perf_counter()
    solver = prepare_solver(store)
    print(f"{solver} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
