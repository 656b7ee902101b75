"""Writing DUO-convention files; use it as :func:`evaluatie.data.duo.write_duo`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluatie._atomic import atomic_open
from evaluatie.data.layouts import LAYOUTS, Column, Layout
from evaluatie.errors import ParameterError


def _quoted(values: pd.Series) -> np.ndarray:
    """Every value double-quoted, inner quotes doubled; missing becomes ``""``."""
    text = values.astype(object).where(values.notna(), "").tolist()
    return np.array(['"' + str(v).replace('"', '""') + '"' for v in text], dtype=object)


def _decimal(values: np.ndarray, quote: str) -> np.ndarray:
    # 15 significant digits reproduce DUO's own output (e.g. 525,333333333333).
    return np.array([f"{quote}{x:.15g}{quote}".replace(".", ",") for x in values], dtype=object)


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
        n = len(frame)
        self.suppressed: dict[str, np.ndarray] = {}
        self.zero: dict[str, np.ndarray] = {}
        for col in layout.columns:
            if col.kind == "count":
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
        if kind in ("text", "id", "schooljaar"):
            return _quoted(frame[col.canonical])
        if kind == "vnr":
            return _quoted(frame[col.canonical].astype("int64").astype(str))
        if kind == "date":
            # Few distinct dates per file: format each once.
            dates = _dates(frame[col.canonical])
            text = {d: f'"{d:%Y%m%d}"' if pd.notna(d) else '""' for d in dates.unique()}
            return dates.map(text).to_numpy(dtype=object)
        if kind == "gemeente":
            if "gemeentenummer" in frame:
                nummers = frame["gemeentenummer"].astype("int64")
            else:
                nummers = frame["gemeente_code"].str.removeprefix("GM").astype("int64")
            return _quoted(nummers.astype(str).str.zfill(self.layout.gemeente_digits))
        if kind in ("count", "int"):
            values = pd.array(frame[col.canonical], dtype="Int64")
            text = np.array(
                [f'"{v}"' for v in values.fillna(0).astype("int64").tolist()], dtype=object
            )
            out = np.where(np.asarray(values.isna(), dtype=bool), "NA", text)
            if col.name in self.suppressed:
                out = np.where(self.suppressed[col.name], self.label, out)
            return out
        # mean or number
        values = frame[col.canonical].to_numpy(dtype="float64", na_value=np.nan)
        quote = '"' if (kind == "mean" and self.layout.quote_means) else ""
        out = np.full(len(values), "NA", dtype=object)
        finite = ~np.isnan(values)
        out[finite] = _decimal(values[finite], quote)
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
    The file is written atomically, UTF-8 without BOM, CRLF line ends.
    """
    lay = LAYOUTS[layout] if isinstance(layout, str) else layout
    needed = {c.canonical for c in lay.columns if c.kind != "gemeente"}
    if lay.has("gemeentenummer") and not {"gemeentenummer", "gemeente_code"} & set(frame):
        needed.add("gemeentenummer")
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise ParameterError(f"cannot write layout {lay.name}: frame lacks {', '.join(missing)}")
    fields = _Fields(frame, lay, suppress_below)
    columns = [fields.column(col) for col in lay.columns]
    lines = [";".join(f'"{name}"' for name in lay.header)]
    lines += [";".join(row) for row in zip(*columns, strict=True)]
    path = Path(path)
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\r\n".join(lines) + "\r\n")
    return path
