"""Gelijke kansen in the innovatiebudget study: the schoolweging split by hand, the gap
table by hand, each band's known effect and their (zero) difference recovered on
simulated data, and the report's reasons where it gives no test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evaluatie as ev
from evaluatie.studies import innovatiebudget as study
from evaluatie.studies.innovatiebudget import gaps


@pytest.fixture(scope="module")
def panel(full_raw: Path) -> pd.DataFrame:
    return study.study_panel(
        ev.load_panel(full_raw), outcome="eindtoets", first_year=2014, last_year=2023
    )


def test_bands_split_at_the_median_schoolweging(panel) -> None:
    bands = gaps.weging_bands(panel)
    weging = panel.groupby("vestiging")["schoolweging"].mean()
    assert (bands[weging > weging.median()] == "meer").all()
    assert (bands[weging <= weging.median()] == "minder").all()
    assert gaps.weging_bands(panel.assign(schoolweging=np.nan)) is None


def test_gap_table_by_hand(panel) -> None:
    bands = gaps.weging_bands(panel)
    table = gaps.gap_table(panel, outcome="eindtoets", bands=bands)
    rows = panel[(panel["jaar"] == 2021) & (panel["cohort"] > 0)]
    band = rows["vestiging"].map(bands)
    by_hand = (
        rows.loc[band == "meer", "eindtoets"].mean()
        - rows.loc[band == "minder", "eindtoets"].mean()
    )
    assert table.loc[2021, "grant"] == pytest.approx(by_hand)
    assert table["other"].lt(0).all()  # more achterstand, lower scores (the simulator's DGP)


def test_band_effects_and_difference_recover_the_truth(panel, full_raw: Path) -> None:
    """The simulated effect does not depend on the schoolweging: each band's estimate is
    near its own truth and the difference near theirs (about 0)."""
    bands = gaps.weging_bands(panel)
    truth = gaps.band_truths(full_raw, outcome="eindtoets", panel=panel, bands=bands)
    assert truth is not None and abs(truth["difference"]) < 0.05
    effects = gaps.band_effects(panel, outcome="eindtoets", cluster="gemeente_code", bands=bands)
    for band, result in effects.items():
        o = result.headline()
        assert abs(o.estimate - truth[band]) < 3 * o.se, band
    diff = gaps.difference(
        panel, outcome="eindtoets", cluster="gemeente_code", bands=bands, draws=999, seed=1
    )
    assert diff.treated_clusters == 12 and diff.result is not None
    o = diff.result.headline()
    assert abs(o.estimate - truth["difference"]) < 3 * o.se
    # the interaction equals the difference of the two bands' own TWFE estimates
    by_band = effects["meer"].headline().estimate - effects["minder"].headline().estimate
    assert o.estimate == pytest.approx(by_band, abs=1e-8)
    table = gaps.band_table(effects, truth)
    assert list(table.index) == ["meer achterstand", "minder achterstand"]


def test_too_few_gemeenten_gives_no_test_and_says_why(panel) -> None:
    bands = gaps.weging_bands(panel)
    diff = gaps.difference(
        panel, outcome="eindtoets", cluster="gemeente_code", bands=bands, min_treated=13
    )
    assert diff.result is None and diff.reason == "few_clusters"
    sentence = gaps.difference_sentence(diff, unit="points")
    assert "12 gemeenten" in sentence and "37%" in sentence
