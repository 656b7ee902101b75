"""Text columns of one file -> typed tidy columns, per the layout; used by ``read_duo``.

Every value that does not fit its column's kind (see :mod:`evaluatie.sources.layouts`)
raises a :class:`~evaluatie.core.errors.DataFormatError` naming the file, the line, the
column as spelled in the file, and the offending value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evaluatie.core.errors import DataFormatError
from evaluatie.sources.layouts import Column, Layout

_ID_PATTERNS = {
    "instellingscode": r"[0-9A-Z]{4}",
    "vestigingscode": r"\d{2}",
    "vestiging": r"[0-9A-Z]{4}\d{2}",
}
#: CBS period codes and titles for a school year (see the ``periode`` kind).
_PERIODE = (
    re.compile(r"(\d{4})(?:SJ|MJ)00"),
    re.compile(r"(\d{4})/'(\d{2})"),
    re.compile(r"(\d{4})[/-](\d{4})"),
)


def _flags(mask: pa.Array) -> np.ndarray:
    """A pyarrow boolean array as a numpy bool array (null counts as False)."""
    return np.asarray(mask.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _matches(arr: pa.Array, pattern: str) -> np.ndarray:
    return _flags(pc.match_substring_regex(arr, f"^(?:{pattern})$"))


def _periode(text: str) -> str | None:
    """``2019SJ00``, ``2019/'20``, ``2019/2020`` or ``2019-2020`` -> ``2019-2020``."""
    for pattern in _PERIODE:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        start = int(m.group(1))
        if m.lastindex == 2:
            end = int(m.group(2))
            if end != (start + 1) % 100 and end != start + 1:
                return None
        return f"{start}-{start + 1}"
    return None


