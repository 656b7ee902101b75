"""What a euro bought: the grant effect per EUR 1,000, checked by hand, and the truth
per EUR 1,000 recovered on simulated data."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import evaluatie as ev
from evaluatie.core.language import use_language
from evaluatie.core.results import Overall, Result
from evaluatie.studies.innovatiebudget import cost
from evaluatie.synth.truth import known_effect


def _result(estimate: float, low: float, high: float) -> Result:
    return Result(pd.DataFrame(), "test", overall=Overall(estimate, 0.1, 0.01, low, high))


def _panel() -> pd.DataFrame:
    # two grant schools (EUR 10,000 and 30,000; 100 and 300 pupils), one without
    return pd.DataFrame(
        {
            "vestiging": ["a", "a", "b", "b", "c", "c"],
            "cohort": [2019, 2019, 2020, 2020, 0, 0],
            "subsidie_bedrag": [10_000.0, 10_000.0, 30_000.0, 30_000.0, 0.0, 0.0],
            "n_leerlingen": [90, 110, 300, 300, 50, 50],
        }
    )


def test_effect_per_thousand_by_hand() -> None:
    c = cost.grant_cost(_result(2.0, 1.0, 3.0), _panel(), mde=0.8, truth=1.5)
    assert c.amount == 20_000 and c.per_pupil == pytest.approx(20_000 / 200)
    assert (c.estimate, c.ci_low, c.ci_high) == pytest.approx((0.1, 0.05, 0.15))
    assert c.mde == pytest.approx(0.04) and c.truth == pytest.approx(0.075)
    # one point costs amount / effect = EUR 10,000, between 20,000 / 3 and 20,000 / 1
    assert c.per_point == pytest.approx((10_000, 20_000 / 3, 20_000))
    with use_language("nl"):
        text = " ".join(cost.cost_sentences(c, subject="de score", unit="punten", percent=False))
    assert "+0,100 punten (95%-BI +0,050 tot +0,150)" in text and "€20.000" in text
    assert "€10.000 per school (tussen €6.667 en €20.000)" in text


def test_no_price_where_the_interval_holds_zero() -> None:
    c = cost.grant_cost(_result(0.5, -0.5, 1.5), _panel(), mde=math.inf)
    assert c.per_point is None and c.mde is None
    with use_language("nl"):
        text = cost.cost_sentences(c, subject="de score", unit="punten", percent=False)[-1]
    assert "geen bovengrens" in text
    with use_language("nl"):
        table = cost.cost_table(c, unit="punten")
    assert table.index.name == "per €1.000 subsidie" and list(table.index) == ["effect (punten)"]


def test_truth_per_thousand_is_recovered_on_simulated_data(small_raw: Path) -> None:
    from evaluatie.studies import innovatiebudget as study

    panel = study.study_panel(
        ev.load_panel(small_raw), outcome="eindtoets", first_year=2014, last_year=2023,
        gemeenten=None, cluster="gemeente",
    )  # fmt: skip
    fit = ev.twfe(panel, outcome="eindtoets", treatment="treated", unit="vestiging",
                  time="jaar", cluster="gemeente_code", inference="analytic")  # fmt: skip
    truth = known_effect(small_raw, "eindtoets", sample=panel)
    c = cost.grant_cost(fit, panel, truth=truth)
    se = fit.headline().se * 1000 / c.amount
    assert abs(c.estimate - c.truth) < 3 * se
    assert c.ci_low > 0  # the effect is there, per euro too
