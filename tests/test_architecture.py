"""The package's shape: no import cycles, the public names where the README puts them.

The layer rules themselves are import-linter contracts in pyproject.toml (`make lint`);
this test adds what import-linter does not: no cycle between *any* two modules (its
acyclic_siblings contract looks at siblings only), counted on the whole module graph.
"""

from __future__ import annotations

import subprocess
import sys

import grimp
import pytest

import evaluatie


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm over the module graph: the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("evaluatie", cache_dir=None)


def test_no_import_cycle_anywhere(graph: grimp.ImportGraph) -> None:
    """Every module and package face (``__init__``), every direct import, TYPE_CHECKING
    imports included: not one cycle."""
    assert len(graph.modules) > 80  # the whole package was read
    assert strongly_connected(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    toy = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        toy.add_import(importer=a, imported=b)
    assert strongly_connected(toy) == [["p.a", "p.b", "p.c"]]


#: The README's public API: every name resolves at the top level.
PUBLIC = [
    "twfe",
    "event_study",
    "att_gt",
    "bacon",
    "cont_did",
    "dose_event_study",
    "single_unit_did",
    "synthetic_control",
    "synthetic_did",
    "honest_did",
    "read_duo",
    "read_duo_long",
    "load_panel",
    "build_panel",
    "load_vve",
    "select",
    "exposure",
    "exposure_timing",
    "simulate",
    "simulate_pupils",
    "vve_study",
    "Result",
    "Overall",
    "Inference",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_resolve_at_the_top_level(name: str) -> None:
    assert name in evaluatie.__all__
    assert getattr(evaluatie, name) is not None


#: What checking params files imports (the CLI, the batch, every study's design and data
#: check): none of it draws, and none of it needs scipy.stats.
CHECKING = (
    "evaluatie.cli",
    "evaluatie.workbench.batch",
    "evaluatie.workbench.sweep",
    "evaluatie.workbench.datacheck",
    "evaluatie.studies.doorstroom",
    "evaluatie.studies.gemeente",
    "evaluatie.studies.innovatiebudget",
    "evaluatie.studies.schooluitval",
    "evaluatie.studies.vve",
)
HEAVY = ("matplotlib.pyplot", "seaborn", "scipy.stats")


def test_checking_params_files_imports_no_plotting_and_no_scipy_stats() -> None:
    """Every report's params files are checked in the command's process before any run
    starts (with two workers, the only part that does not run in parallel); these
    imports took 1.5 s of it."""
    code = (
        "import importlib, sys\n"
        f"for name in {CHECKING!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
