"""``reports/index.html``: one table of every run, built from the JSON sidecars.

One row per run record (:mod:`evaluatie.workbench.provenance`): the report's title
and name (linked to it), notebook, the parameters that differ from the notebook's
defaults (gemeenten by name), the published headline with its unit and CI, status (a
failed run shows its error), duration, start time and code version. Runs on simulated
data are marked, and a banner above the table counts them. The page is Dutch unless
asked otherwise, and is rewritten atomically after every run or batch, so it never
shows a half-written table.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from evaluatie.core.atomic import atomic_open
from evaluatie.core.errors import ParameterError
from evaluatie.core.language import DEFAULT_LANGUAGE, number, use_language
from evaluatie.sources.gemeenten import gemeente_names
from evaluatie.workbench.headline import format_headline
from evaluatie.workbench.params import params_model
from evaluatie.workbench.provenance import code_summary, read_sidecar
from evaluatie.workbench.report import STYLE, record_title
from evaluatie.workbench.texts import TEXT

INDEX_FILE = "index.html"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
tr.failed td { background: #fff0f0; }
.tag { display: inline-block; font-size: 0.8em; padding: 0 0.4em; border-radius: 3px;
       background: #fff4ce; border: 1px solid #c98a00; }
small { color: #555; }
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


def _named(value: Any, names: dict[str, str]) -> str:
    """A parameter value with every gemeente code written as "Leiden (GM0546)"."""
    if isinstance(value, list):
        return ", ".join(_named(v, names) for v in value)
    if isinstance(value, str) and value in names:
        return f"{names[value]} ({value})"
    return str(value)


def _row(record: dict[str, Any], names: dict[str, str]) -> str:
    name = html.escape(str(record.get("name")))
    title = html.escape(record_title(record))
    report = record.get("report")
    shown = f"{title}<br><small>{name}</small>" if title != name else name
    link = f'<a href="{html.escape(str(report))}">{shown}</a>' if report else shown
    if (record.get("data") or {}).get("simulated"):
        link += f' <span class="tag">{TEXT("index.simulated")}</span>'
    params = "<br>".join(
        f"<code>{html.escape(k)}</code>={html.escape(_named(v, names))}"
        for k, v in key_parameters(record).items()
    )
    key = f"status.{record.get('status')}"
    status = html.escape(TEXT(key) if key in TEXT else str(record.get("status")))
    if record.get("error"):
        status += f'<div class="error">{html.escape(str(record["error"]))}</div>'
    duration = record.get("duration_s")
    cells = [
        link,
        html.escape(str(record.get("notebook"))),
        params or TEXT("params.none"),
        html.escape(format_headline(record.get("headline"))) or "—",
        status,
        f"{number(duration, 1)} s" if isinstance(duration, int | float) else "—",
        html.escape(str(record.get("started") or "—")),
        html.escape(code_summary(record.get("code", {}))),
    ]
    css = ' class="failed"' if record.get("status") != "ok" else ""
    return f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def render_index(records: list[dict[str, Any]], *, language: str = DEFAULT_LANGUAGE) -> str:
    """The index page for ``records`` as one self-contained HTML string."""
    with use_language(language):
        return _page(records, language)


def _page(records: list[dict[str, Any]], language: str) -> str:
    names = gemeente_names()
    failed = sum(r.get("status") not in ("ok", "cached") for r in records)
    columns = ("report", "notebook", "params", "headline", "status", "duration", "started")
    head = "".join(f"<th>{TEXT(f'index.col.{c}')}</th>" for c in (*columns, "code"))
    rows = "\n".join(_row(r, names) for r in records)
    simulated = sum(bool((r.get("data") or {}).get("simulated")) for r in records)
    banner = (
        f'<div class="ev-banner"><b>{TEXT("index.banner", n=simulated, runs=len(records))}'
        "</b></div>\n"
        if simulated
        else ""
    )
    title = TEXT("index.title")
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}{STYLE}</style></head><body>\n"
        f"{banner}<h1>{title}</h1>\n"
        f"<p>{TEXT('index.count', runs=len(records), failed=failed)}</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n{rows}\n</tbody></table>\n"
        "</body></html>\n"
    )


def write_index(reports: Path, *, language: str = DEFAULT_LANGUAGE) -> Path:
    """Rewrite ``reports/index.html`` (atomically) from the sidecars in ``reports``."""
    path = reports / INDEX_FILE
    with atomic_open(path, newline="\n") as fh:
        fh.write(render_index(load_records(reports), language=language))
    return path
