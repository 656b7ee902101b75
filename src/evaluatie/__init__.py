"""evaluatie: evaluate Dutch municipal education policy on DUO/CBS open data.

The public API is importable from the top level; submodules load on first use so that
``import evaluatie`` (and the CLI) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "simulate": "evaluatie.data.simulate",
    "simulate_pupils": "evaluatie.data.simulate",
    "load_panel": "evaluatie.data.panel",
    "build_panel": "evaluatie.data.panel",
    "select": "evaluatie.design.sample",
    "twfe": "evaluatie.estimators.twfe",
    "event_study": "evaluatie.estimators.event_study",
    "att_gt": "evaluatie.estimators.did",
    "bacon": "evaluatie.estimators.bacon",
    "exposure": "evaluatie.design.exposure",
    "exposure_timing": "evaluatie.design.exposure",
    "load_vve": "evaluatie.data.vve",
    "vve_study": "evaluatie.design.vve",
    "cont_did": "evaluatie.estimators.contdid",
    "dose_event_study": "evaluatie.estimators.dose_event",
    "single_unit_did": "evaluatie.estimators.single_unit",
    "Result": "evaluatie.results",
    "RegressionResult": "evaluatie.results",
    "EvaluatieError": "evaluatie.errors",
    "DataFormatError": "evaluatie.errors",
    "ParameterError": "evaluatie.errors",
    "DesignError": "evaluatie.errors",
}
_SUBMODULES = {"data", "design", "estimators", "inference", "plots", "reporting", "workbench"}

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"evaluatie.{name}")
    raise AttributeError(f"module 'evaluatie' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
