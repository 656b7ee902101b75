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

Memory: the row cells are int32 below 2**31 cells (4 bytes a row for the life of the
fixed effects), made over the 8-byte mixed-radix codes in place; every pass over the rows
through them runs in chunks, each chunk's cells converted to intp (numpy would first make
a row-length intp copy of an int32 index), with no row-length temporary. The iteration on
the cells updates its arrays in place.

The inner products of the iteration are ``np.einsum`` sums, not BLAS ``dot``: OpenBLAS
runs a dot product of more than ~10,000 entries on several threads, which on a busy
machine wait for each other (a 2-core machine under load took 0.28 s instead of 0.05 s
for the fit of a 1.7M-row panel, with the same numbers).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Default convergence tolerance: the largest entry of the CG residual relative to the
#: scale of the column. Tight enough that slopes agree with pyfixest to ~1e-10.
DEFAULT_TOL = 1e-13
DEFAULT_MAXITER = 10_000

# Dense (offset) integer coding is used when the value range is at most this many times
# the number of rows; otherwise hashing (pd.factorize).
_DENSE_RANGE_FACTOR = 4

# Rows per chunk of the passes over the rows that go through the cells: large enough that
# the Python loop costs nothing, small enough that the temporaries stay in cache.
_CHUNK = 1 << 16


def index_dtype(n: int) -> np.dtype[Any]:
    """int32 if it holds ``0..n``, else intp: row-length codes and positions in half the
    memory below 2**31 values."""
    return np.dtype(np.int32 if n <= np.iinfo(np.int32).max else np.intp)


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


def row_chunks(n: int) -> Iterator[slice]:
    """Consecutive slices of ``_CHUNK`` rows covering ``0..n``."""
    for start in range(0, n, _CHUNK):
        yield slice(start, min(start + _CHUNK, n))


