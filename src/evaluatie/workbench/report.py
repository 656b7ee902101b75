"""Turn an executed notebook into a self-contained HTML report.

nbconvert's HTML exporter embeds figures as base64 PNG, so the report is one file a
reader can open offline or mail. Code is hidden unless asked for; a header cell shows
the title, a banner when any input is simulated, the run status (with the error of a
failed run), the headline estimate, the parameters and the provenance of the run (the
same record as the JSON sidecar), in the run's ``language``. The page declares that
language (``<html lang="nl">``), carries the report's title, and has a print
stylesheet, so that the browser's "print to PDF" gives a clean document.

Reports are byte-reproducible: two runs of the same inputs give the same HTML except
inside the provenance block, which alone holds the start time and duration. Cell ids
are numbered instead of random, and the random ids pandas gives each styled table
(``T_1a2b3``) are renumbered in order of appearance.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from evaluatie.core.language import DEFAULT_LANGUAGE, number, use_language
from evaluatie.reporting.summary import SUMMARY_MIME
from evaluatie.reporting.summary import TEXT as SUMMARY_TEXT
from evaluatie.workbench.headline import format_headline
from evaluatie.workbench.provenance import code_summary
from evaluatie.workbench.texts import TEXT

# Scripts fetched from a CDN would make the report depend on the network; static
# outputs (figures, tables, text) need none of them.
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.I)
# pandas' Styler names each table T_ plus a random five-character hex uuid
_STYLER_ID = re.compile(r"\bid=\"T_([0-9a-f]{5})")

#: The banner stays in view while scrolling; printed, it heads the first page, and
#: code, prompts and the folded technical blocks' markers do not waste paper.
STYLE = """
.ev-banner { position: sticky; top: 0; z-index: 10; background: #fff4ce;
  border: 2px solid #c98a00; color: #3d2a00; padding: 0.6em 1em; margin: 0 0 1em;
  font-size: 1.05em; }
