"""Estimators. Each returns a :class:`evaluatie.results.Result` with a tidy ``.table``.

- :func:`twfe`, :func:`event_study`: two-way fixed effects on an own within transformation
  (fixest-compatible CRV1 standard errors by default).
- :func:`att_gt`: Callaway & Sant'Anna (2021) group-time ATTs and their aggregations.
- :func:`bacon`: Goodman-Bacon (2021) decomposition of the TWFE coefficient.
"""

from evaluatie.estimators.bacon import bacon
from evaluatie.estimators.did import att_gt
from evaluatie.estimators.event_study import event_study
from evaluatie.estimators.twfe import twfe

__all__ = ["att_gt", "bacon", "event_study", "twfe"]
