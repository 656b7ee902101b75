"""Synthetic data with a known truth, in the publishers' own file formats.

:func:`simulate` writes a realistic Dutch raw-data folder (DUO eindscores and
referentieniveaus, CBS VSV, OAB/VVE budgets and early-years outcomes) with known grant
and VVE effects; :mod:`.truth` reads those effects back; :mod:`.panels` has small
in-memory panels with known effects for tests and benchmarks.
"""

from evaluatie.synth.files import SimulationManifest
from evaluatie.synth.panels import clustered_panel, staggered_panel, true_event_effects
from evaluatie.synth.simulate import simulate, simulate_pupils
from evaluatie.synth.truth import (
    is_simulated,
    known_dose_response,
    known_effect,
    load_truth,
    load_vve_truth,
    true_att,
    true_dose_response,
)

__all__ = [
    "SimulationManifest",
    "clustered_panel",
    "is_simulated",
    "known_dose_response",
    "known_effect",
    "load_truth",
    "load_vve_truth",
    "simulate",
    "simulate_pupils",
    "staggered_panel",
    "true_att",
    "true_dose_response",
    "true_event_effects",
]
