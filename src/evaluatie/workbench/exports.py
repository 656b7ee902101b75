"""A run's tables as files: one ``<name>.xlsx`` (a sheet per table) and a ``.csv`` each.

The tables are those the notebook showed with :func:`evaluatie.reporting.show_table`,
read back from the executed notebook, with full precision and the reader's column
names. CSV files are written the Dutch way when the report is Dutch (``;`` between
fields, decimal comma: what Excel with Dutch settings opens directly) and the
international way otherwise, UTF-8 with a byte-order mark so that Excel reads the
accents. Files are written under temporary names and renamed into place, and are
byte-reproducible: the workbook carries a fixed timestamp, not the time of the run.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

from evaluatie.core.atomic import atomic_path
from evaluatie.reporting.tables import TABLE_MIME

#: Written into the workbook instead of "now", so reruns give the same bytes.
_FIXED_TIME = "2000-01-01T00:00:00Z"
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def read_tables(nb: Any) -> list[dict[str, Any]]:
    """Every table an executed notebook (a NotebookNode) showed, in order."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            payload = output.get("data", {}).get(TABLE_MIME)
            if payload:
                found.append(dict(payload))
    return found


def tables_folder(reports: Path, name: str) -> Path:
    """Where the CSV files of run ``name`` go."""
    return reports / f"{name}_tabellen"


def write_exports(
    reports: Path, name: str, tables: list[dict[str, Any]], *, language: str
) -> list[Path]:
    """Write run ``name``'s tables (see the module docstring); returns the paths written.

    A run without tables writes nothing and removes the exports of an earlier run of
    the same name, so the folder never shows tables the report no longer has.
    """
    xlsx, folder = reports / f"{name}.xlsx", tables_folder(reports, name)
    if not tables:
        xlsx.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        return []
    names = _unique([_file_stem(t["name"]) for t in tables])
    with atomic_path(xlsx) as tmp:
        _write_workbook(tmp, tables, _unique([_sheet_name(t["name"]) for t in tables]))
    staging = reports / f".{folder.name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for number, (table, stem) in enumerate(zip(tables, names, strict=True), start=1):
        path = staging / f"{number:02d}_{stem}.csv"
        path.write_bytes(_csv_bytes(table, language))
    # the old folder goes only once the new one is complete
    old = reports / f".{folder.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return [xlsx, *sorted(folder.iterdir())]


def _csv_bytes(table: dict[str, Any], language: str) -> bytes:
    dutch = language == "nl"
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";" if dutch else ",", lineterminator="\r\n")
    writer.writerow(table["columns"])
    for row in table["rows"]:
        writer.writerow([_csv_value(v, dutch) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value: Any, dutch: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value)  # shortest exact form: nothing lost
        return text.replace(".", ",") if dutch else text
    return str(value)


def _write_workbook(path: Path, tables: list[dict[str, Any]], sheets: list[str]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def cell(value: Any) -> Any:
        # a control character (from a data file's text) makes openpyxl refuse the cell
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    book = Workbook()
    book.remove(book.active)
    for table, sheet in zip(tables, sheets, strict=True):
        ws = book.create_sheet(sheet)
        row = 1
        if table.get("title"):
            ws.cell(row=1, column=1, value=cell(table["title"])).font = Font(bold=True)
            row = 3
        for col, header in enumerate(table["columns"], start=1):
            ws.cell(row=row, column=col, value=cell(header)).font = Font(bold=True)
        for offset, values in enumerate(table["rows"], start=1):
            for col, value in enumerate(values, start=1):
                ws.cell(row=row + offset, column=col, value=cell(value))
        for col, header in enumerate(table["columns"], start=1):
            letter = ws.cell(row=row, column=col).column_letter
            ws.column_dimensions[letter].width = max(10, min(40, len(str(header)) + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_reproducible_zip(buffer.getvalue()))


def _reproducible_zip(data: bytes) -> bytes:
    """The same workbook with fixed entry times and document dates (openpyxl writes now)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + _FIXED_TIME.encode() + rb"\g<3>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)
    return out.getvalue()


def _sheet_name(name: str) -> str:
    return _SHEET_FORBIDDEN.sub("_", name).strip("'")[:31] or "tabel"


def _file_stem(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "_", name).strip("_")[:60] or "tabel"


def _unique(names: list[str]) -> list[str]:
    """Names made unique by a suffix (Excel sheet names must differ; so must files)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name.lower(), 0)
        seen[name.lower()] = count + 1
        out.append(name if count == 0 else f"{name[:27]}_{count + 1}")
    return out
