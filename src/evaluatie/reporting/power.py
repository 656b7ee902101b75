"""What a design could detect, and how much a conclusion depends on the inference.

Both answer a reader's question before they read a p-value: would this design have
found an effect of a size that matters (:func:`mde_sentence`, :func:`mde_table`), and
would the headline's verdict change with another way of computing its p-value
(:func:`inference_alternatives`)?
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from evaluatie.core.errors import EvaluatieError, ParameterError
from evaluatie.core.results import Result


def _amount(value: float, unit_label: str) -> str:
    return f"{value:.2f} {unit_label}" if math.isfinite(value) else "no effect size"


def mde_sentence(
    result: Result, *, outcome_label: str = "the outcome", unit_label: str = "points"
) -> str:
    """One paragraph on an :func:`evaluatie.mde` result: the effect this design finds
    with the target power, in outcome units and standard deviations, and the others."""
    table = result.table
    meta = result.meta
    if not {"n_treated", "assignment_level", "power"} <= set(meta):
        raise ParameterError(
            f"mde_sentence needs a result of evaluatie.mde, got one of {result.method!r}"
        )
    n = int(meta["n_treated"])
    level = str(meta["assignment_level"])
    row = table.loc[n]
    power = float(meta["power"])
    head = f"What could this design detect? With {n} treated units (by {level}) "
    if not math.isfinite(row["estimate"]):
        text = (
            head + f"no effect on {outcome_label}, however large, is found with "
            f"{power:.0%} probability by the test used here: there are too few ways to "
            "re-assign the treatment for a small p-value. A design with more treated "
            "units, or a comparison of one gemeente with its own past and with others "
            "(single_unit_did), is needed."
        )
    else:
        text = (
            head + f"and this panel's own noise, an effect on {outcome_label} of "
            f"{row['estimate']:.2f} {unit_label} ({row['estimate_sd']:.2f} standard "
            f"deviations) in either direction is found with {power:.0%} probability by the "
            "test used above (randomization inference); the simulation puts this between "
            f"{row['ci_low']:.2f} and {row['ci_high']:.2f}. Smaller effects may well go "
            "unnoticed: a result that is not significant does not show that there was no "
            "effect of that size."
        )
    others = [
        f"{int(k)}: {_amount(float(r['estimate']), unit_label)}"
        for k, r in table.iterrows()
        if int(k) != n
    ]
    if others:
        text += " With other numbers of treated units: " + "; ".join(others) + "."
    return text


def mde_table(result: Result) -> pd.DataFrame:
    """The MDE per number of treated units, for a report (rounded, plain names)."""
    t = result.table
    out = pd.DataFrame(
        {
            "MDE": t["estimate"],
            "MDE (sd)": t["estimate_sd"],
            "simulation range": [
                f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(t["ci_low"], t["ci_high"], strict=True)
            ],
            "size at zero effect": t["size"],
            "MDE, analytic SE": t["analytic_mde"],
            "size, analytic SE": t["analytic_size"],
        },
        index=t.index.rename("treated"),
    )
    return out.round(3)


def inference_alternatives(
    result: Result,
    data: pd.DataFrame,
    *,
    methods: Sequence[str] = ("analytic", "wild", "randomization"),
    term: object = None,
) -> pd.DataFrame:
    """The headline's p-value and interval under each inference in ``methods``: the
    result's call run again with ``inference=`` changed. A method the design does not
    allow gets its reason instead of numbers."""
    call = result.call
    rows = {}
    for method in methods:
        arguments = {**call.get("arguments", {}), "inference": method}
        try:
            again = Result(pd.DataFrame(), "", {"call": {**call, "arguments": arguments}})
            fitted = again.rerun(data)
            head = fitted.headline(term)
            info = fitted.inference
            rows[method] = {
                "estimate": head.estimate,
                "p": head.p,
                "ci_low": head.ci_low,
                "ci_high": head.ci_high,
                "how": f"{info.procedure}: {info.se}" if info is not None else "",
            }
        except EvaluatieError as error:
            rows[method] = {"how": f"not available: {error}"}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "inference"
    return table
