"""The bytecode step of `make setup` (evaluatie.install)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evaluatie import install


def _write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_compiled_bytecode_is_what_an_import_then_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # where SOURCE_DATE_EPOCH is set, py_compile by default writes hash-checked bytecode
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    _write(tmp_path, "pkg_install_probe/__init__.py", "")
    module = _write(tmp_path, "pkg_install_probe/mod.py", "VALUE = 41 + 1\n")
    _write(tmp_path, "pkg_install_probe/old.py", "print 'python 2'\n")
    names = [
        "pkg_install_probe/__init__.py",
        "pkg_install_probe/mod.py",
        "pkg_install_probe/old.py",  # not Python 3: skipped, as an import never reads it
        "pkg_install_probe/gone.py",  # listed, no longer installed: skipped
    ]
    assert install.compile_listed(names, [tmp_path / "elsewhere", tmp_path], jobs=2).done == 2

    cached = Path(importlib.util.cache_from_source(str(module)))
    header = cached.read_bytes()[:16]
    assert int.from_bytes(header[4:8], "little") == 0  # timestamp-checked, as imports write
    written = cached.stat().st_mtime_ns
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert importlib.import_module("pkg_install_probe.mod").VALUE == 42
    finally:
        for name in ("pkg_install_probe.mod", "pkg_install_probe"):
            sys.modules.pop(name, None)
    assert cached.stat().st_mtime_ns == written  # the import found it valid: not rewritten


def test_record_lists_the_sources_with_bytecode(tmp_path: Path) -> None:
    for name in ("a/__init__.py", "a/b.py", "a/c.py", "d.py"):
        _write(tmp_path, name, "X = 1\n")
    assert install.compile_listed(["a/__init__.py", "a/c.py"], [tmp_path], jobs=1).done == 2
    assert install.imported([tmp_path]) == ["a/__init__.py", "a/c.py"]


def test_the_listed_modules_are_those_of_this_environment() -> None:
    names = install.MODULES.read_text(encoding="utf-8").split()
    roots = install.roots()
    missing = [n for n in names if not any((root / n).is_file() for root in roots)]
    # a dependency that moved on makes the list stale: slower first runs, nothing worse
    assert len(missing) <= 0.05 * len(names), (
        f"{len(missing)} of {len(names)} files listed in {install.MODULES.name} are not "
        f"installed (e.g. {missing[:3]}); run `make imported-modules`"
    )
    assert any(n.startswith("evaluatie/") for n in names)
    assert any(n.startswith("pandas/") for n in names)


def _import_fresh(root: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.syspath_prepend(str(root))
    for module in [m for m in sys.modules if m == name.split(".")[0] or m.startswith(name)]:
        sys.modules.pop(module)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(name)
    finally:
        for module in [m for m in sys.modules if m.startswith(name.split(".")[0])]:
            sys.modules.pop(module)
        sys.path.remove(str(root))


def test_a_second_clone_takes_the_bytecode_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setenv(install.STORE_ENV, str(tmp_path / "store"))
    store = install.bytecode_store(install.store_folder())
    first, second = tmp_path / "first", tmp_path / "second"
    _write(first, "pkg_store_probe/__init__.py", "")
    _write(first, "pkg_store_probe/mod.py", "VALUE = 41 + 1\n\ndef fail():\n    raise ValueError\n")
    names = ["pkg_store_probe/__init__.py", "pkg_store_probe/mod.py"]
    assert install.compile_listed(names, [first], jobs=1, store=store) == (2, 0)
    # what an import (py_compile) would write, byte for byte
    cached = Path(importlib.util.cache_from_source(str(first / names[1])))
    expected = tmp_path / "expected.pyc"
    py_compile.compile(
        str(first / names[1]),
        cfile=str(expected),
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
    )
    assert cached.read_bytes() == expected.read_bytes()

    shutil.copytree(first, second, ignore=shutil.ignore_patterns("__pycache__"))
    assert install.compile_listed(names, [second], jobs=1, store=store) == (2, 2)
    cached = Path(importlib.util.cache_from_source(str(second / names[1])))
    written = cached.stat().st_mtime_ns
    module = _import_fresh(second, "pkg_store_probe.mod", monkeypatch)
    assert module.VALUE == 42  # type: ignore[attr-defined]
    # compiled in the first clone, named after the second's file once imported there
    assert module.fail.__code__.co_filename == str(second / names[1])  # type: ignore[attr-defined]
    assert cached.stat().st_mtime_ns == written  # the import found it valid: not rewritten


def test_changed_or_damaged_sources_in_the_store_are_compiled_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    store = tmp_path / "store"
    name = "pkg_store_changed/mod.py"
    _write(tmp_path / "a", name, "VALUE = 1\n")
    assert install.compile_listed([name], [tmp_path / "a"], jobs=1, store=store) == (1, 0)
    _write(tmp_path / "b", name, "VALUE = 2\n")
    assert install.compile_listed([name], [tmp_path / "b"], jobs=1, store=store) == (1, 0)
    for entry in store.rglob("*"):
        if entry.is_file():  # every stored entry damaged: none is used
            data = entry.read_bytes()
            entry.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    _write(tmp_path / "c", name, "VALUE = 1\n")
    assert install.compile_listed([name], [tmp_path / "c"], jobs=1, store=store) == (1, 0)
    for root, value in (("b", 2), ("c", 1)):
        module = _import_fresh(tmp_path / root, "pkg_store_changed.mod", monkeypatch)
        assert value == module.VALUE  # type: ignore[attr-defined]


def test_without_a_usable_store_the_bytecode_is_compiled_all_the_same(tmp_path: Path) -> None:
    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder", encoding="utf-8")
    _write(tmp_path, "m.py", "X = 1\n")
    assert install.compile_listed(["m.py"], [tmp_path], jobs=1, store=blocked / "s") == (1, 0)


def test_where_the_store_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(install.STORE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert install.store_folder() == tmp_path / "evaluatie"
    code = install.bytecode_store(install.store_folder())
    assert code is not None and code.parent == tmp_path / "evaluatie" / "bytecode"
    assert sys.implementation.cache_tag in code.name
    monkeypatch.setenv(install.STORE_ENV, str(tmp_path / "mine"))
    assert install.store_folder() == tmp_path / "mine"
    for off in ("", "relative/folder"):  # none, or one that moves with the clone: no store
        monkeypatch.setenv(install.STORE_ENV, off)
        assert install.store_folder() is None
        assert install.bytecode_store(install.store_folder()) is None


def _fake_cache(folder: Path) -> dict[str, bytes]:
    files = {"_weights._f-1.py311.nbi": b"index", "_weights._f-1.py311.1.nbc": b"code"}
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def test_kept_solver_files_are_copied_only_whole_and_intact(tmp_path: Path) -> None:
    kept = tmp_path / "store" / "numba" / "key"
    files = _fake_cache(tmp_path / "first")
    install._keep(tmp_path / "first", kept)
    assert {p.name for p in kept.iterdir()} == {*files, "MANIFEST"}
    assert install._copy_kept(kept, tmp_path / "second")
    assert {n: (tmp_path / "second" / n).read_bytes() for n in files} == files
    (kept / "_weights._f-1.py311.1.nbc").write_bytes(b"damaged")
    assert not install._copy_kept(kept, tmp_path / "third")
    (kept / "_weights._f-1.py311.1.nbc").unlink()  # one file missing
    assert not install._copy_kept(kept, tmp_path / "third")
    assert not (tmp_path / "third").exists()
    assert not install._copy_kept(tmp_path / "nothing", tmp_path / "third")


def test_a_second_clone_loads_the_solver_compiled_by_the_first(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = install.prepare_solver(store)
    assert "not compiled" not in first, first
    assert install.prepare_solver(store).startswith("solver taken from")
    # a second clone: the same source elsewhere, with no cache of its own
    package = tmp_path / "clone" / "evaluatie"
    source = package / "estimators" / "synthetic" / "_weights.py"
    source.parent.mkdir(parents=True)
    shutil.copyfile(Path(install.__file__).parent / "estimators/synthetic/_weights.py", source)
    assert install.prepare_solver(store, package=package).startswith("solver taken from")
    script = (
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('_weights', {str(source)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "module.compile_ahead()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    child = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "NUMBA_DEBUG_CACHE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    cache = source.parent / "__pycache__"
    assert f"data loaded from '{cache}" in child.stdout, child.stdout
    assert "data saved" not in child.stdout, child.stdout  # loaded, not compiled again


def test_a_solver_that_fails_or_hangs_leaves_setup_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path / "path",
        "probe_solver_fails.py",
        "def compile_ahead():\n    raise ValueError('no')\n",
    )
    _write(
        tmp_path / "path",
        "probe_solver_hangs.py",
        "import time\n\ndef compile_ahead():\n    time.sleep(60)\n",
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "path"))
    package = tmp_path / "clone" / "evaluatie"  # a clone with no cache of its own
    source = package / "estimators" / "synthetic" / "_weights.py"
    source.parent.mkdir(parents=True)
    shutil.copyfile(Path(install.__file__).parent / "estimators/synthetic/_weights.py", source)
    monkeypatch.setattr(install, "SOLVER", "probe_solver_fails")
    said = install.prepare_solver(tmp_path / "store", package=package)
    assert said.startswith("solver not compiled, the reports will") and "no" in said
    monkeypatch.setattr(install, "SOLVER", "probe_solver_hangs")
    monkeypatch.setattr(install, "SOLVER_TIMEOUT", 1)
    said = install.prepare_solver(tmp_path / "store", package=package)
    assert said.startswith("solver not compiled, the reports will") and "timed out" in said
    assert not (tmp_path / "store" / "numba").exists()  # nothing kept of a failed compile
