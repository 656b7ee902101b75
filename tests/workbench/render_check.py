"""What a reader must never see in a report: checked on the rendered HTML.

Each check names a defect found in earlier reports: glyphs without a font (an emoji
shown as a box), formula subscripts rendered empty, the code's column names instead of
words, "nan", numbers printed with more digits than anyone can read.
"""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

#: Names of the code's tables that must be translated before a reader sees them.
RAW_NAMES = (
    "rel_time", "ci_low", "ci_high", "ATT_o", "ACRT_o", "vcov_factor", "n_obs",
    "n_units", "estimate_sd", "att_ci_low", "budget_change_pct", "dose_cdid",
)  # fmt: skip

#: Characters DejaVu Sans (the fonts a report falls back on) draws, beyond ASCII:
#: Latin-1, the Latin letters with accents of Dutch, Greek, typographic punctuation,
#: the math and arrows the reports use. Anything else (emoji) may show as a box.
_SAFE = re.compile(
    "[\u0000-\u024f\u0370-\u03ff\u2010-\u2027\u2030-\u205e\u20ac\u2190-\u21ff"
    "\u2200-\u22ff\u2500-\u257f\u25a0-\u25ff]"
)
_FLOAT = re.compile(r"(?<![\w.,])[\u2212+-]?\d+[.,](\d+)(?![\w])")


class _Text(HTMLParser):
    """The visible text of a page: cell by cell for tables, outside scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.cells: list[str] = []
        self._skip = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def report_problems(html: str, *, skip_provenance: bool = True) -> list[str]:
    """Every defect of the checklist found in ``html`` (empty: the report is clean).

    The header's provenance block (hashes, versions, file names) is left out when
    ``skip_provenance``: it is a record for auditors, not text for a reader.
    """
    if skip_provenance:
        html = re.sub(r"<details><summary>(Herkomst|Provenance)</summary>.*?</table>\s*</details>",
                      "", html, flags=re.S)  # fmt: skip
        html = re.sub(r"<details><summary>Parameters[^<]*</summary>.*?</details>", "", html,
                      flags=re.S)  # fmt: skip
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.text)
    problems = []
    unsafe = sorted({c for c in text if not _SAFE.match(c)})
    if unsafe:
        problems.append(f"glyphs without a safe font: {' '.join(unsafe)!r}")
    if re.search(r"<sub>\s*</sub>", html):
        problems.append("an empty <sub> (a formula's subscript lost)")
    for name in RAW_NAMES:
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
            problems.append(f"raw column name shown: {name!r}")
    if re.search(r"(?<![\w])(nan|NaN)(?![\w])", text):
        problems.append("'nan' shown")
    for cell in parser.cells:
        for match in _FLOAT.finditer(cell):
            digits = re.sub(r"\D", "", match.group(0)).lstrip("0")
            if len(digits) > 4 and len(match.group(1)) > 3:
                problems.append(f"table cell with too many digits: {cell!r}")
                break
    return problems


def chromium() -> str | None:
    """A headless-capable Chromium on PATH, if any (the one `evaluatie run --pdf` uses)."""
    from evaluatie.workbench.pdf import chromium_on_path

    return chromium_on_path()


def console_errors(browser: str, page: Path) -> list[str]:
    """Console errors Chromium logs while rendering ``page`` headless."""
    run = subprocess.run(
        [browser, "--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
         "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [
        line for line in run.stderr.splitlines()
        if "CONSOLE" in line and ("ERROR" in line or "Uncaught" in line)
    ]  # fmt: skip
