"""The VVE study end to end on simulated data: the estimators recover the known truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import evaluatie as ev
from evaluatie.studies.vve import design as vve
from evaluatie.synth.simulate import simulate
from evaluatie.synth.truth import true_dose_response


def _truth(raw: Path, study: vve.VveStudy, side: str) -> tuple[float, float, np.ndarray, float]:
    """True ATT^o, ACRT^o (pupil-weighted over the side's gemeenten), its dose grid, and
    the comparison group's own true effect (the estimand is relative to it)."""
    all_units = study.units
    units = all_units.query("group == @side")
    comp = all_units.query("group == 'comparison'")
    d, w = units["dose"].to_numpy(), units["pupils"].to_numpy()
    years = study.post_years
    # The comparison gemeenten moved a little too: the estimand is relative to them.
    base = np.average(
        true_dose_response(raw, study.outcome, comp["dose"].to_numpy(), years),
        weights=comp["pupils"].to_numpy(),
    )
    att = float(np.average(true_dose_response(raw, study.outcome, d, years), weights=w) - base)
    h = 1e-4
    slope = (
        true_dose_response(raw, study.outcome, d + h, years)
        - true_dose_response(raw, study.outcome, d - h, years)
    ) / (2 * h)
    return att, float(np.average(slope, weights=w)), vve.dose_grid(study, side), float(base)


def _fit(raw: Path, outcome: str) -> tuple[vve.VveStudy, dict]:
    study = ev.vve_study(ev.load_vve(raw), outcome=outcome)
    return study, vve.dose_response_by_side(study)


@pytest.mark.parametrize("outcome", ["kleuterverlenging", "groep3"])
def test_default_data_truth_inside_the_intervals(full_raw: Path, outcome: str) -> None:
    study, fits = _fit(full_raw, outcome)
    assert set(fits) == {"gain", "loss"}
    for side, fit in fits.items():
        att, acrt, grid, base = _truth(full_raw, study, side)
        t = fit.table
        assert t.loc["ATT_o", "ci_low"] <= att <= t.loc["ATT_o", "ci_high"], side
        assert t.loc["ACRT_o", "ci_low"] <= acrt <= t.loc["ACRT_o", "ci_high"], side
        curve = fit.curve
        truth = true_dose_response(full_raw, outcome, grid, study.post_years) - base
        np.testing.assert_allclose(vve.known_curve(study, full_raw, grid), truth, atol=1e-12)
        inside = (curve["att_ci_low"] <= truth) & (truth <= curve["att_ci_high"])
        assert inside.mean() >= 0.9, side


def test_a_larger_effect_is_found_and_recovered(tmp_path: Path) -> None:
    # Four to seven times the default slopes: the estimate must be clearly non-zero *and* agree
    # with the truth, so the check above is not passing only because intervals are wide.
    raw = tmp_path / "raw"
    simulate(raw, seed=5, scale=0.5, vve_effect={"kleuterverlenging": -1.0, "groep3": 0.8})
    for outcome in ("kleuterverlenging", "groep3"):
        study, fits = _fit(raw, outcome)
        fit = fits["gain"]  # most gemeenten gained
        att, acrt, _, _ = _truth(raw, study, "gain")
        row = fit.table.loc["ATT_o"]
        assert abs(row["estimate"]) > 3 * row["se"]  # detected
        assert abs(row["estimate"] - att) < 2.5 * row["se"]  # and right
        row = fit.table.loc["ACRT_o"]
        assert abs(row["estimate"] - acrt) < 2.5 * row["se"]
        # TWFE on the measured cohort's funding, in policy-dose units, is near the average
        # slope too (the response is only mildly concave over the observed exposures).
        twfe = ev.twfe(study.schools, outcome=outcome, treatment="exposure", unit="vestiging", time="jaar",
                       cluster="gemeente_code", weights=ev.sources.VVE_OUTCOMES[outcome].weight)  # fmt: skip
        per_dose = vve.mean_received_share(study) * twfe.table["estimate"].iloc[0]
        assert np.sign(per_dose) == np.sign(acrt)


@pytest.mark.slow
def test_monte_carlo_coverage_of_the_average_effect(tmp_path: Path) -> None:
    hits, z = [], []
    for seed in range(40):
        raw = tmp_path / f"raw{seed}"
        simulate(raw, seed=seed, scale=0.3)
        study, fits = _fit(raw, "kleuterverlenging")
        att, _, _, _ = _truth(raw, study, "gain")
        row = fits["gain"].table.loc["ATT_o"]
        hits.append(row["ci_low"] <= att <= row["ci_high"])
        z.append((row["estimate"] - att) / row["se"])
    assert 0.85 <= np.mean(hits) <= 1.0
    assert abs(np.mean(z)) < 3 / np.sqrt(len(z))  # no bias beyond sampling noise


@pytest.mark.slow
def test_uniform_band_covers_the_whole_true_curve(tmp_path: Path) -> None:
    """Issue 12: over 200 simulated VVE panels the 95% uniform band holds the whole true
    curve in 93-97% of them, for the ~275 gemeenten that gained and the ~25 that lost.
    Measured: 94.5% (gains) and 95.0% (losses); pointwise intervals hold the whole curve
    in 70.5% and 16.0%, and each dose in 94.0% and 81.0% on average. The assertion is
    the range an exact 95% band stays in with probability 0.99 over 200 draws
    (95% ± 2.58 binomial standard errors)."""
    draws = 200
    inside: dict[str, list[bool]] = {"gain": [], "loss": []}
    for seed in range(draws):
        raw = tmp_path / f"raw{seed}"
        simulate(raw, seed=seed, scale=0.3)
        study, fits = _fit(raw, "kleuterverlenging")
        for side, fit in fits.items():
            c = fit.curve
            truth = vve.known_curve(study, raw, c["dose"].to_numpy()).to_numpy()
            inside[side].append(
                bool(((c["att_band_low"] <= truth) & (truth <= c["att_band_high"])).all())
            )
        shutil.rmtree(raw)
    half = 2.58 * (0.95 * 0.05 / draws) ** 0.5
    for side, hits in inside.items():
        assert len(hits) == draws, side
        print(f"{side}: uniform band covers the whole curve in {np.mean(hits):.3f}")
        assert 0.95 - half <= np.mean(hits) <= 0.95 + half, side
