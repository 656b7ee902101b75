"""The bytecode step of `make setup` (evaluatie.install)."""

from __future__ import annotations

import importlib
import importlib.util
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
    assert install.compile_listed(names, [tmp_path / "elsewhere", tmp_path], jobs=2) == 2

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
    assert install.compile_listed(["a/__init__.py", "a/c.py"], [tmp_path], jobs=1) == 2
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