def _narrow_in_place(codes: np.ndarray, mapping: np.ndarray | None) -> np.ndarray:
    """``mapping[codes]`` (``codes`` if ``mapping`` is None) as int32, written over the
    intp array ``codes`` and returned in its shrunk buffer.

    ``codes`` must own its buffer and have no views: it is resized (``realloc``, which
    gives the second half back, mapped pages included) and must not be used after. A
    row-length int32 array is so made without a second row-length array beside
    ``codes``, whose memory it would add to the peak.
    """
    n = codes.size
    narrow = codes.view(np.int32)
    # int32 slot i lies in intp slot i // 2 <= i: writing in row order overwrites only
    # values already read
    for rows in row_chunks(n):
        narrow[rows] = (
            codes[rows] if mapping is None else np.take(mapping, codes[rows], mode="clip")
        )
    del narrow
    codes.resize((n + 1) // 2, refcheck=False)  # no view of codes is left
    return codes.view(np.int32)[:n]


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
        # the row cells are narrowed to index_dtype(n_cells) (4 bytes a row instead of 8,
        # for the life of the fixed effects); a single factor's codes stay what they are
        size = int(np.prod(self.n_levels, dtype=np.float64))
        if size > _DENSE_RANGE_FACTOR * self.n_obs + 1024:  # sparse combinations: hash
            cell, n_cells = combine_codes(self.codes, self.n_levels)
            per_cell = []
            for c in self.codes:
                out = np.empty(n_cells, dtype=np.intp)
                out[cell] = c  # any row of the cell will do
                per_cell.append(out)
            counts = np.bincount(cell, minlength=n_cells)
            return cell.astype(index_dtype(n_cells), copy=False), tuple(per_cell), counts
        # dense mixed-radix code (as np.ravel_multi_index, which is 4x slower); the factor
        # levels of a cell are its digits
        combined = self.codes[0]
        for c, n in zip(self.codes[1:], self.n_levels[1:], strict=True):
            combined = combined * n  # a new array on the first factor, never the input
            combined += c
        counts = np.bincount(combined, minlength=size)
        present = counts > 0
        values = np.flatnonzero(present)
        narrow = index_dtype(values.size)
        # renumber the present combinations, if some are missing
        mapping = (
            None
            if values.size == size
            else (np.cumsum(present, dtype=np.intp) - 1).astype(narrow, copy=False)
        )
        if combined is self.codes[0]:  # a single factor: the input, not ours to overwrite
            cell = combined if mapping is None else np.take(mapping, combined, mode="clip")
        elif narrow == np.intp:
            cell = combined if mapping is None else np.take(mapping, combined, out=combined)
        else:
            cell = _narrow_in_place(combined, mapping)
        del combined
        digits = np.unravel_index(values, self.n_levels)
        return cell, tuple(np.asarray(d, dtype=np.intp) for d in digits), counts[present]

    def _cell_chunks(self) -> Iterator[tuple[slice, np.ndarray]]:
        """The rows in chunks, each with its rows' cells as intp: numpy turns any other
        index type into a full-length intp copy (8 bytes a row) before it gathers."""
        buffer = np.empty(min(self.n_obs, _CHUNK), dtype=np.intp)
        for rows in row_chunks(self.n_obs):
            cells = self.cell[rows]
            if cells.dtype != np.intp:
                cells = buffer[: cells.size]
                cells[...] = self.cell[rows]
            yield rows, cells

    def cell_sums(self, column: np.ndarray) -> np.ndarray:
        """Weighted sums ``sum_{i in c} w_i x_i`` of a row column in each cell."""
        return self._sum_by_cell(column if self.weights is None else column * self.weights)

    def _sum_by_cell(self, values: np.ndarray) -> np.ndarray:
        # np.add.at adds in row order as np.bincount does (the same sums to the bit), but
        # bincount copies a read-only column, and pandas hands out read-only views
        sums = np.zeros(self.n_cells)
        for rows, cells in self._cell_chunks():
            np.add.at(sums, cells, values[rows])
        return sums

    def cell_values(self, column: np.ndarray) -> np.ndarray | None:
        """The value of a row column in each cell, or ``None`` if it is not the same
        (exactly) for every row of some cell.

        E.g. a treatment assigned to schools by year, or a cluster that contains whole
        schools. Checked in chunks, so no row-length temporary is allocated.
        """
        column = np.asarray(column)
        out = np.empty(self.n_cells, dtype=column.dtype)
        head = True
        for rows, cells in self._cell_chunks():
            out[cells] = column[rows]  # one (arbitrary) row per cell
            # cheap early rejection: a column that varies within cells mostly does so at once
            if head and not self._gathers(out, column, first_chunk=True):
                return None
            head = False
        return out if self._gathers(out, column) else None

    def _gathers(
        self, values: np.ndarray, column: np.ndarray, *, first_chunk: bool = False
    ) -> bool:
        """Whether ``values`` (one per cell) reproduce ``column`` on every row, or on the
        first chunk of rows."""
        buffer = np.empty(min(self.n_obs, _CHUNK), dtype=values.dtype)
        for rows, cells in self._cell_chunks():
            got = np.take(values, cells, mode="clip", out=buffer[: cells.size])
            if not np.array_equal(got, column[rows]):
                return False
            if first_chunk:
                break
        return True

    def minus_cells(
        self, column: np.ndarray, values: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """``column_i - values[c(i)]`` on every row ``i`` of cell ``c(i)`` (into ``out``),
        gathered in chunks: no row-length temporary."""
        out = np.empty(self.n_obs) if out is None else out
        buffer = np.empty(min(self.n_obs, _CHUNK))
        for rows, cells in self._cell_chunks():
            got = np.take(values, cells, mode="clip", out=buffer[: cells.size])
            np.subtract(column[rows], got, out=out[rows])
        return out

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
            self.minus_cells(x2[:, j], fitted, out=out[:, j])

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

    def _minus_sweep(self, v: np.ndarray, out: np.ndarray, work: np.ndarray) -> np.ndarray:
        """``v - T v`` into ``out`` (not ``v``), ``T = Q_1 Q_2 ... Q_m ... Q_2 Q_1`` the
        symmetric sweep of cell values; ``work`` is scratch of the same size.

        ``Q_f`` subtracts the weighted means over the levels of factor ``f``. The sweep
        runs in ``out`` and ``work``, so that it allocates no cell-length array.
        """
        m = len(self.codes)
        np.copyto(out, v)
        for f in [*range(m), *range(m - 2, -1, -1)]:
            cc, lw = self.cell_codes[f], self.level_weight[f]
            np.multiply(self.cell_weight, out, out=work)
            means = np.bincount(cc, weights=work, minlength=lw.size) / lw
            out -= np.take(means, cc, mode="clip", out=work)
        return np.subtract(v, out, out=out)

    def _project_cells(
        self, xbar: np.ndarray, tol: float, maxiter: int
    ) -> tuple[np.ndarray, int, bool]:
        """Fitted values ``P xbar`` of the cell means ``xbar`` of one column.

        Solves ``(I - T) v = (I - T) xbar`` for ``v`` in the span of the dummies by
        conjugate gradient in the ``W``-weighted inner product, ``T`` the symmetric
        sweep (self-adjoint, so CG applies). Stops when the largest entry of the residual
        ``(I - T)(xbar - v)`` is below ``tol`` times the column's scale. Returns the
        fitted values, the number of CG steps (one sweep each) and convergence.

        The iteration updates its five cell arrays in place (the same operations as
        ``v = v + alpha p`` etc., so the same numbers): on a large panel their
        temporaries added a tenth to the peak memory of a fit.
        """
        w = self.cell_weight
        work = np.empty_like(xbar)
        if len(self.codes) == 1:  # a single projection is exact
            return self._minus_sweep(xbar, np.empty_like(xbar), work), 1, True
        threshold = tol * max(_abs_max(xbar), np.finfo(float).tiny)
        v = np.zeros_like(xbar)
        r = self._minus_sweep(xbar, np.empty_like(xbar), work)
        p = r.copy()
        ap = np.empty_like(xbar)
        rr = _wdot(w, r, r)
        for step in range(maxiter + 1):
            if _abs_max(r) <= threshold:
                # confirm with the true residual; restart from it if rounding drifted
                e = np.subtract(xbar, v, out=ap)
                self._minus_sweep(e, r, work)
                if _abs_max(r) <= threshold:
                    return v, step, True
                np.copyto(p, r)
                rr = _wdot(w, r, r)
            self._minus_sweep(p, ap, work)
            pap = _wdot(w, p, ap)
            if not pap > 0.0:  # no further progress possible in floating point
                break
            alpha = rr / pap
            v += np.multiply(alpha, p, out=work)
            r -= np.multiply(alpha, ap, out=work)
            rr_new = _wdot(w, r, r)
            p *= rr_new / rr  # p = r + beta p
            p += r
            rr = rr_new
        return v, step, False


def _abs_max(a: np.ndarray) -> float:
    """``max |a_i|`` (0 if empty) without the temporary of ``np.abs``."""
    return max(float(a.max(initial=0.0)), -float(a.min(initial=0.0)))


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
