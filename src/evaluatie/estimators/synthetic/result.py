"""The result of a synthetic comparison: the contract's table plus the weights and paths
a reader wants to see (who the synthetic unit is made of, and how it tracked)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evaluatie.core.results import Result


@dataclass
class SyntheticResult(Result):
    """A :class:`~evaluatie.core.results.Result` with

    * ``weights`` -- donor weights (index: donor unit; one column per cohort, named by
      its first treated period), each column summing to 1;
    * ``time_weights`` -- synthetic DiD's weights on the pre-periods (same layout), or
      ``None`` (synthetic control weighs no periods);
    * ``paths`` -- index period; ``treated`` (the treated units' mean) and ``synthetic``
      (the weighted donors; for synthetic DiD shifted by its intercept so that the two
      meet on the time-weighted pre-period average), one pair per cohort where there are
      several (columns ``(cohort, "treated")``, ...);
    * ``placebos`` -- synthetic control's placebo gaps (index period, one column per
      donor refitted as if it were treated), or ``None``.
    """

    weights: pd.DataFrame | None = None
    time_weights: pd.DataFrame | None = None
    paths: pd.DataFrame | None = None
    placebos: pd.DataFrame | None = None
