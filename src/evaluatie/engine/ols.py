"""Least squares with absorbed fixed effects (the engine behind ``twfe``/``event_study``).

By Frisch-Waugh-Lovell, the slopes of ``y = X b + sum_f D_f a_f + u`` (``D_f`` the dummy
matrices of the fixed-effect factors) are the slopes of the within-transformed
regression ``y~ = X~ b + u``, ``~`` denoting the residual of the weighted projection on
all ``D_f`` (:mod:`evaluatie.engine.within`). Residuals are identical too, so every
sandwich covariance in :mod:`evaluatie.inference.vcov` can be formed from ``X~`` and
``u`` alone. With one slope (the usual TWFE treatment dummy) the normal equations are a
scalar division.

Two backends produce ``X~`` and ``y~``:

* ``"numpy"``: our alternating projections on cell sums (fast, exact to ~1e-13).
* ``"linearmodels"``: ``linearmodels.AbsorbingLS`` (LSMR, tolerances set to 1e-12),
  for cross-checks; much slower on large data.

**Fit from cell statistics.** When every regressor is constant within the cells of the
fixed effects (a school-year: a treatment assigned to schools by year, event-time
dummies) and, for clustered errors, every cell lies in one cluster, the numpy backend
never forms a row-length ``X~`` or ``u``. With ``c`` a cell, ``W_c`` its weight and
``ybar_c`` its weighted mean outcome, every row of ``c`` has ``x~_i = x~_c`` and
``y~_i = y_i - ybar_c + y~_c`` (``x~_c``, ``y~_c`` the within transformation of the
cell values, weighted by ``W_c``), so

* ``X~'W X~ = sum_c W_c x~_c x~_c'`` and ``X~'W y~ = sum_c W_c x~_c y~_c`` (the
  within-cell deviations ``y_i - ybar_c`` are orthogonal to ``x~_c``): the slopes are
  those of the weighted regression of ``y~_c`` on ``x~_c``;
* ``sum_{i in c} w_i u_i = W_c (y~_c - x~_c' b) = W_c e_c``, so each cluster score
  ``S_g = sum_{c in g} W_c x~_c e_c`` (Cameron, Gelbach & Miller 2011; the CRV1 meat).

``N``, ``K`` and the degrees of freedom count observations, not cells. The only pass
over the rows is the one collecting ``sum_{i in c} w_i y_i``, besides the check that
each regressor is constant within cells (a scatter and a chunked gather). The iid,
heteroskedastic and CR2 meats need each observation's residual and use the row path,
as does a design that fails either check; both paths give the same numbers to rounding
(``tests/engine/test_ols_cells.py``). Lossless compression of a regression with
cluster-robust covariance to group sufficient statistics: Wong, Forsell, Lewis, Mao &
Wardrop (2021), "You only compress once", arXiv:2102.11297.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.engine.within import FixedEffects, dummies
from evaluatie.inference.cr2 import cr2_vcov
from evaluatie.inference.vcov import Convention, FixedEffectCount, VcovResult, sandwich_vcov

BACKENDS = ("auto", "numpy", "linearmodels")

# A regressor whose within variation is below this share of its total variation is
# treated as absorbed by the fixed effects; a smaller eigenvalue of the correlation
# matrix of X~ than this flags collinear regressors.
_ABSORBED_TOL = 1e-10


@dataclass(frozen=True)
class AbsorbedFit:
    """Slopes, residuals and covariance of an absorbed-fixed-effects regression.

    ``residuals`` computes the row residuals ``u = y~ - X~ b`` on demand (:attr:`resid`):
    the fit from cell statistics never needs them.
    """

    coef: np.ndarray
    vcov: VcovResult
    residuals: Callable[[], np.ndarray] = field(repr=False, compare=False)
    backend: str
    fe_iterations: int | None

    @property
    def resid(self) -> np.ndarray:
        """The residual of each row (unweighted)."""
        return self.residuals()


def resolve_backend(backend: str) -> str:
    """``"auto"`` means the numpy path; anything not in :data:`BACKENDS` is an error."""
    if backend not in BACKENDS:
        raise ParameterError(f"backend={backend!r} is not supported; expected one of {BACKENDS}")
    return "numpy" if backend == "auto" else backend


def _within_numpy(
    y: np.ndarray, x: np.ndarray, fe: FixedEffects
) -> tuple[np.ndarray, np.ndarray, int]:
    x_res, y_res = fe.demean(x), fe.demean(y)
    return y_res.values, x_res.values, max(x_res.iterations, y_res.iterations)


def _within_linearmodels(
    y: np.ndarray, x: np.ndarray, fe: FixedEffects
) -> tuple[np.ndarray, np.ndarray, None]:
    from linearmodels import AbsorbingLS

    absorb = pd.DataFrame({f"fe{i}": pd.Categorical(c) for i, c in enumerate(fe.codes)})
    model = AbsorbingLS(
        pd.Series(y, name="y"),
        pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])]),
        absorb=absorb,
        weights=None if fe.weights is None else pd.Series(fe.weights),
    )
    fit = model.fit(method="lsmr", absorb_options={"atol": 1e-12, "btol": 1e-12})
    # linearmodels rescales weights to mean 1 and stores sqrt(w) * (within residual)
    root_w = np.sqrt(np.asarray(model.weights.ndarray, dtype=float).reshape(-1))
    x_tilde = np.asarray(model.absorbed_exog, dtype=float) / root_w[:, None]
    resid = np.asarray(fit.resids, dtype=float)
    y_tilde = resid + x_tilde @ np.asarray(fit.params, dtype=float)
    return y_tilde, x_tilde, None


def _check_rank(
    x: np.ndarray, gram: np.ndarray, names: Sequence[str], w: np.ndarray | None
) -> None:
    """Raise a :class:`DesignError` naming regressors the fixed effects absorb or that are collinear."""
    # total (centred) sum of squares of each column, from two fast reductions
    wsum = float(x.shape[0]) if w is None else float(w.sum())
    xw = x if w is None else x * w[:, None]
    total = np.einsum("ij,ij->j", xw, x) - xw.sum(axis=0) ** 2 / wsum
    within = np.diag(gram)
    absorbed = [
        n
        for n, a, b in zip(names, within, total, strict=True)
        if a <= _ABSORBED_TOL * max(b, 1e-300)
    ]
    if absorbed:
        raise DesignError(
            f"{absorbed} has no variation left after removing the fixed effects "
            "(it is constant within units, or within periods); it cannot be estimated"
        )
    if len(names) > 1:
        scale = 1.0 / np.sqrt(within)
        eigval, eigvec = np.linalg.eigh(gram * scale[:, None] * scale[None, :])
        if eigval[0] <= _ABSORBED_TOL:
            involved = [n for n, v in zip(names, eigvec[:, 0], strict=True) if abs(v) > 1e-3]
            raise DesignError(
                f"regressors {involved} are collinear (given the fixed effects); "
                "drop or combine some of them"
            )


def fit_absorbed_ols(
    y: np.ndarray,
    x: np.ndarray,
    names: Sequence[str],
    fe: FixedEffects,
    convention: Convention,
    fe_count: FixedEffectCount,
    *,
    cluster: np.ndarray | None = None,
    n_clusters: int | None = None,
    cell_cluster: np.ndarray | None = None,
    backend: str = "numpy",
) -> AbsorbedFit:
    """Slopes of ``y`` on ``x`` with ``fe`` absorbed, and their covariance.

    Parameters
    ----------
    y, x
        Outcome (n,) and regressors (n, k), rows already cleaned (no missing values).
    names
        Regressor names, used in error messages.
    fe
        The fixed effects (and weights) on the same rows.
    convention, fe_count
        Standard-error convention and the fixed-effect counts it needs.
    cluster, n_clusters
        Cluster codes ``0..G-1`` for clustered conventions.
    cell_cluster
        The cluster of each cell of ``fe`` when every cell lies in one cluster
        (:meth:`FixedEffects.cell_values` of ``cluster``); with it, a cluster-robust fit
        whose regressors are constant within cells runs on cell statistics (module
        docstring). ``None``: the row path.
    backend
        ``"numpy"`` or ``"linearmodels"`` (see module docstring).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if backend == "numpy" and convention.meat == "cluster" and cell_cluster is not None:
        x_cells = _cell_columns(fe, x)
        if x_cells is not None:
            return _fit_cells(y, x_cells, names, fe, convention, fe_count, cell_cluster, n_clusters)
    if backend == "linearmodels":
        y_tilde, x_tilde, iterations = _within_linearmodels(y, x, fe)
    else:
        y_tilde, x_tilde, iterations = _within_numpy(y, x, fe)
    w = fe.weights
    bread, coef, resid = _least_squares(x_tilde, y_tilde, w, x, names)
    if convention.meat == "cr2":
        vcov = _cr2(x, resid, names, fe, fe_count, convention, cluster, n_clusters)
    else:
        vcov = sandwich_vcov(
            x_tilde,
            resid,
            bread,
            convention,
            fe_count,
            weights=w,
            cluster=cluster,
            n_clusters=n_clusters,
        )
    return AbsorbedFit(coef, vcov, lambda: resid, backend, iterations)


