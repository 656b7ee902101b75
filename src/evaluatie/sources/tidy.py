"""Tidy long forms of the files :func:`~evaluatie.sources.duo.read_duo` reads.

:func:`read_duo_long` turns any outcome file into one row per unit x school year x
measure, using only the layout description (which columns are measures, and which
school year and other dimensions, such as geslacht, each column holds). Two thin
wrappers give the shapes analyses want: :func:`read_examens` (the VO exam file, one row
per vestiging x onderwijstype x opleiding x school year x geslacht) and
:func:`read_vsv` (CBS voortijdig schoolverlaten, one row per gemeente x school year).

Gemeente codes: from ``GEMEENTENUMMER`` (or a CBS region code) where the file has one;
otherwise from ``GEMEENTENAAM`` via :func:`evaluatie.sources.gemeenten.name_crosswalk`.
Names that cannot be matched are reported (warning, or error with
``unmatched="error"``), their rows kept with an empty ``gemeente_code``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from evaluatie.core.errors import DataFormatError, DataQualityWarning, ParameterError
from evaluatie.sources.duo import read_duo
from evaluatie.sources.gemeenten import codes_for_names
from evaluatie.sources.layouts import LAYOUTS, MEASURE_KINDS, Column, Layout
from evaluatie.sources.layouts_extra import GESLACHT_TOTAAL

__all__ = ["read_duo_long", "read_examens", "read_vsv", "to_long"]

#: Identifier columns of a long frame, in this order, where the file has them.
ID_COLUMNS = ("instellingscode", "vestigingscode", "vestiging", "gemeente_code")


def read_duo_long(
    path: str | Path,
    layout: str | Layout | None = None,
    *,
    gemeenten: pd.DataFrame | None = None,
    unmatched: str = "warn",
    measures_as_columns: bool = False,
) -> pd.DataFrame:
    """Read an outcome file as one row per vestiging (or region) x school year x measure.

    Columns: ``instellingscode``, ``vestigingscode``, ``vestiging`` (where the file
    identifies vestigingen), ``gemeente_code`` (``GM%04d``; empty when the file has no
    gemeente), the layout's other key columns (e.g. ``onderwijstype``, ``opleiding``;
    ``regio``, ``geslacht``), ``schooljaar``, any further dimension a column carries
    (``geslacht`` in the exam file), then ``measure``, ``value`` (float; missing where
    suppressed or ``NA``) and ``suppressed`` (a count published as ``<5``, or a mean
    whose count was). Rows come in file order, measures in column order: nothing is
    dropped, so rows = data rows x measure columns.

    The school year comes from the column's dimension (exam file), a school-year
    column (CBS), or the file's peildatum or name (``frame.attrs["schooljaar"]``).
    ``gemeenten`` adds (``gemeente_code``, ``gemeente_naam``) pairs to the name
    crosswalk. ``measures_as_columns=True`` keeps one column per measure (plus
    ``<measure>_suppressed`` for counts) and one row per unit x school year x dimension.
    """
    frame = read_duo(path, layout)
    return to_long(
        frame, gemeenten=gemeenten, unmatched=unmatched, measures_as_columns=measures_as_columns
    )


def to_long(
    frame: pd.DataFrame,
    *,
    gemeenten: pd.DataFrame | None = None,
    unmatched: str = "warn",
    measures_as_columns: bool = False,
) -> pd.DataFrame:
    """The long form of a frame ``read_duo`` returned (see :func:`read_duo_long`)."""
    if unmatched not in ("warn", "error"):
        raise ParameterError(f"unmatched must be 'warn' or 'error', got {unmatched!r}")
    layout = LAYOUTS[frame.attrs["layout"]]
    ids = _identity(frame, layout, gemeenten, unmatched)
    measures = [
        c
        for c in layout.columns
        if c.kind in MEASURE_KINDS and c.canonical in frame and c.canonical not in ids
    ]
    if not measures:
        raise ParameterError(f"layout {layout.name} has no measure columns")
    dims = list(dict.fromkeys(d for c in measures for d, _ in c.dims if d != "schooljaar"))
    row_year = _row_schooljaar(frame, measures)
    n = len(frame)
    if measures_as_columns:
        groups: dict[tuple[tuple[str, str], ...], list[Column]] = {}
        for col in measures:
            groups.setdefault(col.dims, []).append(col)
        blocks = [_block(frame, ids, row_year, dims, key, cols) for key, cols in groups.items()]
        # Row-major: each file row's groups together, in column order.
        order = np.arange(n * len(blocks)).reshape(len(blocks), n).T.ravel()
        out = pd.concat(blocks, ignore_index=True).iloc[order].reset_index(drop=True)
    else:
        m = len(measures)
        out = ids.iloc[np.repeat(np.arange(n), m)].reset_index(drop=True)
        years = [dict(c.dims).get("schooljaar") for c in measures]
        if row_year is None:
            out["schooljaar"] = np.tile(np.array(years, dtype=object), n)
        else:
            out["schooljaar"] = np.repeat(row_year.to_numpy(dtype=object), m)
        for d in dims:
            out[d] = np.tile(np.array([dict(c.dims).get(d) for c in measures], object), n)
        out["measure"] = np.tile(np.array([c.measure for c in measures], dtype=object), n)
        values = [frame[c.canonical].to_numpy(dtype="float64", na_value=np.nan) for c in measures]
        out["value"] = np.column_stack(values).ravel()
        out["suppressed"] = np.column_stack([_suppressed(frame, c) for c in measures]).ravel()
    out.attrs = {k: frame.attrs[k] for k in ("layout", "kind", "path")}
    return out


def _identity(
    frame: pd.DataFrame, layout: Layout, pairs: pd.DataFrame | None, unmatched: str
) -> pd.DataFrame:
    """Identifier and key columns of every row, with a gemeente code."""
    ids = pd.DataFrame(index=frame.index)
    for col in ID_COLUMNS[:3]:
        if col in frame:
            ids[col] = frame[col]
    if "gemeente_code" in frame:
        ids["gemeente_code"] = frame["gemeente_code"]
    elif "gemeentenaam" in frame:
        ids["gemeente_code"], lost = codes_for_names(frame["gemeentenaam"], pairs)
        if lost:
            _report_names(lost, frame.attrs["path"], unmatched)
    else:
        ids["gemeente_code"] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for k in layout.key:
        if k in frame and k not in ids and k != "schooljaar":
            ids[k] = frame[k]
    return ids


def _report_names(lost: dict[str, int], path: str, unmatched: str) -> None:
    listed = ", ".join(f"{name!r} ({rows} rows)" for name, rows in sorted(lost.items()))
    message = (
        f"{len(lost)} gemeente name(s) match no gemeente code: {listed}; their "
        "gemeente_code is left empty (pass gemeenten= with code/name pairs to match them)"
    )
    if unmatched == "error":
        raise DataFormatError(message, path=path, column="GEMEENTENAAM")
    warnings.warn(f"{path}: {message}", DataQualityWarning, stacklevel=4)


def _row_schooljaar(frame: pd.DataFrame, measures: list[Column]) -> pd.Series | None:
    """The school year of each row, or None when every measure column names its own."""
    if all(any(d == "schooljaar" for d, _ in c.dims) for c in measures):
        return None
    if "schooljaar" in frame:
        return frame["schooljaar"]
    year = frame.attrs.get("schooljaar")
    if year is None:
        raise DataFormatError(
            "cannot tell the school year of this file (no single peildatum and no "
            "YYYY-YYYY in the name)",
            path=frame.attrs.get("path"),
        )
    return pd.Series([year] * len(frame), index=frame.index, dtype=object)


def _suppressed(frame: pd.DataFrame, col: Column) -> np.ndarray:
    """Whether each value of ``col`` is hidden by DUO's small-count suppression."""
    count = col.canonical if col.kind == "count" else None
    if col.kind == "mean":
        layout = LAYOUTS[frame.attrs["layout"]]
        count = next(c.canonical for c in layout.columns if c.name == col.count)
    flag = f"{count}_suppressed"
    if count is None or flag not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[flag].to_numpy(dtype=bool)


