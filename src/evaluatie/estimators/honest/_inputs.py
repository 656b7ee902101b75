"""The event-time coefficients, their covariance and the reference period of a result.

An :class:`~evaluatie.estimators.event.design.EventStudyResult` keeps the covariance of
its non-reference coefficients in ``vcov`` and the reference in ``meta["reference"]``;
an ``att_gt(...).aggregate("dynamic")`` result keeps the influence-function covariance
in ``vcov`` and, with ``base_period="universal"``, a reference row (estimate 0, no
standard error) at ``-1 - anticipation``. The Rambachan-Roth restrictions bound changes
of the violation relative to *one* reference period, so a varying base period (each
pre-period coefficient a short difference) does not fit them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import Result

#: Inference whose covariance of the coefficients the intervals can rest on.
TRUSTED = ("analytic", "multiplier bootstrap")


@dataclass(frozen=True)
class EventPath:
    """``betahat`` and ``sigma`` ordered pre-periods (earliest first) then post-periods."""

    betahat: np.ndarray
    sigma: np.ndarray
    pre: list[int]
    post: list[int]
    reference: int
    source: str


def _reference(result: Result) -> tuple[int, pd.DataFrame]:
    meta = result.meta
    vcov = getattr(result, "vcov", None)
    if not isinstance(vcov, pd.DataFrame):
        raise ParameterError(
            f"honest_did needs an event study: event_study(...) or att_gt(...).aggregate("
            f"'dynamic'); {result.method} carries no covariance of event-time coefficients"
        )
    if meta.get("kind") == "dynamic":  # att_gt(...).aggregate("dynamic")
        parent = (meta.get("call") or {}).get("of") or {}
        arguments: dict[str, Any] = parent.get("arguments", {})
        if arguments.get("base_period", "varying") != "universal":
            raise DesignError(
                "honest_did needs one reference period, but this att_gt fit uses "
                "base_period='varying' (each pre-period estimate compares with the period "
                "before it). Re-run att_gt(..., base_period='universal')"
            )
        return -1 - int(arguments.get("anticipation", 0)), vcov
    if "reference" in meta and result.table.index.name == "rel_time":
        return int(meta["reference"]), vcov
    raise ParameterError(
        f"honest_did needs an event study: event_study(...) or att_gt(...).aggregate("
        f"'dynamic'), got {result.method}"
    )


def event_path(result: Result) -> EventPath:
    """The coefficients around the reference period of an event-study ``result``."""
    if not isinstance(result, Result):
        raise ParameterError(
            f"result must be an event-study result (event_study or att_gt(...).aggregate("
            f"'dynamic')), got {type(result).__name__}"
        )
    reference, vcov = _reference(result)
    info = result.inference
    procedure = info.procedure if info is not None else "unknown"
    if procedure not in TRUSTED:
        raise DesignError(
            f"honest_did rests on the covariance of the event-study coefficients, which "
            f"{procedure} inference does not trust here (too few treated clusters for a "
            "cluster-robust covariance). Use the joint pretrend_test() and the randomization "
            "tests of twfe or att_gt instead, or pass inference='analytic' to the estimator "
            "if the clusters are many enough"
        )
    rows = [int(r) for r in vcov.index if int(r) != reference]
    sigma = vcov.loc[rows, rows].to_numpy(dtype=float)
    betahat = result.table.loc[rows, "estimate"].to_numpy(dtype=float)
    if not (np.all(np.isfinite(sigma)) and np.all(np.isfinite(betahat))):
        raise DesignError(
            "honest_did needs the joint covariance of all event-time coefficients; "
            f"{result.method} leaves part of it empty (the imputation estimator estimates "
            "its leads in a separate regression). Use estimator='twfe', 'sun_abraham' or "
            "'callaway_santanna'"
        )
    pre = sorted(r for r in rows if r < reference)
    post = sorted(r for r in rows if r > reference)
    if not post:
        raise DesignError(f"honest_did: no event time after the reference {reference}")
    span = list(range(pre[0] if pre else reference, post[-1] + 1))
    if sorted([*pre, reference, *post]) != span:
        missing = sorted(set(span) - {*pre, reference, *post})
        raise DesignError(
            f"honest_did needs consecutive event times; {missing} are missing (no "
            "observations there). Narrow the event study's window"
        )
    order = [rows.index(r) for r in [*pre, *post]]
    return EventPath(
        betahat=betahat[order],
        sigma=sigma[np.ix_(order, order)],
        pre=pre,
        post=post,
        reference=reference,
        source=result.method,
    )
