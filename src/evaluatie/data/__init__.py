"""Data layer: DUO-format reading and writing, the simulator and the panel builder."""

from evaluatie.data.duo import read_duo, write_duo
from evaluatie.data.gemeenten import gemeente_code, gemeente_names, load_gemeenten, name_crosswalk
from evaluatie.data.layouts import LAYOUTS, Column, Layout, register_layout
from evaluatie.data.panel import (
    PANEL_COLUMNS,
    DataQualityWarning,
    build_panel,
    load_panel,
    validate_panel,
)
from evaluatie.data.simulate import (
    SimulationManifest,
    is_simulated,
    known_effect,
    load_truth,
    simulate,
    simulate_pupils,
    true_att,
)
from evaluatie.data.tidy import read_duo_long, read_examens, read_vsv
from evaluatie.data.vve import VveData, known_dose_response, load_vve

__all__ = [
    "LAYOUTS",
    "PANEL_COLUMNS",
    "Column",
    "DataQualityWarning",
    "Layout",
    "SimulationManifest",
    "VveData",
    "build_panel",
    "gemeente_code",
    "gemeente_names",
    "is_simulated",
    "known_dose_response",
    "known_effect",
    "load_gemeenten",
    "load_panel",
    "load_truth",
    "load_vve",
    "name_crosswalk",
    "read_duo",
    "read_duo_long",
    "read_examens",
    "read_vsv",
    "register_layout",
    "simulate",
    "simulate_pupils",
    "true_att",
    "validate_panel",
    "write_duo",
]
