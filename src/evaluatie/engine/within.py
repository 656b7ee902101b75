"""Within transformation: project variables off several sets of fixed effects.

The within transformation of a column ``x`` with fixed-effect factors ``f_1, ..., f_m``
and weights ``w`` is the weighted least-squares residual ``x - P x``, where ``P``
projects onto the span of the dummy variables of all factors (Frisch-Waugh-Lovell:
regressing the within-transformed outcome on the within-transformed regressors gives
the coefficients of the dummy-variable regression).

``P x`` is computed by alternating projections (Gaure 2013, "OLS with multiple high
dimensional category variables", *Computational Statistics & Data Analysis* 66; the
method behind fixest and pyfixest): subtracting the weighted group means of one
factor after the other converges to ``x - P x``. Plain sweeps can need very many
iterations when the factors are weakly connected (e.g. units observed in two adjacent
years only), so the symmetric sweep ``T = Q_1 ... Q_m ... Q_1`` (``Q_f`` = subtract
the means of factor ``f``) is accelerated by conjugate gradient, as in reghdfe's
default (Correia 2017, "Linear models with high-dimensional fixed effects: an
efficient and feasible estimator", working paper): ``T`` is self-adjoint in the
weighted inner product, and ``v = P x`` solves ``(I - T) v = (I - T) x``.

Speed comes from compression. Every factor is constant within a *cell* (a unique
combination of all factor levels, e.g. a school-year with its ~30 pupils), so the
projection only depends on the per-cell weighted sums ``S_c = sum_i w_i x_i`` and
weights ``W_c = sum_i w_i``. One pass over the rows (``np.add.at``) collects them, the
projections run on the (much smaller) cell arrays -- with cell means ``S_c / W_c`` and
weights ``W_c`` -- and one gather maps the fitted values back:
``x_tilde_i = x_i - F_{c(i)}``. With one row per cell this is the row-level algorithm.
A column that is constant within every cell (:meth:`FixedEffects.cell_values`) needs no
gather at all: its within transformation is a cell array
(:meth:`FixedEffects.demean_cells`), which :func:`evaluatie.engine.ols.fit_absorbed_ols`
uses to fit from cell statistics.

The inner products of the iteration are ``np.einsum`` sums, not BLAS ``dot``: OpenBLAS
runs a dot product of more than ~10,000 entries on several threads, which on a busy
machine wait for each other (a 2-core machine under load took 0.28 s instead of 0.05 s
for the fit of a 1.7M-row panel, with the same numbers).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Default convergence tolerance: the largest entry of the CG residual relative to the
#: scale of the column. Tight enough that slopes agree with pyfixest to ~1e-10.
DEFAULT_TOL = 1e-13
DEFAULT_MAXITER = 10_000

# Dense (offset) integer coding is used when the value range is at most this many times
# the number of rows; otherwise hashing (pd.factorize).
_DENSE_RANGE_FACTOR = 4

# Rows per chunk when checking a column against its cell values: large enough that the
# Python loop costs nothing, small enough that the temporaries stay in cache.
_CHUNK = 1 << 16


def factorize(values: np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes ``0..L-1`` for ``values`` and the number of levels ``L``.

    Missing values get code ``-1``. Integer arrays with a modest range are coded by
    offset and ``np.bincount`` (no hashing, no sort); a pandas categorical by its own
    codes (hashing its string labels row by row took 62% of a 2M-row ``twfe``);
    anything else by :func:`pandas.factorize`.
    """
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        native = values.cat.codes.to_numpy()  # int8/int16/...: its min is a cheap pass
        n_categories = len(values.cat.categories)
        if native.size == 0 or native.min() >= 0:
            codes = native.astype(np.intp, copy=False)
            return compact_codes(codes, n_categories, overwrite=codes is not native)
        codes = native.astype(np.intp)  # a copy: written to below
        seen = codes >= 0
        kept, n_levels = compact_codes(codes[seen], n_categories)
        codes[seen] = kept
        return codes, n_levels
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iub" and arr.size > 0:
        low = arr.min()
        lo, hi = int(low), int(arr.max())
        if hi - lo <= _DENSE_RANGE_FACTOR * arr.size + 1024:
            # one pass to widen and offset; the offsets are small, so they come out right
            # even where the cast wraps (uint64 beyond intp) or the input type would overflow
            offset = (
                np.subtract(arr, low, dtype=np.intp, casting="unsafe")
                if lo
                else arr.astype(np.intp, copy=False)
            )
            return compact_codes(offset, hi - lo + 1, overwrite=offset is not arr)
    codes, uniques = pd.factorize(arr)
    return codes.astype(np.intp, copy=False), len(uniques)


