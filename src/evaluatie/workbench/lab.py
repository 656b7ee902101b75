"""``evaluatie lab``: JupyterLab on the project's environment.

The kernel is registered in this environment (``<sys.prefix>/share/jupyter/kernels``,
the same place as ``python -m ipykernel install --sys-prefix``) under the name the
notebooks ask for (``python3``), pointing at this environment's Python, so notebooks
opened in JupyterLab import the same evaluatie as ``evaluatie run``. JupyterLab starts
with the project folder as root and kernels running there
(:mod:`evaluatie.workbench.labserver`), as under papermill.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from evaluatie.workbench.run import KERNEL

DISPLAY_NAME = "evaluatie (.venv)"
CONTENTS_MANAGER = "evaluatie.workbench.labserver.ProjectRootContentsManager"


def register_kernel(prefix: Path | None = None) -> Path:
    """Install the kernelspec under ``prefix`` (default: this environment); its folder."""
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager

    # Installing outside Jupyter's search path (a dry run's temporary prefix) is fine here.
    quiet = logging.getLogger("evaluatie.lab.kernelspec")
    quiet.setLevel(logging.ERROR)
    folder = install(
        kernel_spec_manager=KernelSpecManager(log=quiet),
        kernel_name=KERNEL,
        display_name=DISPLAY_NAME,
        prefix=str(prefix or sys.prefix),
    )
    return Path(folder)


def kernel_spec() -> dict[str, Any]:
    """The kernel.json :func:`register_kernel` writes, made in a temporary prefix."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = register_kernel(Path(tmp))
        return json.loads((folder / "kernel.json").read_text(encoding="utf-8"))


def lab_command(root: Path, extra: list[str] | None = None) -> list[str]:
    """The command that starts JupyterLab on ``root``, opening ``notebooks/``.

    As root (a container, a CI box) JupyterLab refuses to start unless told
    ``--allow-root``; it is added then, since whoever runs ``evaluatie lab`` as root
    has already chosen to.
    """
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}",
        "--ContentsManager.preferred_dir=notebooks",
        *(["--allow-root"] if as_root and "--allow-root" not in (extra or []) else []),
        *(extra or []),
    ]


def describe_launch(root: Path, extra: list[str] | None = None, prefix: Path | None = None) -> str:
    """What ``evaluatie lab`` does, for ``--dry-run``: the kernelspec and the command."""
    target = Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL
    return (
        f"kernel {KERNEL!r} ({DISPLAY_NAME}) -> {target}/kernel.json:\n"
        f"{json.dumps(kernel_spec(), indent=2)}\n"
        f"command (in {root}):\n  {' '.join(lab_command(root, extra))}"
    )
