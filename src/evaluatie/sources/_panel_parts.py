"""Pieces of :func:`evaluatie.sources.panel.load_panel`: outcome rows, shares, and merges.

Each function takes frames as :func:`~evaluatie.sources.duo.read_duo` returns them and
adds columns to the panel; unmatched treatment rows are reported, never dropped silently.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from evaluatie.core.errors import DataFormatError, DataQualityWarning
from evaluatie.sources.layouts import PROVIDERS_2022, PROVIDERS_2023

PROVIDERS = tuple(dict.fromkeys(PROVIDERS_2022 + PROVIDERS_2023))
#: ``provider=`` value for the within-provider z-score scale (see :func:`standardised`).
STANDARDISED = "STANDARDISED"
#: A provider x year with fewer usable school means is not standardised (SD unreliable).
MIN_SCHOOLS_Z = 20
# A suppressed count ("<5") is one of 1..4; shares use the midpoint.
SUPPRESSED_COUNT = 2.5
#: Referentieniveau domains: file prefix, panel name, levels counted as the target.
#: For rekenen 1S and 2F both count (2F is "0" in recent files, not in older ones).
DOMAINS = (
    ("lv", "lezen", ("2f",)),
    ("tv", "taalverzorging", ("2f",)),
    ("rekenen", "rekenen", ("1s", "2f")),
)


def eindscores_rows(
    frame: pd.DataFrame, year: str, provider: str
) -> tuple[pd.DataFrame, list[str], dict[str, float]]:
    """Panel rows of one eindscores file; also the provider groups too small to
    standardise and, on the standardised scale, the SD each provider's means were
    divided by (``"CET 2019-2020": 3.5``)."""
    n = len(frame)
    small: list[str] = []
    scales: dict[str, float] = {}
    if provider == STANDARDISED:
        score, takers, suppressed, small, scales = standardised(frame, year)
    elif f"{provider.lower()}_gem" in frame:
        p = provider.lower()
        score = frame[f"{p}_gem"]
        takers = frame[f"{p}_aantal"]
        suppressed = frame[f"{p}_aantal_suppressed"]
    else:
        score, takers, suppressed = (
            np.full(n, np.nan),
            pd.array([pd.NA] * n, "Int64"),
            np.zeros(n, bool),
        )
    rows = pd.DataFrame(
        {
            "vestiging": frame["vestiging"],
            "instellingscode": frame["instellingscode"],
            "vestigingscode": frame["vestigingscode"],
            "schooljaar": year,
            "jaar": int(year[5:]),
            "gemeente_code": frame.get("gemeente_code", pd.NA),
            "gemeente_naam": frame.get("gemeentenaam", pd.NA),
            "soort_po": frame.get("soort_po", pd.NA),
            "eindtoets": score,
            "eindtoets_n": takers,
            "eindtoets_suppressed": suppressed,
        }
    )
    return rows, small, scales


def standardised(
    frame: pd.DataFrame, year: str
) -> tuple[np.ndarray, pd.arrays.IntegerArray, np.ndarray, list[str], dict[str, float]]:
    """Within provider x year z-scores of the school means, combined per school.

    For each provider in the file, the published school means (takers > 0, not
    suppressed) are standardised by that provider's mean and SD (ddof=1) over the
    schools in this year, unweighted: z = (mean - mean_p) / sd_p. A school with more
    than one provider gets the takers-weighted average of its z-scores. Returns the
    scores, the takers behind them (``Int64``), "suppressed" (no usable mean but a
    ``<5`` count), the provider groups with fewer than :data:`MIN_SCHOOLS_Z`
    schools, which are left out, and each used provider's SD (``"CET 2019-2020"``).
    """
    n = len(frame)
    z_sum, weight = np.zeros(n), np.zeros(n)
    any_suppressed = np.zeros(n, dtype=bool)
    small: list[str] = []
    scales: dict[str, float] = {}
    for p in (p.lower() for p in PROVIDERS):
        if f"{p}_gem" not in frame:
            continue
        mean = frame[f"{p}_gem"].to_numpy(dtype="float64")
        takers = frame[f"{p}_aantal"].to_numpy(dtype="float64", na_value=np.nan)
        any_suppressed |= frame[f"{p}_aantal_suppressed"].to_numpy(dtype=bool)
        usable = ~np.isnan(mean) & (np.nan_to_num(takers) > 0)
        if 0 < usable.sum() < MIN_SCHOOLS_Z:
            small.append(f"{p.upper()} {year} ({int(usable.sum())} schools)")
        if usable.sum() < MIN_SCHOOLS_Z or mean[usable].std(ddof=1) == 0:
            continue
        scales[f"{p.upper()} {year}"] = float(mean[usable].std(ddof=1))
        z = (mean - mean[usable].mean()) / scales[f"{p.upper()} {year}"]
        z_sum += np.where(usable, z * np.nan_to_num(takers), 0.0)
        weight += np.where(usable, np.nan_to_num(takers), 0.0)
    used = weight > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(used, z_sum / weight, np.nan)
    takers_out = pd.array(np.where(used, weight, 0).astype("int64"), dtype="Int64")
    takers_out[~used] = pd.NA
    return score, takers_out, ~used & any_suppressed, small, scales


def shares(frame: pd.DataFrame, year: str) -> pd.DataFrame:
    """Shares of pupils with a level; suppressed counts count as 2.5 (midpoint of 1-4)."""
    out = pd.DataFrame({"vestiging": frame["vestiging"], "schooljaar": year})
    any_suppressed = np.zeros(len(frame), dtype=bool)
    for dom, name, top in DOMAINS:
        parts = {}
        for level in ("lager1f", "1f", *top):
            c = f"{dom}_{level}"
            if c not in frame:
                continue
            flag = frame[f"{c}_suppressed"].to_numpy(dtype=bool)
            any_suppressed |= flag
            values = frame[c].to_numpy(dtype="float64", na_value=np.nan)
            parts[level] = np.where(flag, SUPPRESSED_COUNT, values)
        target = sum(parts[t] for t in top if t in parts)
        total = parts["lager1f"] + parts["1f"] + target
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_ge1f"] = np.where(total > 0, (parts["1f"] + target) / total, np.nan)
            out[f"{name}_{top[0]}"] = np.where(total > 0, target / total, np.nan)
    out["referentieniveau_suppressed"] = any_suppressed
    return out


def fill_gemeente(panel: pd.DataFrame, frames: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """Fill a missing gemeente from other files of the *same* school year.

    ``frames`` maps a school year to files of that year (referentieniveaus,
    schooladviezen) that carry a gemeente. So a vestiging's gemeente in a year is the
    one DUO recorded that year: after a merger, earlier years keep the old code.
    """
    for year, files in frames.items():
        rows = (panel["schooljaar"] == year).to_numpy()
        for frame in files:
            if "gemeente_code" not in frame:
                continue
            known = frame.drop_duplicates("vestiging").set_index("vestiging")
            for col, src in (("gemeente_code", "gemeente_code"), ("gemeente_naam", "gemeentenaam")):
                if src in known:
                    found = panel.loc[rows, "vestiging"].map(known[src])
                    panel.loc[rows, col] = panel.loc[rows, col].fillna(found)
    return panel


def add_schools(panel: pd.DataFrame, files: list[pd.DataFrame]) -> pd.DataFrame:
    """Pupils and schoolweging from the school file; it also fills a still missing gemeente."""
    _at_most_one(files, "school file")
    if not files:
        return panel.assign(
            n_leerlingen=pd.array([pd.NA] * len(panel), "Int64"), schoolweging=np.nan
        )
    school = files[0].set_index("vestiging")
    panel["n_leerlingen"] = panel["vestiging"].map(school["aantal_leerlingen"]).astype("Int64")
    panel["schoolweging"] = panel["vestiging"].map(school["schoolweging"]).astype("float64")
    # Older layouts have no gemeente or soort; the (timeless) school file fills them in.
    for col, src in (
        ("gemeente_code", "gemeente_code"),
        ("gemeente_naam", "gemeentenaam"),
        ("soort_po", "soort_po"),
    ):
        panel[col] = panel[col].fillna(panel["vestiging"].map(school[src]))
    return panel


def _at_most_one(files: list[pd.DataFrame], what: str) -> None:
    if len(files) > 1:
        raise DataFormatError(
            f"more than one {what}: {', '.join(f.attrs['path'] for f in files)}",
            path=files[1].attrs["path"],
        )


def _some(items: list[str], shown: int = 5) -> str:
    """The first ``shown`` items and how many more: a warning stays one readable line."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _report(message: str, path: str, column: str, unmatched: str) -> None:
    if unmatched == "error":
        raise DataFormatError(message, path=path, column=column)
    warnings.warn(f"{path}: {message}", DataQualityWarning, stacklevel=4)


