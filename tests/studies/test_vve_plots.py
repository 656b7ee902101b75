"""VVE plots draw what they say they draw (labels, curves per side, truth, shares)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from evaluatie.core.results import Result
from evaluatie.studies.vve.plots import budget_change_plot, dose_event_plot, dose_response_plot


@pytest.fixture(autouse=True)
def _close() -> None:
    yield
    plt.close("all")


pytestmark = pytest.mark.usefixtures("english")


def test_budget_change_plot_names_the_marked_gemeenten() -> None:
    doses = pd.DataFrame(
        {"budget_change_pct": [-20.7, 176.2, 5.0], "dose": [-3.1, 8.1, 0.2]},
        index=pd.Index(["GM0546", "GM0034", "GM0014"], name="gemeente_code"),
    )
    fig = budget_change_plot(
        doses, ["GM0546", "GM0034", "GM9999"], {"GM0546": "Leiden"}, comparison_band=0.5
    )
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    # GM9999 is not in the data: not drawn; names fall back to the code.
    # the budget change is a percentage and says so; a typographic minus, never a hyphen
    assert texts == [
        "Leiden (\u221220.7%)",
        "GM0034 (+176.2%)",
        "Leiden (\u22123.1)",
        "GM0034 (+8.1)",
    ]


def _curve(lo: float, hi: float) -> Result:
    d = np.linspace(lo, hi, 5)
    res = Result(table=pd.DataFrame(), method="x")
    res.curve = pd.DataFrame(  # type: ignore[attr-defined]
        {"dose": d, "att": 0.1 * d, "att_ci_low": 0.1 * d - 1, "att_ci_high": 0.1 * d + 1}
    )
    return res


def test_dose_response_plot_draws_each_side_and_its_truth() -> None:
    curves = {"gain": _curve(0.6, 9.0), "loss": _curve(-5.0, -0.6)}
    truth = {
        k: pd.Series(0.12 * c.curve["dose"].to_numpy(), index=c.curve["dose"])
        for k, c in curves.items()
    }
    ax = dose_response_plot(curves, truth=truth, slope=0.1, comparison_band=0.5)
    labels = [line.get_label() for line in ax.get_lines()]
    # one estimate and one truth line per side (legend entries once), plus the TWFE line
    assert (
        labels.count("ATT(d), continuous DiD") == 1
        and labels.count("true effect (simulation)") == 1
    )
    solid = [ln for ln in ax.get_lines() if ln.get_color() == ax.get_lines()[0].get_color()]
    assert len(solid) == 2 and "TWFE (linear)" in labels


def test_a_band_far_wider_than_the_intervals_is_cut_and_said_so() -> None:
    narrow, wide = _curve(0.6, 9.0), _curve(-5.0, -0.6)
    for res, width in ((narrow, 1.5), (wide, 40.0)):
        c = res.curve  # type: ignore[attr-defined]
        c["att_band_low"], c["att_band_high"] = c["att"] - width, c["att"] + width
    ax = dose_response_plot({"gain": narrow, "loss": wide})
    lo, hi = ax.get_ylim()
    assert -3.0 < lo < -1.5 and 1.5 < hi < 3.0  # the pointwise intervals, padded
    assert any("uniform band is cut" in t.get_text() for t in ax.texts)
    labels = ax.get_legend_handles_labels()[1]
    assert "95% uniform band (whole curve)" in labels
    # a band within the intervals' range leaves the axis alone and says nothing
    ax2 = dose_response_plot({"gain": _curve(0.6, 9.0)})
    assert not any("cut" in t.get_text() for t in ax2.texts)


def test_dose_event_plot_marks_the_reference_and_shares() -> None:
    table = pd.DataFrame(
        {
            "estimate": [0.0, 0.0, -0.1],
            "ci_low": [-0.1, np.nan, -0.2],
            "ci_high": [0.1, np.nan, 0.0],
        },
        index=pd.Index([2019, 2020, 2021], name="jaar"),
    )
    res = Result(table=table, method="x", meta={"reference": 2020})
    ax = dose_event_plot(res, share=pd.Series([0.0, 0.0, 0.25], index=[2019, 2020, 2021]))
    assert "reference 2020" in ax.get_xlabel()
    assert len(ax.figure.axes) == 2  # the share on a second axis


def test_focus_plot_draws_the_gemeente_beside_the_pupil_weighted_comparison_mean() -> None:
    from types import SimpleNamespace

    from evaluatie.studies.vve.plots import focus_plot

    rows = [
        ("GM0546", 2020, 10.0, 100, "loss"), ("GM0546", 2021, 12.0, 100, "loss"),
        ("GM0001", 2020, 8.0, 300, "comparison"), ("GM0001", 2021, 9.0, 300, "comparison"),
        ("GM0002", 2020, 4.0, 100, "comparison"), ("GM0002", 2021, 1.0, 100, "comparison"),
    ]  # fmt: skip
    gemeenten = pd.DataFrame(rows, columns=["gemeente_code", "jaar", "y", "n_pupils", "group"])
    study = SimpleNamespace(gemeenten=gemeenten, outcome="y", reference=2020)
    ax = focus_plot(study, "GM0546", "Leiden")  # type: ignore[arg-type]
    own, comparison = ax.get_lines()[:2]
    assert list(own.get_ydata()) == [10.0, 12.0] and own.get_label() == "Leiden"
    # by hand: (8*300 + 4*100) / 400 = 7.0 and (9*300 + 1*100) / 400 = 7.0
    assert list(comparison.get_ydata()) == [7.0, 7.0]
    assert focus_plot(study, "GM9999", "Nergens") is None  # type: ignore[arg-type]
