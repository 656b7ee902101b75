"""How much a TWFE effect differs between two groups of units (gelijke kansen).

Model, for units i in group G_i (0 or 1, fixed per unit)::

    y_it = alpha_i + lambda_t + mu_t G_i + beta D_it + delta D_it G_i + u_it

``delta`` is the effect in group 1 minus the effect in group 0. The period effects per
group (``mu_t``) matter: with one common ``lambda_t`` each group's own trend loads onto
``D x G`` whenever the treatment is correlated with time, and a placebo policy on the
real exam panel was then "found" to differ between VMBO and HAVO/VWO programmes in
15-69% of draws (``tests/test_placebo_size.py``). Without covariates ``delta`` equals
the difference of the two groups' separate TWFE slopes. Assumes parallel trends within
each group; the inference is the caller's (few treated clusters: a wild cluster
bootstrap; its size was measured in the same test).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaluatie.core.checks import require_columns, require_frame
from evaluatie.core.errors import DesignError
from evaluatie.core.results import RegressionResult, call_record
from evaluatie.estimators.twfe import twfe


def twfe_difference(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    unit: str,
    time: str,
    group: str,
    cluster: str | None = None,
    weights: str | None = None,
    inference: Any = "auto",
) -> RegressionResult:
    """The difference in the TWFE effect of ``treatment`` between the units with
    ``group`` true and the others (module docstring), as a result whose headline term is
    ``"<treatment> x <group>"``; ``treatment`` itself and the period effects per group are
    covariates. ``inference`` as in :func:`~evaluatie.estimators.twfe.twfe`."""
    require_frame(data)
    require_columns(data, {"outcome": outcome, "treatment": treatment, "unit": unit,
                           "time": time, "group": group})  # fmt: skip
    g = data[group]
    if not g.dropna().isin([0, 1, True, False]).all():
        raise DesignError(f"group {group!r} must be true/false (or 1/0) per unit")
    if (data.assign(_g=g.astype(float)).groupby(unit)["_g"].nunique() > 1).any():
        raise DesignError(f"group {group!r} changes within a {unit}: it must be fixed per unit")
    high = g.astype(float)
    term = f"{treatment} x {group}"
    periods = sorted(data[time].dropna().unique())[1:]
    extra = {f"{group} x {time}={p}": high * (data[time] == p) for p in periods}
    frame = data.assign(**{term: data[treatment] * high}, **extra)
    result = twfe(
        frame, outcome=outcome, treatment=term, covariates=[treatment, *extra], unit=unit,
        time=time, cluster=cluster, weights=weights, inference=inference,
    )  # fmt: skip
    # the call that reproduces this result is this function's, not the inner twfe's
    arguments = {"outcome": outcome, "treatment": treatment, "unit": unit, "time": time,
                 "group": group, "cluster": cluster, "weights": weights,
                 "inference": result.meta["call"]["arguments"].get("inference")}  # fmt: skip
    result.meta["call"] = call_record("twfe_difference", arguments)
    return result
