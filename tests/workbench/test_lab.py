"""`evaluatie lab`: kernelspec registration and the JupyterLab command, without a browser."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from evaluatie.cli import main
from evaluatie.workbench import lab

REPO = Path(__file__).resolve().parents[2]


def test_kernel_is_registered_for_this_environment(tmp_path: Path) -> None:
    folder = lab.register_kernel(prefix=tmp_path)
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "python3"
    spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    assert spec["argv"][0] == sys.executable  # this environment's Python, not "python"
    assert "ipykernel_launcher" in spec["argv"] and "{connection_file}" in spec["argv"]
    assert spec["display_name"] == lab.DISPLAY_NAME
    assert spec == lab.kernel_spec()  # what --dry-run shows


def test_dry_run_prints_kernel_and_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("--dry-run must not launch anything")

    prefixes: list[Path | None] = []
    register = lab.register_kernel

    def recorded(prefix: Path | None = None) -> Path:
        prefixes.append(prefix)
        return register(prefix)

    monkeypatch.setattr(lab, "register_kernel", recorded)
    monkeypatch.setattr("subprocess.call", forbidden)
    monkeypatch.chdir(REPO / "notebooks")  # the project is found from a subfolder too
    assert main(["lab", "--dry-run", "--", "--port", "8899"]) == 0
    out = capsys.readouterr().out
    assert f'"{sys.executable}"' in out and lab.DISPLAY_NAME in out
    assert f"-m jupyterlab --ServerApp.root_dir={REPO}" in out
    assert "ProjectRootContentsManager" in out and out.rstrip().endswith("--port 8899")
    # the kernelspec shown was made in a temporary prefix, not in this environment
    assert len(prefixes) == 1 and prefixes[0] is not None
    assert not prefixes[0].exists() and Path(sys.prefix) not in prefixes[0].parents


def test_lab_registers_then_launches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[list[str], Path]] = []
    monkeypatch.setattr(lab, "register_kernel", lambda: tmp_path / "kernels" / "python3")
    monkeypatch.setattr("subprocess.call", lambda cmd, cwd: calls.append((cmd, cwd)) or 0)
    monkeypatch.chdir(REPO)
    assert main(["lab"]) == 0
    assert "registered kernel in" in capsys.readouterr().out
    assert calls == [(lab.lab_command(REPO, []), REPO)]


def test_kernels_start_in_the_project_folder(tmp_path: Path) -> None:
    from evaluatie.workbench.labserver import ProjectRootContentsManager

    (tmp_path / "notebooks").mkdir()
    manager = ProjectRootContentsManager(root_dir=str(tmp_path))
    path = asyncio.run(manager.get_kernel_path("notebooks/innovatiebudget.ipynb"))
    assert path == ""  # the root: where `evaluatie run` executes notebooks as well
