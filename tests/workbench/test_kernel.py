"""One warm kernel per batch worker: every notebook sees the state of a fresh kernel.

A notebook that changes what a later one could see (its variables, the report language,
warning filters and the warnings hook, matplotlib's settings and open figures, the
execution counter) runs first; the notebook after it must give exactly the outputs it
gives on a fresh kernel. The same holds for real reports, and no kernel outlives a batch.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest

from evaluatie.workbench import kernel, run
from evaluatie.workbench.kernel import warm_kernel

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHANGES_EVERYTHING = [
    "%matplotlib inline\nimport warnings\nimport matplotlib as mpl\nimport matplotlib.pyplot as plt",
    "import evaluatie as ev\nev.reporting.set_language('en')\nev.reporting.warnings_as_notes()",
    "import warner\nwarner.warn()",  # the default filter shows it once per location
    "warnings.simplefilter('ignore')\nleak = 1\nmpl.rcParams['lines.linewidth'] = 7.0",
    "plt.figure(); plt.plot([1, 2]);",  # left open, not shown
]
LOOKS_AT_EVERYTHING = [
    "%matplotlib inline\nimport warnings\nimport matplotlib as mpl\nimport matplotlib.pyplot as plt",
    "import evaluatie as ev\nprint(ev.reporting.current_language(), 'leak' in globals())",
    "print(mpl.rcParams['lines.linewidth'], plt.get_fignums())",
    "warnings.showwarning = lambda message, *args, **kwargs: print('warned:', message)",
    "import warner\nwarner.warn()",
    "fig, ax = plt.subplots(figsize=(2, 1)); ax.plot([1, 3]); plt.show()",
    "1 + 1",
]


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("parameters = {}", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def _outputs(path: Path) -> list[tuple[object, object]]:
    """Each cell's count and outputs, consecutive stream outputs of one stream joined:
    the kernel sends printed text in chunks on a timer (0.2 s), so under load one print
    can arrive as two messages; a reader sees the same text either way."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(c.get("execution_count"), _joined(c.get("outputs"))) for c in cells]


