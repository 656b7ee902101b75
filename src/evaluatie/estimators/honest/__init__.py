"""Rambachan & Roth (2023) sensitivity analysis of event studies to violations of
parallel trends: relative magnitudes (C-LF intervals) and smoothness (optimal FLCI)."""

from evaluatie.estimators.honest._honest import KINDS, HonestResult, honest_did
from evaluatie.estimators.honest._inputs import TRUSTED

__all__ = ["KINDS", "TRUSTED", "HonestResult", "honest_did"]
