"""Estimators. Each returns a :class:`evaluatie.core.results.Result` with a tidy ``.table``.

- :func:`twfe`: two-way fixed effects on an own within transformation (fixest-compatible
  CRV1 standard errors by default); :func:`dose_event_study`: TWFE in dose x period.
- :func:`event_study`: dynamic TWFE and heterogeneity-robust event studies (:mod:`.event`).
- :func:`att_gt`: Callaway & Sant'Anna (2021) group-time ATTs and their aggregations (:mod:`.did`).
- :func:`cont_did`: continuous-dose DiD of Callaway, Goodman-Bacon & Sant'Anna (2024) (:mod:`.contdid`).
- :func:`bacon`: Goodman-Bacon (2021) decomposition of the TWFE coefficient.
- :func:`single_unit_did`: one treated unit with a Conley-Taber placebo interval.
- :func:`synthetic_control` and :func:`synthetic_did`: synthetic comparisons for one or a
  few treated units (Abadie et al. 2010; Arkhangelsky et al. 2021) (:mod:`.synthetic`).
- :func:`honest_did`: Rambachan & Roth (2023) sensitivity of an event study to violations of
  parallel trends (:mod:`.honest`).
- :func:`mde`: the minimum detectable effect of a TWFE design, simulated on the panel.
- :func:`twfe_difference`: how much a TWFE effect differs between two groups of units.
"""

from evaluatie.estimators.bacon import bacon
from evaluatie.estimators.contdid import cont_did
from evaluatie.estimators.did import att_gt
from evaluatie.estimators.dose_event import dose_event_study
from evaluatie.estimators.event import event_study
from evaluatie.estimators.group_difference import twfe_difference
from evaluatie.estimators.honest import honest_did
from evaluatie.estimators.power import mde
from evaluatie.estimators.single_unit import single_unit_did
from evaluatie.estimators.synthetic import synthetic_control, synthetic_did
from evaluatie.estimators.twfe import twfe

__all__ = [
    "att_gt",
    "bacon",
    "cont_did",
    "dose_event_study",
    "event_study",
    "honest_did",
    "mde",
    "single_unit_did",
    "synthetic_control",
    "synthetic_did",
    "twfe",
    "twfe_difference",
]
