"""The known truth of a simulated raw-data folder, for the reports and the tests.

A folder written by :func:`~evaluatie.synth.simulate.simulate` carries its true effects
(``innovatiebudget-waarheid.csv``, ``vve-waarheid.csv``) and its arguments
(``manifest.json``); a user's real data carry none, and every function here then says so
(``None`` or ``False``) instead of inventing one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.core.errors import ParameterError
from evaluatie.sources.duo import read_duo
from evaluatie.sources.layouts import WAARHEID
from evaluatie.sources.layouts_extra import POVO_WAARHEID, VSV_WAARHEID, VVE_WAARHEID
from evaluatie.sources.vve import VVE_OUTCOMES, outcome_column
from evaluatie.synth import _sim_vsv, _sim_vve
from evaluatie.synth.files import (
    MANIFEST_FILE,
    POVO_WAARHEID_FILE,
    VSV_WAARHEID_FILE,
    VVE_WAARHEID_FILE,
    WAARHEID_FILE,
    SimulationManifest,
)


def is_simulated(raw_dir: str | Path = "data/raw") -> bool:
    """True when ``raw_dir`` holds simulated data with its truth file (not a user's data)."""
    return (Path(raw_dir) / WAARHEID_FILE).is_file()


def load_truth(raw_dir: str | Path = "data/raw") -> pd.DataFrame:
    """Read ``innovatiebudget-waarheid.csv`` from a simulated folder (tidy column names)."""
    return read_duo(Path(raw_dir) / WAARHEID_FILE, WAARHEID)


def true_att(
    truth: pd.DataFrame,
    provider: str = "CET",
    by: str | None = None,
    window: tuple[int, int] | None = None,
    sample: pd.DataFrame | None = None,
    scales: Mapping[str, float] | None = None,
) -> float | pd.Series:
    """The true ATT over treated school-years with an observed ``provider`` mean.

    ``sample`` (a panel with ``cohort``, ``jaar`` and the outcome ``eindtoets``) limits
    the average to the treated school-years of that sample with an observed outcome, each
    counted once: the truth of exactly what a run estimates (a run on one gemeente's
    schools has its own mix of grant waves and years, not the national one).

    ``truth`` as :func:`load_truth` returns it. ``by="rel_time"`` (the file's
    ``EVENT_TIJD``) or ``"cohort"`` gives a Series of the same average within each group.
    With ``by="rel_time"``, ``window=(lower, upper)`` bins relative times as
    :func:`evaluatie.event_study` bins them (``>= upper`` counts as ``upper``), so the
    truth of an endpoint is the average over every school-year it pools.

    ``scales`` (``load_panel(provider="standardised")``'s ``attrs["scales"]``: the SD of
    each provider's school means per school year, ``"CET 2018-2019"``) puts the truth on
    the standardised scale: each year's effect, on its own provider's scale, divided by
    that SD, every provider counted (``provider`` is then ignored).
    """
    if by not in (None, "rel_time", "cohort"):
        raise ParameterError(f"by must be None, 'rel_time' or 'cohort', got {by!r}")
    if window is not None and by != "rel_time":
        raise ParameterError("window bins relative times: it needs by='rel_time'")
    if scales is None:
        cells = truth[(truth["event_tijd"] >= 0) & (truth["aanbieder"] == provider)]
    else:
        cells = truth[truth["event_tijd"] >= 0]
        # a provider x year without a scale had no usable school means: no cell counts
        keys = cells["aanbieder"] + " " + cells["schooljaar"]
        cells = cells[keys.isin(list(scales))]
        cells = cells.assign(tau=cells["tau"].astype(float) / keys[cells.index].map(scales))
    if sample is not None:
        treated = sample[(sample["cohort"] > 0) & (sample["jaar"] >= sample["cohort"])].dropna(
            subset=["eindtoets"]
        )
        counts = treated.groupby(["cohort", "jaar"]).size().rename("n_sample").reset_index()
        cells = cells.merge(counts, on=["cohort", "jaar"], how="inner")
        cells = cells.assign(n_waargenomen=cells["n_sample"])
    cells = cells[cells["n_waargenomen"] > 0]
    if cells.empty:
        raise ParameterError(f"no treated cells with an observed {provider} mean")
    weight = cells["n_waargenomen"].astype(float)
    if by is None:
        return float(np.average(cells["tau"].astype(float), weights=weight))
    group = cells["event_tijd" if by == "rel_time" else by].rename(by)
    if window is not None:
        group = group.clip(window[0], window[1])
    return (cells["tau"].astype(float) * weight).groupby(group).sum() / weight.groupby(group).sum()


def known_effect(
    raw_dir: str | Path,
    outcome: str,
    by: str | None = None,
    window: tuple[int, int] | None = None,
    sample: pd.DataFrame | None = None,
) -> float | pd.Series | None:
    """The true eindtoets effect when ``raw_dir`` holds simulated data, else ``None``.

    Only the eindtoets (CET) has a simulated grant effect; for other outcomes, or a
    user's real data, there is no truth to show. ``by``, ``window`` and ``sample`` as in
    :func:`true_att`; a ``sample`` on the standardised scale (its ``attrs``, as
    :func:`~evaluatie.load_panel` sets them) gets the truth in standard deviations.
    """
    if outcome != "eindtoets" or not is_simulated(raw_dir):
        return None
    provider = str(sample.attrs.get("provider", "CET")).upper() if sample is not None else "CET"
    scales = None
    if provider == "STANDARDISED":
        scales = sample.attrs.get("scales") or {}  # type: ignore[union-attr]
    truth = load_truth(raw_dir)
    return true_att(truth, provider, by=by, window=window, sample=sample, scales=scales)


def load_vve_truth(raw_dir: str | Path = "data/raw") -> pd.DataFrame:
    """Read ``vve-waarheid.csv`` from a simulated folder (tidy column names)."""
    path = Path(raw_dir) / VVE_WAARHEID_FILE
    if not path.is_file():
        raise ParameterError(f"{raw_dir} holds no {VVE_WAARHEID_FILE}: not a VVE simulation")
    return read_duo(path, VVE_WAARHEID)


def _vve_params(source: str | Path | SimulationManifest | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, SimulationManifest):
        params: Mapping[str, Any] = source.params
    elif isinstance(source, Mapping):
        params = source.get("params", source)
    else:
        path = Path(source)
        path = path / MANIFEST_FILE if path.is_dir() else path
        if not path.is_file():
            raise ParameterError(f"no simulation manifest at {path}")
        params = json.loads(path.read_text(encoding="utf-8"))["params"]
    if not params.get("vve") or "vve_effect" not in params:
        raise ParameterError("these simulation parameters have no VVE part (vve_effect)")
    return dict(params)


def true_dose_response(
    source: str | Path | SimulationManifest | Mapping[str, Any],
    outcome: str,
    dose: float | Sequence[float] | np.ndarray,
    years: Sequence[int],
) -> np.ndarray:
    """The true VVE effect averaged over measured ``years`` at policy dose ``dose``.

    ``source`` is a simulated folder (or its ``manifest.json``), a manifest or its
    params. ``dose`` is a gemeente's policy dose D = (funding per target child in 2022
    - in 2018) / 1000; the result is mean_t f_o(phi_o(t) D) (module docstring) in
    points (``groep3``) or percentage points (``kleuterverlenging``), one per dose.
    """
    if outcome not in VVE_OUTCOMES:
        raise ParameterError(
            f"outcome {outcome!r} has no simulated VVE effect; use one of {sorted(VVE_OUTCOMES)}"
        )
    years = [int(t) for t in years]
    if not years:
        raise ParameterError("years: give at least one measured year")
    params = _vve_params(source)
    slope, saturation = float(params["vve_effect"][outcome]), float(params["vve_saturation"])
    d = np.asarray(dose, dtype="float64")
    effects = [
        _sim_vve.dose_response(_sim_vve.phi(outcome, t) * d, slope, saturation) for t in years
    ]
    return np.mean(effects, axis=0)


def known_dose_response(
    raw_dir: str | Path, outcome: str, dose: np.ndarray, years: tuple[int, ...]
) -> pd.Series | None:
    """The true ATT(d) averaged over measured ``years`` on simulated data, else ``None``.

    Only a folder written by :func:`evaluatie.synth.simulate.simulate` has a VVE truth;
    for a user's real data there is nothing to compare with.
    """
    outcome_column(outcome)
    if not (Path(raw_dir) / VVE_WAARHEID_FILE).is_file():
        return None
    dose = np.asarray(dose, dtype=float)
    values = true_dose_response(raw_dir, outcome, dose, years)
    return pd.Series(values, index=pd.Index(dose, name="dose"), name="truth")


#: The truth file's row for all school types together.
TOTAAL = _sim_vsv.TOTAAL


def known_vsv_effect(
    raw_dir: str | Path,
    *,
    gemeenten: Sequence[str],
    years: Sequence[int],
    onderwijssoort: str | Sequence[str] = _sim_vsv.TOTAAL,
    pooled: bool = False,
) -> float | None:
    """The true effect (percentage points) of the simulated VSV programme on ``gemeenten``
    over ``years``, or ``None`` on a user's data (no ``vsv-waarheid.csv``).

    Each year's effect is averaged over the gemeenten, equally or -- ``pooled``: the
    effect on the rate of the gemeenten taken together, as a region's rate is -- weighted
    by their pupils; the years are then averaged equally, as the synthetic designs
    average their post periods. Gemeenten outside the programme have effect 0. Several
    ``onderwijssoort`` values (school types) are pooled by their pupils.
    """
    types = [onderwijssoort] if isinstance(onderwijssoort, str) else list(onderwijssoort)
    if len(types) > 1 and not pooled:
        raise ParameterError("several school types are averaged by their pupils: pooled=True")
    path = Path(raw_dir) / VSV_WAARHEID_FILE
    if not path.is_file():
        return None
    if not years:
        raise ParameterError("a true effect needs at least one year after the start")
    truth = read_duo(path, VSV_WAARHEID)
    rows = truth[
        truth["gemeente_code"].isin(list(gemeenten))
        & truth["jaar"].isin([int(y) for y in years])
        & truth["onderwijssoort"].isin(types)
    ]
    if rows.empty:
        return 0.0
    if rows["gemeente_code"].nunique() < len(set(gemeenten)) and pooled:
        raise ParameterError(
            "a pooled true effect needs every gemeente's pupils; only the programme's "
            f"gemeenten have them ({sorted(set(gemeenten) - set(rows['gemeente_code']))} have not)"
        )
    n_units = len(set(gemeenten))

    def year_effect(year: pd.DataFrame) -> float:
        tau = year["tau"].to_numpy(dtype=float)
        if pooled:
            return float(np.average(tau, weights=year["deelnemers"].to_numpy(dtype=float)))
        return float(tau.sum() / n_units)

    # A year outside the truth file had no programme: it adds 0 to the sum.
    per_year = [year_effect(group) for _, group in rows.groupby("jaar")]
    return float(np.sum(per_year) / len(set(years)))


def known_povo_effect(
    raw_dir: str | Path, *, gemeente: str, years: Sequence[int], outcome: str
) -> float | None:
    """The true effect (percentage points) of the simulated transition programme on
    ``gemeente``'s ``outcome`` (``afstroom_percentage`` or ``opstroom_percentage``),
    averaged equally over ``years``; ``None`` on a user's data. The programme changes
    only the share below the advice: the truth for the share above it is 0."""
    path = Path(raw_dir) / POVO_WAARHEID_FILE
    if not path.is_file():
        return None
    if not years:
        raise ParameterError("a true effect needs at least one year after the start")
    if outcome != "afstroom_percentage":
        return 0.0
    truth = read_duo(path, POVO_WAARHEID)
    rows = truth[(truth["gemeente_code"] == gemeente) & truth["jaar"].isin([int(y) for y in years])]
    return float(rows["tau_lager"].sum() / len(set(years)))
