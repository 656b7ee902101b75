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

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evaluatie.core.errors import DataFormatError
from evaluatie.sources.panel import files_by_kind
from evaluatie.sources.tidy import read_examens

#: The sex of the cells that count all pupils.
ALL_PUPILS = "TOTAAL"


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


def exam_rates(exams: pd.DataFrame) -> pd.DataFrame:
    """Pass rates per gemeente x jaar from :func:`~evaluatie.sources.tidy.read_examens`.

    Columns ``gemeente_code, jaar, examenkandidaten, geslaagden, slaagpercentage``
    (0-100) and ``kandidaten_gemiddeld`` (the gemeente's mean candidates per year: a
    time-invariant size); only gemeenten with a published count in every year.
    """
    keep = (
        (exams["geslacht"] == ALL_PUPILS)
        & ~exams["examenkandidaten_suppressed"]
        & ~exams["geslaagden_suppressed"]
        & exams["gemeente_code"].notna()
    )
    cells = exams[keep]
    frame = pd.DataFrame(
        {
            "gemeente_code": cells["gemeente_code"].astype(str).to_numpy(),
            "jaar": cells["schooljaar"].str[5:].astype("int64").to_numpy(),
            "examenkandidaten": cells["examenkandidaten"].astype("float64").to_numpy(),
            "geslaagden": cells["geslaagden"].astype("float64").to_numpy(),
        }
    )
    out = frame.groupby(["gemeente_code", "jaar"], as_index=False, sort=True).sum()
    out["slaagpercentage"] = 100.0 * out["geslaagden"] / out["examenkandidaten"]
    out = complete_series(out)
    out["kandidaten_gemiddeld"] = out.groupby("gemeente_code")["examenkandidaten"].transform("mean")
    return out


def complete_series(rates: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """The gemeenten (within each ``by`` group) of a gemeente x jaar table with a row in
    every year of the table."""
    n_years = rates["jaar"].nunique()
    complete = rates.groupby(["gemeente_code", *by])["jaar"].transform("size") == n_years
    return rates[complete].reset_index(drop=True)


def load_exam_rates(raw_dir: str | Path = "data/raw") -> pd.DataFrame:
    """:func:`exam_rates` of the exam-results file in ``raw_dir`` (read-only)."""
    return exam_rates(read_examens(exam_file(raw_dir)))