def _shown(value: object) -> str:
    """A value as the file spells it: ``-16500``, ``'abc'`` (never ``np.float64(...)``)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return repr(value)


class Converter:
    """Vectorised (pyarrow) conversion of one file's text columns, with located errors."""

    def __init__(
        self, path: Path, lines: Callable[[], list[int]], layout: Layout, spelled: dict[str, str]
    ) -> None:
        self.path = path
        self.lines = lines
        self.spelled = spelled
        # In a CBS table a bare "." means "no value" (secret or not applicable).
        self.missing = pa.array(["NA", "", "."] if layout.style == "cbs" else ["NA", ""])

    def fail(self, col: Column, values: pa.Array | pd.Series, bad: np.ndarray, what: str) -> None:
        """Raise for the first True in ``bad``, quoting the offending value."""
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            more = int(bad.sum()) - 1
            value = values.iloc[i] if isinstance(values, pd.Series) else values[i].as_py()
            raise DataFormatError(
                f"{what}, found {_shown(value)}"
                + (f" (and {more} more such values in this column)" if more else ""),
                path=self.path,
                line=self.lines()[i],
                column=self.spelled.get(col.name, col.name),
            )

    def bounded(self, col: Column, values: np.ndarray) -> None:
        """Raise for a value outside the column's ``bounds``."""
        if col.bounds is None:
            return
        low, high = col.bounds
        bad = ~np.isnan(values) & ((values < low) | (values > high))
        self.fail(col, pd.Series(values), bad, f"expected a value in {low:g}..{high:g}")

    def number(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.utf8_trim_whitespace(s)
        missing = _flags(pc.is_in(s, value_set=self.missing))
        # Decimal comma (DUO) or point (some DUO files, e.g. SLAAGPERC); no thousands marks.
        ok = _matches(s, r"-?(\d+([.,]\d*)?|[.,]\d+)")
        self.fail(col, s, ~ok & ~missing, "expected a number (decimal comma) or NA")
        clean = pc.replace_substring(pc.if_else(pa.array(ok), s, None), ",", ".")
        values = np.asarray(pc.cast(clean, pa.float64()).to_numpy(zero_copy_only=False), "float64")
        self.bounded(col, values)
        return pd.Series(values)

    def integer(
        self, col: Column, s: pa.Array, *, suppressible: bool
    ) -> tuple[pd.Series, pd.Series]:
        s = pc.utf8_trim_whitespace(s)
        n = len(s)
        suppressed = _matches(s, r"<\d+") if suppressible else np.zeros(n, bool)
        missing = _flags(pc.is_in(s, value_set=self.missing)) | suppressed
        ok = _matches(s, r"\d+" if suppressible else r"-?\d+")
        what = (
            "expected a count (whole number >= 0), <5 or NA"
            if suppressible
            else "expected a whole number or NA"
        )
        self.fail(col, s, ~ok & ~missing, what)
        ints = pc.cast(pc.if_else(pa.array(ok), s, None), pa.int64())
        values = np.asarray(ints.fill_null(0).to_numpy(zero_copy_only=False), dtype="int64")
        self.bounded(col, np.where(ok, values, np.nan))
        out = pd.Series(pd.arrays.IntegerArray(values, ~ok))
        return out, pd.Series(suppressed)

    def date(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.utf8_trim_whitespace(s)
        missing = _flags(pc.is_in(s, value_set=self.missing))
        parsed = pc.strptime(s, format="%Y%m%d", unit="s", error_is_null=True)
        bad = ~missing & (~_matches(s, r"\d{8}") | _flags(parsed.is_null()))
        self.fail(col, s, bad, "expected a date YYYYMMDD")
        return pd.Series(parsed.to_pandas()).astype("datetime64[s]")

    def gemeente(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.replace_substring_regex(pc.utf8_upper(pc.utf8_trim_whitespace(s)), "^GM", "")
        ok = _matches(s, r"\d{1,4}")
        self.fail(col, s, ~ok, "expected a gemeentenummer of 1-4 digits (or GM####)")
        values = pc.cast(s, pa.int64()).to_numpy(zero_copy_only=False)
        return pd.Series(np.asarray(values, dtype="int64"))

    def identifier(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.utf8_trim_whitespace(s)
        if col.kind == "vnr":
            self.fail(col, s, ~_matches(s, r"\d{1,2}"), "expected a vestigingsnummer of 1-2 digits")
            s = pc.utf8_lpad(s, width=2, padding="0")
        elif col.canonical in _ID_PATTERNS:
            pattern = _ID_PATTERNS[col.canonical]
            self.fail(col, s, ~_matches(s, pattern), f"expected {col.canonical} matching {pattern}")
        return pd.Series(s.to_pandas())

    def regio(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.utf8_upper(pc.utf8_trim_whitespace(s))
        self.fail(col, s, ~_matches(s, r"[A-Z]{2}\d{2,4}"), "expected a CBS region code (GM0546)")
        return pd.Series(s.to_pandas())

    def schooljaar(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.utf8_trim_whitespace(s)
        ok = _matches(s, r"\d{4}-\d{4}")
        okarr = pa.array(ok)
        start = pc.cast(
            pc.utf8_slice_codeunits(pc.if_else(okarr, s, "0000-0001"), 0, 4), pa.int64()
        )
        end = pc.cast(pc.utf8_slice_codeunits(pc.if_else(okarr, s, "0000-0001"), 5, 9), pa.int64())
        consecutive = _flags(pc.equal(end, pc.add(start, 1)))
        self.fail(col, s, ~(ok & consecutive), "expected a school year like 2017-2018")
        return pd.Series(s.to_pandas())

    def periode(self, col: Column, s: pa.Array) -> pd.Series:
        text = pd.Series(pc.utf8_trim_whitespace(s).to_pandas())
        parsed = text.map({v: _periode(v) for v in text.unique()})
        self.fail(
            col, text, parsed.isna().to_numpy(), "expected a school year like 2019SJ00 or 2019/'20"
        )
        return parsed


def convert(layout: Layout, text: dict[str, pa.Array], conv: Converter) -> pd.DataFrame:
    """The tidy frame of one file: ``text`` maps the layout's column names to raw text."""
    out: dict[str, pd.Series] = {}
    counts: dict[str, tuple[pd.Series, pd.Series]] = {}
    for col in layout.columns:
        if col.name not in text:
            continue  # an optional column this file does not have
        s = text[col.name]
        if col.kind == "count":
            value, flag = conv.integer(col, s, suppressible=True)
            counts[col.name] = (value, flag)
            out[col.canonical] = value
            out[f"{col.canonical}_suppressed"] = flag
        elif col.kind == "int":
            out[col.canonical] = conv.integer(col, s, suppressible=False)[0]
        elif col.kind in ("mean", "number"):
            out[col.canonical] = conv.number(col, s)
        elif col.kind == "date":
            out[col.canonical] = conv.date(col, s)
        elif col.kind in ("gemeente", "gmcode"):
            nummer = conv.gemeente(col, s)
            if col.kind == "gemeente":
                out[col.canonical] = nummer
            out["gemeente_code"] = "GM" + nummer.astype(str).str.zfill(4)
        elif col.kind == "regio":
            regio = conv.regio(col, s)
            out[col.canonical] = regio
            out["gemeente_code"] = regio.where(regio.str.fullmatch(r"GM\d{4}"))
        elif col.kind in ("id", "vnr", "vestiging"):
            out[col.canonical] = conv.identifier(col, s)
        elif col.kind == "schooljaar":
            out[col.canonical] = conv.schooljaar(col, s)
        elif col.kind == "periode":
            out[col.canonical] = conv.periode(col, s)
        else:
            out[col.canonical] = pd.Series(s.to_pandas())
    for col in layout.columns:
        if col.kind == "mean" and col.canonical in out:
            value, flag = counts[col.count]  # type: ignore[index]
            # A 0 average beside a 0 count means "provider not used", not a score of 0.
            unusable = (flag | (value == 0).fillna(False)).to_numpy(dtype=bool)
            out[col.canonical] = out[col.canonical].mask(unusable)
    frame = pd.DataFrame(out)
    if "vestiging" in frame:
        _split_vestiging(layout, frame, conv)
    elif {"instellingscode", "vestigingscode"} <= set(frame.columns):
        frame.insert(0, "vestiging", frame["instellingscode"] + frame["vestigingscode"])
    return frame


def _split_vestiging(layout: Layout, frame: pd.DataFrame, conv: Converter) -> None:
    """A full vestiging code (``00AH00``): add vestigingscode, check the instellingscode."""
    vestiging = frame.pop("vestiging")
    frame.insert(0, "vestiging", vestiging)
    frame.insert(1, "vestigingscode", vestiging.str[4:])
    if "instellingscode" in frame:
        col = next(c for c in layout.columns if c.canonical == "vestiging")
        bad = (vestiging.str[:4] != frame["instellingscode"]).to_numpy()
        conv.fail(col, vestiging, bad, "vestiging code does not start with the INSTELLINGSCODE")


def check_key(
    layout: Layout, frame: pd.DataFrame, path: Path, line_numbers: Callable[[], list[int]]
) -> None:
    """Raise if two rows share the layout's key (e.g. one vestiging twice in a year)."""
    keys = list(layout.key)
    if not set(keys) <= set(frame.columns) or frame.empty:
        return
    repeats = frame.duplicated(keys, keep="first").to_numpy()
    if not repeats.any():
        return
    second = int(np.flatnonzero(repeats)[0])
    same = (frame[keys] == frame[keys].iloc[second]).all(axis=1).to_numpy()
    first = int(np.flatnonzero(same)[0])
    lines = line_numbers()
    value = " ".join(str(frame[k].iloc[second]) for k in keys)
    names = {c.canonical: c.name for c in layout.columns}
    columns: list[str] = []
    for k in keys:
        if k in names:
            columns.append(names[k])
        elif k == "vestiging":  # derived from the instelling- and vestigingscode columns
            columns += [names[c] for c in ("instellingscode", "vestigingscode") if c in names]
    raise DataFormatError(
        f"duplicate {'/'.join(keys)} {value!r}, first on line {lines[first]} "
        f"({int(repeats.sum())} repeated row(s) in the file)",
        path=path,
        line=lines[second],
        column="+".join(columns) or keys[0],
    )
