"""Read and write files in DUO's open-data text conventions.

Conventions (see shared/domain.md, "DUO file conventions", and the real 2022-23 file):
``;`` separator, CRLF line ends, UTF-8; text and counts double-quoted with inner quotes
doubled; averages unquoted with a decimal comma (quoted in 2023-24+); small counts
suppressed as ``"<5"`` with the matching average a bare ``NA``; a provider a school did
not use shows ``"0"`` and ``0``; ``GEMEENTENUMMER`` without leading zeros (2022-23).

:func:`read_duo` recognises the layout from the header (see :mod:`evaluatie.data.layouts`)
and returns a typed frame with lower-case column names. Every problem is raised as a
:class:`~evaluatie.errors.DataFormatError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from evaluatie.data._duo_writer import write_duo
from evaluatie.data.layouts import LAYOUTS, Column, Layout
from evaluatie.errors import DataFormatError

__all__ = ["match_layout", "read_duo", "write_duo"]

_MISSING = pa.array(["NA", ""])
_ID_PATTERNS = {"instellingscode": r"[0-9A-Z]{4}", "vestigingscode": r"\d{2}"}
_SCHOOLJAAR_IN_NAME = re.compile(r"(\d{4})-(\d{4})")


def _decode(raw: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), falling back to cp1252 for older copies."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so it always works.
        return raw.decode("latin-1"), "latin-1"


def match_layout(header: list[str], path: str | Path | None = None) -> Layout:
    """Return the registered layout whose column set equals ``header``.

    Raises a DataFormatError listing the missing and unexpected columns relative to the
    closest known layout, and the names of all known layouts.
    """
    names = [h.strip().lstrip("\ufeff").upper() for h in header]
    seen = set(names)
    doubled = sorted(n for n in seen if names.count(n) > 1)
    if doubled:
        raise DataFormatError(
            f"header repeats column(s) {', '.join(doubled)}", path=path, line=1, column=doubled[0]
        )
    for layout in LAYOUTS.values():
        if set(layout.header) == seen:
            return layout

    def overlap(layout: Layout) -> float:
        both = set(layout.header)
        return len(both & seen) / len(both | seen)

    nearest = max(LAYOUTS.values(), key=overlap)
    missing = [c for c in nearest.header if c not in seen]
    extra = [n for n in names if n not in nearest.by_name]
    raise DataFormatError(
        "header matches no known layout; closest is "
        f"{nearest.name!r}, which misses {', '.join(missing) or 'nothing'} "
        f"and does not expect {', '.join(extra) or 'nothing'}. "
        f"Known layouts: {', '.join(LAYOUTS)}",
        path=path,
        line=1,
    )


def _header(text: str, path: Path) -> list[str]:
    """Parse the header line; a header without ';' means a wrong separator."""
    first = text.split("\n", 1)[0].rstrip("\r")
    if ";" not in first:
        guess = next((s for s in (",", "\t", "|") if s in first), None)
        hint = f"it looks separated by {guess!r}" if guess else "it has a single column"
        raise DataFormatError(
            f"header has no ';' separator ({hint}); DUO files are ';'-separated",
            path=path,
            line=1,
        )
    return next(csv.reader([first], delimiter=";"))


def _columns_fast(text: str, width: int) -> list[pa.Array] | None:
    """Split the data rows with pyarrow's CSV parser; None if it finds anything odd."""
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=";", newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException:
        return None
    return [table.column(i).combine_chunks() for i in range(width)]


