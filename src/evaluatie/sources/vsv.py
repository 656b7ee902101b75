"""Voortijdig schoolverlaten (VSV) per gemeente and per RMC region, in today's gemeenten.

Two tables are read: CBS's 84780NED (all school types together; layout
``vsv-cbs-84780NED``) and a table by school type (VO, MBO1, MBO2, MBO34; layout
``vsv-onderwijssoort``, FORMATS.md). Both publish each school year under the gemeente
codes of that year, so a series crosses every herindeling of the period: the counts of a
dissolved gemeente are added to its successor's (:func:`evaluatie.sources.rmc.fold_mergers`)
and the rate is recomputed from the counts, ``100 * vsv / pupils``. A region's rate is
the same ratio over its member gemeenten (:func:`region_rates`), which is what CBS and
DUO publish for RMC regions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evaluatie.core.errors import DataFormatError, DataQualityWarning
from evaluatie.core.memo import stored_read
from evaluatie.sources.duo import read_duo, require_values
from evaluatie.sources.examens import complete_series, one_file
from evaluatie.sources.layouts_extra import ONDERWIJSSOORTEN
from evaluatie.sources.rmc import fold_mergers, load_rmc_regions
from evaluatie.sources.tidy import read_vsv

COUNTS = ("leerlingen", "vsv")


def _rates(counts: pd.DataFrame, by: Sequence[str], *, complete: bool) -> pd.DataFrame:
    """``vsv_percentage`` from the counts (rows with pupils only), with ``complete`` the
    units with a row in every year only, and the unit's mean pupils per year as a
    time-invariant size (``leerlingen_gemiddeld``)."""
    # a count withheld in any part of a merged gemeente leaves the whole sum missing
    counts = counts.dropna(subset=list(COUNTS))
    counts = counts[counts["leerlingen"] > 0]
    out = counts.assign(vsv_percentage=100.0 * counts["vsv"] / counts["leerlingen"])
    if complete:
        out = complete_series(out, by)
    out["leerlingen_gemiddeld"] = out.groupby(["gemeente_code", *by])["leerlingen"].transform(
        "mean"
    )
    return out


@stored_read
def load_vsv_rates(raw_dir: str | Path = "data/raw", *, complete: bool = True) -> pd.DataFrame:
    """VSV per gemeente x jaar from the CBS table (84780NED layout) in ``raw_dir``, in
    today's gemeenten: ``gemeente_code, jaar, leerlingen, vsv, vsv_percentage`` (0-100)
    and ``leerlingen_gemiddeld``; with ``complete`` only gemeenten with counts in every
    year (a balanced panel), else every gemeente-year with pupils (to sum regions)."""
    rows = read_vsv(one_file(raw_dir, "vsv", "CBS VSV table (layout vsv-cbs-84780NED)"))
    counts = fold_mergers(rows, by=("jaar",), counts=COUNTS, divided="drop")
    return _rates(counts, (), complete=complete)


def load_vsv_by_type(raw_dir: str | Path = "data/raw", *, complete: bool = True) -> pd.DataFrame:
    """VSV per gemeente x jaar x ``onderwijssoort`` (VO, MBO1, MBO2, MBO34) from the table
    of layout ``vsv-onderwijssoort`` in ``raw_dir``, in today's gemeenten, with the same
    columns as :func:`load_vsv_rates` (``leerlingen`` are the file's ``DEELNEMERS``)."""
    path = one_file(raw_dir, "vsv_soort", "VSV table by school type (layout vsv-onderwijssoort)")
    frame = read_duo(path)
    require_values(frame, "onderwijssoort", ONDERWIJSSOORTEN, header="ONDERWIJSSOORT", path=path)
    bad = frame["vsv"] > frame["deelnemers"]
    if bad.any():
        first = frame[bad].iloc[0]
        raise DataFormatError(
            f"VSV exceeds DEELNEMERS for {first['gemeente_code']} {first['schooljaar']} "
            f"{first['onderwijssoort']} ({int(first['vsv'])} > {int(first['deelnemers'])})",
            path=path,
            column="VSV",
        )
    frame = frame.assign(
        jaar=frame["schooljaar"].str[5:].astype("int64"), leerlingen=frame["deelnemers"]
    )
    counts = fold_mergers(frame, by=("jaar", "onderwijssoort"), counts=COUNTS, divided="drop")
    return _rates(counts, ("onderwijssoort",), complete=complete)


def region_rates(rates: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """The RMC regions' VSV per jaar (and ``by``) from gemeente rows of
    :func:`load_vsv_rates` or :func:`load_vsv_by_type` (``complete=False``: every member
    counts in the years it has pupils, as in the regions' published figures): the same
    columns with the region's code (``RMC26``) as ``gemeente_code``, so the gemeente
    designs take it as the unit, and ``rmc_naam``; regions with a value in every year."""
    regions = load_rmc_regions()[["gemeente_code", "rmc_code", "rmc_naam"]]
    listed = rates["gemeente_code"].isin(regions["gemeente_code"])
    if not listed.all():
        codes = sorted(set(rates.loc[~listed, "gemeente_code"]))
        warnings.warn(
            "left out of the RMC regions (not in the shipped crosswalk, e.g. formed after "
            f"2022-23): {', '.join(codes)}",
            DataQualityWarning,
            stacklevel=2,
        )
    merged = rates[listed].merge(regions, on="gemeente_code", validate="many_to_one")
    years = merged["jaar"].nunique()
    short = merged.groupby(["gemeente_code", *by])["jaar"].transform("nunique") < years
    if short.any():
        codes = sorted(set(merged.loc[short, "gemeente_code"]))
        warnings.warn(
            "members without a count in every year, so their region's rate is made of other "
            f"gemeenten in some years: {', '.join(codes[:10])}"
            + (f" and {len(codes) - 10} more" if len(codes) > 10 else ""),
            DataQualityWarning,
            stacklevel=2,
        )
    keys = ["rmc_code", "rmc_naam", "jaar", *by]
    counts = merged.groupby(keys, as_index=False)[list(COUNTS)].sum()
    out = _rates(counts.rename(columns={"rmc_code": "gemeente_code"}), by, complete=True)
    return out.sort_values(["gemeente_code", *by, "jaar"], ignore_index=True)
