"""Staggered difference-in-differences: Callaway & Sant'Anna (2021) group-time ATTs.

* :func:`att_gt` — ATT(g,t) with doubly robust / IPW / regression 2×2 estimators
  (Sant'Anna & Zhao 2020), analytic or multiplier-bootstrap inference;
* :meth:`AttGtResult.aggregate` — simple, group, dynamic (event-study) and calendar
  aggregations; :meth:`AttGtResult.pretrend_test` — Wald pre-test.
"""

from .aggregate import AggregateResult
from .att_gt import AttGtResult, att_gt
from .drdid import dr_did, ipw_did, reg_did

__all__ = ["AggregateResult", "AttGtResult", "att_gt", "dr_did", "ipw_did", "reg_did"]