def _least_squares(
    x_tilde: np.ndarray,
    y_tilde: np.ndarray,
    weights: np.ndarray | None,
    x: np.ndarray,
    names: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bread ``(X~'W X~)^-1``, slopes and residuals ``y~ - X~ b`` of the within
    regression (rows, or cells weighted by their total weight); ``x`` the regressors
    before the transformation, for the rank check."""
    # sums of products by einsum, not BLAS: its threads stall on a busy machine
    xw = x_tilde if weights is None else x_tilde * weights[:, None]
    gram = np.einsum("ij,ik->jk", xw, x_tilde)
    _check_rank(x, gram, names, weights)
    bread = np.linalg.inv(gram)
    coef = bread @ np.einsum("ij,i->j", xw, y_tilde)
    resid = y_tilde - coef[0] * x_tilde[:, 0]  # column loop: no threaded BLAS matvec
    for j in range(1, coef.size):
        resid -= coef[j] * x_tilde[:, j]
    return bread, coef, resid


def _cell_columns(fe: FixedEffects, x: np.ndarray) -> np.ndarray | None:
    """The regressors' values in each cell, or ``None`` if one varies within a cell."""
    out = np.empty((fe.n_cells, x.shape[1]), order="F")
    for j in range(x.shape[1]):
        values = fe.cell_values(x[:, j])
        if values is None:
            return None
        out[:, j] = values
    return out


def _fit_cells(
    y: np.ndarray,
    x_cells: np.ndarray,
    names: Sequence[str],
    fe: FixedEffects,
    convention: Convention,
    fe_count: FixedEffectCount,
    cell_cluster: np.ndarray,
    n_clusters: int | None,
) -> AbsorbedFit:
    """The fit from per-cell statistics (module docstring): the cell weights ``W_c``,
    the weighted mean outcome per cell and the regressors' cell values."""
    weight = fe.cell_weight
    y_mean = fe.cell_sums(y) / weight
    y_cells, x_tilde = fe.demean_cells(y_mean), fe.demean_cells(x_cells)
    bread, coef, e = _least_squares(x_tilde.values, y_cells.values, weight, x_cells, names)
    vcov = sandwich_vcov(
        x_tilde.values,
        e,
        bread,
        convention,
        fe_count,
        weights=weight,
        cluster=cell_cluster,
        n_clusters=n_clusters,
        n_obs=fe.n_obs,
    )

    codes, n_levels, weights = fe.codes, fe.n_levels, fe.weights

    def residuals() -> np.ndarray:
        # u_i = y~_i - x~_c' b = y_i - (ybar_c - e_c); the cells are found again rather
        # than kept alive with the fit (4 bytes a row that only this would use)
        return FixedEffects(codes, n_levels, weights).minus_cells(y, y_mean - e)

    iterations = max(y_cells.iterations, x_tilde.iterations)
    return AbsorbedFit(coef, vcov, residuals, "numpy", iterations)


#: More dummy columns than this would make CR2's design too wide to be worth it.
_CR2_MAX_DUMMIES = 500


def _cr2(
    x: np.ndarray,
    resid: np.ndarray,
    names: Sequence[str],
    fe: FixedEffects,
    fe_count: FixedEffectCount,
    convention: Convention,
    cluster: np.ndarray | None,
    n_clusters: int | None,
) -> VcovResult:
    """CR2 needs the regressors before the within transformation: the factor nested in
    the clusters is absorbed, the others enter as dummies (:mod:`evaluatie.inference.cr2`)."""
    if cluster is None or n_clusters is None:
        raise ValueError("a clustered convention needs cluster codes")
    if fe.weights is not None:
        raise ParameterError(
            "vcov='CR2' is implemented for unweighted regressions only; drop weights or "
            "use vcov='CRV1'"
        )
    nested = [f for f, is_nested in enumerate(fe_count.nested) if is_nested]
    if not nested:
        raise DesignError(
            "vcov='CR2' needs the units nested in the clusters (every unit in one "
            "cluster); cluster by the unit or by a level that contains it"
        )
    a = nested[0]
    explicit = [
        (c, n) for f, (c, n) in enumerate(zip(fe.codes, fe.n_levels, strict=True)) if f != a
    ]
    width = sum(n - 1 for _, n in explicit)
    if width > _CR2_MAX_DUMMIES:
        raise DesignError(
            f"vcov='CR2' keeps the fixed effects not nested in the clusters as dummies; here "
            f"that is {width} columns (at most {_CR2_MAX_DUMMIES}); cluster at a level that "
            "contains the units, or use vcov='CRV1'"
        )
    design = np.column_stack([x, *(dummies(c, n) for c, n in explicit)])
    absorbed = FixedEffects([fe.codes[a]], [fe.n_levels[a]]).demean(design).values
    found = cr2_vcov(
        np.asarray(absorbed, dtype=float),
        resid,
        k=x.shape[1],
        cluster=cluster,
        n_clusters=n_clusters,
    )
    if found.single_cluster.any():
        lost = [n for n, s in zip(names, found.single_cluster, strict=True) if s]
        warnings.warn(
            f"vcov='CR2' is undefined for {lost}: identified from a single cluster (e.g. "
            "one treated gemeente), where no cluster-robust variance exists; the standard "
            "error, p-value and interval are left empty. Randomization inference "
            "(inference='randomization') and single_unit_did have a test for one treated "
            "cluster.",
            UserWarning,
            stacklevel=6,
        )
    k_df = x.shape[1] + fe_count.k_fe(convention.fe_count)
    return VcovResult(
        found.matrix, float(n_clusters - 1), 1.0, k_df, n_clusters, convention, found.df
    )
