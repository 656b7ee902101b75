"""evaluatie: evaluate Dutch municipal education policy on DUO/CBS open data.

The public API is importable from the top level; submodules load on first use so that
``import evaluatie`` (and the CLI) stays fast. The packages, from the ground up:
:mod:`~evaluatie.core` (results, errors, checks), :mod:`~evaluatie.inference` (standard
errors and tests), :mod:`~evaluatie.engine` (within transformation, absorbed OLS),
:mod:`~evaluatie.estimators`; :mod:`~evaluatie.sources` (publishers' files) and
:mod:`~evaluatie.synth` (simulated data with a known truth); :mod:`~evaluatie.plots`
and :mod:`~evaluatie.reporting`; :mod:`~evaluatie.studies`; :mod:`~evaluatie.workbench`;
:mod:`~evaluatie.cli`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

_EXPORTS: dict[str, str] = {
    # estimators
    "twfe": "evaluatie.estimators.twfe",
    "event_study": "evaluatie.estimators.event",
    "att_gt": "evaluatie.estimators.did",
    "bacon": "evaluatie.estimators.bacon",
    "cont_did": "evaluatie.estimators.contdid",
    "dose_event_study": "evaluatie.estimators.dose_event",
    "single_unit_did": "evaluatie.estimators.single_unit",
    "synthetic_control": "evaluatie.estimators.synthetic",
    "synthetic_did": "evaluatie.estimators.synthetic",
    "mde": "evaluatie.estimators.power",
    "honest_did": "evaluatie.estimators.honest",
    "twfe_difference": "evaluatie.estimators.group_difference",
    # data
    "read_duo": "evaluatie.sources.duo",
    "read_duo_long": "evaluatie.sources.tidy",
    "load_panel": "evaluatie.sources.panel",
    "build_panel": "evaluatie.sources.panel",
    "load_vve": "evaluatie.sources.vve",
    "select": "evaluatie.sources.sample",
    "exposure": "evaluatie.sources.exposure",
    "exposure_timing": "evaluatie.sources.exposure",
    "simulate": "evaluatie.synth.simulate",
    "simulate_pupils": "evaluatie.synth.simulate",
    # studies
    "vve_study": "evaluatie.studies.vve.design",
    # the result contract and errors
    "Result": "evaluatie.core.results",
    "RegressionResult": "evaluatie.core.results",
    "Overall": "evaluatie.core.results",
    "Inference": "evaluatie.core.results",
    "EvaluatieError": "evaluatie.core.errors",
    "DataFormatError": "evaluatie.core.errors",
    "ParameterError": "evaluatie.core.errors",
    "DesignError": "evaluatie.core.errors",
}
_SUBMODULES = {
    "core",
    "engine",
    "estimators",
    "inference",
    "plots",
    "reporting",
    "sources",
    "studies",
    "synth",
    "workbench",
}

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