def _joined(outputs: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if outputs is None:
        return None
    out: list[dict[str, Any]] = []
    for o in outputs:
        previous = out[-1] if out else None
        if (
            o["output_type"] == "stream"
            and previous is not None
            and previous["output_type"] == "stream"
            and previous["name"] == o["name"]
        ):
            out[-1] = {**previous, "text": "".join(previous["text"]) + "".join(o["text"])}
        elif o["output_type"] == "stream":
            out.append({**o, "text": "".join(o["text"])})
        else:
            out.append(o)
    return out


def _run(source: Path, target: Path) -> None:
    run._execute_notebook(source, target, {"parameters": {}}, source.parent, False)


def test_a_reused_kernel_gives_the_outputs_of_a_fresh_one(tmp_path: Path) -> None:
    (tmp_path / "warner.py").write_text(
        "import warnings\n\n\ndef warn():\n    warnings.warn('from a module')\n", encoding="utf-8"
    )
    first = _notebook(tmp_path / "first.ipynb", CHANGES_EVERYTHING)
    second = _notebook(tmp_path / "second.ipynb", LOOKS_AT_EVERYTHING)
    _run(second, tmp_path / "fresh.ipynb")
    with warm_kernel(tmp_path) as warm:
        _run(first, tmp_path / "first_out.ipynb")
        client = warm.client
        _run(second, tmp_path / "warm.ipynb")
        _run(second, tmp_path / "warm_again.ipynb")
        assert warm._km is not None and warm._km.has_kernel  # one kernel served all three
        assert client is not None and warm.client is client  # over one connection
    assert warm.client is None  # closed with the kernel
    fresh = _outputs(tmp_path / "fresh.ipynb")
    text = json.dumps(fresh)
    assert "nl False" in text and "1.5 []" in text and "image/png" in text  # fresh state
    assert "warned: from a module" in text  # shown again: not remembered, not ignored
    assert _outputs(tmp_path / "warm.ipynb") == fresh
    assert _outputs(tmp_path / "warm_again.ipynb") == fresh
    assert kernel.current() is None


def test_a_kernel_started_ahead_in_a_thread_gives_the_outputs_of_a_fresh_one(
    tmp_path: Path,
) -> None:
    """What a batch does while it checks the params files: start the kernel and import
    the reports' modules in a thread; the first notebook then runs on that kernel."""
    (tmp_path / "warner.py").write_text(
        "import warnings\n\n\ndef warn():\n    warnings.warn('from a module')\n", encoding="utf-8"
    )
    notebook = _notebook(tmp_path / "looks.ipynb", LOOKS_AT_EVERYTHING)
    _run(notebook, tmp_path / "fresh.ipynb")
    with warm_kernel(tmp_path) as warm:
        ahead = threading.Thread(target=warm.prestart)
        ahead.start()
        ahead.join()
        started = warm._km
        assert started is not None and started.has_kernel
        _run(notebook, tmp_path / "ahead.ipynb")
        assert warm._km is started and started.has_kernel  # the same kernel ran it
        # what the imports made is out of the garbage collector's way
        frozen = _notebook(
            tmp_path / "frozen.ipynb", ["import gc\nprint('frozen:', gc.get_freeze_count())"]
        )
        _run(frozen, tmp_path / "frozen_out.ipynb")
    assert _outputs(tmp_path / "ahead.ipynb") == _outputs(tmp_path / "fresh.ipynb")
    printed = re.search(r"frozen: (\d+)", json.dumps(_outputs(tmp_path / "frozen_out.ipynb")))
    assert printed is not None and int(printed.group(1)) > 100_000
    assert kernel.current() is None


def test_a_kernel_that_died_is_replaced(tmp_path: Path) -> None:
    crash = _notebook(tmp_path / "crash.ipynb", ["print('before')", "import os\nos._exit(1)"])
    fine = _notebook(tmp_path / "fine.ipynb", ["print('alive')"])
    with warm_kernel(tmp_path):
        with pytest.raises(Exception, match=r"(?i)kernel died"):
            _run(crash, tmp_path / "crash_out.ipynb")
        _run(fine, tmp_path / "fine_out.ipynb")
    # what ran before the kernel died is kept for the failed report
    assert "before" in json.dumps(_outputs(tmp_path / "crash_out.ipynb"))
    assert "alive" in json.dumps(_outputs(tmp_path / "fine_out.ipynb"))


def _kernels(mark: str) -> set[int]:
    """Kernel processes started under this test (they inherit its environment marker;
    another test session's kernels on the same machine do not count)."""
    found = set()
    for proc in psutil.process_iter(["cmdline"]):
        if not any("ipykernel" in part for part in proc.info["cmdline"] or []):
            continue
        try:
            if proc.environ().get("EVALUATIE_TEST_MARK") == mark:
                found.add(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


YEAR = "  first_year: 2023"
EXAMS = [
    "notebook: gemeente",
    "parameters:",
    "  data: examens",
    "  raw_dir: tests/data/duo",
    "  outcome: slaagpercentage",
    YEAR,
]


def test_real_reports_on_warm_workers_equal_fresh_ones_and_no_kernel_outlives_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers, each with its warm kernel: the third report runs on a kernel that
    already ran one (the first an English report), and must equal its run alone."""
    from evaluatie.cli import main

    monkeypatch.chdir(REPO)
    mark = uuid.uuid4().hex
    monkeypatch.setenv("EVALUATIE_TEST_MARK", mark)
    files = []
    for name, lines in {
        "en_eerst": [*EXAMS, "  gemeente: GM0034", "  language: en"],
        "examens": [*EXAMS, "  gemeente: GM0363"],
        "doorstroom": ["notebook: doorstroom", "parameters:", "  gemeente: GM0453", YEAR],
    }.items():
        path = tmp_path / "params" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    batch, single = tmp_path / "batch", tmp_path / "single"
    assert main(["run", *map(str, files), "-j", "2", "--reports", str(batch)]) == 0
    for path in files[1:]:
        assert main(["run", str(path), "--reports", str(single)]) == 0
    for name in ("examens", "doorstroom"):
        assert _outputs(batch / f"{name}.ipynb") == _outputs(single / f"{name}.ipynb")
    deadline = time.monotonic() + 10
    while _kernels(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _kernels(mark)


def test_vve_reports_after_one_another_equal_their_runs_alone(tmp_path: Path) -> None:
    """The second VVE report on a kernel reuses the national analysis the first computed
    (evaluatie.core.memo.reused); its notebook equals the one run alone."""
    from evaluatie.cli import main
    from evaluatie.synth.simulate import simulate

    raw = tmp_path / "raw"
    simulate(out_dir=raw, seed=11, scale=0.1)
    files = []
    for name, extra in {"landelijk": [], "leiden": ["  gemeenten: [GM0546]"]}.items():
        path = tmp_path / f"{name}.yaml"
        lines = ["notebook: vve_budget", "parameters:", f"  raw_dir: {raw}", *extra]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        assert main(["run", *map(str, files), "--reports", str(tmp_path / "batch")]) == 0
        assert main(["run", str(files[1]), "--reports", str(tmp_path / "alone")]) == 0
    batch, alone = (
        _outputs(tmp_path / "batch" / "leiden.ipynb"),
        _outputs(tmp_path / "alone" / "leiden.ipynb"),
    )
    assert "image/png" in json.dumps(alone) and batch == alone


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_kernels_started_ahead_of_refused_params_files_do_not_outlive_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], jobs: str
) -> None:
    """The kernels boot while the params files are checked; when one is refused the
    command says why and leaves no kernel behind (none ran a notebook)."""
    from evaluatie.cli import main

    monkeypatch.chdir(REPO)
    mark = uuid.uuid4().hex
    monkeypatch.setenv("EVALUATIE_TEST_MARK", mark)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("\n".join([*EXAMS, "  gemeente: GM0363"]) + "\n", encoding="utf-8")
    bad.write_text("\n".join([*EXAMS[:-1], "  first_year: 1814"]) + "\n", encoding="utf-8")
    code = main(["run", str(good), str(bad), "-j", jobs, "--reports", str(tmp_path / "out")])
    assert code != 0 and "first_year" in capsys.readouterr().err
    assert not (tmp_path / "out" / "good.ipynb").exists()  # nothing ran
    deadline = time.monotonic() + 20  # the workers' kernels finish starting, then stop
    while _kernels(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _kernels(mark)


def test_a_rerun_of_unchanged_inputs_starts_no_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the check kept and every report cached nothing needs a kernel, so none is
    started ahead (the rerun waited for two it did not use); one run to redo gets one."""
    from evaluatie.cli import main
    from evaluatie.workbench import batch
    from evaluatie.workbench.kernel import WarmKernel

    monkeypatch.chdir(REPO)
    files = []
    for gemeente in ("GM0363", "GM0034"):
        path = tmp_path / f"{gemeente}.yaml"
        path.write_text("\n".join([*EXAMS, f"  gemeente: {gemeente}"]) + "\n", encoding="utf-8")
        files.append(str(path))
    out = ["--reports", str(tmp_path / "out")]
    assert main(["run", *files, "-j", "2", *out]) == 0
    # Kernels start in this process (-j 1) or in the workers of a pool (-j 2, whose
    # kernels start in the workers, out of this test's sight: the pool is counted).
    started: list[str] = []
    real_manager, real_pool = WarmKernel._manager, batch._worker_pool

    def kernel(self: WarmKernel) -> Any:
        started.append("kernel")
        return real_manager(self)

    def pool(*args: Any, **kwargs: Any) -> Any:
        started.append("pool")
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(WarmKernel, "_manager", kernel)
    monkeypatch.setattr(batch, "_worker_pool", pool)
    capsys.readouterr()
    for jobs in ("1", "2"):
        assert main(["run", *files, "-j", jobs, *out]) == 0
        assert "2 skipped (cached)" in capsys.readouterr().out
    assert started == []
    for jobs, donors in (("1", 30), ("2", 31)):  # other params: checked again, kernels ahead
        Path(files[0]).write_text(
            "\n".join([*EXAMS, "  gemeente: GM0363", f"  donors: {donors}"]) + "\n",
            encoding="utf-8",
        )
        assert main(["run", *files, "-j", jobs, *out]) == 0
        assert "1 done" in capsys.readouterr().out
    assert "kernel" in started and "pool" in started


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_forked_workers_close_their_kernels(tmp_path: Path) -> None:
    """`evaluatie` forks its workers (one thread); each closes its kernel when it ends,
    with the kernel's folder, instead of leaving the kernel to find out on its own."""
    params = tmp_path / "params"
    params.mkdir()
    for gemeente in ("GM0363", "GM0034"):
        lines = [*EXAMS, f"  gemeente: {gemeente}"]
        (params / f"{gemeente}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    files = map(str, sorted(params.iterdir()))
    out = str(tmp_path / "out")
    done = subprocess.run(
        [sys.executable, "-m", "evaluatie.cli", "run", *files, "-j", "2", "--reports", out],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Parent appears to have exited" not in done.stderr
    assert not list(temp.glob("evaluatie-kernel-*"))  # each kernel's folder went with it
