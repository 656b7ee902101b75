"""Data layer: DUO-format reading and writing, the simulator and the panel builder."""

from evaluatie.data.duo import read_duo, write_duo
from evaluatie.data.gemeenten import gemeente_code, load_gemeenten, name_crosswalk
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

__all__ = [
    "LAYOUTS",
    "PANEL_COLUMNS",
    "Column",
    "DataQualityWarning",
    "Layout",
    "SimulationManifest",
    "build_panel",
    "gemeente_code",
    "is_simulated",
    "known_effect",
    "load_gemeenten",
    "load_panel",
    "load_truth",
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
