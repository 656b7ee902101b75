"""Gemeente x year VO exam pass rates from DUO's exam-results file.

DUO publishes candidates and passes per vestiging, onderwijstype, opleiding, school
year and sex ("Examenkandidaten en geslaagden", layout ``examens``; FORMATS.md). A
gemeente's pass rate is its passes over its candidates, summed over the cells of all
pupils (``TOTAAL``) whose counts are published: cells with fewer than 5 candidates or
passes are withheld (``<5``) and left out of both sums, so the rate describes the
published cells. ``jaar`` is the school year's end year (2019-2020 -> 2020), as in the
other panels.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from evaluatie.core.errors import DataFormatError, DataQualityWarning, ParameterError
from evaluatie.core.memo import stored_read
from evaluatie.sources._distinct import on_distinct
from evaluatie.sources.panel import files_by_kind
from evaluatie.sources.tidy import read_examens

#: The sex of the cells that count all pupils.
ALL_PUPILS = "TOTAAL"
#: The counts a pass rate is made of.
COUNTS = ("examenkandidaten", "geslaagden")


def one_file(raw_dir: str | Path, kind: str, what: str) -> Path:
    """The one file of layout kind ``kind`` in ``raw_dir`` (by its header; ``raw_dir``
    may also be the file), or a clear error naming ``what`` was looked for."""
    raw = Path(raw_dir)
    paths = files_by_kind(raw).get(kind, []) if raw.is_dir() else [raw]
    if not paths:
        raise DataFormatError(f"no {what} in this folder; see FORMATS.md", path=raw)
    if len(paths) > 1:
        raise DataFormatError(
            f"more than one {what} ({', '.join(p.name for p in paths)}); keep one", path=raw
        )
    return paths[0]


def exam_file(raw_dir: str | Path) -> Path:
    """The one exam-results file in ``raw_dir``, or a clear error."""
    return one_file(raw_dir, "examens", "DUO exam-results file (layout examens)")


def exam_level(exams: pd.DataFrame) -> pd.Series:
    """Each exam cell's level: ``VMBO-B``, ``VMBO-K``, ``VMBO-GT`` (the gemengde and
    theoretische leerweg: one exam level), ``HAVO`` or ``VWO``, from ``onderwijstype`` and
    the leerweg in ``opleiding`` (``"VMBO K - economie"``). The leerwerktraject (``VMBO
    LWT``) leads to a basisberoepsgerichte diploma and counts as ``VMBO-B``. A VMBO
    programme of no known leerweg is left without a level, with a
    :class:`~evaluatie.core.errors.DataQualityWarning` naming it."""
    level = per_distinct(exams["opleiding"], _programme_level)
    vmbo = exams["onderwijstype"] == "VMBO"
    unknown = sorted(exams.loc[vmbo & level.isna(), "opleiding"].unique())
    if unknown:
        warnings.warn(
            f"VMBO programmes of no known leerweg get no level: {', '.join(unknown[:5])}",
            DataQualityWarning,
            stacklevel=2,
        )
    return level.where(vmbo, exams["onderwijstype"]).rename("niveau")


def _programme_level(opleiding: pd.Series) -> pd.Series:
    """``VMBO-B/K/GT`` from the leerweg that opens a VMBO programme's name, else NaN."""
    leerweg = opleiding.str.extract(r"^VMBO\s+(LWT|[BKGT])\b", expand=False)
    return "VMBO-" + leerweg.replace({"LWT": "B", "G": "GT", "T": "GT"})


def _end_year(schooljaar: pd.Series) -> pd.Series:
    """``2019-2020`` -> 2020."""
    return schooljaar.str[5:].astype("int64")


def per_distinct(values: pd.Series, transform: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``transform(values)`` computed on the distinct values only and spread back over the
    rows (with the index and name of ``values``, the dtype ``transform`` gives): an exam
    file has tens of programme names and a handful of school years over 150,000 rows,
    and parsing them row by row took most of a pass-rate table's time."""
    done = on_distinct(
        values, lambda distinct: transform(pd.Series(distinct, dtype=values.dtype)).array
    )
    return pd.Series(done, index=values.index, name=values.name)


def exam_rates(exams: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Pass rates per gemeente x jaar (x ``by``) from
    :func:`~evaluatie.sources.tidy.read_examens`.

    Columns ``gemeente_code, jaar``, ``by``, ``examenkandidaten, geslaagden,
    slaagpercentage`` (0-100) and ``kandidaten_gemiddeld`` (the mean candidates per year:
    a time-invariant size); only series with a published count in every year. ``by`` may
    hold ``onderwijstype`` (VMBO, HAVO, VWO), ``niveau`` (:func:`exam_level`) and
    ``geslacht``: with ``geslacht`` the MAN and VROUW cells are summed, otherwise the
    cells of all pupils (TOTAAL). DUO withholds more cells by sex (fewer candidates per
    cell), so a rate by sex rests on fewer programmes than the rate of all pupils.
    """
    by = [by] if isinstance(by, str) else list(by)
    unknown = sorted(set(by) - {"onderwijstype", "niveau", "geslacht"})
    if unknown:
        raise ParameterError(
            f"exam rates split by onderwijstype, niveau or geslacht, not {unknown}"
        )
    sexes = ("MAN", "VROUW") if "geslacht" in by else (ALL_PUPILS,)
    keep = (
        exams["geslacht"].isin(sexes)
        & ~exams["examenkandidaten_suppressed"]
        & ~exams["geslaagden_suppressed"]
        & exams["gemeente_code"].notna()
    )
    cells = exams[keep]
    # only the keys asked for: the doorstroom design asks for ten tables of one file
    keyed: dict[str, Callable[[], pd.Series]] = {
        "gemeente_code": lambda: cells["gemeente_code"].astype(str),
        "jaar": lambda: per_distinct(cells["schooljaar"], _end_year),
        "onderwijstype": lambda: cells["onderwijstype"],
        "niveau": lambda: exam_level(cells),
        "geslacht": lambda: cells["geslacht"],
    }
    keys = ["gemeente_code", "jaar", *by]
    frame = pd.DataFrame(
        {key: keyed[key]().to_numpy() for key in keys}
        | {count: cells[count].astype("float64").to_numpy() for count in COUNTS}
    )
    out = frame.groupby(keys, as_index=False, sort=True)[list(COUNTS)].sum()
    out["slaagpercentage"] = 100.0 * out["geslaagden"] / out["examenkandidaten"]
    out = complete_series(out, by)
    size = out.groupby(["gemeente_code", *by])["examenkandidaten"].transform("mean")
    return out.assign(kandidaten_gemiddeld=size)


def complete_series(rates: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """The gemeenten (within each ``by`` group) of a gemeente x jaar table with a row in
    every year of the table."""
    n_years = rates["jaar"].nunique()
    complete = rates.groupby(["gemeente_code", *by])["jaar"].transform("size") == n_years
    return rates[complete].reset_index(drop=True)


@stored_read
def load_exam_rates(raw_dir: str | Path = "data/raw") -> pd.DataFrame:
    """:func:`exam_rates` of the exam-results file in ``raw_dir`` (read-only)."""
    return exam_rates(read_examens(exam_file(raw_dir)))
