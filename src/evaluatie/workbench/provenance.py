"""Provenance of a run, its JSON sidecar, and the cache built on it.

Every report ``reports/<name>.html`` gets a sidecar ``reports/<name>.json`` holding the
*run record*: what went in (notebook and its SHA-256, parameters, SHA-256 of every
file in ``raw_dir``, the evaluatie code version, Python and key package versions) and
what came out (start time, duration of the notebook's execution, status, error, the
headline the notebook published: :mod:`evaluatie.workbench.headline`).

The inputs alone, hashed, are the *cache key*: a run whose key equals that of its
last successful sidecar is skipped (``--force`` reruns). Failed runs are never reused.
The sidecar is written last, after the HTML report and the executed notebook, so an
interrupted run leaves either the old complete entry or none.

"Code" is the git commit of the checkout evaluatie is imported from, plus a SHA-256 of
the uncommitted changes (diff and untracked files) under the package folder; outside a
git checkout it is a SHA-256 of the package's files.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

import evaluatie
from evaluatie.core.atomic import atomic_open
from evaluatie.workbench.datacheck import input_files, resolve_raw_dir
from evaluatie.workbench.params import RunSpec

RECORD_KIND = "evaluatie-run"
RECORD_SCHEMA = 1
PACKAGE_DIR = Path(evaluatie.__file__).resolve().parent
PACKAGES = ("numpy", "pandas", "scipy", "linearmodels", "papermill", "nbconvert", "matplotlib")
# The record fields that determine the output; everything else describes the run.
_KEY_FIELDS = ("notebook", "notebook_sha256", "parameters", "show_code", "code", "environment")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, remembered while its size and modification time are unchanged."""
    stat = path.stat()
    return _sha256_cached(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_files(raw: Path) -> dict[str, str]:
    """Name -> SHA-256 of every input file in ``raw`` (see :func:`input_files`)."""
    return {p.name: sha256_file(p) for p in input_files(raw)}


#: Written by ``evaluatie simulate`` beside the files it made (name -> sha256 and rows):
#: ``evaluatie.synth.files.MANIFEST_FILE``, named again here because importing
#: ``evaluatie.synth`` (the simulator) costs every run ~0.8 s; a test keeps them equal.
SIMULATION_MANIFEST = "manifest.json"


def simulated_files(raw: Path, files: dict[str, str]) -> list[str]:
    """The input files the simulator wrote: those the folder's simulation manifest lists.

    A user's real file dropped into a simulated folder is not listed; a simulated file
    edited by hand still is (it is still made-up data, even if its truth no longer holds).
    """
    folder = raw if raw.is_dir() else raw.parent
    try:
        manifest = json.loads((folder / SIMULATION_MANIFEST).read_text(encoding="utf-8"))
        listed = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(listed, dict):
        return []
    return sorted(name for name in files if name in listed)


def _git(args: list[str], cwd: Path) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None  # no git, not a checkout, no commits yet, or the file is not tracked
    return done.stdout


@functools.lru_cache(maxsize=8)
def code_version(package_dir: Path = PACKAGE_DIR) -> dict[str, Any]:
    """evaluatie's version and code state (computed once per process and folder).

    ``{"evaluatie", "source": "git", "commit", "dirty", "changes_sha256"}`` in a git
    checkout that tracks the package, else ``{"evaluatie", "source": "files",
    "commit": None, "dirty": None, "files_sha256"}``.
    """
    version = {"evaluatie": evaluatie.__version__}
    commit = _git(["rev-parse", "HEAD"], package_dir)
    tracked = _git(["ls-files", "--error-unmatch", "--", "__init__.py"], package_dir)
    if commit is None or tracked is None:
        return {
            **version,
            "source": "files",
            "commit": None,
            "dirty": None,
            "files_sha256": _tree_sha256(package_dir),
        }
    diff = _git(["diff", "HEAD", "--binary", "--", "."], package_dir) or b""
    listed = _git(["ls-files", "--others", "--exclude-standard", "-z", "--", "."], package_dir)
    untracked = sorted(name for name in (listed or b"").decode().split("\0") if name)
    digest = hashlib.sha256(diff)
    for name in untracked:
        digest.update(f"\0{name}\0{sha256_file(package_dir / name)}".encode())
    dirty = bool(diff or untracked)
    return {
        **version,
        "source": "git",
        "commit": commit.decode().strip(),
        "dirty": dirty,
        "changes_sha256": digest.hexdigest() if dirty else None,
    }


def _tree_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(f"\0{path.relative_to(folder).as_posix()}\0{sha256_file(path)}".encode())
    return digest.hexdigest()


def code_summary(code: dict[str, Any]) -> str:
    """``0.1.0, commit 1197f57 + uncommitted changes`` (or the files' hash outside git)."""
    text = f"{code.get('evaluatie')}"
    if code.get("commit"):
        text += f", commit {code['commit'][:10]}"
        if code.get("dirty"):
            text += f" + uncommitted changes (sha256 {str(code.get('changes_sha256'))[:12]})"
    elif code.get("files_sha256"):
        text += f", not a git checkout (files sha256 {code['files_sha256'][:12]})"
    return text


def environment() -> dict[str, Any]:
    """Python and key package versions (None for a package that is not installed)."""
    python, packages = _versions()
    return {"python": python, "packages": dict(packages)}


@functools.cache
def _versions() -> tuple[str, tuple[tuple[str, str | None], ...]]:
    """Read once per process: a batch records them for every run, and reading the
    installed packages' metadata took 0.25 s of the 0.33 s that preparing 18 runs
    took, before any could start. An environment does not change under a running
    command."""
    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    return platform.python_version(), tuple(packages.items())


def run_record(spec: RunSpec, root: Path, notebook: Path, *, show_code: bool) -> dict[str, Any]:
    """The inputs of a run (no times, no outcome) with their ``cache_key``."""
    values = spec.params.model_dump(mode="json")
    raw = resolve_raw_dir(root, values["raw_dir"]) if "raw_dir" in values else None
    record: dict[str, Any] = {
        "kind": RECORD_KIND,
        "schema": RECORD_SCHEMA,
        "name": spec.name,
        "notebook": spec.notebook,
        "notebook_file": _shown(notebook, root),
        "notebook_sha256": sha256_file(notebook),
        "params_file": str(spec.source) if spec.source else None,
        "parameters": values,
        "show_code": show_code,
        "data": _data(raw),
        "code": code_version(),
        "environment": environment(),
    }
    record["cache_key"] = cache_key(record)
    return record


def _data(raw: Path | None) -> dict[str, Any]:
    files = data_files(raw) if raw else {}
    return {
        "raw_dir": str(raw) if raw else None,
        "files": files,
        "simulated": simulated_files(raw, files) if raw else [],
    }


def cache_key(record: dict[str, Any]) -> str:
    """SHA-256 of the inputs that determine a run's output (data by content, not path)."""
    inputs = {k: record[k] for k in _KEY_FIELDS}
    inputs["data"] = record["data"]["files"]
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def sidecar_path(reports: Path, name: str) -> Path:
    """Where the run record of report ``name`` lives."""
    return reports / f"{name}.json"


def write_sidecar(reports: Path, record: dict[str, Any]) -> Path:
    """Write ``record`` atomically to ``reports/<name>.json``."""
    path = sidecar_path(reports, record["name"])
    with atomic_open(path, newline="\n") as fh:
        json.dump(record, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    return path


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """A run record, or None if ``path`` is missing, unreadable or not a run record."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("kind") == RECORD_KIND else None


def cache_hit(
    reports: Path, record: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The previous record if it succeeded with the same cache key and its report exists
    (``previous``: that record if the caller has read it already)."""
    if previous is None:
        previous = read_sidecar(sidecar_path(reports, record["name"]))
    if (
        previous is not None
        and previous.get("status") == "ok"
        and previous.get("cache_key") == record["cache_key"]
        and (reports / str(previous.get("report"))).is_file()
    ):
        return previous
    return None
