"""Event study in a continuous dose with one common timing.

Model (the continuous-treatment event study, e.g. Callaway, Goodman-Bacon & Sant'Anna
2024, Section 5; Finkelstein 2007's design with a pre-determined intensity)::

    y_it = alpha_i + lambda_t + sum_{s != r} beta_s * D_g(i) * 1[t = s] + u_it,

where ``D_g`` is the dose of unit i's group (e.g. a gemeente's change in VVE funding per
target child, constant over time) and ``r`` the reference period, the last one before
any effect can appear. ``beta_s`` is the difference in the outcome's change from ``r``
to ``s`` per unit of dose. Estimand and assumptions: after ``r`` it is an average
causal response per unit of dose *only* under the strong parallel-trends assumption of
CGBS (2024, Assumption 5) and if the response is linear in the dose; before ``r`` it is
a placebo that should be zero under parallel trends. The estimator is a TWFE regression
(:func:`evaluatie.estimators.twfe.twfe`, its standard-error conventions), so the same
caveats about heterogeneous responses apply; the heterogeneity-robust counterpart is
:func:`evaluatie.estimators.contdid.cont_did`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluatie.core.checks import (
    numeric_values,
    require_columns,
    require_constant_within_unit,
    require_frame,
)
from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.core.results import RegressionResult, TestResult, call_record
from evaluatie.estimators.twfe import panel_regression, prepare_regression
from evaluatie.inference.randomization import Randomization
from evaluatie.inference.wald import wald_test
from evaluatie.inference.wild import WildBootstrap


@dataclass
class DoseEventResult(RegressionResult):
    """``table`` indexed by period (``time``) with ``estimate, se, t, p, ci_low, ci_high``,
    ``pre`` (period before the reference) and ``reference`` (the omitted period: 0, NaN
    inference)."""

    def pretrend_test(self) -> TestResult:
        """Joint Wald test that every pre-period coefficient is zero.

        The p-value comes from the result's inference: the bootstrap or randomization
        distribution of the Wald statistic, or chi-square (df = rank) when analytic.
        """
        pre = self.table.index[self.table["pre"].to_numpy()]
        if len(pre) == 0:
            raise DesignError("no period before the reference period: nothing to test")
        terms = [self.meta["terms"][p] for p in pre]
        assert self.vcov is not None  # dose_event_study always sets it
        v = self.vcov.loc[terms, terms].to_numpy()
        stat, df, p = wald_test(self.table.loc[pre, "estimate"].to_numpy(), v)
        if self.meta.get("joint_p") is not None:
            p = float(self.meta["joint_p"])
        return TestResult(
            table=pd.DataFrame({"statistic": [stat], "df": [df], "p": [p]}),
            method="wald pre-trend test",
            meta={
                "periods": [int(x) for x in pre],
                "inference": self.meta["inference"],
                "clustered": self.meta.get("cluster") is not None,
                "n_clusters": self.meta.get("n_clusters"),
                "n_treated_clusters": self.meta.get("n_treated_clusters"),
            },
        )


def dose_event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    dose: str,
    reference: int,
    group: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    vcov: str = "CRV1",
    alpha: float = 0.05,
    inference: str | WildBootstrap | Randomization = "auto",
) -> DoseEventResult:
    """Coefficients ``beta_s`` on ``dose x 1[time = s]`` for every period but ``reference``.

    ``dose`` must be constant within ``group`` (default: within ``unit``), e.g. a
    gemeente's policy dose attached to its schools. Standard errors follow ``vcov``
    (default CRV1 clustered by ``cluster``; ``None`` clusters at the level the dose was
    assigned, detected from the data), and ``inference`` chooses the p-values and
    intervals of every coefficient and of ``.pretrend_test()``, as in
    :func:`~evaluatie.estimators.twfe.twfe` (randomization re-assigns the doses among
    the gemeenten). ``overall`` is ``None``: publish one period with ``term=``.
    """
    call = call_record("dose_event_study", {k: v for k, v in locals().items() if k != "data"})
    data = require_frame(data)
    require_columns(
        data,
        {"outcome": outcome, "unit": unit, "time": time, "dose": dose, "group": group},
    )
    d = numeric_values(data, dose, "dose")
    codes, groups = pd.factorize(data[group or unit])
    ok = ~np.isnan(d) & (codes >= 0)
    require_constant_within_unit(codes[ok], d[ok], np.asarray(groups), "dose", dose)
    periods = np.sort(pd.unique(numeric_values(data, time, "time")[~np.isnan(d)]))
    if reference not in periods:
        raise ParameterError(
            f"reference={reference} is not a period of column {time!r} "
            f"(periods: {', '.join(str(int(p)) for p in periods)})"
        )
    if len(periods) < 2:
        raise DesignError(f"column {time!r} has a single period: no event study")
    t = data[time].to_numpy()
    names: dict[int, str] = {}
    columns: dict[str, np.ndarray] = {}
    for p in periods:
        if p == reference:
            continue
        name = f"{dose}_x_{int(p)}"
        while name in data.columns:
            name = "_" + name
        names[int(p)] = name
        columns[name] = np.where(t == p, d, 0.0)
    frame = data.assign(**columns)
    terms = list(columns)
    prepared = prepare_regression(
        frame,
        outcome=outcome,
        treatments=terms,
        covariates=[],
        unit=unit,
        time=time,
        cluster=cluster,
        weights=weights,
        vcov=vcov,
        alpha=alpha,
        assignment=d,
    )
    fit = panel_regression(
        prepared,
        inference=inference,
        call=call,
        method="dose event study (TWFE)",
        joint=[name for p, name in names.items() if p < reference],
    )
    index = pd.Index([int(p) for p in periods], name=time)
    table = fit.table.rename(index={v: k for k, v in names.items()}).reindex(index)
    table.loc[reference, "estimate"] = 0.0
    table["pre"] = table.index < reference
    table["reference"] = table.index == reference
    meta = dict(fit.meta)
    meta.update(
        {
            "reference": int(reference),
            "dose": dose,
            "terms": names,
            "call": call,
        }
    )
    return DoseEventResult(
        table=table,
        method="dose event study (TWFE)",
        meta=meta,
        vcov=fit.vcov,
    )
