"""The result contract every public estimator keeps.

Every estimator returns a :class:`Result` (or a subclass) with

* ``table`` -- a tidy :class:`pandas.DataFrame`, one row per estimated quantity, with the
  columns ``estimate, se, p, ci_low, ci_high`` (and ``t`` where the p-value comes from a
  t or z statistic), plus whatever identifies a row (a term, a cohort, a period, a
  relative time ``rel_time``, a dose). A decomposition without sampling uncertainty
  (:func:`evaluatie.bacon`) carries ``estimate, weight`` and says so in ``inference``;
  a property of a design (:func:`evaluatie.mde`) has ``se`` and ``p`` NaN and an
  interval that is the simulation's uncertainty, with ``inference.procedure``
  ``"simulation"``;
* ``overall`` -- the scalar summary, where one exists (:class:`Overall`: ``estimate, se,
  p, ci_low, ci_high``), else ``None``;
* ``meta["call"]`` -- the public function and its arguments (without the data), enough to
  run it again (:meth:`Result.rerun`); ``meta["inference"]`` -- an :class:`Inference`
  naming the procedure that produced ``se``, ``p`` and the intervals; and the sample
  sizes (``n_obs``, ``n_units``, ``n_clusters`` where they apply);
* ``summary()`` for a terminal and an HTML representation for notebooks.

:meth:`Result.headline` picks the one quantity a report publishes: the overall estimate
where there is one, otherwise the row named by ``term``; a result with several rows and
no overall asks for ``term`` rather than guessing.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from evaluatie.core.errors import ParameterError

#: Columns of an estimator's table, in this order (``t`` only where a statistic exists).
TABLE_COLUMNS = ["estimate", "se", "t", "p", "ci_low", "ci_high"]
#: Columns every table with sampling uncertainty has.
REQUIRED_COLUMNS = ("estimate", "se", "p", "ci_low", "ci_high")


def inference_table(
    estimate: np.ndarray,
    se: np.ndarray,
    index: pd.Index,
    *,
    df: float | np.ndarray | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Build the tidy table: t = estimate / se, two-sided p and (1 - alpha) CI.

    ``df=None`` uses the normal distribution; otherwise Student t with ``df`` degrees
    of freedom (fixest's CRV1 convention uses ``df = G - 1``), one per row where ``df`` is
    an array (CR2's Bell-McCaffrey df).
    """
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = estimate / se
    # scipy.special's functions are what scipy.stats.norm and .t evaluate (the same
    # numbers, bit for bit), without importing scipy.stats (~0.5 s for every process)
    if df is None:
        p = 2.0 * special.ndtr(-np.abs(t))
        crit = special.ndtri(1.0 - alpha / 2.0)
    else:
        df = np.asarray(df, dtype=float)
        p = 2.0 * special.stdtr(df, -np.abs(t))
        crit = special.stdtrit(df, 1.0 - alpha / 2.0)
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


@dataclass(frozen=True)
class Inference:
    """How the standard errors, p-values and intervals of a result were obtained.

    ``procedure`` is the family (``"analytic"``, ``"multiplier bootstrap"``,
    ``"wild cluster bootstrap"``, ``"randomization"``, ``"placebo"``, ``"simulation"``
    (a design's power, :func:`evaluatie.mde`); ``"unavailable"``
    where the design has no honest test and the p-values and intervals are left empty,
    ``note`` saying why and what has one; ``"none"`` for a decomposition without
    sampling uncertainty);
    ``se`` names the convention or the statistic; ``distribution`` the reference
    distribution of the p-values (``"t(41)"``, ``"normal"``, ``"placebo quantiles"``).
    """

    procedure: str
    se: str
    distribution: str = ""
    cluster: str | None = None
    n_clusters: int | None = None
    draws: int | None = None
    note: str = ""

    def sentence(self) -> str:
        """One sentence for a report: which inference, clustered how, from how many draws."""
        if self.procedure == "none":
            return f"No sampling uncertainty: {self.se}."
        if self.procedure == "unavailable":
            return f"No p-values or intervals: {self.note}".strip()
        text = f"{self.procedure[:1].upper()}{self.procedure[1:]} inference: {self.se}"
        if self.cluster is not None:
            count = f"{self.n_clusters} " if self.n_clusters is not None else ""
            text += f", clustered by {self.cluster} ({count}clusters)"
        if self.draws:
            text += f", {self.draws:,} draws"
        if self.distribution:
            text += f"; p-values and intervals from the {self.distribution} distribution"
        return text + "." + (f" {self.note}" if self.note else "")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def call_record(function: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``meta["call"]``: the public function's name and its arguments other than ``data``."""
    return {"function": function, "arguments": dict(arguments)}


@dataclass(frozen=True)
class Overall:
    """A scalar summary of a result, with the names of the table's columns.

    ``se``, ``p`` and the interval are NaN where they are not defined; ``note`` says why.
    """

    estimate: float
    se: float
    p: float
    ci_low: float
    ci_high: float
    label: str = ""
    note: str = ""

    @property
    def ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)

    @classmethod
    def from_row(cls, row: pd.Series | Mapping[str, Any], label: str = "") -> Overall:
        """From a table row; missing inference columns become NaN."""
        estimate, se, p, ci_low, ci_high = (float(row.get(c, math.nan)) for c in REQUIRED_COLUMNS)
        return cls(estimate, se, p, ci_low, ci_high, label=label)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, np.integer, np.floating)) or value is None


