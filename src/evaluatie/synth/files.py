"""The files :func:`~evaluatie.synth.simulate.simulate` writes: their names and the manifest.

Names follow DUO's own where DUO publishes the file (``05.-gemiddelde-eindscores-bo-sbo-
2022-2023.csv``); the rest are the simulator's. Readers never rely on these names: they
recognise every file by its header (:mod:`evaluatie.sources.duo`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluatie.core.errors import ParameterError

SCHOOLS_AT_SCALE_1 = 6000
SUBSIDIES_FILE = "innovatiebudget-subsidies.csv"
WAARHEID_FILE = "innovatiebudget-waarheid.csv"
VESTIGINGEN_FILE = "vestigingen-bo.csv"
VSV_FILE = "vsv-gemeenten.csv"
VSV_SOORT_FILE = "vsv-onderwijssoort.csv"
VSV_WAARHEID_FILE = "vsv-waarheid.csv"
POVO_FILE = "doorstroom-povo.csv"
POVO_WAARHEID_FILE = "doorstroom-povo-waarheid.csv"
BUDGET_FILE = "oab-budget-gemeenten.csv"
VVE_FILE = "vve-uitkomsten-bo.csv"
VVE_WAARHEID_FILE = "vve-waarheid.csv"
MANIFEST_FILE = "manifest.json"


def n_schools_for(scale: float) -> int:
    """Number of vestigingen at ``scale`` (1.0 = about the real 6,000)."""
    if not scale > 0:
        raise ParameterError(f"scale must be positive, got {scale}")
    return round(SCHOOLS_AT_SCALE_1 * scale)


def schooljaar(jaar: int) -> str:
    """The school year that ends in calendar year ``jaar``: 2023 -> ``"2022-2023"``."""
    return f"{jaar - 1}-{jaar}"


def eindscores_file(jaar: int) -> str:
    """DUO's file name for the eindscores of the school year ending in ``jaar``."""
    return f"05.-gemiddelde-eindscores-bo-sbo-{schooljaar(jaar)}.csv"


def referentieniveaus_file(jaar: int) -> str:
    """File name (DUO-like) for the referentieniveaus of the school year ending in ``jaar``."""
    return f"10.-leerlingen-bo-referentieniveaus-{schooljaar(jaar)}.csv"


@dataclass(frozen=True)
class SimulationManifest:
    """What :func:`simulate` wrote: files (name -> rows, sha256, layout) and the truth."""

    out_dir: Path
    seed: int
    params: dict[str, Any]
    files: dict[str, dict[str, Any]]
    att_cet: float
    path: Path = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready content (no absolute paths, so equal seeds give equal bytes)."""
        return {
            "generator": "evaluatie.synth.simulate",
            "seed": self.seed,
            "params": self.params,
            "files": self.files,
            "att_cet": self.att_cet,
        }
