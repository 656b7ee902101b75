"""``reports/index.html``: one table of every run, built from the JSON sidecars.

One row per run record (:mod:`evaluatie.workbench.provenance`): the report's name
(linked to it), notebook, the parameters that differ from the notebook's defaults,
the published headline with its CI, status (a failed run shows its error), duration,
start time and code version. The page is rewritten atomically after every run or
batch, so it never shows a half-written table.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from evaluatie.core.atomic import atomic_open
from evaluatie.core.errors import ParameterError
from evaluatie.workbench.headline import format_headline
from evaluatie.workbench.params import params_model
from evaluatie.workbench.provenance import code_summary, read_sidecar

INDEX_FILE = "index.html"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
tr.failed td { background: #fff0f0; }
.error { color: #a00; font-family: monospace; white-space: pre-wrap; }
code { font-size: 0.95em; }
"""


def load_records(reports: Path) -> list[dict[str, Any]]:
    """Every run record in ``reports``, sorted by name (other JSON files are ignored)."""
    records = [read_sidecar(p) for p in sorted(reports.glob("*.json"))]
    return sorted((r for r in records if r is not None), key=lambda r: str(r.get("name")))


def key_parameters(record: dict[str, Any]) -> dict[str, Any]:
    """The parameters that differ from the notebook's defaults (all, if it is unknown)."""
    params = dict(record.get("parameters", {}))
    params.pop("title", None)
    try:
        model = params_model(str(record.get("notebook")))
    except ParameterError:
        return params
    defaults = model.model_validate({}).model_dump(mode="json")
    return {k: v for k, v in params.items() if k not in defaults or defaults[k] != v}


def _row(record: dict[str, Any]) -> str:
    name = html.escape(str(record.get("name")))
    report = record.get("report")
    link = f'<a href="{html.escape(str(report))}">{name}</a>' if report else name
    params = "<br>".join(
        f"<code>{html.escape(k)}</code>={html.escape(str(v))}"
        for k, v in key_parameters(record).items()
    )
    status = html.escape(str(record.get("status")))
    if record.get("error"):
        status += f'<div class="error">{html.escape(str(record["error"]))}</div>'
    duration = record.get("duration_s")
    cells = [
        link,
        html.escape(str(record.get("notebook"))),
        params or "(defaults)",
        html.escape(format_headline(record.get("headline"))) or "—",
        status,
        f"{duration:.1f} s" if isinstance(duration, int | float) else "—",
        html.escape(str(record.get("started") or "—")),
        html.escape(code_summary(record.get("code", {}))),
    ]
    css = ' class="failed"' if record.get("status") != "ok" else ""
    return f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def render_index(records: list[dict[str, Any]]) -> str:
    """The index page for ``records`` as one self-contained HTML string."""
    failed = sum(r.get("status") != "ok" for r in records)
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Report",
            "Notebook",
            "Parameters (non-default)",
            "Headline (95% CI)",
            "Status",
            "Duration",
            "Started",
            "Code",
        )
    )
    rows = "\n".join(_row(r) for r in records)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>evaluatie reports</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>evaluatie reports</h1>\n<p>{len(records)} runs, {failed} failed.</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n{rows}\n</tbody></table>\n"
        "</body></html>\n"
    )


def write_index(reports: Path) -> Path:
    """Rewrite ``reports/index.html`` (atomically) from the sidecars in ``reports``."""
    path = reports / INDEX_FILE
    with atomic_open(path, newline="\n") as fh:
        fh.write(render_index(load_records(reports)))
    return path