@dataclass
class Result:
    """A fitted estimator: tidy ``table``, optional ``overall``, reproducibility ``meta``."""

    table: pd.DataFrame
    method: str
    meta: dict[str, Any] = field(default_factory=dict)
    overall: Overall | None = None

    @property
    def call(self) -> dict[str, Any]:
        """``{"function": ..., "arguments": {...}}`` (see :func:`call_record`)."""
        return dict(self.meta.get("call") or {})

    @property
    def inference(self) -> Inference | None:
        value = self.meta.get("inference")
        return value if isinstance(value, Inference) else None

    def headline(self, term: Any = None) -> Overall:
        """The quantity a report publishes: ``overall``, or the table row ``term``.

        Without ``term`` a result with an overall gives it, and a one-row table its row;
        anything else is ambiguous and a :class:`ParameterError` lists the rows.
        """
        if term is None:
            if self.overall is not None:
                return self.overall
            if len(self.table) == 1:
                return Overall.from_row(self.table.iloc[0], label=str(self.table.index[0]))
            rows = ", ".join(map(repr, self.table.index[:12].tolist()))
            raise ParameterError(
                f"{self.method} has {len(self.table)} rows and no overall estimate: "
                f"name the row to publish with term= (one of {rows})"
            )
        if term not in self.table.index:
            rows = ", ".join(map(repr, self.table.index[:12].tolist()))
            raise ParameterError(f"term={term!r} is not a row of the table (rows: {rows})")
        return Overall.from_row(self.table.loc[term], label=str(term))

    def rerun(self, data: pd.DataFrame) -> Result:
        """Run ``meta["call"]`` again on ``data`` (the same function and arguments)."""
        import evaluatie

        call = self.call
        if not call:
            raise ParameterError(f"{self.method} records no call to run again")
        parent = call.get("of")
        if parent is not None:  # a method of another result, e.g. att_gt(...).aggregate
            base = Result(pd.DataFrame(), "", {"call": parent}).rerun(data)
            name = call["function"].rsplit(".", 1)[-1]
            if hasattr(base, name):
                return getattr(base, name)(**call["arguments"])
            # a public function of another result, e.g. honest_did(event_study(...))
            return getattr(evaluatie, name)(base, **call["arguments"])
        function = getattr(evaluatie, call["function"].removeprefix("evaluatie."))
        result: Result = function(data, **call["arguments"])
        return result

    def _header_lines(self) -> list[str]:
        lines = [self.method]
        if self.inference is not None:
            lines.append(f"  {self.inference.sentence()}")
        for key in ("n_obs", "n_units", "n_clusters", "n_periods"):
            if _scalar(self.meta.get(key)) and self.meta.get(key) is not None:
                lines.append(f"  {key}: {self.meta[key]}")
        if self.overall is not None:
            o = self.overall
            lines.append(
                f"  overall{' (' + o.label + ')' if o.label else ''}: estimate={o.estimate:.6g} "
                f"se={o.se:.6g} p={o.p:.4g} ci=[{o.ci_low:.6g}, {o.ci_high:.6g}]"
            )
        return lines

    def summary(self) -> str:
        """The method, inference, sample sizes, overall estimate and the table, as text."""
        lines = self._header_lines()
        with pd.option_context("display.float_format", "{:.6g}".format, "display.width", 120):
            lines.append(self.table.to_string())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head, *rest = self._header_lines()
        items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in rest)
        return f"<h4>{html.escape(head)}</h4><ul>{items}</ul>" + self.table.to_html(
            float_format="%.4g"
        )


@dataclass
class RegressionResult(Result):
    """A linear-model fit; ``vcov`` is the covariance of the reported coefficients."""

    vcov: pd.DataFrame | None = None

    @property
    def coef(self) -> pd.Series:
        return self.table["estimate"]

    @property
    def se(self) -> pd.Series:
        return self.table["se"]


@dataclass
class TestResult(Result):
    """A hypothesis test; ``table`` has one row ``statistic, df, p``."""

    __test__ = False  # not a pytest test class

    @property
    def statistic(self) -> float:
        return float(self.table["statistic"].iloc[0])

    @property
    def df(self) -> int:
        return int(self.table["df"].iloc[0])

    @property
    def p(self) -> float:
        return float(self.table["p"].iloc[0])
