"""The eindtoets provider as a parameter: the standardised scale across providers and
the 2023-24 switch, its truth in standard deviations by hand and recovered, its unit in
the report's words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import evaluatie as ev
from evaluatie.sources.outcomes import outcome_info
from evaluatie.studies import innovatiebudget as study
from evaluatie.synth.truth import known_effect, load_truth


def test_standardised_eindtoets_reads_in_standard_deviations() -> None:
    assert outcome_info("eindtoets").units[0] == "punten"
    z = outcome_info("eindtoets", "standardised")
    assert z.units == ("standaardafwijking", "standard deviations") and z.kind == "score"
    assert outcome_info("rekenen_1s", "standardised").units[0] == "procentpunt"


def test_truth_on_the_standardised_scale_by_hand(small_raw: Path) -> None:
    """Each treated school-year's effect on its own provider's scale divided by the SD
    that provider's school means had that year (CET to 2022-23, LIB in 2023-24)."""
    panel = study.study_panel(
        ev.load_panel(small_raw, "standardised"), outcome="eindtoets", first_year=2014,
        last_year=2024,
    )  # fmt: skip
    scales = panel.attrs["scales"]
    assert {"CET 2018-2019", "LIB 2023-2024"} <= set(scales)
    truth = load_truth(small_raw)
    treated = panel[(panel["cohort"] > 0) & (panel["jaar"] >= panel["cohort"])].dropna(
        subset=["eindtoets"]
    )
    by_hand = []
    for (cohort, jaar), rows in treated.groupby(["cohort", "jaar"]):
        cell = truth[(truth["cohort"] == cohort) & (truth["jaar"] == jaar)].iloc[0]
        by_hand += [float(cell["tau"]) / scales[f"{cell['aanbieder']} {cell['schooljaar']}"]] * len(
            rows
        )
    assert known_effect(small_raw, "eindtoets", sample=panel) == pytest.approx(np.mean(by_hand))


def test_standardised_effect_recovered(full_raw: Path) -> None:
    panel = study.study_panel(
        ev.load_panel(full_raw, "standardised"), outcome="eindtoets", first_year=2014,
        last_year=2024,
    )  # fmt: skip
    truth = known_effect(full_raw, "eindtoets", sample=panel)
    fit = ev.twfe(
        panel, outcome="eindtoets", treatment="treated", unit="vestiging", time="jaar",
        cluster="gemeente_code",
    )  # fmt: skip
    o = fit.headline()
    assert 0.1 < truth < 0.4 and abs(o.estimate - truth) < 3 * o.se
    assert study.headline(fit, "eindtoets", "standardised").unit == "standaardafwijking"
