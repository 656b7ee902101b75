"""Synthetic comparisons for one or a few treated units: synthetic control (Abadie,
Diamond & Hainmueller 2010) and synthetic DiD (Arkhangelsky et al. 2021)."""

from .control import synthetic_control
from .result import SyntheticResult
from .sdid import synthetic_did

__all__ = ["SyntheticResult", "synthetic_control", "synthetic_did"]
