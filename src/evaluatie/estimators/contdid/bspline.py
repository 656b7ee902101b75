"""Clamped B-spline sieve for a dose-response curve: basis, first derivative, knots.

The sieve of Callaway, Goodman-Bacon & Sant'Anna (2024, Section 4.2) regresses the
outcome change of treated units on ``ψ^K(D)``: an intercept plus a B-spline basis in the
dose without its first function (the full basis sums to one, so one function is dropped
to keep the design of full rank with the intercept). With ``p`` the degree and ``k``
interior knots the design has ``K = p + k + 1`` columns; with ``k = 0`` it spans the
polynomials of degree ``p``.

Knots: the boundary knots are the smallest and largest treated dose, each repeated
``p + 1`` times (a clamped knot vector); the ``k`` interior knots sit at the
``j / (k + 1)`` quantiles (``j = 1..k``, numpy's default linear interpolation) of the
treated units' doses, one dose per unit.

The basis is evaluated by the Cox-de Boor recursion on all points at once; the
derivative uses ``B'_{i,p} = p/(t_{i+p} - t_i) B_{i,p-1} - p/(t_{i+p+1} - t_{i+1})
B_{i+1,p-1}`` (de Boor 2001, *A Practical Guide to Splines*, Ch. X), terms with a zero
denominator being zero. Points must lie inside the boundary knots; the right boundary
belongs to the last non-empty knot interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def interior_knots(dose: np.ndarray, num_knots: int) -> np.ndarray:
    """The ``num_knots`` interior knots at evenly spaced quantiles of ``dose``."""
    if num_knots == 0:
        return np.empty(0)
    probs = np.arange(1, num_knots + 1) / (num_knots + 1)
    return np.quantile(np.asarray(dose, dtype=float), probs)


def _cox_de_boor(x: np.ndarray, t: np.ndarray, degree: int) -> list[np.ndarray]:
    """Basis values of every degree ``0..degree``: a list of ``(n, len(t) - q - 1)``."""
    nonempty = np.flatnonzero(t[1:] > t[:-1])
    # interval j holds t[j] <= x < t[j+1]; x == t[-1] goes to the last non-empty one
    j = np.searchsorted(t, x, side="right") - 1
    j = np.clip(j, nonempty[0], nonempty[-1])
    out = [np.zeros((x.size, t.size - 1))]
    out[0][np.arange(x.size), j] = 1.0
    for q in range(1, degree + 1):
        prev = out[-1]
        m = t.size - q - 1
        left_den = t[q : q + m] - t[:m]
        right_den = t[q + 1 : q + 1 + m] - t[1 : 1 + m]
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.where(left_den > 0, (x[:, None] - t[:m]) / left_den, 0.0)
            right = np.where(right_den > 0, (t[q + 1 : q + 1 + m] - x[:, None]) / right_den, 0.0)
        out.append(left * prev[:, :m] + right * prev[:, 1 : m + 1])
    return out


@dataclass(frozen=True)
class DoseBasis:
    """The sieve ``ψ^K(d) = [1, B_2(d), ..., B_{p+k+1}(d)]`` on a clamped knot vector.

    ``knots`` is the full knot vector (boundary knots repeated ``degree + 1`` times).
    """

    knots: np.ndarray
    degree: int

    @classmethod
    def from_doses(cls, dose: np.ndarray, degree: int, num_knots: int) -> DoseBasis:
        """Knots from the treated doses (one per unit); see the module docstring."""
        dose = np.asarray(dose, dtype=float)
        lo, hi = float(dose.min()), float(dose.max())
        full = np.concatenate(
            [np.full(degree + 1, lo), interior_knots(dose, num_knots), np.full(degree + 1, hi)]
        )
        return cls(knots=full, degree=int(degree))

    @property
    def n_columns(self) -> int:
        """``K``: the intercept and all B-splines but the first."""
        return self.knots.size - self.degree - 1

    @property
    def support(self) -> tuple[float, float]:
        return float(self.knots[0]), float(self.knots[-1])

    @property
    def interior(self) -> np.ndarray:
        return self.knots[self.degree + 1 : self.knots.size - self.degree - 1]

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, dtype=float))
        lo, hi = self.support
        if x.ndim != 1 or np.any(~np.isfinite(x)) or np.any((x < lo) | (x > hi)):
            raise ValueError(f"dose values must be finite and within [{lo:g}, {hi:g}]")
        return x

    def design(self, x: np.ndarray) -> np.ndarray:
        """``ψ^K(x)``: shape ``(len(x), K)``."""
        return self.design_and_derivative(x)[0]

    def derivative(self, x: np.ndarray) -> np.ndarray:
        """``dψ^K/dd`` at ``x`` (the intercept's column is zero)."""
        return self.design_and_derivative(x)[1]

    def design_and_derivative(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``ψ^K(x)`` and its derivative from one recursion."""
        x = self._check(x)
        p, t, m = self.degree, self.knots, self.n_columns
        levels = _cox_de_boor(x, t, p)
        design = levels[-1].copy()
        design[:, 0] = 1.0  # the first B-spline is replaced by the intercept
        deriv = np.zeros((x.size, m))
        if p > 0:
            lower = levels[-2]  # degree p - 1: (n, m + 1)
            left_den = t[p : p + m] - t[:m]
            right_den = t[p + 1 : p + 1 + m] - t[1 : 1 + m]
            with np.errstate(divide="ignore"):
                a = np.where(left_den > 0, p / left_den, 0.0)
                b = np.where(right_den > 0, p / right_den, 0.0)
            deriv = a * lower[:, :m] - b * lower[:, 1 : m + 1]
            deriv[:, 0] = 0.0
        return design, deriv
