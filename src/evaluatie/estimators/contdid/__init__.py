"""Difference-in-differences with a continuous treatment (Callaway, Goodman-Bacon &
Sant'Anna 2024): :func:`cont_did` estimates the dose-response ``ATT(d|d)``, its slope
``ACRT(d|d)`` and their averages ``ATT^o`` and ``ACRT^o`` with a B-spline sieve and
analytic influence-function standard errors, optionally with unit sampling weights
(:mod:`.estimator`, :mod:`.bspline`, :mod:`._influence`).
"""

from .bspline import DoseBasis
from .estimator import ContDidResult, cont_did, default_grid

__all__ = ["ContDidResult", "DoseBasis", "cont_did", "default_grid"]
