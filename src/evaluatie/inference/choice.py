"""Which inference to use: the ``inference=`` argument and the rule behind ``"auto"``.

Cluster-robust standard errors need many *treated* clusters, not just many clusters
(MacKinnon & Webb 2017, J. Applied Econometrics 32(2); Conley & Taber 2011). Measured
on the real DUO exam panel in ``tests/data`` (280 gemeenten, 9,552 exam programmes,
2020-2024; a placebo "policy" for a random set of gemeenten from 2021, 2022 or 2023,
true effect 0; share of 200 placebo draws with p < 0.05 for the TWFE coefficient,
clustered by gemeente)::

    treated gemeenten      1      2      3      5      8     12     20     40     84
    analytic CRV1      0.835  0.550  0.375  0.250  0.185  0.190  0.150  0.085  0.095
    wild (WCR)         0.000  0.000  0.000  0.055  0.055  0.090  0.115  0.055  0.070
    randomization (t)  0.045  0.050  0.045  0.050  0.020  0.050  0.080  0.045  0.055

(draws of 999; a rate's standard error is about 0.015). The analytic ``vcov="CR2"``
(Bell-McCaffrey df) does much better than CRV1 but is not exact either (1,000 placebo
draws with 84 and 12 treated, 500 with 40 and 3)::

    treated gemeenten      1      3     12     40     84
    analytic CRV1      0.881  0.352  0.159  0.094  0.073
    analytic CR2 + BM      -  0.030  0.076  0.068  0.059

The subcluster wild bootstrap (WCR with weights per exam programme, clustered by
gemeente; 200 placebo draws of 999) rejected 0.000, 0.070, 0.080, 0.045 and 0.050 with
1, 3, 12, 40 and 84 treated gemeenten: better than cluster-level weights with three,
still not usable with one, and no better than randomization anywhere.

With one treated gemeente CR2 equals CRV1 (88% as computed: the treated cluster has
leverage one), so it is left empty there (:mod:`evaluatie.inference.cr2`).
 The restricted wild bootstrap
never rejects with three or fewer treated gemeenten (as MacKinnon & Webb report) and
over-rejects between about 10 and 20; CRV1 over-rejects everywhere on this panel. The
randomization test stays within sampling error of 5% in every regime: it is exact when
the assignment was random, and otherwise assumes the gemeenten are exchangeable
(MacKinnon & Webb 2020, J. Econometrics 218(2)). Hence:

* ``"auto"`` is **randomization inference** (t statistic) wherever the estimator has it;
* an estimator with analytic inference only keeps it under ``"auto"`` when at least
  :data:`ANALYTIC_MIN_TREATED` clusters are treated and as many untreated, and otherwise
  shows no p-value at all (and says which design has one);
* ``"wild"`` and ``"analytic"`` stay available on request.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluatie.core.errors import ParameterError
from evaluatie.inference.randomization import Randomization
from evaluatie.inference.wild import WildBootstrap

#: The values ``inference=`` takes besides a :class:`WildBootstrap` or :class:`Randomization`.
NAMES = ("auto", "analytic", "wild", "randomization")
#: Fewer clusters than this: Webb's six-point weights instead of Rademacher.
WEBB_BELOW = 12
#: Analytic inference under "auto" (estimators without randomization inference) needs
#: this many treated and untreated clusters.
ANALYTIC_MIN_TREATED = 50

Method = str | WildBootstrap | Randomization


def parse(inference: object) -> Method:
    """Check an ``inference=`` argument: a name in :data:`NAMES` or a settings object."""
    if isinstance(inference, (WildBootstrap, Randomization)):
        return inference
    if inference in NAMES:
        return str(inference)
    raise ParameterError(
        f"inference={inference!r} is not known; use one of {NAMES}, or "
        "WildBootstrap(...) / Randomization(...) from evaluatie.inference"
    )


@dataclass(frozen=True)
class Choice:
    """The inference chosen and why, in one sentence."""

    method: Method
    reason: str


def choose(
    inference: Method,
    *,
    n_clusters: int,
    n_treated: int,
    unit: str = "clusters",
    randomization: bool = True,
) -> Choice:
    """Resolve ``"auto"`` (module docstring) and the names of explicit choices.

    ``randomization``: whether the estimator has randomization inference. Without it
    ``"auto"`` gives ``"analytic"`` only for designs with enough treated and untreated
    clusters, else ``"unavailable"``.
    """
    n_untreated = n_clusters - n_treated
    counts = f"{n_treated} treated and {n_untreated} untreated {unit}"
    if inference == "wild":
        return Choice(_wild(n_clusters), f"wild cluster bootstrap requested ({counts})")
    if inference == "randomization":
        return Choice(Randomization(), f"randomization inference requested ({counts})")
    if inference != "auto":
        return Choice(inference, f"{_label(inference)} requested ({counts})")
    if randomization:
        return Choice(
            Randomization(),
            f"{counts}: p-values from re-assigning the treatment among the {unit} "
            "(randomization inference), which kept its size on a real panel from 1 to 84 "
            "treated gemeenten where cluster-robust and bootstrap p-values did not",
        )
    if min(n_treated, n_untreated) >= ANALYTIC_MIN_TREATED:
        return Choice("analytic", f"{counts}: enough of both for cluster-robust inference")
    return Choice("unavailable", f"{counts}")


def same_fit(requested: object, procedure: str, method: str) -> bool:
    """Whether a fit made with ``inference=requested``, whose p-values came from
    ``procedure``, is the fit ``inference=method`` would give.

    The same name, or ``"auto"`` that gave randomization inference: :func:`choose` resolves
    both ``"auto"`` (wherever the estimator can randomize) and ``"randomization"`` to the
    default :class:`Randomization`, so the numbers are the same; only the reason in the
    note differs.
    """
    if requested == method:
        return True
    return requested == "auto" and method == "randomization" and procedure == "randomization"


def _wild(n_clusters: int) -> WildBootstrap:
    return WildBootstrap(weights="webb" if n_clusters < WEBB_BELOW else "rademacher")


def _label(method: Method) -> str:
    if isinstance(method, WildBootstrap):
        return f"wild cluster bootstrap ({method.name}, {method.weights} weights)"
    if isinstance(method, Randomization):
        return f"randomization inference ({method.statistic} statistic)"
    return "analytic inference"
