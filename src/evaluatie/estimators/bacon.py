"""Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD coefficient.

Goodman-Bacon, A. (2021), "Difference-in-differences with variation in treatment
timing", J. Econometrics 225(2), 254-277. With a binary absorbing treatment
``D_it = 1{t >= G_i}`` in a balanced panel, the TWFE coefficient of
``y_it = β D_it + α_i + λ_t + u_it`` is a weighted average of all 2×2 DiD estimates
between timing groups (Theorem 1, eq. 10a-g):

* ``treated vs never treated`` (eq. 10a, ``β_kU``): cohort ``k`` against the units that
  are never treated in the observed periods, over all periods;
* ``earlier vs later treated`` (eq. 10b, ``β_kl^k``): cohort ``k`` against a later
  cohort ``l`` before ``l`` is treated (periods ``< l``);
* ``later vs earlier treated`` (eq. 10c, ``β_kl^l``): cohort ``l`` against the earlier
  cohort ``k`` *after* ``k`` is treated (periods ``>= k``): the comparison that is biased
  when effects change over time;
* ``treated vs already treated``: cohort ``k`` against the always-treated units (treated
  in every observed period), over all periods. TWFE absorbs them by their unit effect
  exactly like never-treated units (``D`` is constant within the unit), so they act as
  controls whose trend includes their own treatment effect dynamics.

Each 2×2 is ``(ȳ_a,post - ȳ_a,pre) - (ȳ_b,post - ȳ_b,pre)`` for the switching group
``a`` and the comparison group ``b`` over its window; its weight is proportional to
``n_a n_b n_pre n_post`` (unit shares times the numbers of observed periods in the two
halves of the window), i.e. to the sample share and the variance of the de-meaned
treatment in that 2×2 (eq. 10e-g, written with period counts; ``D̄`` there is the
share of treated periods). The weights are non-negative and sum to one;
``Σ weight · estimate`` is the TWFE coefficient.

Derivation used here (equivalent to Theorem 1): for any partition of the units into
groups with a common treatment path, the TWFE numerator and denominator are sums over
pairs of groups ``(g, h)`` of ``n_g n_h Σ_t Δa_t Δy_t`` and ``n_g n_h Σ_t Δa_t²`` with
``Δa_t`` the difference of the unit-demeaned treatments; for two timing groups the pair's
coefficient splits into the two 2×2s above with weights ``n_pre`` and ``n_post``
(eq. 10e's ``μ_kl``).

Estimand and assumptions: the decomposition is an algebraic identity (no assumptions).
Its reading: the TWFE coefficient is an average of the 2×2s; under parallel trends and
no anticipation the "clean" 2×2s (against never-treated or not-yet-treated units)
estimate ATTs, while "later vs earlier" and "treated vs already treated" 2×2s subtract
changes in the controls' treatment effects (Goodman-Bacon 2021, eq. 15-16).

Data rules (enforced with :mod:`evaluatie.core.errors` messages):

* one row per unit and period; every unit has a non-missing outcome in every observed
  period (a balanced panel), otherwise a :class:`DesignError` says how many units are
  incomplete;
* ``cohort`` (the first treated period, in the units of ``time``) is constant within a
  unit; ``0``, ``NaN`` or ``inf`` mean never treated;
* cohorts at or before the first observed period are *always treated*: they form one
  group (``control`` is missing in their rows; ``meta["always_treated_cohorts"]``);
* cohorts after the last observed period are untreated throughout the sample: TWFE
  cannot tell them from never-treated units, and they are pooled with them
  (``meta["units_treated_after_last_period"]``);
* periods are the *observed* distinct values of ``time`` (with a gap such as no 2020,
  2021 directly follows 2019): the windows and ``n_pre``/``n_post`` count observed
  periods, exactly as the period fixed effects of TWFE do. A cohort dated in a gap
  (2020) is first treated in the next observed period; cohorts that share their first
  treated observed period keep their own labels but are not compared with each other
  (that 2×2 has no treatment variation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluatie.core.checks import (
    numeric_values,
    plain,
    require_columns,
    require_constant_within_unit,
    require_frame,
    require_unique_unit_periods,
)
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Inference, Overall, Result, call_record
from evaluatie.estimators.twfe import twfe

EARLIER_VS_LATER = "earlier vs later treated"
LATER_VS_EARLIER = "later vs earlier treated"
TREATED_VS_NEVER = "treated vs never treated"
TREATED_VS_ALWAYS = "treated vs already treated"
TYPES = (EARLIER_VS_LATER, LATER_VS_EARLIER, TREATED_VS_NEVER, TREATED_VS_ALWAYS)

_TABLE_COLUMNS = [
    "type",
    "treated",
    "control",
    "estimate",
    "weight",
    "n_treated",
    "n_control",
    "window_start",
    "window_end",
]


@dataclass
class BaconResult(Result):
    """The 2×2 comparisons behind a TWFE coefficient.

    ``table``: one row per 2×2 with ``type`` (one of :data:`TYPES`), ``treated`` and
    ``control`` cohorts (``<NA>`` control: the never-treated or always-treated group, as
    ``type`` says), ``estimate``, ``weight`` (sum to one), ``n_treated``/``n_control``
    units and the window's first and last observed period. ``meta["twfe_estimate"]`` is
    the TWFE coefficient fitted by :func:`evaluatie.estimators.twfe.twfe`.
    """

    @property
    def twfe_estimate(self) -> float:
        return float(self.meta["twfe_estimate"])

    def by_type(self) -> pd.DataFrame:
        """Per comparison type: number of 2×2s, total weight, weighted average estimate
        and its contribution ``weight × average`` to the TWFE coefficient."""
        tab = self.table
        contribution = (tab["weight"] * tab["estimate"]).groupby(tab["type"]).sum()
        grouped = tab.groupby("type")
        out = pd.DataFrame(
            {
                "n_comparisons": grouped.size(),
                "weight": grouped["weight"].sum(),
                "contribution": contribution,
            }
        )
        out.insert(2, "estimate", out["contribution"] / out["weight"])
        return out.reindex([t for t in TYPES if t in out.index])

    def summary(self) -> str:
        lines = [
            *self._header_lines(),
            f"  TWFE coefficient: {self.twfe_estimate:.6g}  "
            f"(sum of weight x estimate: {self.meta['weighted_sum']:.6g})",
            f"  units: {self.meta['n_units']}  periods: {self.meta['n_periods']}  "
            f"never treated: {self.meta['n_never_treated']}  "
            f"always treated: {self.meta['n_always_treated']}",
        ]
        with pd.option_context("display.float_format", "{:.6g}".format, "display.width", 120):
            lines += ["", "Weighted average by type:", self.by_type().to_string()]
            lines += ["", "2x2 comparisons:", self.table.to_string()]
        return "\n".join(lines)


def _balanced_wide(
    data: pd.DataFrame, outcome: str, unit: str, time: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unit codes and labels, period values and codes, and the outcome; raises unless
    the panel has exactly one row with a non-missing outcome per unit and period."""
    y = numeric_values(data, outcome, "outcome")
    t = numeric_values(data, time, "time")
    codes, labels = pd.factorize(data[unit])
    if (codes < 0).any():
        raise DesignError(f"unit column {unit!r} has {int((codes < 0).sum())} missing values")
    if np.isnan(t).any():
        raise DesignError(f"time column {time!r} has {int(np.isnan(t).sum())} missing values")
    periods, t_idx = np.unique(t, return_inverse=True)
    n_units, n_periods = len(labels), len(periods)
    require_unique_unit_periods(codes, np.asarray(labels), t_idx, periods, time)
    observed = ~np.isnan(y)
    complete = np.bincount(codes[observed], minlength=n_units) == n_periods
    if not complete.all():
        bad = np.flatnonzero(~complete)
        raise DesignError(
            f"the panel is unbalanced: {bad.size} of {n_units} units are not observed with a "
            f"non-missing {outcome!r} in all {n_periods} periods (e.g. unit "
            f"{plain(labels[bad[0]])!r}); the Goodman-Bacon decomposition needs a balanced "
            "panel: keep only the complete units"
        )
    return codes, np.asarray(labels), periods, t_idx, y


