"""Goodman-Bacon (2021) decomposition: exactness against our TWFE, closed-form 2×2s and
weights from the paper's eq. (10a-g), diff-diff 3.13 as a black-box cross-check, data rules.

Convention differences from diff-diff's ``BaconDecomposition`` (pinned by tests below):

* always-treated units (cohort at or before the first period): diff-diff pools them with
  the never treated into one untreated group ``U``; we keep them apart as
  "treated vs already treated" rows. Per treated cohort, our two rows add up to its
  single "treated vs never" row (weights add, estimates average with those weights).
* cohorts after the last period: diff-diff keeps them as a timing group (rows
  "earlier vs later" ending in the last period); we pool them with the never treated
  (they are untreated throughout the sample). Same per-cohort identity as above.
* diff-diff's ``time_end`` of an "earlier vs later" row is the later cohort minus one
  (a calendar label, possibly in a gap); our ``window_end`` is the last *observed*
  period of the window.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import DesignError, ParameterError
from evaluatie.estimators.bacon import (
    EARLIER_VS_LATER,
    LATER_VS_EARLIER,
    TREATED_VS_ALWAYS,
    TREATED_VS_NEVER,
    TYPES,
    BaconResult,
    bacon,
)
from evaluatie.estimators.twfe import twfe

#: The columns every call here uses.
KEYS = {"cohort": "g", "outcome": "y", "time": "year", "unit": "id"}

PERIODS = tuple(range(2010, 2020))


def simulate(
    n: int = 300,
    seed: int = 0,
    cohorts: tuple[float, ...] = (0, 2013, 2015, 2017),
    gap: int | None = None,
    noise: float = 1.0,
    effect: float | None = None,
) -> pd.DataFrame:
    """Balanced panel, cohorts drawn with unequal probabilities (0 = never treated).

    Effects grow with event time and differ by cohort (``effect=None``) or are a
    constant ``effect``; ``noise=0`` gives ``y = α_i + λ_t + τ D_it`` exactly.
    """
    rng = np.random.default_rng(seed)
    periods = np.array([p for p in PERIODS if p != gap])
    prob = np.arange(1, len(cohorts) + 1, dtype=float)
    g = rng.choice(np.array(cohorts, dtype=float), size=n, p=prob / prob.sum())
    unit = np.repeat(np.arange(n), len(periods))
    t = np.tile(periods, n)
    gi = g[unit]
    treated = (gi > 0) & (t >= gi)
    if effect is None:
        tau = np.where(treated, (1 + (t - gi)) * (0.2 + (gi - 2000) / 50), 0.0)
    else:
        tau = effect * treated
    y = (
        rng.normal(size=n)[unit]
        + rng.normal(scale=0.5, size=len(periods))[np.searchsorted(periods, t)]
        + tau
        + noise * rng.normal(size=len(t))
    )
    return pd.DataFrame({"id": unit + 1000, "year": t, "g": gi, "y": y})


def twfe_beta(data: pd.DataFrame) -> float:
    g = data["g"].fillna(0.0)
    d = ((g > 0) & (data["year"] >= g)).astype(float)
    return float(
        twfe(data.assign(d=d), outcome="y", treatment="d", unit="id", time="year").coef["d"]
    )


# --- 1. exactness: Σ weight · estimate = TWFE ----------------------------------------

SCENARIOS = {
    "never_treated": {},
    "no_never_treated": {"cohorts": (2012, 2014, 2016, 2018)},
    "gap": {"gap": 2015, "cohorts": (0, 2013, 2016, 2018)},
    "gap_cohort_in_gap": {"gap": 2015, "cohorts": (0, 2013, 2015, 2016)},
    "always_and_late": {"cohorts": (0, 2005, 2010, 2013, 2016, 2030)},
    "always_no_never": {"cohorts": (2008, 2013, 2016)},
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_decomposition_sums_to_twfe(name: str) -> None:
    data = simulate(n=250, seed=len(name), **SCENARIOS[name])
    res = bacon(data, **KEYS)
    w = res.table["weight"].to_numpy()
    assert isinstance(res, BaconResult)
    assert (w > 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    beta = twfe_beta(data)
    assert float(w @ res.table["estimate"].to_numpy()) == pytest.approx(beta, abs=1e-10)
    assert res.twfe_estimate == pytest.approx(beta, abs=1e-12)
    assert abs(res.meta["decomposition_error"]) < 1e-10
    by = res.by_type()
    assert by["contribution"].sum() == pytest.approx(beta, abs=1e-10)
    assert by["n_comparisons"].sum() == len(res.table)
    assert set(res.table["type"]) <= set(TYPES)


def test_types_present() -> None:
    def types(kw: dict) -> set[str]:
        return set(bacon(simulate(**kw), **KEYS).table["type"])

    assert types({}) == {EARLIER_VS_LATER, LATER_VS_EARLIER, TREATED_VS_NEVER}
    assert types(SCENARIOS["no_never_treated"]) == {EARLIER_VS_LATER, LATER_VS_EARLIER}
    assert types(SCENARIOS["always_and_late"]) == set(TYPES)


def test_homogeneous_effect_every_two_by_two_equals_it() -> None:
    data = simulate(seed=3, noise=0.0, effect=0.7, cohorts=(0, 2009, 2012, 2015))
    res = bacon(data, **KEYS)
    np.testing.assert_allclose(res.table["estimate"], 0.7, rtol=0, atol=1e-10)
    assert res.twfe_estimate == pytest.approx(0.7, abs=1e-10)


# --- 2. closed form: two cohorts + never treated, four periods --------------------------


def test_hand_computed_two_by_twos_and_paper_weights() -> None:
    rng = np.random.default_rng(7)
    sizes = {0: 5, 2: 3, 3: 4}  # never treated, cohort 2, cohort 3 over periods 1..4
    g = np.repeat(list(sizes), list(sizes.values())).astype(float)
    n = g.size
    data = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), 4),
            "year": np.tile([1, 2, 3, 4], n),
            "g": np.repeat(g, 4),
            "y": rng.normal(size=4 * n).round(2),
        }
    )
    ybar = data.groupby(["g", "year"])["y"].mean().unstack()  # rows 0, 2, 3; columns 1..4

    def m(c: int, ts: list[int]) -> float:
        return float(ybar.loc[c, ts].mean())

    expected = {
        (TREATED_VS_NEVER, 2): (m(2, [2, 3, 4]) - m(2, [1])) - (m(0, [2, 3, 4]) - m(0, [1])),
        (TREATED_VS_NEVER, 3): (m(3, [3, 4]) - m(3, [1, 2])) - (m(0, [3, 4]) - m(0, [1, 2])),
        (EARLIER_VS_LATER, 2): (m(2, [2]) - m(2, [1])) - (m(3, [2]) - m(3, [1])),
        (LATER_VS_EARLIER, 3): (m(3, [3, 4]) - m(3, [2])) - (m(2, [3, 4]) - m(2, [2])),
    }
    # Goodman-Bacon (2021) eq. (10e-g): n = unit shares, D = share of treated periods
    nk, nl, nu = sizes[2] / n, sizes[3] / n, sizes[0] / n
    dk, dl = 3 / 4, 2 / 4

    def pair(a: float, b: float) -> float:  # (n_a + n_b)^2 n_ab (1 - n_ab)
        return (a + b) ** 2 * (a / (a + b)) * (b / (a + b))

    raw = {
        (TREATED_VS_NEVER, 2): pair(nk, nu) * dk * (1 - dk),
        (TREATED_VS_NEVER, 3): pair(nl, nu) * dl * (1 - dl),
        (EARLIER_VS_LATER, 2): ((nk + nl) * (1 - dl)) ** 2
        * pair(nk, nl)
        / (nk + nl) ** 2
        * (dk - dl)
        / (1 - dl)
        * (1 - dk)
        / (1 - dl),
        (LATER_VS_EARLIER, 3): ((nk + nl) * dk) ** 2
        * pair(nk, nl)
        / (nk + nl) ** 2
        * (dl / dk)
        * (dk - dl)
        / dk,
    }
    total = sum(raw.values())
    res = bacon(data, **KEYS)
    got = res.table.set_index(["type", "treated"])
    assert len(got) == 4
    for key, value in expected.items():
        assert got.loc[key, "estimate"] == pytest.approx(value, abs=1e-12)
        assert got.loc[key, "weight"] == pytest.approx(raw[key] / total, abs=1e-12)
    assert got.loc[(EARLIER_VS_LATER, 2), "control"] == 3
    assert got.loc[(LATER_VS_EARLIER, 3), ["window_start", "window_end"]].tolist() == [2, 4]
    assert pd.isna(got.loc[(TREATED_VS_NEVER, 2), "control"])
    closed_form = sum(raw[k] / total * expected[k] for k in expected)
    assert closed_form == pytest.approx(twfe_beta(data), abs=1e-12)


# --- 3. diff-diff as a black box ------------------------------------------------------

DD_TYPES = {
    "treated_vs_never": TREATED_VS_NEVER,
    "earlier_vs_later": EARLIER_VS_LATER,
    "later_vs_earlier": LATER_VS_EARLIER,
}


def diff_diff_bacon(data: pd.DataFrame) -> pd.DataFrame:
    diff_diff = pytest.importorskip("diff_diff")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its note on remapping always-treated units
        res = diff_diff.BaconDecomposition().fit(
            data, outcome="y", unit="id", time="year", first_treat="g"
        )
    tab = res.to_dataframe()
    return tab.assign(
        type=tab["comparison_type"].map(DD_TYPES),
        control=pd.to_numeric(tab["control_group"], errors="coerce"),
    )


@pytest.mark.parametrize("name", ["never_treated", "no_never_treated", "gap_cohort_in_gap"])
def test_matches_diff_diff(name: str) -> None:
    data = simulate(n=250, seed=len(name), **SCENARIOS[name])
    theirs = diff_diff_bacon(data)
    ours = bacon(data, **KEYS).table
    both = ours.astype({"treated": float, "control": float}).merge(
        theirs.rename(columns={"treated_group": "treated"}).astype({"treated": float}),
        on=["type", "treated", "control"],
        how="outer",
        suffixes=("", "_dd"),
    )
    assert len(both) == len(ours) == len(theirs)
    np.testing.assert_allclose(both["estimate"], both["estimate_dd"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(both["weight"], both["weight_dd"], rtol=0, atol=1e-10)
    np.testing.assert_array_equal(both["n_control"], both["n_control_dd"])


def test_diff_diff_pools_always_and_late_treated_with_never() -> None:
    data = simulate(n=250, seed=5, **SCENARIOS["always_and_late"])
    theirs = diff_diff_bacon(data)
    late = theirs["control"] == 2030
    ours = bacon(data, **KEYS).table
    untreated = ours["type"].isin([TREATED_VS_NEVER, TREATED_VS_ALWAYS])

    def per_cohort(tab: pd.DataFrame) -> pd.DataFrame:
        tab = tab.assign(we=tab["weight"] * tab["estimate"], treated=tab["treated"].astype(float))
        out = tab.groupby("treated")[["weight", "we"]].sum()
        return out.assign(estimate=out["we"] / out["weight"])

    theirs_u = theirs[(theirs["type"] == TREATED_VS_NEVER) | late]
    a = per_cohort(ours[untreated])
    b = per_cohort(theirs_u.rename(columns={"treated_group": "treated"}))
    np.testing.assert_allclose(a["weight"], b["weight"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=0, atol=1e-10)
    # the comparisons between timing groups coincide row by row
    pairs = ours[~untreated].astype({"treated": float, "control": float})
    other = theirs[~late & (theirs["type"] != TREATED_VS_NEVER)]
    merged = pairs.merge(
        other.rename(columns={"treated_group": "treated"}).astype({"treated": float}),
        on=["type", "treated", "control"],
        suffixes=("", "_dd"),
    )
    assert len(merged) == len(pairs) == len(other) == 2
    np.testing.assert_allclose(merged["estimate"], merged["estimate_dd"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(merged["weight"], merged["weight_dd"], rtol=0, atol=1e-10)


# --- 4. data rules ---------------------------------------------------------------------


def test_late_cohort_pooled_with_never_and_codes_of_never() -> None:
    data = simulate(n=200, seed=2, cohorts=(0, 2013, 2016, 2030))
    res = bacon(data, **KEYS)
    recoded = bacon(data.assign(g=data["g"].replace(2030, 0)), **KEYS)
    pd.testing.assert_frame_equal(res.table, recoded.table)
    assert res.meta["units_treated_after_last_period"] == int((data["g"] == 2030).sum() / 10)
    as_nan = bacon(data.assign(g=data["g"].replace(0, np.nan)), **KEYS)
    pd.testing.assert_frame_equal(as_nan.table, recoded.table)


def test_always_treated_meta_and_gap_cohorts_not_compared() -> None:
    data = simulate(n=200, seed=4, gap=2015, cohorts=(0, 2004, 2010, 2015, 2016))
    res = bacon(data, **KEYS)
    assert res.meta["always_treated_cohorts"] == [2004, 2010]
    assert res.meta["n_always_treated"] == int(data["g"].isin([2004, 2010]).sum() / 9)
    assert res.meta["periods"] == [p for p in PERIODS if p != 2015]
    pairs = set(zip(res.table["treated"], res.table["control"], strict=True))
    assert (2015, 2016) not in pairs and (2016, 2015) not in pairs  # same first period 2016


def test_summary_lists_types() -> None:
    res = bacon(simulate(seed=1), **KEYS)
    text = res.summary()
    for kind in (EARLIER_VS_LATER, LATER_VS_EARLIER, TREATED_VS_NEVER):
        assert kind in text
    assert f"{res.twfe_estimate:.6g}" in text


def test_unbalanced_panel_error_counts_units() -> None:
    data = simulate(n=50, seed=1)
    holes = data.index[data["id"].isin([1003, 1007, 1011])][::4]
    with pytest.raises(DesignError, match=r"3 of 50 units"):
        bacon(data.drop(index=holes), **KEYS)
    data.loc[5, "y"] = np.nan
    with pytest.raises(DesignError, match=r"1 of 50 units .* non-missing 'y'"):
        bacon(data, **KEYS)


def test_input_errors() -> None:
    data = simulate(n=40, seed=1)
    moving = data.copy()
    moving.loc[(moving["id"] == 1002) & (moving["year"] > 2015), "g"] = 2017.0
    with pytest.raises(DesignError, match="constant within each unit"):
        bacon(moving, **KEYS)
    with pytest.raises(DesignError, match="more than once"):
        bacon(pd.concat([data, data.iloc[[3]]]), **KEYS)
    with pytest.raises(ParameterError, match="not a column"):
        bacon(data, outcome="y", unit="id", time="year", cohort="cohort")
    with pytest.raises(DesignError, match="no unit becomes treated"):
        bacon(data.assign(g=0.0), **KEYS)
    with pytest.raises(DesignError, match="one treatment path"):
        bacon(data.assign(g=2014.0), **KEYS)
    with pytest.raises(ParameterError, match="distinct"):
        bacon(data, outcome="y", unit="id", time="year", cohort="year")
    with pytest.raises(ParameterError, match="DataFrame"):
        bacon(data.to_numpy(), **KEYS)  # type: ignore[arg-type]


def test_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evaluatie.plots.bacon import bacon_plot

    res = bacon(simulate(seed=2, cohorts=(0, 2008, 2013, 2016)), **KEYS)
    ax = bacon_plot(res)
    assert len(ax.collections) == res.table["type"].nunique() == 4
    offsets = np.vstack([c.get_offsets() for c in ax.collections])
    assert offsets.shape[0] == len(res.table)
    assert any(np.allclose(line.get_ydata(), res.twfe_estimate) for line in ax.get_lines())
    plt.close(ax.figure)
