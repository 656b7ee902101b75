r"""Named standard-error conventions for least squares with absorbed fixed effects.

Every convention is the sandwich :math:`V = c \cdot B\,M\,B` with bread
:math:`B = (\tilde X' W \tilde X)^{-1}` (``\tilde X`` the within-transformed regressors,
``W`` the weights), a meat ``M`` and a small-sample factor ``c``; inference on
:math:`t = \hat\beta / se` uses Student t with ``df`` degrees of freedom. Notation:
``N`` rows, ``G`` clusters, ``k`` slopes, scores :math:`s_i = w_i \tilde x_i \hat u_i`.

Meats: cluster :math:`M = \sum_g S_g S_g'` with :math:`S_g = \sum_{i \in g} s_i`;
heteroskedastic :math:`M = \sum_i s_i s_i'`; iid :math:`M = B^{-1} \sum_i w_i \hat u_i^2 / N`.

Fixed-effect counts (all software assumes the factors are connected, so each factor
after the first loses one level to the normalisation):

* ``K_full = k + sum_f L_f - (m - 1)`` for ``m`` factors with ``L_f`` levels;
* ``K_nested = k + 1 + sum_{f not nested} (L_f - 1)``: factors nested in the cluster
  variable (every level inside one cluster) are not counted, except for one intercept.
  Without nested factors it equals ``K_full``. This is pyfixest's default
  ``ssc(k_fixef="nonnested")``, its port of fixest's ``ssc(fixef.K = "nested")``
  (the tests match pyfixest);
* ``K_lm``: linearmodels counts ``K_full`` except when the model has a *single*
  factor and it is nested in the clusters (then ``K_lm = k``).

=========================  =========  ===========================================  ===========
name                       meat       c                                            df
=========================  =========  ===========================================  ===========
``CRV1``                   cluster    G/(G-1) * (N-1)/(N-K_nested)                 G - 1
``linearmodels``           cluster    N/(N-K_lm)                                   N - K_lm
``linearmodels-absorbing`` cluster    G/(G-1) * (N-1)/(N-K_lm)                     N - K_lm
``CR2``                    CR2        1                                            BM, per slope
``HC1``                    hetero     N/(N-K_full)                                 N - K_full
``iid``                    iid        N/(N-K_full)                                 N - K_full
=========================  =========  ===========================================  ===========

``CR2`` rescales each cluster's residuals by ``(I - H_gg)^{-1/2}`` and tests each slope
against t with Bell-McCaffrey degrees of freedom (:mod:`evaluatie.inference.cr2`; it
matches clubSandwich's ``vcovCR(type = "CR2")`` and ``coef_test()``'s Satterthwaite
df, checked against diff-diff's implementation of the same). Joint (pre-trend) tests
are the plain Wald test with the CR2 covariance, without the Hotelling-T² small-sample
correction of P&T (2018, Section 3.2), and are **not** honest with few treated
clusters: ``event_study(..., vcov="CR2", inference="analytic").pretrend_test()``
rejected 25.5% of 200 placebo policies with 12 treated gemeenten on the real VO panel
(CRV1: 28.5%). The default (randomization) pre-trend test held 5.5% there.

``CRV1``, ``HC1`` and ``iid`` are the fixest/pyfixest defaults for ``vcov={"CRV1": g}``,
``"hetero"`` and ``"iid"`` (Liang & Zeger 1986; White 1980 with the HC1 factor of
MacKinnon & White 1985). ``linearmodels`` is ``PanelOLS(entity_effects=True,
time_effects=True).fit(cov_type="clustered", clusters=...)`` with its defaults
(``debiased=True``, ``group_debias=False``, ``auto_df=True``): no cluster-count factor,
the effects counted as in ``K_lm``, t with ``df_resid = N - K_lm``.
``linearmodels-absorbing`` is ``AbsorbingLS(...).fit(cov_type="clustered",
debiased=True)`` (equivalently PanelOLS with ``group_debias=True``); AbsorbingLS's own
default ``debiased=False`` is the bare sandwich (``c = 1``) with normal inference.
PanelOLS refuses several rows per entity-period, so for pupil-level data only the
AbsorbingLS convention can be checked against linearmodels directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from evaluatie.core.errors import DesignError, ParameterError


@dataclass(frozen=True)
class Convention:
    """A standard-error convention: which meat, which small-sample factor, which df."""

    name: str
    meat: Literal["cluster", "cr2", "hetero", "iid"]
    fe_count: Literal["nested", "full", "linearmodels"]
    cluster_factor: bool  # multiply by G / (G - 1)
    n_factor: Literal["(N-1)/(N-K)", "N/(N-K)"]
    df: Literal["G-1", "N-K", "BM"]
    description: str

    @property
    def clustered(self) -> bool:
        return self.meat in ("cluster", "cr2")


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention("CRV1", "cluster", "nested", True, "(N-1)/(N-K)", "G-1", "fixest/pyfixest CRV1"),
        Convention(
            "linearmodels",
            "cluster",
            "linearmodels",
            False,
            "N/(N-K)",
            "N-K",
            "linearmodels PanelOLS clustered (debiased=True)",
        ),
        Convention(
            "linearmodels-absorbing",
            "cluster",
            "linearmodels",
            True,
            "(N-1)/(N-K)",
            "N-K",
            "linearmodels AbsorbingLS clustered (debiased=True)",
        ),
        Convention(
            "CR2",
            "cr2",
            "nested",
            False,
            "N/(N-K)",
            "BM",
            "CR2 with Bell-McCaffrey degrees of freedom (Pustejovsky & Tipton 2018)",
        ),
        Convention("HC1", "hetero", "full", False, "N/(N-K)", "N-K", "fixest/pyfixest hetero"),
        Convention("iid", "iid", "full", False, "N/(N-K)", "N-K", "fixest/pyfixest iid"),
    )
}


def get_convention(name: str) -> Convention:
    """Look up a convention by name; a :class:`ParameterError` lists the valid names."""
    try:
        return CONVENTIONS[name]
    except (KeyError, TypeError):
        raise ParameterError(
            f"vcov={name!r} is not a known standard-error convention; "
            f"expected one of {sorted(CONVENTIONS)}"
        ) from None


@dataclass(frozen=True)
class FixedEffectCount:
    """Levels of each absorbed factor and whether it is nested in the cluster variable."""

    n_levels: tuple[int, ...]
    nested: tuple[bool, ...]

    def k_fe(self, rule: Literal["nested", "full", "linearmodels"]) -> int:
        """Degrees of freedom the fixed effects use under ``rule`` (see module doc)."""
        m = len(self.n_levels)
        if m == 0 or (rule == "linearmodels" and m == 1 and self.nested[0]):
            return 0
        if rule == "nested" and any(self.nested):
            return 1 + sum(
                n - 1 for n, nest in zip(self.n_levels, self.nested, strict=True) if not nest
            )
        return sum(self.n_levels) - (m - 1)


@dataclass(frozen=True)
class VcovResult:
    """Covariance of the slopes with the quantities that went into it."""

    matrix: np.ndarray
    df: float
    factor: float
    k_df: int  # K: slopes plus counted fixed effects
    n_clusters: int | None
    convention: Convention
    df_coef: np.ndarray | None = None  # one df per slope (CR2's Bell-McCaffrey)

    @property
    def t_df(self) -> float | np.ndarray:
        """The df of each slope's t test: ``df_coef`` where the convention has one per
        slope, else the common ``df``."""
        return self.df if self.df_coef is None else self.df_coef

    def distribution(self) -> str:
        """The t reference of the slopes' tests, for :class:`~evaluatie.core.results.Inference`."""
        if self.df_coef is None:
            return f"t({self.df:g})"
        if np.isnan(self.df_coef).all():
            return "none (CR2 undefined: identified from a single cluster)"
        low, high = float(np.nanmin(self.df_coef)), float(np.nanmax(self.df_coef))
        if np.isclose(low, high):
            return f"t({low:.1f}, Bell-McCaffrey)"
        return f"t(Bell-McCaffrey, {low:.1f} to {high:.1f} by coefficient)"


