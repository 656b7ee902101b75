"""Result objects shared by every estimator.

Each estimator returns a :class:`Result`: a tidy ``.table`` (one row per estimated
quantity), ``.summary()`` for humans, and ``.meta`` with what is needed to reproduce
the estimate (the call's arguments, sample sizes, the standard-error convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

TABLE_COLUMNS = ["estimate", "se", "t", "p", "ci_low", "ci_high"]


def inference_table(
    estimate: np.ndarray,
    se: np.ndarray,
    index: pd.Index,
    *,
    df: float | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Build the tidy table: t = estimate / se, two-sided p and (1 - alpha) CI.

    ``df=None`` uses the normal distribution; otherwise Student t with ``df`` degrees
    of freedom (fixest's CRV1 convention uses ``df = G - 1``).
    """
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = estimate / se
    dist = stats.norm if df is None else stats.t(df)
    p = 2.0 * dist.sf(np.abs(t))
    crit = dist.ppf(1.0 - alpha / 2.0)
    return pd.DataFrame(
        {
            "estimate": estimate,
            "se": se,
            "t": t,
            "p": p,
            "ci_low": estimate - crit * se,
            "ci_high": estimate + crit * se,
        },
        index=index,
    )


@dataclass
class Result:
    """A fitted estimator: tidy ``table`` plus reproducibility metadata in ``meta``."""

    table: pd.DataFrame
    method: str
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.method}"]
        for key, value in self.meta.items():
            if isinstance(value, (str, int, float, np.integer, np.floating)) or value is None:
                lines.append(f"  {key}: {value}")
        with pd.option_context("display.float_format", "{:.6g}".format, "display.width", 120):
            lines.append(self.table.to_string())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = "".join(
            f"<li><b>{k}</b>: {v}</li>"
            for k, v in self.meta.items()
            if isinstance(v, (str, int, float, np.integer, np.floating))
        )
        return f"<h4>{self.method}</h4><ul>{head}</ul>" + self.table.to_html(float_format="%.4g")


@dataclass
class RegressionResult(Result):
    """A linear-model fit. ``table`` columns: ``estimate, se, t, p, ci_low, ci_high``.

    ``vcov`` is the full covariance of the reported coefficients, ``vcov_type`` names
    the standard-error convention (see :mod:`evaluatie.inference.vcov`).
    """

    vcov: pd.DataFrame | None = None
    vcov_type: str = ""

    @property
    def coef(self) -> pd.Series:
        return self.table["estimate"]

    @property
    def se(self) -> pd.Series:
        return self.table["se"]