.ev-status-ok { color: #0a6b2d; font-weight: 600; }
details.ev-technical > summary { font-size: 1.3em; font-weight: 600; cursor: pointer;
  font-family: var(--jp-content-font-family, system-ui, sans-serif);
  padding: 0.5em 0; border-top: 1px solid #ccc; margin-top: 1em; }
.ev-status-failed { color: #a00000; font-weight: 600; }
@media print {
  @page { size: A4; margin: 18mm 16mm; }
  body { font-size: 10.5pt; }
  .ev-banner { position: static; }
  .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  .jp-Cell, .jp-OutputArea-output, table, figure, img { break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; }
  details > summary { list-style: none; font-weight: 600; }
  a { color: inherit; text-decoration: none; }
}
"""


def simulated_banner(record: dict[str, Any]) -> str:
    """The banner HTML when any input of the run is simulated (else empty)."""
    data = record.get("data", {})
    simulated = data.get("simulated") or []
    if not simulated:
        return ""
    files = TEXT("banner.files", n=len(simulated), total=len(data.get("files", {})))
    return f'<div class="ev-banner"><b>{TEXT("banner.simulated", files=files)}</b></div>'


def _rows(pairs: list[tuple[str, str]]) -> str:
    """Table rows from (label, already-escaped HTML) pairs."""
    return "\n".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in pairs)


def provenance_table(record: dict[str, Any]) -> str:
    """The provenance part of the header: code, notebook, data, environment, cache key."""
    env = record.get("environment", {})
    packages = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items())
    data = record.get("data", {})
    files = "".join(
        f"<li><code>{html.escape(name)}</code> {digest[:16]}…</li>"
        for name, digest in data.get("files", {}).items()
    )
    pairs = [
        (TEXT("provenance.code"), html.escape(code_summary(record.get("code", {})))),
        (
            TEXT("provenance.notebook"),
            f"<code>{html.escape(str(record.get('notebook_file')))}</code>, "
            f"sha256 {str(record.get('notebook_sha256'))[:16]}…",
        ),
        (
            TEXT("provenance.data"),
            f"<code>{html.escape(str(data.get('raw_dir')))}</code>: "
            f"<details><summary>{TEXT('provenance.files', n=len(data.get('files', {})))}"
            f"</summary><ul>{files}</ul></details>",
        ),
        (
            TEXT("provenance.environment"),
            html.escape(f"Python {env.get('python')}; {packages}"),
        ),
        (TEXT("provenance.cache"), f"<code>{html.escape(str(record.get('cache_key')))}</code>"),
        (
            TEXT("provenance.run"),
            html.escape(
                TEXT(
                    "provenance.started",
                    started=record.get("started"),
                    seconds=number(record.get("duration_s", 0), 1),
                )
            ),
        ),
        (TEXT("provenance.record"), f"<code>{html.escape(str(record.get('name')))}.json</code>"),
    ]
    return f"<table>{_rows(pairs)}</table>"


def lift_summary(nb: Any, language: str) -> Any:
    """Move the notebook's *bestuurlijke samenvatting* (:func:`evaluatie.reporting.
    show_summary`) from where it was computed to a section at the top of ``nb``.

    A notebook computes the summary after the estimates it summarises; a reader wants
    it first. Only the report moves it: the executed notebook keeps its order.
    """
    for cell in nb.cells:
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        for output in outputs:
            payload = output.get("data", {}).get(SUMMARY_MIME)
            if payload:
                outputs.remove(output)
                with use_language(language):
                    title = SUMMARY_TEXT("title")
                section = nbformat.v4.new_markdown_cell(f"## {title}\n\n{payload['text']}")
                section.metadata["tags"] = ["evaluatie-summary"]
                nb.cells.insert(0, section)
                return nb
    return nb


def record_language(record: dict[str, Any]) -> str:
    """The language a run's report is written in (its ``language`` parameter)."""
    return str(record.get("parameters", {}).get("language") or DEFAULT_LANGUAGE)


def record_title(record: dict[str, Any]) -> str:
    return str(record.get("parameters", {}).get("title") or record.get("name"))


def header_cell(record: dict[str, Any]) -> Any:
    """A markdown cell placed above everything else, built from the run record."""
    with use_language(record_language(record)):
        text = _header(record)
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = ["evaluatie-header"]
    return cell


def _header(record: dict[str, Any]) -> str:
    params = record.get("parameters", {})
    # Words, not emoji: a report opened where the emoji font is missing showed "□".
    if record.get("status") == "ok":
        status = f'<span class="ev-status-ok">{TEXT("status.ok")}</span>'
    else:
        error = html.escape(str(record.get("error")))
        status = (
            f'<span class="ev-status-failed">{TEXT("status.failed")}</span>: '
            f"<code>{error}</code> ({TEXT('failed.where')})"
        )
    # the start time and duration live in the provenance block only (module docstring)
    facts = html.escape(
        f"{TEXT('params.file')}: {record.get('params_file') or TEXT('params.none')}"
    )
    headline = format_headline(record.get("headline"))
    headline_html = f"<br><b>{TEXT('headline')}</b>: {html.escape(headline)}" if headline else ""
    param_rows = _rows([(f"{k}", html.escape(repr(v))) for k, v in params.items()])
    exports = _export_links(record.get("exports") or [])
    return (
        f"{simulated_banner(record)}\n\n"
        f"# {html.escape(record_title(record))}\n\n"
        f"<p>{TEXT('status.label')}: {status}{headline_html}<br>{exports}"
        f"<small>{facts}</small></p>\n\n"
        f"<details><summary>{TEXT('params.title')}</summary>\n"
        f"<table>{param_rows}</table>\n</details>\n\n"
        f"<details><summary>{TEXT('provenance.title')}</summary>\n"
        f"{provenance_table(record)}\n</details>\n"
    )


def _export_links(exports: list[str]) -> str:
    """Links to the run's ``.xlsx`` and its folder of CSV files (relative: they lie beside)."""
    xlsx = [e for e in exports if e.endswith(".xlsx")]
    csvs = [e for e in exports if e.endswith(".csv")]
    if not xlsx and not csvs:
        return ""
    links = [f'<a href="{html.escape(x)}">Excel (.xlsx)</a>' for x in xlsx]
    if csvs:
        folder = csvs[0].rsplit("/", 1)[0]
        links.append(f'<a href="{html.escape(folder)}/">CSV ({len(csvs)})</a>')
    return f"{TEXT('exports')}: {' · '.join(links)}<br>"


#: Printing opens the folded technical detail: a PDF is read without clicking.
_OPEN_FOR_PRINT = (
    "<script>window.addEventListener('beforeprint',function(){"
    "document.querySelectorAll('details.ev-technical').forEach(function(d){d.open=true;});"
    "});</script>"
)


def _fold_technical(body: str, first: int, language: str) -> str:
    """Wrap the cells from cell number ``first`` on in one folded ``<details>``: the
    report opens with the header, the summary and the RPE answers; the methods, tables
    and figures behind them are one click away (RPE: technical detail below)."""
    start = body.find(f'id="cell-id=cell-{first}"')
    end = body.rfind("</main>")
    if start < 0 or end < start:
        return body
    start = body.rfind("<div", 0, start)
    with use_language(language):
        label = SUMMARY_TEXT("technical")
    opening = f'<details class="ev-technical"><summary>{html.escape(label)}</summary>\n'
    return body[:start] + opening + body[start:end] + "</details>\n" + body[end:]


def to_html(
    nb: Any,
    *,
    show_code: bool = False,
    language: str = DEFAULT_LANGUAGE,
    title: str = "evaluatie",
) -> str:
    """Render ``nb`` (a NotebookNode) to one self-contained HTML string in ``language``.

    When ``nb`` opens with a header and a lifted summary (:func:`lift_summary`), the
    cells after them are folded into one "technical detail" block."""
    exporter = _exporter(show_code)
    nb = nbformat.from_dict(nb)  # a copy: the ids below are for the report only
    for position, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{position}"
    body, _ = exporter.from_notebook_node(nb)
    body = _REMOTE_SCRIPT.sub("", body)
    body = re.sub(r"<html[^>]*>", f'<html lang="{html.escape(language)}">', body, count=1)
    body = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", body, count=1)
    body = body.replace("</head>", f"<style>{STYLE}</style>\n</head>", 1)
    tags = [cell.get("metadata", {}).get("tags", []) for cell in nb.cells[:2]]
    if len(tags) == 2 and "evaluatie-summary" in tags[1]:
        body = _fold_technical(body, 2, language)
        body = body.replace("</body>", f"{_OPEN_FOR_PRINT}\n</body>", 1)
    return _stable_table_ids(body)


@functools.cache
def _exporter(show_code: bool) -> HTMLExporter:
    """One exporter per process and setting: its templates compile once (0.13 s a
    report), not once per report of a batch. Rendering does not change it. The notebook
    is validated once, after the preprocessors, not after each of its twelve (nbconvert's
    ``optimistic_validation``): the same HTML, 1.5-1.7 instead of 2.2 s for the 18
    reports (median of 8 alternated rounds)."""
    return HTMLExporter(
        template_name="lab",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
        embed_images=True,
        optimistic_validation=True,
    )


def _stable_table_ids(body: str) -> str:
    """Replace each styled table's random uuid by its number in the report."""
    for position, uuid in enumerate(dict.fromkeys(_STYLER_ID.findall(body)), start=1):
        body = body.replace(f"T_{uuid}", f"T_t{position:04d}")  # not hex: no clash
    return body
