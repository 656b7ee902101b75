"""Writing DUO-convention files; use it as :func:`evaluatie.sources.duo.write_duo`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.core.atomic import atomic_open
from evaluatie.core.errors import ParameterError
from evaluatie.sources._distinct import on_distinct
from evaluatie.sources.layouts import LAYOUTS, Column, Layout


def _each_distinct(
    values: pd.Series | np.ndarray,
    text: Callable[[Any], str],
    decode: Callable[[Any], Any] | None = None,
) -> np.ndarray:
    """``text(v)`` for every value, computed once per distinct value: names, codes, years
    and counts repeat across a file's rows (formatting per row was half of simulating).
    Values that compare equal must have one text: strings and integers, not floats
    (-0.0 == 0.0) nor mixed objects (1 == 1.0 == True); ``decode`` turns the distinct
    values (e.g. floats' bit patterns) into what ``text`` formats."""

    def texts(distinct: Any) -> np.ndarray:
        shown = distinct if decode is None else decode(distinct)
        return np.array([text(v) for v in shown], dtype=object)

    return np.asarray(on_distinct(values, texts))


def _quoted(values: pd.Series) -> np.ndarray:
    """Every value double-quoted, inner quotes doubled; missing becomes ``""``."""
    text = values.astype(object).where(values.notna(), "")
    if pd.api.types.infer_dtype(text, skipna=False) not in ("string", "empty"):
        text = text.map(str)  # e.g. numbers in a text column: each as str() spells it
    return _each_distinct(text, lambda v: '"' + v.replace('"', '""') + '"')


def _decimal(values: np.ndarray, quote: str, point: str = ",") -> np.ndarray:
    # 15 significant digits reproduce DUO's own output (e.g. 525,333333333333). Grouped
    # by bit pattern: as numbers, -0.0 would take the text of 0.0 or the other way round.
    return _each_distinct(
        np.ascontiguousarray(values, dtype=np.float64).view(np.int64),
        lambda x: f"{quote}{x:.15g}{quote}".replace(".", point),
        decode=lambda bits: bits.view(np.float64).tolist(),
    )


def _dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if pd.api.types.is_string_dtype(values):
        return pd.to_datetime(values, format="%Y%m%d")
    return pd.to_datetime(values)


class _Fields:
    """Text of each column of one frame, per the layout's kinds."""

    def __init__(self, frame: pd.DataFrame, layout: Layout, suppress_below: int) -> None:
        self.frame = frame
        self.layout = layout
        self.label = f'"<{suppress_below}"'
        cbs = layout.style == "cbs"
        # CBS: bare numbers with a decimal point, "." for missing; DUO: quoted counts.
        self.point, self.na, self.count_quote = (".", ".", "") if cbs else (",", "NA", '"')
        n = len(frame)
        self.suppressed: dict[str, np.ndarray] = {}
        self.zero: dict[str, np.ndarray] = {}
        for col in layout.columns:
            if col.kind == "count" and col.canonical in frame:
                values = pd.array(frame[col.canonical], dtype="Int64")
                flag_col = f"{col.canonical}_suppressed"
                flag = (
                    frame[flag_col].to_numpy(dtype=bool) if flag_col in frame else np.zeros(n, bool)
                )
                small = ((values > 0) & (values < suppress_below)).fillna(False)
                self.suppressed[col.name] = flag | np.asarray(small, dtype=bool)
                self.zero[col.name] = np.asarray((values == 0).fillna(False), dtype=bool)

    def column(self, col: Column) -> np.ndarray:
        frame, kind = self.frame, col.kind
        if kind in ("text", "id", "schooljaar", "vestiging", "regio"):
            return _quoted(frame[col.canonical])
        if kind == "periode":  # CBS key of the school year: 2019-2020 -> 2019SJ00 (u)
            return _quoted(frame[col.canonical].str[:4] + "SJ00")
        if kind == "gmcode":
            return _quoted(frame["gemeente_code"])
        if kind == "vnr":
            return _quoted(frame[col.canonical].astype("int64").astype(str))
        if kind == "date":
            # Few distinct dates per file: format each once.
            dates = _dates(frame[col.canonical])
            labels = {d: f'"{d:%Y%m%d}"' if pd.notna(d) else '""' for d in dates.unique()}
            return dates.map(labels).to_numpy(dtype=object)
        if kind == "gemeente":
            if "gemeentenummer" in frame:
                nummers = frame["gemeentenummer"].astype("int64")
            else:
                nummers = frame["gemeente_code"].str.removeprefix("GM").astype("int64")
            return _quoted(nummers.astype(str).str.zfill(self.layout.gemeente_digits))
        if kind in ("count", "int"):
            values = pd.array(frame[col.canonical], dtype="Int64")
            q = self.count_quote
            text = _each_distinct(
                np.asarray(values.fillna(0).astype("int64")), lambda v: f"{q}{v}{q}"
            )
            out = np.where(np.asarray(values.isna(), dtype=bool), self.na, text)
            if col.name in self.suppressed:
                out = np.where(self.suppressed[col.name], self.label, out)
            return out
        # mean or number
        values = frame[col.canonical].to_numpy(dtype="float64", na_value=np.nan)
        quote = '"' if (kind == "mean" and self.layout.quote_means) else ""
        out = np.full(len(values), self.na, dtype=object)
        finite = ~np.isnan(values)
        out[finite] = _decimal(values[finite], quote, self.point)
        if col.count is not None:
            # DUO writes an unused provider as "0" and 0, a suppressed one as "<5" and NA.
            out[self.zero[col.count]] = f"{quote}0{quote}"
            out[self.suppressed[col.count]] = "NA"
        return out


def write_duo(
    frame: pd.DataFrame, path: str | Path, layout: str | Layout, *, suppress_below: int = 5
) -> Path:
    """Write ``frame`` (tidy columns as ``read_duo`` returns them) in DUO conventions.

    Counts from 1 to ``suppress_below - 1`` (or flagged ``<count>_suppressed``) are
    written ``"<5"`` and their averages a bare ``NA``; a count of 0 gets average ``0``.
    Optional columns are written only when the frame has them. A ``style="cbs"`` layout
    is written in CBS's conventions instead (bare numbers, decimal point, ``.``).
    The file is written atomically, UTF-8 without BOM, CRLF line ends.
    """
    lay = LAYOUTS[layout] if isinstance(layout, str) else layout
    have = set(frame.columns)
    gemeente = {"gemeentenummer", "gemeente_code"}
    # Optional columns are written when the frame has them.
    written = [
        c
        for c in lay.columns
        if not c.optional or (gemeente & have if c.kind == "gemeente" else c.canonical in have)
    ]
    needed = {c.canonical for c in written if c.kind not in ("gemeente", "gmcode")}
    if any(c.kind == "gemeente" for c in written) and not gemeente & have:
        needed.add("gemeentenummer")
    if any(c.kind == "gmcode" for c in written):
        needed.add("gemeente_code")
    missing = sorted(needed - have)
    if missing:
        raise ParameterError(f"cannot write layout {lay.name}: frame lacks {', '.join(missing)}")
    fields = _Fields(frame, lay, suppress_below)
    columns = [fields.column(col) for col in written]
    lines = [";".join(f'"{c.name}"' for c in written)]
    lines += [";".join(row) for row in zip(*columns, strict=True)]
    path = Path(path)
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\r\n".join(lines) + "\r\n")
    return path