def dummies(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Indicator columns for levels ``1..n_levels-1`` of ``codes`` (level 0 is the
    reference)."""
    return (codes[:, None] == np.arange(1, n_levels)[None, :]).astype(np.float64)


def compact_codes(
    codes: np.ndarray, n_levels: int, *, overwrite: bool = False
) -> tuple[np.ndarray, int]:
    """Renumber non-negative ``codes`` so that only levels that occur are kept.

    ``overwrite``: ``codes`` (intp) may be renumbered in place, saving a copy.
    """
    present = np.bincount(codes, minlength=n_levels) > 0
    n_present = int(present.sum())
    if n_present == n_levels:
        return codes.astype(np.intp, copy=False), n_levels
    mapping = np.cumsum(present, dtype=np.intp) - 1
    out = codes if overwrite and codes.dtype == np.intp else None
    return np.take(mapping, codes, mode="clip", out=out), n_present


def combine_codes(codes: Sequence[np.ndarray], n_levels: Sequence[int]) -> tuple[np.ndarray, int]:
    """Codes of the unique combinations of several factors (the *cells*)."""
    combined = np.asarray(codes[0], dtype=np.intp)
    size = int(n_levels[0])
    for c, n in zip(codes[1:], n_levels[1:], strict=True):
        if size * n >= 2**62:  # keep the mixed-radix code inside int64
            combined, size = factorize(combined)
        combined = combined * n + c
        size *= int(n)
    if size <= _DENSE_RANGE_FACTOR * combined.size + 1024:
        return compact_codes(combined, size)
    return factorize(combined)


def singleton_mask(
    codes: Sequence[np.ndarray], n_levels: Sequence[int], counts: np.ndarray | None = None
) -> np.ndarray:
    """Rows to drop as fixed-effect singletons (as fixest's ``fixef.rm = "singleton"``).

    A row is a singleton if it is the only row of a level of some factor; its fixed
    effect fits it exactly, so it carries no information on the slopes. Dropping rows
    can create new singletons, so this is repeated until none remain.

    With ``counts``, each entry of ``codes`` stands for ``counts`` rows with the same
    levels (a cell, :class:`FixedEffects`) and the result marks whole cells: a cell's
    rows share every level, so they are singletons together or not at all.
    """
    n = codes[0].size
    drop = np.zeros(n, dtype=bool)
    changed = True
    while changed:
        changed = False
        keep = (~drop).astype(np.float64) if drop.any() else None
        if counts is not None:
            keep = counts.astype(np.float64) if keep is None else keep * counts
        for c, n_lev in zip(codes, n_levels, strict=True):
            level_rows = np.bincount(c, weights=keep, minlength=n_lev)
            if not np.any(level_rows == 1):
                continue
            new = (level_rows[c] == 1) & ~drop
            if new.any():
                drop |= new
                changed = True
    return drop


def is_nested(inner: np.ndarray, n_inner: int, outer: np.ndarray) -> bool:
    """Whether every level of ``inner`` occurs in a single level of ``outer``.

    E.g. school fixed effects are nested in gemeente clusters when no school moves
    between gemeenten.
    """
    first = np.empty(n_inner, dtype=outer.dtype)
    # a violation among the first rows is a violation: cheap early rejection
    head = min(inner.size, 65_536)
    first[inner[:head]] = outer[:head]
    if not np.array_equal(first[inner[:head]], outer[:head]):
        return False
    first[inner] = outer  # one (arbitrary) outer level per inner level
    return bool(np.array_equal(first[inner], outer))


@dataclass(frozen=True)
class Demeaned:
    """Within-transformed columns and how the projection converged."""

    values: np.ndarray
    iterations: int
    converged: bool


class FixedEffects:
    """Several fixed-effect factors on the same rows, ready to within-transform columns.

    Parameters
    ----------
    codes
        One integer code array per factor, values ``0..n_levels-1``, every level present.
    n_levels
        Number of levels of each factor.
    weights
        Optional positive row weights (analytic weights, as in weighted least squares).
    """

    def __init__(
        self,
        codes: Sequence[np.ndarray],
        n_levels: Sequence[int],
        weights: np.ndarray | None = None,
    ) -> None:
        if len(codes) == 0:
            raise ValueError("FixedEffects needs at least one factor")
        self.codes = tuple(np.asarray(c, dtype=np.intp) for c in codes)
        self.n_levels = tuple(int(n) for n in n_levels)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.n_obs = self.codes[0].size
        # cell of each row, the level of each factor in each cell, rows per cell
        self.cell, self.cell_codes, self.cell_rows = self._cells()
        counts = self.cell_rows
        self.n_cells = counts.size
        self.cell_weight = (
            counts.astype(np.float64) if self.weights is None else self._sum_by_cell(self.weights)
        )
        self.level_weight = tuple(
            np.bincount(cc, weights=self.cell_weight, minlength=n)
            for cc, n in zip(self.cell_codes, self.n_levels, strict=True)
        )

    def _cells(self) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]:
        size = int(np.prod(self.n_levels, dtype=np.float64))
        if size > _DENSE_RANGE_FACTOR * self.n_obs + 1024:  # sparse combinations: hash
            cell, n_cells = combine_codes(self.codes, self.n_levels)
            per_cell = []
            for c in self.codes:
                out = np.empty(n_cells, dtype=np.intp)
                out[cell] = c  # any row of the cell will do
                per_cell.append(out)
            return cell, tuple(per_cell), np.bincount(cell, minlength=n_cells)
        # dense mixed-radix code (as np.ravel_multi_index, which is 4x slower); the factor
        # levels of a cell are its digits
        combined = self.codes[0]
        for c, n in zip(self.codes[1:], self.n_levels[1:], strict=True):
            combined = combined * n  # a new array on the first factor, never the input
            combined += c
        counts = np.bincount(combined, minlength=size)
        present = counts > 0
        values = np.flatnonzero(present)
        if values.size == size:
            cell = combined
        else:  # renumber the present combinations; in place when the array is ours
            mapping = np.cumsum(present, dtype=np.intp) - 1
            owned = combined is not self.codes[0]
            cell = np.take(mapping, combined, mode="clip", out=combined if owned else None)
        digits = np.unravel_index(values, self.n_levels)
        return cell, tuple(np.asarray(d, dtype=np.intp) for d in digits), counts[present]

    def cell_sums(self, column: np.ndarray) -> np.ndarray:
        """Weighted sums ``sum_{i in c} w_i x_i`` of a row column in each cell."""
        return self._sum_by_cell(column if self.weights is None else column * self.weights)

    def _sum_by_cell(self, values: np.ndarray) -> np.ndarray:
        # np.add.at adds in row order as np.bincount does (the same sums to the bit), but
        # bincount copies a read-only column, and pandas hands out read-only views
        sums = np.zeros(self.n_cells)
        np.add.at(sums, self.cell, values)
        return sums

    def cell_values(self, column: np.ndarray) -> np.ndarray | None:
        """The value of a row column in each cell, or ``None`` if it is not the same
        (exactly) for every row of some cell.

        E.g. a treatment assigned to schools by year, or a cluster that contains whole
        schools. Checked in chunks, so no row-length temporary is allocated.
        """
        column = np.asarray(column)
        out = np.empty(self.n_cells, dtype=column.dtype)
        buffer = np.empty(min(self.n_obs, _CHUNK), dtype=column.dtype)
        # cheap early rejection: a column that varies within cells mostly does so at once
        head = slice(0, _CHUNK)
        out[self.cell[head]] = column[head]
        if not self._gathers(out, column, head, buffer):
            return None
        out[self.cell] = column  # one (arbitrary) row per cell
        for start in range(0, self.n_obs, _CHUNK):
            if not self._gathers(out, column, slice(start, start + _CHUNK), buffer):
                return None
        return out

    def _gathers(
        self, values: np.ndarray, column: np.ndarray, rows: slice, buffer: np.ndarray
    ) -> bool:
        """Whether ``values`` (one per cell) reproduce ``column`` on ``rows``."""
        cells = self.cell[rows]
        got = np.take(values, cells, mode="clip", out=buffer[: cells.size])
        return bool(np.array_equal(got, column[rows]))

    def demean(
        self,
        x: np.ndarray,
        *,
        tol: float = DEFAULT_TOL,
        maxiter: int = DEFAULT_MAXITER,
    ) -> Demeaned:
        """Within-transform the columns of ``x`` (shape ``(n,)`` or ``(n, p)``).

        Returns ``x - P x`` with ``P`` the weighted projection onto all factors (a
        Fortran-ordered array, so that each column is contiguous). Warns if the
        projections did not converge within ``maxiter`` conjugate-gradient steps.
        """
        x = np.asarray(x, dtype=np.float64)
        x2 = x[:, None] if x.ndim == 1 else x
        out = np.empty(x2.shape, order="F")

        def cell_means(j: int) -> np.ndarray:  # one pass over the rows
            return self.cell_sums(x2[:, j]) / self.cell_weight

        def within(j: int, fitted: np.ndarray) -> None:
            np.subtract(x2[:, j], np.take(fitted, self.cell, mode="clip"), out=out[:, j])

        iterations, converged = self._project_columns(x2.shape[1], cell_means, within, tol, maxiter)
        return Demeaned(out[:, 0] if x.ndim == 1 else out, iterations, converged)

    def demean_cells(
        self,
        means: np.ndarray,
        *,
        tol: float = DEFAULT_TOL,
        maxiter: int = DEFAULT_MAXITER,
    ) -> Demeaned:
        """Within-transform columns that are constant within cells, given by their cell
        values (shape ``(n_cells,)`` or ``(n_cells, p)``, e.g. from :meth:`cell_values`).

        The result is the cell value of ``x - P x``: every row of the cell has it.
        """
        means = np.asarray(means, dtype=np.float64)
        m2 = means[:, None] if means.ndim == 1 else means
        out = np.empty(m2.shape, order="F")

        def within(j: int, fitted: np.ndarray) -> None:
            np.subtract(m2[:, j], fitted, out=out[:, j])

        iterations, converged = self._project_columns(
            m2.shape[1], lambda j: m2[:, j], within, tol, maxiter
        )
        return Demeaned(out[:, 0] if means.ndim == 1 else out, iterations, converged)

    def _project_columns(
        self,
        n_columns: int,
        cell_means: Callable[[int], np.ndarray],
        within: Callable[[int, np.ndarray], None],
        tol: float,
        maxiter: int,
    ) -> tuple[int, bool]:
        """Project each column's cell means (``cell_means(j)``) and hand the fitted cell
        values to ``within(j, fitted)``, one column at a time (so that only one column's
        cell arrays are alive); the most CG steps taken, and whether all converged (a
        warning, naming the caller, if not)."""
        iterations, converged = 0, True
        for j in range(n_columns):
            fitted, it, ok = self._project_cells(cell_means(j), tol, maxiter)
            within(j, fitted)
            iterations, converged = max(iterations, it), converged and ok
        _warn_unless(converged, maxiter)
        return iterations, converged

    def _sweep(self, v: np.ndarray) -> np.ndarray:
        """One symmetric sweep ``Q_1 Q_2 ... Q_m ... Q_2 Q_1 v`` of cell values ``v``.

        ``Q_f`` subtracts the weighted means over the levels of factor ``f``.
        """
        m = len(self.codes)
        for f in [*range(m), *range(m - 2, -1, -1)]:
            cc, lw = self.cell_codes[f], self.level_weight[f]
            means = np.bincount(cc, weights=self.cell_weight * v, minlength=lw.size) / lw
            v = v - np.take(means, cc, mode="clip")
        return v

    def _project_cells(
        self, xbar: np.ndarray, tol: float, maxiter: int
    ) -> tuple[np.ndarray, int, bool]:
        """Fitted values ``P xbar`` of the cell means ``xbar`` of one column.

        Solves ``(I - T) v = (I - T) xbar`` for ``v`` in the span of the dummies by
        conjugate gradient in the ``W``-weighted inner product, ``T`` the symmetric
        sweep (self-adjoint, so CG applies). Stops when the largest entry of the residual
        ``(I - T)(xbar - v)`` is below ``tol`` times the column's scale. Returns the
        fitted values, the number of CG steps (one sweep each) and convergence.
        """
        w = self.cell_weight
        if len(self.codes) == 1:  # a single projection is exact
            return xbar - self._sweep(xbar), 1, True
        threshold = tol * max(float(np.abs(xbar).max(initial=0.0)), np.finfo(float).tiny)
        v = np.zeros_like(xbar)
        r = xbar - self._sweep(xbar)
        p = r.copy()
        rr = _wdot(w, r, r)
        for step in range(maxiter + 1):
            if float(np.abs(r).max(initial=0.0)) <= threshold:
                # confirm with the true residual; restart from it if rounding drifted
                e = xbar - v
                r = e - self._sweep(e)
                if float(np.abs(r).max(initial=0.0)) <= threshold:
                    return v, step, True
                p = r.copy()
                rr = _wdot(w, r, r)
            ap = p - self._sweep(p)
            pap = _wdot(w, p, ap)
            if not pap > 0.0:  # no further progress possible in floating point
                break
            alpha = rr / pap
            v += alpha * p
            r -= alpha * ap
            rr_new = _wdot(w, r, r)
            p = r + (rr_new / rr) * p
            rr = rr_new
        return v, step, False


def _wdot(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """``sum_c w_c a_c b_c`` without BLAS (see the module docstring: no threads)."""
    return float(np.einsum("i,i,i->", w, a, b))


def _warn_unless(converged: bool, maxiter: int) -> None:
    if not converged:
        warnings.warn(
            f"fixed-effect projection did not converge in {maxiter} steps; "
            "estimates may be inaccurate",
            RuntimeWarning,
            stacklevel=4,  # _warn_unless < _project_columns < demean(_cells) < caller
        )