def _cohort_labels(g: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Whole-number cohorts as a nullable integer column, others as float (NaN = none)."""
    finite = g[np.isfinite(g)]
    if np.all(finite == np.round(finite)):
        return pd.array(np.where(np.isfinite(g), g, np.nan), dtype="Float64").astype("Int64")
    return np.where(np.isfinite(g), g, np.nan)


def bacon(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str) -> BaconResult:
    """Goodman-Bacon (2021, Theorem 1) decomposition of the TWFE DiD coefficient.

    Decomposes ``β`` of ``y_it = β D_it + α_i + λ_t + u_it`` with ``D_it = 1{t >= cohort_i}``
    into every 2×2 DiD between timing groups (see the module docstring for the types,
    weights and data rules).

    Parameters
    ----------
    data
        Long balanced panel, one row per unit and period.
    outcome
        Numeric outcome; no missing values (a unit with one is an incomplete unit).
    unit, time
        Unit identifier (any hashable) and numeric period. Periods are the observed
        values; gaps are allowed.
    cohort
        First treated period per unit in the units of ``time``; ``0``/``NaN``/``inf`` =
        never treated; at or before the first period = always treated; after the last
        period = untreated in the sample (pooled with the never treated).

    Returns
    -------
    BaconResult
        ``table`` of 2×2s (weights sum to one, ``Σ weight · estimate`` = TWFE), ``by_type()``,
        ``summary()`` and ``meta`` (TWFE coefficient, groups, sample sizes).
    """
    data = require_frame(data)
    names = {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort}
    require_columns(data, names)
    if len(set(names.values())) != len(names):
        raise ParameterError(f"outcome, unit, time and cohort must be distinct columns: {names}")
    codes, labels, periods, t_idx, y = _balanced_wide(data, outcome, unit, time)
    g = numeric_values(data, cohort, "cohort")
    g = np.where(np.isnan(g) | (g == 0), np.inf, g)
    require_constant_within_unit(codes, g, labels, "Cohort", cohort)
    unit_g = np.empty(len(labels))
    unit_g[codes] = g
    n_periods = len(periods)
    if pd.api.types.is_integer_dtype(data[time].dtype):
        periods = periods.astype(np.int64)  # labels in the time column's type

    late = np.isfinite(unit_g) & (unit_g > periods[-1])
    always = unit_g <= periods[0]
    always_cohorts = list(_cohort_labels(np.unique(unit_g[always])))
    group_key = np.where(late, np.inf, np.where(always, -np.inf, unit_g))
    keys, unit_group = np.unique(group_key, return_inverse=True)
    first = np.searchsorted(periods, keys)  # first treated observed period (0 / T: constant)
    switching = (first > 0) & (first < n_periods)
    if not switching.any():
        raise DesignError(
            f"no unit becomes treated within the observed periods {plain(periods[0])}-"
            f"{plain(periods[-1])}: every cohort in {cohort!r} is never, always or "
            "later treated, so there is no treatment variation to decompose"
        )
    size = np.bincount(unit_group, minlength=len(keys))
    share = size / size.sum()
    cell = unit_group[codes] * n_periods + t_idx
    sums = np.bincount(cell, weights=y, minlength=len(keys) * n_periods).reshape(len(keys), -1)
    cum = np.hstack([np.zeros((len(keys), 1)), np.cumsum(sums / size[:, None], axis=1)])

    rows: list[tuple[str, int, int, int, int, int]] = []
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):  # keys ascending: first[a] <= first[b]
            fa, fb = first[a], first[b]
            if fa == fb or (not switching[a] and not switching[b]):
                continue  # same treatment path: no variation between the two groups
            if not switching[a]:  # a is always treated
                rows.append((TREATED_VS_ALWAYS, b, a, 0, fb, n_periods))
            elif not switching[b]:  # b is never treated
                rows.append((TREATED_VS_NEVER, a, b, 0, fa, n_periods))
            else:
                rows.append((EARLIER_VS_LATER, a, b, 0, fa, fb))
                rows.append((LATER_VS_EARLIER, b, a, fa, fb, n_periods))
    if not rows:
        raise DesignError(
            "all units share one treatment path, so TWFE cannot separate the treatment from "
            "the period effects: there are no untreated, always-treated or differently "
            "timed units to compare with"
        )

    kind, treated, control, start, switch, end = (np.array(c) for c in zip(*rows, strict=True))

    def window_mean(group: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return (cum[group, hi] - cum[group, lo]) / (hi - lo)

    estimate = (window_mean(treated, switch, end) - window_mean(treated, start, switch)) - (
        window_mean(control, switch, end) - window_mean(control, start, switch)
    )
    raw = share[treated] * share[control] * (switch - start) * (end - switch)
    weight = raw / raw.sum()

    key_label = _cohort_labels(keys)
    table = pd.DataFrame(
        {
            "type": kind,
            "treated": key_label[treated],
            "control": key_label[control],
            "estimate": estimate,
            "weight": weight,
            "n_treated": size[treated],
            "n_control": size[control],
            "window_start": periods[start],
            "window_end": periods[end - 1],
        },
        columns=_TABLE_COLUMNS,
    )
    order = {t: i for i, t in enumerate(TYPES)}
    table = table.sort_values(
        ["type", "treated", "control"], key=lambda s: s.map(order) if s.name == "type" else s
    ).reset_index(drop=True)

    d = (t_idx >= first[unit_group[codes]]).astype(np.float64)
    frame = pd.DataFrame({"unit": codes, "time": t_idx, "y": y, "d": d})
    # only the coefficient is wanted: the default inference would run a randomization
    # test of 5,000 assignments (4.6 s on the innovatiebudget panel) for nothing
    check = twfe(frame, outcome="y", treatment="d", unit="unit", time="time", inference="analytic")
    twfe_beta = float(check.coef["d"])
    weighted_sum = float(weight @ estimate)
    meta = {
        "outcome": outcome,
        "twfe_estimate": twfe_beta,
        "weighted_sum": weighted_sum,
        "decomposition_error": weighted_sum - twfe_beta,
        "n_obs": int(y.size),
        "n_units": len(labels),
        "n_periods": n_periods,
        "periods": periods.tolist(),
        "cohorts": list(key_label[switching]),
        "n_never_treated": int(np.isposinf(group_key).sum()),  # incl. treated after the end
        "n_always_treated": int(always.sum()),
        "always_treated_cohorts": always_cohorts,
        "units_treated_after_last_period": int(late.sum()),
        "call": call_record("bacon", names),
        "inference": Inference(
            procedure="none",
            se="an algebraic decomposition of the TWFE coefficient into 2x2 comparisons "
            "(estimate, weight)",
        ),
    }
    overall = Overall(
        estimate=twfe_beta,
        se=np.nan,
        p=np.nan,
        ci_low=np.nan,
        ci_high=np.nan,
        label="TWFE coefficient (sum of weight x estimate)",
        note="a decomposition has no sampling uncertainty of its own; see twfe() for it",
    )
    return BaconResult(
        table=table, method="Goodman-Bacon decomposition of TWFE", meta=meta, overall=overall
    )