def _block(
    frame: pd.DataFrame,
    ids: pd.DataFrame,
    row_year: pd.Series | None,
    dims: list[str],
    key: tuple[tuple[str, str], ...],
    cols: list[Column],
) -> pd.DataFrame:
    """One dimension group (e.g. 2019-2020 x MAN) with one column per measure."""
    block = ids.reset_index(drop=True)
    given = dict(key)
    block["schooljaar"] = given["schooljaar"] if row_year is None else row_year.to_numpy()
    for d in dims:
        block[d] = given.get(d)
    for col in cols:
        if col.measure in block:
            raise ParameterError(f"measure {col.measure} occurs twice in one group")
        block[col.measure] = frame[col.canonical].reset_index(drop=True)
        if col.kind == "count":
            block[f"{col.measure}_suppressed"] = _suppressed(frame, col)
    return block


def read_examens(
    path: str | Path, *, gemeenten: pd.DataFrame | None = None, unmatched: str = "warn"
) -> pd.DataFrame:
    """DUO's VO exam file as one row per vestiging x onderwijstype x opleiding x year x sex.

    Columns: the identifiers and ``gemeente_code`` (from ``GEMEENTENAAM``; the file
    gives one name per vestiging, that of its publication year, used for every school
    year), ``onderwijstype``, ``opleiding``, ``schooljaar``, ``geslacht`` (``MAN``,
    ``VROUW``, ``TOTAAL``), ``examenkandidaten`` and ``geslaagden`` (``Int64``, missing
    where published as ``<5``, with ``*_suppressed`` flags) and ``slaagpercentage`` (as
    published, 0-100; DUO publishes it even where the counts are suppressed).

    Empty cells are dropped: a school year x sex with 0 candidates (the file writes
    ``"0";"0";"0"``) has no exam result; ``attrs["empty_cells"]`` counts them. A row
    with more passes than candidates is an error.
    """
    frame = read_duo(path)
    if frame.attrs["kind"] != "examens":
        raise DataFormatError(
            f"not an exam-results file (layout {frame.attrs['layout']!r})", path=path, line=1
        )
    wide = to_long(frame, gemeenten=gemeenten, unmatched=unmatched, measures_as_columns=True)
    kandidaten, geslaagden = wide["examenkandidaten"], wide["geslaagden"]
    wrong = (geslaagden > kandidaten).fillna(False).to_numpy(dtype=bool)
    if wrong.any():
        row = wide[wrong].iloc[0]
        raise DataFormatError(
            f"{int(wrong.sum())} cell(s) with more passes than candidates, e.g. "
            f"{row['vestiging']} {row['opleiding']} {row['schooljaar']} {row['geslacht']}",
            path=path,
        )
    empty = (kandidaten == 0).fillna(False).to_numpy(dtype=bool)
    out = wide[~empty].reset_index(drop=True)
    out.attrs = {**wide.attrs, "empty_cells": int(empty.sum())}
    return out


