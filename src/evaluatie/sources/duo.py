"""Read and write files in DUO's open-data text conventions.

Conventions (see docs/domain.md §8, "DUO file conventions", and the real 2022-23 file):
``;`` separator, CRLF line ends, UTF-8; text and counts double-quoted with inner quotes
doubled; averages unquoted with a decimal comma (quoted in 2023-24+); small counts
suppressed as ``"<5"`` with the matching average a bare ``NA``; a provider a school did
not use shows ``"0"`` and ``0``; ``GEMEENTENUMMER`` without leading zeros (2022-23).

:func:`read_duo` recognises the layout from the header (see :mod:`evaluatie.sources.layouts`)
and returns a typed frame with lower-case column names (tidy names: a column's older
spellings map to one name). Every problem is raised as a
:class:`~evaluatie.core.errors.DataFormatError` naming the file, line and column. The long
(one row per measure) form is :func:`evaluatie.sources.tidy.read_duo_long`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from evaluatie.core.errors import DataFormatError
from evaluatie.sources import layouts_extra  # noqa: F401  (registers the extra layouts)
from evaluatie.sources._convert import Converter, check_key, convert
from evaluatie.sources.layouts import LAYOUTS, Layout

__all__ = ["decode", "match_layout", "read_duo"]

_SCHOOLJAAR_IN_NAME = re.compile(r"(\d{4})-(\d{4})")
# Bytes cp1252 leaves undefined: a file that is not UTF-8 and has one is not cp1252 either.
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def decode(raw: bytes, path: str | Path | None = None) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), else cp1252 (older copies); raise otherwise.

    UTF-16 (NUL bytes) and bytes that are neither UTF-8 nor cp1252 are an error naming
    the line of the first offending byte: guessing (e.g. latin-1) would garble names.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw:
        first = raw.index(b"\x00")
        raise DataFormatError(
            "file contains NUL bytes (UTF-16 or binary?); save it as UTF-8 text",
            path=path,
            line=raw.count(b"\n", 0, first) + 1,
        )
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    bad = _NOT_CP1252.search(raw)
    if bad is not None:
        raise DataFormatError(
            f"cannot decode byte 0x{raw[bad.start()]:02x} at offset {bad.start()}: the file "
            "is neither UTF-8 nor cp1252; save it as UTF-8",
            path=path,
            line=raw.count(b"\n", 0, bad.start()) + 1,
        )
    return raw.decode("cp1252"), "cp1252"


def _names(header: list[str]) -> list[str]:
    """Header names as matched: stripped, without BOM, upper case."""
    return [h.strip().lstrip("\ufeff").upper() for h in header]


def match_layout(header: list[str], path: str | Path | None = None) -> Layout:
    """Return the registered layout that ``header`` fits (see :meth:`Layout.resolve`).

    Otherwise raise a DataFormatError listing the missing and unexpected columns
    relative to the closest known layout, and the names of all known layouts.
    """
    names = _names(header)
    seen = set(names)
    doubled = sorted(n for n in seen if names.count(n) > 1)
    if doubled:
        raise DataFormatError(
            f"header repeats column(s) {', '.join(doubled)}", path=path, line=1, column=doubled[0]
        )
    fits = [layout for layout in LAYOUTS.values() if layout.resolve(names) is not None]
    if len(fits) == 1:
        return fits[0]
    if fits:
        raise DataFormatError(
            f"header fits more than one layout: {', '.join(f.name for f in fits)}",
            path=path,
            line=1,
        )

    def overlap(layout: Layout) -> float:
        known = seen & set(layout.by_name)
        return len(known) / (len(layout.columns) + len(seen - known))

    nearest = max(LAYOUTS.values(), key=overlap)
    missing = [c.name for c in nearest.required if not seen & set(c.spellings)]
    extra = [n for n in names if n not in nearest.by_name]
    twice = [
        n
        for n in names
        if n in nearest.by_name
        and nearest.by_name[n].spellings[0] != n
        and nearest.by_name[n].spellings[0] in seen
    ]
    extra += [f"{n} (another spelling of {nearest.by_name[n].name})" for n in twice]
    differences = []
    if missing:
        differences.append(f"misses {', '.join(missing)}")
    if extra:
        differences.append(f"does not expect {', '.join(extra)}")
    how = " and ".join(differences) or "fits it only in part"
    raise DataFormatError(
        f"header matches no known layout; closest is {nearest.name!r}, which {how}. "
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
    try:
        return next(csv.reader([first], delimiter=";"))
    except csv.Error as exc:  # e.g. a stray carriage return inside the header
        raise DataFormatError(f"the header line cannot be read: {exc}", path=path, line=1) from None


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
        if "unexpected end of data" in str(exc):  # a quote opened on the last line never closes
            raise DataFormatError(
                "the last line ends inside a quoted field (truncated file?)",
                path=path,
                line=reader.line_num,
            ) from None
        raise DataFormatError(f"broken quoting: {exc}", path=path, line=reader.line_num) from None
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return [pa.array(c, pa.string()) for c in columns], lines


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

    The layout is recognised from the header (column order and case do not matter;
    older spellings and optional columns as the layout describes them); passing
    ``layout`` additionally requires that layout. Tidy names follow the layout's
    canonical names (e.g. old ``VMBO_BL`` -> ``vmbo_b``). Conversions: counts to ``Int64``
    with ``<5`` as missing plus ``<count>_suppressed`` = True (never zero); averages
    to float, missing when suppressed, ``NA`` or the count is 0 (DUO writes 0 for a
    provider the school did not use); ``GEMEENTENUMMER`` to ``gemeentenummer`` (int)
    and ``gemeente_code`` (``GM%04d``); dates to datetime. Files with an instelling-
    and vestigingscode get ``vestiging`` = the two joined (``00AP00``); the old BRIN
    layouts' one-digit VESTIGINGSNUMMER is zero-padded first (``"1"`` -> ``"01"``).

    ``frame.attrs`` holds ``layout``, ``kind``, ``path``, ``encoding`` and ``schooljaar``
    (from the peildatum, else from a ``YYYY-YYYY`` in the file name, else None).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFormatError(f"cannot read file: {exc.strerror}", path=path) from None
    text, encoding = decode(raw, path)
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
    names = _names(header)
    resolved = found.resolve(names)
    assert resolved is not None  # match_layout checked it
    spellings = [h.strip().lstrip("\ufeff") for h in header]
    # An odd number of quote characters means a stray quote, which pyarrow would accept
    # silently; the csv module then locates it.
    columns = _columns_fast(text, len(names)) if text.count('"') % 2 == 0 else None
    known_lines: list[int] | None = None
    if columns is None:
        columns, known_lines = _split_slow(text, path, spellings)

    def lines() -> list[int]:
        # Line numbers are only needed for an error message: recount them then.
        return known_lines if known_lines is not None else _split_slow(text, path, spellings)[1]

    primary = [resolved[n].name for n in names]
    text_cols = dict(zip(primary, columns, strict=True))
    spelled = dict(zip(primary, spellings, strict=True))
    frame = convert(found, text_cols, Converter(path, lines, found, spelled))
    check_key(found, frame, path, lines)
    frame.attrs.update(
        layout=found.name,
        kind=found.kind,
        path=str(path),
        encoding=encoding,
        schooljaar=_schooljaar(frame, path),
    )
    return frame


def require_values(
    frame: pd.DataFrame, column: str, allowed: Sequence[str], *, header: str, path: str | Path
) -> None:
    """Refuse a value of ``column`` outside ``allowed`` in a frame :func:`read_duo` read
    from ``path``, naming the column ``header`` as the file writes it and the values."""
    bad = ~frame[column].isin(list(allowed))
    if bad.any():
        unknown = sorted(set(frame.loc[bad, column]))
        raise DataFormatError(
            f"{', '.join(map(repr, unknown))} is not one of {', '.join(allowed)} "
            f"({int(bad.sum())} rows)",
            path=path, column=header,
        )  # fmt: skip
