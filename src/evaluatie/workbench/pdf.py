"""``evaluatie run --pdf``: a report printed to PDF by a headless Chromium.

The report's print stylesheet (:data:`evaluatie.workbench.report.STYLE`) hides code and
prompts and keeps figures and tables whole; Chromium prints exactly what a reader's
browser would. Without a Chromium on PATH the option is refused before any work
starts, naming what to install; the browser's own *Print → Save as PDF* gives the same
document by hand.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from evaluatie.core.atomic import atomic_path
from evaluatie.core.errors import EvaluatieError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_on_path() -> str | None:
    """The first headless-capable Chromium on PATH, if any."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def find_browser() -> str:
    """:func:`chromium_on_path`, or an error naming the options if there is none."""
    if found := chromium_on_path():
        return found
    raise EvaluatieError(
        "--pdf needs a headless Chromium on PATH (one of: "
        f"{', '.join(BROWSERS)}; on Debian/Ubuntu `apt install chromium`); or open the "
        "HTML report and use the browser's Print → Save as PDF"
    )


def print_pdf(html: Path, browser: str, *, timeout: float = 300) -> Path:
    """Print ``html`` to ``<same name>.pdf`` beside it (written atomically)."""
    target = html.with_suffix(".pdf")
    with atomic_path(target) as tmp:
        try:
            done = _print(browser, html, tmp, timeout)
        except subprocess.TimeoutExpired:
            raise EvaluatieError(
                f"Chromium did not finish printing {html} to PDF within {timeout:.0f} s"
            ) from None
        if done.returncode != 0 or not tmp.stat().st_size:
            raise EvaluatieError(
                f"Chromium could not print {html} to PDF: {done.stderr.strip()[-300:]}"
            )
    return target


def _print(
    browser: str, html: Path, target: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",  # as root in a container Chromium refuses to start otherwise
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
