"""Weights on the simplex: the two solvers behind the synthetic comparisons.

* :func:`frank_wolfe` -- the regularised problem of synthetic DiD,
  ``min_x  zeta^2 ||x||^2 + ||A x - b||^2 / n`` over the simplex, by Frank-Wolfe with an
  exact line search, stopped when the objective falls by less than ``min_decrease^2`` in
  an iteration. This is the algorithm Arkhangelsky et al. (2021) specify for their
  estimator (Section 4 and the synthdid reference implementation's defaults: first 100
  iterations, then the weights at most a quarter of the largest set to zero, then up to
  10,000 more): the stopping rule and the sparsification are part of the estimator's
  definition, so they are reproduced rather than replaced by an exact solver.
* :func:`simplex_least_squares` -- the classic synthetic control problem
  ``min_w ||A w - b||`` over the simplex, solved exactly as one non-negative least squares:
  for ``u >= 0`` minimise ``||Z u||^2 / s^2 + (1'u - 1)^2`` with ``Z = A - b 1'``, then
  ``w = u / 1'u``. Writing ``u = k v`` with ``1'v = 1`` the objective is
  ``k^2 a + (k - 1)^2`` with ``a = ||Z v||^2 / s^2``, whose minimum over ``k``,
  ``a / (1 + a)``, increases with ``a``; so ``v`` solves the constrained problem for any
  scale ``s > 0`` (``s`` only balances the two blocks numerically).
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import nnls

from evaluatie.core.errors import DesignError
from evaluatie.core.filelock import waiting_lock

#: Iterations before sparsifying, and the cap after it (synthdid's defaults).
ITERATIONS_BEFORE_SPARSIFY = 100
MAX_ITERATIONS = 10_000


def _frank_wolfe(
    a: np.ndarray,
    b: np.ndarray,
    x: np.ndarray,
    zeta2: float,
    min_decrease2: float,
    max_iter: int,
) -> tuple[np.ndarray, int]:
    # numba: the loop is sequential and its vectors short, so numpy's per-call overhead
    # would dominate. A step moves x to (1 - s) x + s e_i, so everything the iteration
    # needs is kept in terms of G = a'a: the gradient G x - a'b + eta x, the residual's
    # square x'Gx - 2 b'a x + b'b and the step's ||a (e_i - x)||^2, each updated in O(k)
    # (not O(n k) as a'(a x - b) would be)
    n, k = a.shape
    eta = n * zeta2
    gram = a.T @ a
    atb = a.T @ b
    bb = b @ b
    x = x.copy()
    gx = gram @ x
    xgx, xatb, xx = x @ gx, x @ atb, x @ x
    previous = np.inf
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        i, best, gradient_x = 0, np.inf, 0.0
        for j in range(k):
            g = gx[j] - atb[j] + eta * x[j]
            gradient_x += g * x[j]
            if g < best:
                best, i = g, j
        dxx = xx - 2.0 * x[i] + 1.0  # ||e_i - x||^2
        if dxx > 0.0:
            d_err2 = gram[i, i] - 2.0 * gx[i] + xgx  # ||a (e_i - x)||^2
            step = -(best - gradient_x) / (d_err2 + eta * dxx)
            step = min(1.0, max(0.0, step))
            keep = 1.0 - step
            xx = keep**2 * xx + 2.0 * step * keep * x[i] + step**2
            xgx = keep**2 * xgx + 2.0 * step * keep * gx[i] + step**2 * gram[i, i]
            xatb = keep * xatb + step * atb[i]
            row = gram[i]  # G is symmetric: row i is column i, contiguous
            for j in range(k):
                x[j] *= keep
                gx[j] = keep * gx[j] + step * row[j]
            x[i] += step
        value = zeta2 * xx + max(xgx - 2.0 * xatb + bb, 0.0) / n
        if iteration >= 2 and previous - value <= min_decrease2:
            break
        previous = value
    return x, iteration


#: The one signature :func:`frank_wolfe` calls the solver with (C-contiguous arrays of
#: floats), compiled when the solver is first asked for, under :func:`_compile_lock`.
_SIGNATURE = (
    "Tuple((float64[::1], int64))"
    "(float64[:, ::1], float64[::1], float64[::1], float64, float64, int64)"
)


@cache
def _compiled() -> Callable[..., Any]:
    """:func:`_frank_wolfe` compiled by numba (imported here: 0.3 s that only a synthetic DiD
    should pay); ``nogil`` lets the placebo replications run in threads, ``cache`` keeps the
    machine code between processes."""
    from numba import njit

    with _compile_lock():
        return njit(_SIGNATURE, cache=True, nogil=True)(_frank_wolfe)


def compile_ahead() -> None:
    """Compile the solver now (or load it from numba's cache beside this module):
    ``make setup`` calls it (``evaluatie.install``), so that no report of a new clone
    compiles it, nor waits for another kernel compiling it."""
    _compiled()


def _compile_lock() -> contextlib.AbstractContextManager[bool]:
    """One process at a time compiles or loads the solver. Without a cache, as in a new
    clone, the two kernels of a batch each compiled it at once (a doorstroom report's
    comparisons took 4.4 s instead of 1.6 s); this way the second waits for the first
    and then loads its machine code from the cache. Where no lock can be had, each
    compiles, as numba would alone."""
    name = hashlib.sha256(__file__.encode()).hexdigest()[:16]
    return waiting_lock(Path(tempfile.gettempdir()) / f"evaluatie-numba-{name}.lock")


def _sparsify(x: np.ndarray) -> np.ndarray:
    """Weights at most a quarter of the largest set to 0, the rest renormalised."""
    kept = np.where(x <= x.max() / 4.0, 0.0, x)
    return kept / kept.sum()


def frank_wolfe(
    y: np.ndarray,
    *,
    zeta: float,
    min_decrease: float,
    intercept: bool,
    start: np.ndarray | None = None,
    sparsify: bool = True,
) -> np.ndarray:
    """Weights on the columns ``y[:, :-1]`` that reproduce the last column ``y[:, -1]``.

    ``intercept`` demeans every column first (SDID's weights match trends up to a level,
    its time weights up to a unit's mean). ``start`` is the first iterate (uniform by
    default); the placebo and bootstrap replications start from the fit's own weights.
    """
    if intercept:
        y = y - y.mean(axis=0)
    # the compiled signature's types (for float64 input, as the panels are, no copy)
    a = np.ascontiguousarray(y[:, :-1], dtype=np.float64)
    b = np.ascontiguousarray(y[:, -1], dtype=np.float64)
    k = a.shape[1]
    x = np.full(k, 1.0 / k) if start is None else np.ascontiguousarray(start, dtype=float)
    zeta2, decrease2 = float(zeta) ** 2, float(min_decrease) ** 2
    first = ITERATIONS_BEFORE_SPARSIFY if sparsify else MAX_ITERATIONS
    solve = _compiled()
    x, _ = solve(a, b, x, zeta2, decrease2, first)
    if sparsify:
        x, _ = solve(a, b, _sparsify(x), zeta2, decrease2, MAX_ITERATIONS)
    return np.asarray(x)


def simplex_least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin ||a w - b||`` over ``w >= 0, sum(w) = 1``, exactly (see the module).

    Where the optimum is not unique (``b`` inside the columns' convex hull, more columns
    than rows) this is one vertex of the optimal face, the one NNLS's active set reaches.
    """
    z = a - b[:, None]
    scale = float(np.sqrt(np.mean(z**2)))
    if scale == 0.0:  # every donor equals the target: any weights fit; take them equal
        return np.full(a.shape[1], 1.0 / a.shape[1])
    system = np.vstack([z / scale, np.ones((1, a.shape[1]))])
    target = np.zeros(system.shape[0])
    target[-1] = 1.0
    u, _ = nnls(system, target, maxiter=50 * system.shape[1])
    total = u.sum()
    if not total > 0:
        raise DesignError("the synthetic control weights could not be found (NNLS returned 0)")
    return np.asarray(u / total)
