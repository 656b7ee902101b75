"""Turn an executed notebook into a self-contained HTML report.

nbconvert's HTML exporter embeds figures as base64 PNG, so the report is one file a
reader can open offline or mail. Code is hidden unless asked for; a header cell shows
the title, run status and the parameters the report was made with.
"""

from __future__ import annotations

import html
import re
from typing import Any

import nbformat
from nbconvert import HTMLExporter

# Scripts fetched from a CDN would make the report depend on the network; static
# outputs (figures, tables, text) need none of them.
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.I)


def header_cell(title: str, params: dict[str, Any], status: str, meta: dict[str, Any]) -> Any:
    """A markdown cell with title, status and the parameters, placed above everything else."""
    rows = "\n".join(
        f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(repr(v))}</td></tr>"
        for k, v in params.items()
    )
    facts = " · ".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in meta.items())
    badge = "✅ completed" if status == "ok" else "❌ <b>failed</b> — the error is shown below"
    text = (
        f"# {html.escape(title)}\n\n"
        f"<p>Status: {badge}<br><small>{facts}</small></p>\n\n"
        "<details open><summary>Parameters of this run</summary>\n"
        f"<table>{rows}</table>\n</details>\n"
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
    body, _ = exporter.from_notebook_node(nb)
    return _REMOTE_SCRIPT.sub("", body)