def small_sample_factor(convention: Convention, n: int, k_df: int, n_clusters: int | None) -> float:
    """The convention's factor ``c``: ``(N-1)/(N-K)`` or ``N/(N-K)``, times ``G/(G-1)``
    where the convention has it."""
    factor = (n - 1) / (n - k_df) if convention.n_factor == "(N-1)/(N-K)" else n / (n - k_df)
    if convention.cluster_factor:
        assert n_clusters is not None  # conventions with the G/(G-1) factor are clustered
        factor *= n_clusters / (n_clusters - 1)
    return factor


def sandwich_vcov(
    x_tilde: np.ndarray,
    resid: np.ndarray,
    bread: np.ndarray,
    convention: Convention,
    fe_count: FixedEffectCount,
    *,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    n_clusters: int | None = None,
    n_obs: int | None = None,
) -> VcovResult:
    """Covariance of the slopes under ``convention`` (formulas in the module docstring).

    ``x_tilde`` (n, k) are the within-transformed regressors, ``resid`` the residuals
    (unweighted), ``bread`` :math:`(\\tilde X' W \\tilde X)^{-1}`. ``cluster`` holds
    integer codes ``0..n_clusters-1`` and is required by clustered conventions.

    ``n_obs``: the number of observations when each row of ``x_tilde`` stands for a
    *cell* of observations that share their regressors and cluster, with ``weights``
    the cells' total weights and ``resid`` their weighted mean residuals. A cluster's
    score :math:`S_g = \\sum_{i \\in g} w_i \\tilde x_i \\hat u_i` is then the sum of
    :math:`W_c \\tilde x_c \\bar u_c` over its cells, so the cluster meats are exact;
    the iid and heteroskedastic meats need each observation's residual and are refused.
    """
    n_rows, k = x_tilde.shape
    n = n_rows if n_obs is None else n_obs
    if n_obs is not None and convention.meat != "cluster":
        raise ValueError(f"the {convention.meat} meat needs one row per observation")
    k_df = k + fe_count.k_fe(convention.fe_count)
    if n - k_df <= 0:
        raise DesignError(
            f"no residual degrees of freedom: {n} observations, {k} slopes and "
            f"{k_df - k} fixed-effect degrees of freedom"
        )
    # sums of products by einsum rather than BLAS, whose threads stall on a busy machine
    wu = resid if weights is None else weights * resid
    if convention.meat == "iid":
        core = bread * (float(np.einsum("i,i->", wu, resid)) / n)
    elif convention.meat == "hetero":
        meat = np.einsum("i,ij,ik->jk", wu * wu, x_tilde, x_tilde)
        core = bread @ meat @ bread
    else:
        if cluster is None or n_clusters is None:
            raise ValueError("a clustered convention needs cluster codes")
        if n_clusters < 2:
            raise DesignError(
                f"clustered standard errors need at least 2 clusters, got {n_clusters}"
            )
        cluster_scores = np.column_stack(
            [
                np.bincount(cluster, weights=x_tilde[:, j] * wu, minlength=n_clusters)
                for j in range(k)
            ]
        )
        core = bread @ np.einsum("gj,gk->jk", cluster_scores, cluster_scores) @ bread
    factor = small_sample_factor(convention, n, k_df, n_clusters)
    vcov = factor * core
    vcov = (vcov + vcov.T) / 2.0
    df = (
        float(n_clusters - 1)
        if n_clusters is not None and convention.df == "G-1"
        else float(n - k_df)
    )
    return VcovResult(
        vcov, df, factor, k_df, n_clusters if convention.clustered else None, convention
    )