def add_grants(panel: pd.DataFrame, files: list[pd.DataFrame], unmatched: str) -> pd.DataFrame:
    """``cohort`` and ``subsidie_bedrag`` from the grant table; report unmatched grants."""
    _at_most_one(files, "grant table")
    if not files:
        return panel.assign(cohort=0, subsidie_bedrag=0.0)
    grants = files[0]
    known = set(panel["vestiging"].unique())
    lost = grants[[v not in known for v in grants["vestiging"]]]
    if len(lost):
        pairs = zip(lost["vestiging"], lost["eerste_schooljaar"], strict=True)
        listed = _some([f"{v} ({y})" for v, y in pairs])
        message = f"{len(lost)} grant(s) for vestigingen in no eindscores file: {listed}"
        _report(message, grants.attrs["path"], "VESTIGINGSCODE", unmatched)
    g = grants.set_index("vestiging")
    cohort = g["eerste_schooljaar"].str[5:].astype("int64")
    panel["cohort"] = panel["vestiging"].map(cohort).fillna(0).astype("int64")
    panel["subsidie_bedrag"] = panel["vestiging"].map(g["bedrag"]).fillna(0.0).astype("float64")
    return panel


def add_budget(panel: pd.DataFrame, files: list[pd.DataFrame], unmatched: str) -> pd.DataFrame:
    """``oab_budget_eur`` and ``doelgroepkinderen`` per gemeente x jaar; report the rest.

    ``JAAR`` is matched to the panel's ``jaar`` (the calendar year in which the school
    year ends). Rows for a gemeente with no vestiging in the outcome data are listed:
    its code is likely wrong. Years are not checked: a budget table naturally spans
    other years than an outcome, and a gemeente's schools may open or close.
    """
    _at_most_one(files, "budget table")
    if not files:
        return panel.assign(
            oab_budget_eur=np.nan, doelgroepkinderen=pd.array([pd.NA] * len(panel), "Int64")
        )
    budget = files[0]
    known = set(panel["gemeente_code"].dropna())
    no_gemeente = sorted(set(budget["gemeente_code"]) - known)
    if no_gemeente:
        _report(
            f"budget rows not in the panel: {len(no_gemeente)} gemeente(n) with no vestiging "
            f"in the outcome data: {_some(no_gemeente)}",
            budget.attrs["path"],
            "GEMEENTECODE",
            unmatched,
        )
    b = budget.set_index(["gemeente_code", "jaar"])
    index = pd.MultiIndex.from_arrays([panel["gemeente_code"], panel["jaar"]])
    panel["oab_budget_eur"] = b["budget_eur"].reindex(index).to_numpy(dtype="float64")
    panel["doelgroepkinderen"] = b["doelgroepkinderen"].reindex(index).array
    return panel
