"""Turn an executed notebook into a self-contained HTML report.

nbconvert's HTML exporter embeds figures as base64 PNG, so the report is one file a
reader can open offline or mail. Code is hidden unless asked for; a header cell shows
the title, run status (with the error of a failed run), the headline estimate, the
parameters and the provenance of the run (the same record as the JSON sidecar).

Reports are byte-reproducible: two runs of the same inputs give the same HTML except
inside the provenance block, which alone holds the start time and duration. Cell ids
are numbered instead of random, and the random ids pandas gives each styled table
(``T_1a2b3``) are renumbered in order of appearance.
"""

from __future__ import annotations

import html
import re
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from evaluatie.workbench.headline import format_headline
from evaluatie.workbench.provenance import code_summary

# Scripts fetched from a CDN would make the report depend on the network; static
# outputs (figures, tables, text) need none of them.
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.I)
# pandas' Styler names each table T_ plus a random five-character hex uuid
_STYLER_ID = re.compile(r"\bid=\"T_([0-9a-f]{5})")


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
        ("evaluatie", html.escape(code_summary(record.get("code", {})))),
        (
            "notebook",
            f"<code>{html.escape(str(record.get('notebook_file')))}</code>, "
            f"sha256 {str(record.get('notebook_sha256'))[:16]}…",
        ),
        (
            "data",
            f"<code>{html.escape(str(data.get('raw_dir')))}</code>: "
            f"<details><summary>{len(data.get('files', {}))} files (sha256)</summary>"
            f"<ul>{files}</ul></details>",
        ),
        ("environment", html.escape(f"Python {env.get('python')}; {packages}")),
        ("cache key", f"<code>{html.escape(str(record.get('cache_key')))}</code>"),
        (
            "run",
            html.escape(f"started {record.get('started')}, {record.get('duration_s', 0):.1f} s"),
        ),
        ("record", f"<code>{html.escape(str(record.get('name')))}.json</code>"),
    ]
    return f"<table>{_rows(pairs)}</table>"


def header_cell(record: dict[str, Any]) -> Any:
    """A markdown cell placed above everything else, built from the run record."""
    params = record.get("parameters", {})
    title = str(params.get("title") or record.get("name"))
    if record.get("status") == "ok":
        status = "✅ completed"
    else:
        error = html.escape(str(record.get("error")))
        status = f"❌ <b>failed</b>: <code>{error}</code> (the failing cell is marked below)"
    # the start time and duration live in the provenance block only (module docstring)
    facts = html.escape(f"params file: {record.get('params_file') or '(defaults)'}")
    headline = format_headline(record.get("headline"))
    headline_html = f"<br><b>Headline</b>: {html.escape(headline)}" if headline else ""
    param_rows = _rows([(f"{k}", html.escape(repr(v))) for k, v in params.items()])
    text = (
        f"# {html.escape(title)}\n\n"
        f"<p>Status: {status}{headline_html}<br><small>{facts}</small></p>\n\n"
        "<details open><summary>Parameters of this run</summary>\n"
        f"<table>{param_rows}</table>\n</details>\n\n"
        "<details><summary>Provenance</summary>\n"
        f"{provenance_table(record)}\n</details>\n"
    )
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = ["evaluatie-header"]
    return cell


def to_html(nb: Any, *, show_code: bool = False) -> str:
    """Render ``nb`` (a NotebookNode) to one self-contained HTML string."""
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
        embed_images=True,
    )
    nb = nbformat.from_dict(nb)  # a copy: the ids below are for the report only
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{number}"
    body, _ = exporter.from_notebook_node(nb)
    return _stable_table_ids(_REMOTE_SCRIPT.sub("", body))


def _stable_table_ids(body: str) -> str:
    """Replace each styled table's random uuid by its number in the report."""
    for number, uuid in enumerate(dict.fromkeys(_STYLER_ID.findall(body)), start=1):
        body = body.replace(f"T_{uuid}", f"T_t{number:04d}")  # not hex: no clash
    return body