def _split_slow(text: str, path: Path, names: list[str]) -> tuple[list[pa.Array], list[int]]:
    """Split with the csv module, tracking line numbers and locating structural errors."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    width = len(names)
    try:
        next(reader)
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                where = names[len(row)] if len(row) < width else None
                hint = (
                    f"; fields from column {where} on are missing (truncated line?)"
                    if where
                    else ""
                )
                if len(row) == 1 and ("," in row[0] or "\t" in row[0]):
                    hint = "; the line does not use ';' as separator"
                raise DataFormatError(
                    f"expected {width} fields, found {len(row)}{hint}",
                    path=path,
                    line=reader.line_num,
                    column=where,
                )
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataFormatError(f"broken quoting: {exc}", path=path, line=reader.line_num) from None
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return [pa.array(c, pa.string()) for c in columns], lines


def _flags(mask: pa.Array) -> np.ndarray:
    """A pyarrow boolean array as a numpy bool array (null counts as False)."""
    return np.asarray(mask.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _matches(arr: pa.Array, pattern: str) -> np.ndarray:
    return _flags(pc.match_substring_regex(arr, f"^(?:{pattern})$"))


class _Converter:
    """Vectorised (pyarrow) conversion of one file's text columns, with located errors."""

    def __init__(self, path: Path, lines: Callable[[], list[int]]) -> None:
        self.path = path
        self.lines = lines

    def fail(self, col: Column, values: pa.Array, bad: np.ndarray, what: str) -> None:
        """Raise for the first True in ``bad``, quoting the offending value."""
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            more = int(bad.sum()) - 1
            raise DataFormatError(
                f"{what}, found {values[i].as_py()!r}"
                + (f" (and {more} more such values in this column)" if more else ""),
                path=self.path,
                line=self.lines()[i],
                column=col.name,
            )

    def number(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.utf8_trim_whitespace(s)
        missing = _flags(pc.is_in(s, value_set=_MISSING))
        # Decimal comma (DUO) or point (some DUO files, e.g. SLAAGPERC); no thousands marks.
        ok = _matches(s, r"-?(\d+([.,]\d*)?|[.,]\d+)")
        self.fail(col, s, ~ok & ~missing, "expected a number (decimal comma) or NA")
        clean = pc.replace_substring(pc.if_else(pa.array(ok), s, None), ",", ".")
        values = pc.cast(clean, pa.float64()).to_numpy(zero_copy_only=False)
        return pd.Series(np.asarray(values, dtype="float64"))

    def integer(
        self, col: Column, s: pa.Array, *, suppressible: bool
    ) -> tuple[pd.Series, pd.Series]:
        s = pc.utf8_trim_whitespace(s)
        n = len(s)
        suppressed = _matches(s, r"<\d+") if suppressible else np.zeros(n, bool)
        missing = _flags(pc.is_in(s, value_set=_MISSING)) | suppressed
        ok = _matches(s, r"\d+" if suppressible else r"-?\d+")
        what = (
            "expected a count (whole number >= 0), <5 or NA"
            if suppressible
            else "expected a whole number or NA"
        )
        self.fail(col, s, ~ok & ~missing, what)
        ints = pc.cast(pc.if_else(pa.array(ok), s, None), pa.int64())
        values = np.asarray(ints.fill_null(0).to_numpy(zero_copy_only=False), dtype="int64")
        out = pd.Series(pd.arrays.IntegerArray(values, ~ok))
        return out, pd.Series(suppressed)

    def date(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.utf8_trim_whitespace(s)
        missing = _flags(pc.is_in(s, value_set=_MISSING))
        parsed = pc.strptime(s, format="%Y%m%d", unit="s", error_is_null=True)
        bad = ~missing & (~_matches(s, r"\d{8}") | _flags(parsed.is_null()))
        self.fail(col, s, bad, "expected a date YYYYMMDD")
        return pd.Series(parsed.to_pandas()).astype("datetime64[s]")

    def gemeente(self, col: Column, s: pa.Array) -> pd.Series:
        s = pc.replace_substring_regex(pc.utf8_upper(pc.utf8_trim_whitespace(s)), "^GM", "")
        ok = _matches(s, r"\d{1,4}")
        self.fail(col, s, ~ok, "expected a gemeentenummer of 1-4 digits")
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


def _schooljaar(frame: pd.DataFrame, path: Path) -> str | None:
    """Infer the school year from a single peildatum (1 Oct) or else from the file name."""
    if "peildatum_leerlingen" in frame and len(frame):
        dates = frame["peildatum_leerlingen"].dropna().unique()
        if len(dates) == 1:
            d = pd.Timestamp(dates[0])
            start = d.year if d.month >= 8 else d.year - 1
            return f"{start}-{start + 1}"
    m = _SCHOOLJAAR_IN_NAME.search(path.name)
    if m and int(m.group(2)) == int(m.group(1)) + 1:
        return m.group(0)
    return None


def read_duo(path: str | Path, layout: str | Layout | None = None) -> pd.DataFrame:
    """Read a DUO-convention file into a typed frame with lower-case column names.

    The layout is recognised from the header (column order does not matter); passing
    ``layout`` additionally requires that layout. Conversions: counts to ``Int64``
    with ``<5`` as missing plus ``<count>_suppressed`` = True (never zero); averages
    to float, missing when suppressed, ``NA`` or the count is 0 (DUO writes 0 for a
    provider the school did not use); ``GEMEENTENUMMER`` to ``gemeentenummer`` (int)
    and ``gemeente_code`` (``GM%04d``); dates to datetime. Files with an instelling-
    and vestigingscode get ``vestiging`` = the two joined (``00AP00``).

    ``frame.attrs`` holds ``layout``, ``kind``, ``path``, ``encoding`` and ``schooljaar``
    (from the peildatum, else from a ``YYYY-YYYY`` in the file name, else None).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFormatError(f"cannot read file: {exc.strerror}", path=path) from None
    text, encoding = _decode(raw)
    if not text.strip():
        raise DataFormatError("file is empty", path=path)
    header = _header(text, path)
    found = match_layout(header, path)
    if layout is not None:
        wanted = LAYOUTS[layout] if isinstance(layout, str) else layout
        if wanted.name != found.name:
            raise DataFormatError(
                f"expected layout {wanted.name!r}, header is layout {found.name!r}",
                path=path,
                line=1,
            )
    names = [h.strip().lstrip("\ufeff").upper() for h in header]
    # An odd number of quote characters means a stray quote, which pyarrow would accept
    # silently; the csv module then locates it.
    columns = _columns_fast(text, len(names)) if text.count('"') % 2 == 0 else None
    known_lines: list[int] | None = None
    if columns is None:
        columns, known_lines = _split_slow(text, path, names)

    def lines() -> list[int]:
        # Line numbers are only needed for an error message: recount them then.
        return known_lines if known_lines is not None else _split_slow(text, path, names)[1]

    text_cols = dict(zip(names, columns, strict=True))
    frame = _convert(found, text_cols, _Converter(path, lines))
    _check_key(found, frame, path, lines)
    frame.attrs.update(
        layout=found.name,
        kind=found.kind,
        path=str(path),
        encoding=encoding,
        schooljaar=_schooljaar(frame, path),
    )
    return frame


def _convert(layout: Layout, text: dict[str, pa.Array], conv: _Converter) -> pd.DataFrame:
    out: dict[str, pd.Series] = {}
    counts: dict[str, tuple[pd.Series, pd.Series]] = {}
    for col in layout.columns:
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
        elif col.kind == "gemeente":
            nummer = conv.gemeente(col, s)
            out[col.canonical] = nummer
            out["gemeente_code"] = "GM" + nummer.astype(str).str.zfill(4)
        elif col.kind in ("id", "vnr"):
            out[col.canonical] = conv.identifier(col, s)
        elif col.kind == "schooljaar":
            out[col.canonical] = conv.schooljaar(col, s)
        else:
            out[col.canonical] = pd.Series(s.to_pandas())
    for col in layout.columns:
        if col.kind == "mean":
            value, flag = counts[col.count]  # type: ignore[index]
            # A 0 average beside a 0 count means "provider not used", not a score of 0.
            unusable = (flag | (value == 0).fillna(False)).to_numpy(dtype=bool)
            out[col.canonical] = out[col.canonical].mask(unusable)
    frame = pd.DataFrame(out)
    if {"instellingscode", "vestigingscode"} <= set(frame.columns):
        frame.insert(0, "vestiging", frame["instellingscode"] + frame["vestigingscode"])
    return frame


def _check_key(
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
    columns = [c.name for c in layout.columns if c.canonical in keys]
    if "vestiging" in keys:
        columns = (
            ["INSTELLINGSCODE", "VESTIGINGSCODE"] if layout.has("instellingscode") else columns
        )
    raise DataFormatError(
        f"duplicate {'/'.join(keys)} {value!r}, first on line {lines[first]} "
        f"({int(repeats.sum())} repeated row(s) in the file)",
        path=path,
        line=lines[second],
        column="+".join(columns) or keys[0],
    )
