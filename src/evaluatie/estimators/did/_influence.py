"""The influence functions of a fit's ATT(g,t) cells and cohort shares, and their covariance.

Every estimate derived from a fit -- a cell, an aggregation (CS 2021, Section 3;
:mod:`.aggregate`) -- has the influence function ``Ψ a`` for a fixed vector ``a``, with
``Ψ = [ψ | φ]`` (``n × (K + C)``) the influence functions of the ``K`` cells and of the
``C`` cohort shares ``P_g``. Its analytic variance (:mod:`evaluatie.inference.influence`:
cluster sums ``S_c = Σ_{i in c} Ψ_i``, covariance ``S'S / n²``) is ``a' V a`` with
``V = S'S / n²`` of ``Ψ``, so ``V`` (``(K + C)²``) is all the standard errors of the cells
and of any aggregation need: :class:`CellInfluence` computes it once per fit, and ``Ψ``
itself (``n × (K + C)``) only when asked for (a result's ``influence``, the bootstrap of
a clustered fit).

Without covariates ``Ψ`` factorises (:func:`.drdid.did_means`): unit ``i`` of cohort
group ``h`` has ``Ψ_i = z_i B_h`` with ``z_i = (w_i y_i1, ..., w_i y_iT, w_i, 1)``, so
``V = Σ_h B_h' (Z_h' Z_h) B_h / n²`` (with clusters: from the sums of ``z`` per cluster
and group), at ``((T + 2) / (K + C))²`` of the cost of forming ``Ψ``.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any, overload

import numpy as np
import pandas as pd

from evaluatie.core.results import TABLE_COLUMNS, inference_table
from evaluatie.inference.influence import IFInference

from .drdid import block_product


class Deferred:
    """``function(*args)``, evaluated when first needed and then kept (:class:`LazyArray`);
    ``source`` records what it derives from (picklable when ``function`` is)."""

    __slots__ = ("_value", "args", "function", "source")

    def __init__(
        self, function: Callable[..., np.ndarray], *args: Any, source: object = None
    ) -> None:
        self.function = function
        self.args = args
        self.source = source
        self._value: np.ndarray | None = None

    def value(self) -> np.ndarray:
        if self._value is None:
            self._value = self.function(*self.args)
        return self._value


class LazyArray:
    """A dataclass field that holds an array or a :class:`Deferred` one, computed on
    first access; an empty ``(0, 0)`` array when none was given.

    Declare it as ``name: np.ndarray = field(default=LazyArray("name"), repr=False)``.
    """

    def __init__(self, name: str) -> None:
        self.slot = f"_{name}_value"

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> LazyArray: ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> np.ndarray: ...
    def __get__(self, obj: object, objtype: type | None = None) -> LazyArray | np.ndarray:
        if obj is None:
            return self  # the dataclass default: "none given"
        value = obj.__dict__.get(self.slot)
        if isinstance(value, Deferred):
            return value.value()
        return np.empty((0, 0)) if value is None else value

    def __set__(self, obj: object, value: np.ndarray | Deferred | LazyArray) -> None:
        obj.__dict__[self.slot] = None if value is self else value

    def formed(self, obj: object) -> bool:
        """Whether the field of ``obj`` holds an array (given, or computed on access)."""
        value = obj.__dict__.get(self.slot)
        return not isinstance(value, Deferred) or value._value is not None

    def source(self, obj: object) -> object:
        """The ``source`` of the :class:`Deferred` the field of ``obj`` holds, if it does
        (``None`` once the field was set to a plain array, e.g. by ``dataclasses.replace``)."""
        value = obj.__dict__.get(self.slot)
        return value.source if isinstance(value, Deferred) else None


class CellInfluence:
    """``Ψ = [ψ | φ]`` of a fit (module docstring), dense or factorised, with its
    covariance ``V``, for units with cohorts ``unit_cohort`` and weights ``unit_weights``;
    ``shares`` holds the cohort shares ``P_g``.

    Factorised: ``z`` (``n × p``) with units in contiguous cohort groups ``h`` (rows
    ``bounds[h]:bounds[h+1]``) and ``coef`` (``H × p × (K + C)``): ``Ψ_i = z_i coef[h]``.
    """

    def __init__(
        self,
        infer: IFInference,
        unit_cohort: np.ndarray,
        unit_weights: np.ndarray,
        shares: np.ndarray,
        *,
        dense: np.ndarray | None = None,
        factors: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        if factors is not None and dense is None:
            width = factors[2].shape[2]
        elif dense is not None and factors is None:
            width = dense.shape[1]
        else:
            raise ValueError("CellInfluence needs either the dense Ψ or its factors.")
        self.infer = infer
        self.unit_cohort = unit_cohort
        self.unit_weights = unit_weights
        self.shares = shares
        self._dense = dense
        self._factors = factors
        self.n_cells = width - len(shares)
        self._vcov: np.ndarray | None = None

    def describes(self, infer: object, unit_cohort: object, unit_weights: object) -> bool:
        """Whether this is still the influence of a result with these inputs (the very
        objects: a result whose inputs were replaced needs its own)."""
        return (
            infer is self.infer
            and unit_cohort is self.unit_cohort
            and unit_weights is self.unit_weights
        )

    def cells(self) -> np.ndarray:
        """``ψ``: the cells' influence functions (``n × K``)."""
        return self.dense()[:, : self.n_cells]

    def dense(self) -> np.ndarray:
        """``Ψ`` (``n × (K + C)``)."""
        if self._dense is None:
            assert self._factors is not None
            self._dense = block_product(*self._factors)
        return self._dense

    def vcov(self) -> np.ndarray:
        """``V = S'S / n²`` with ``S`` the cluster sums of ``Ψ`` (units without clusters)."""
        if self._vcov is None:
            if self._factors is not None:
                self._vcov = self._factored_vcov(*self._factors)
            else:
                self._vcov = self.infer.vcov(self.dense())
        return self._vcov

    def _factored_vcov(self, z: np.ndarray, bounds: np.ndarray, coef: np.ndarray) -> np.ndarray:
        infer = self.infer
        size = coef.shape[2]
        blocks = [(h, lo, hi) for h, (lo, hi) in enumerate(pairwise(bounds.tolist())) if hi > lo]
        if infer.cluster is None:  # each unit its own cluster: V n² = Σ_h B_h' Z_h'Z_h B_h
            out = np.zeros((size, size))
            for h, lo, hi in blocks:
                out += coef[h].T @ (z[lo:hi].T @ z[lo:hi]) @ coef[h]
        else:  # S = Σ_h (the sums of z per cluster within group h) B_h
            s = np.zeros((infer.n_clusters, size))
            for h, lo, hi in blocks:
                s += _cluster_sums(z[lo:hi], infer.cluster[lo:hi], infer.n_clusters) @ coef[h]
            out = s.T @ s
        return out / infer.n**2

    def variance(self, a: np.ndarray) -> np.ndarray:
        """Variances of the estimates with influence functions ``Ψ a`` (``a``: ``(K + C) × L``)."""
        return np.einsum("kl,kl->l", a, self.vcov() @ a)

    def covariance(self, a: np.ndarray) -> np.ndarray:
        """Their covariance ``a' V a``."""
        return a.T @ self.vcov() @ a

    def combined(self, a: np.ndarray) -> Deferred:
        """The influence functions ``Ψ a`` (``n × L``), formed when first used."""
        return Deferred(_times, self, a)


def _times(influence: CellInfluence, a: np.ndarray) -> np.ndarray:
    return influence.dense() @ a


def _cluster_sums(z: np.ndarray, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    """``Σ_{i in c} z_i`` for every cluster ``c`` (``n_clusters × p``)."""
    return np.column_stack([np.bincount(cluster, weights=col, minlength=n_clusters) for col in z.T])


#: The columns of an inference table after the identifying ones (``IFInference.table``).
STAT_COLUMNS = [*TABLE_COLUMNS, "cband_low", "cband_high"]


def analytic_stats(infer: IFInference, estimate: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """The :data:`STAT_COLUMNS` of ``infer.table`` without the bootstrap (``L × 8``),
    from the estimates' analytic variances rather than their influence functions; the
    band is empty. A zero variance (a fixed reference cell) gives a NaN SE, as
    ``infer.analytic_se``."""
    se = np.sqrt(np.maximum(variance, 0.0))
    se = np.where(se > 0, se, np.nan)
    stats = inference_table(estimate, se, pd.RangeIndex(len(se)), alpha=infer.alpha)
    band = np.full((len(se), 2), np.nan)
    return np.hstack([stats.to_numpy(dtype=float), band])  # its columns: TABLE_COLUMNS