def read_vsv(
    path: str | Path, *, geslacht: str = GESLACHT_TOTAAL, national: bool = False
) -> pd.DataFrame:
    """A CBS VSV table (84780NED layout) as one row per gemeente x school year.

    Columns: ``regio`` (``GM0546``; ``NL01`` for the national rows, included with
    ``national=True``), ``gemeente_code`` (empty for ``NL01``), ``schooljaar``,
    ``jaar`` (its end year), ``leerlingen``, ``vsv`` and ``vsv_percentage``. Only rows
    for ``geslacht`` (default ``T001038``, both sexes); other region types (provinces,
    RMC regions) are left out and counted in ``attrs["other_regions"]``.
    """
    frame = read_duo(path)
    if frame.attrs["kind"] != "vsv":
        raise DataFormatError(
            f"not a VSV table (layout {frame.attrs['layout']!r})", path=path, line=1
        )
    codes = sorted(frame["geslacht"].unique())
    if geslacht not in codes:
        raise ParameterError(f"geslacht {geslacht!r} not in {path}; it has {', '.join(codes)}")
    rows = frame[frame["geslacht"] == geslacht]
    gemeente = rows["gemeente_code"].notna()
    national_rows = rows["regio"] == "NL01"
    keep = gemeente | (national_rows if national else False)
    out = rows.loc[keep, ["regio", "gemeente_code", "schooljaar"]].assign(
        jaar=rows.loc[keep, "schooljaar"].str[5:].astype("int64"),
        leerlingen=rows.loc[keep, "leerlingen"],
        vsv=rows.loc[keep, "vsv"],
        vsv_percentage=rows.loc[keep, "vsv_percentage"],
    )
    out = out.sort_values(["regio", "jaar"], ignore_index=True)
    out.attrs = {
        "layout": frame.attrs["layout"],
        "path": str(path),
        "other_regions": int((~gemeente & ~national_rows).sum()),
    }
    return out
