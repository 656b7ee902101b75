"""Gelijke kansen in the VVE study: the schoolweging split, each band's slope, and their
difference -- the simulated effect does not depend on the schoolweging, so the true
difference is 0 -- equal to the difference of the band slopes."""

from __future__ import annotations

from pathlib import Path

import pytest

import evaluatie as ev
from evaluatie.studies import vve


@pytest.mark.parametrize("outcome", ["kleuterverlenging", "groep3"])
def test_band_slopes_and_their_difference(full_raw: Path, outcome: str) -> None:
    study = ev.vve_study(ev.load_vve(full_raw), outcome=outcome)
    weging = vve.gaps.schoolweging(full_raw)
    bands = vve.gaps.weging_bands(study, weging)
    assert bands is not None and set(bands) == {"meer", "minder"}
    mine = weging.reindex(bands.index)
    assert (mine[bands == "meer"] > mine.median()).all()
    slopes = vve.gaps.band_slopes(study, bands)
    diff = vve.gaps.difference(study, bands).headline()
    by_band = slopes["meer"].headline().estimate - slopes["minder"].headline().estimate
    assert diff.estimate == pytest.approx(by_band, abs=1e-9)
    assert abs(diff.estimate) < 3 * diff.se  # the true difference is 0
    words = vve.gaps.sentences(
        slopes, vve.gaps.difference(study, bands), outcome="o", unit="u", simulated=True
    )
    assert "het ware verschil is 0" in words or "the true difference is 0" in words


def test_without_schoolweging_there_is_no_split(tmp_path: Path, small_raw: Path) -> None:
    assert vve.gaps.schoolweging(tmp_path) is None
    study = ev.vve_study(ev.load_vve(small_raw), outcome="groep3")
    assert vve.gaps.weging_bands(study, None) is None
