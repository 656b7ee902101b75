"""A notebook publishes its headline estimate; the runner finds it in the executed notebook.

In a notebook::

    from evaluatie.workbench import publish
    publish(fit, label=f"TWFE effect on {p.outcome}")     # a Result: its headline()
    publish(0.84, ci=(0.31, 1.37), label="ATT")             # or plain numbers

:func:`publish` displays one output with a JSON part under :data:`MIME` (next to a
plain-text line that readers of the notebook and report see), the way papermill's
companion scrapbook stores values. Nothing is written to disk and no environment is
needed, so it works the same under papermill, on a Dask worker and in JupyterLab.
After the run, :func:`read_published` takes the last such output from the executed
notebook; the runner puts it in the report header, the sidecar and the index.
"""

from __future__ import annotations

import math
from typing import Any

from evaluatie.core.language import current_language, significant, use_language
from evaluatie.core.results import Result
from evaluatie.workbench.texts import TEXT

MIME = "application/vnd.evaluatie.headline+json"


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def headline_payload(
    headline: Any,
    ci: tuple[float, float] | None = None,
    *,
    term: str | None = None,
    label: str = "",
    unit: str = "",
) -> dict[str, Any]:
    """The published record: ``label``, ``estimate``, ``ci_low``, ``ci_high`` (floats or
    None) and, when given, the ``unit`` of the estimate ("punten", "procentpunt").

    ``headline`` is a number, or an evaluatie ``Result``: its
    :meth:`~evaluatie.core.results.Result.headline` (the overall estimate, or the row
    ``term``; a result with several rows and no overall asks for ``term``) supplies the
    estimate and confidence interval.
    """
    if isinstance(headline, Result):
        value = headline.headline(term)
        estimate, ci = value.estimate, (value.ci_low, value.ci_high)
        label = label or value.label
    else:
        estimate = headline
    low, high = ci if ci is not None else (math.nan, math.nan)
    payload = {
        "label": label,
        "estimate": _number(estimate),
        "ci_low": _number(low),
        "ci_high": _number(high),
    }
    if unit:
        payload["unit"] = unit
    return payload


def format_headline(payload: dict[str, Any] | None, *, language: str | None = None) -> str:
    """``label: +0,89 punten (95%-BI +0,17 tot +1,62)``, three significant digits with
    trailing zeros kept (1.003 -> 1,00), in ``language`` (default: the current one);
    empty for no headline."""
    if not payload or payload.get("estimate") is None:
        return ""
    with use_language(language or current_language()):
        text = significant(payload["estimate"], 3, signed=True)
        if payload.get("unit"):
            text += f" {payload['unit']}"
        if payload.get("ci_low") is not None and payload.get("ci_high") is not None:
            low = significant(payload["ci_low"], 3, signed=True)
            high = significant(payload["ci_high"], 3, signed=True)
            text += f" ({TEXT('ci.short', low=low, high=high)})"
    return f"{payload['label']}: {text}" if payload.get("label") else text


def publish(
    headline: Any,
    ci: tuple[float, float] | None = None,
    *,
    term: str | None = None,
    label: str = "",
    unit: str = "",
) -> None:
    """Publish the notebook's headline estimate (see the module docstring).

    Returns nothing, so that a call ending a cell shows the headline once, not also
    its payload (:func:`headline_payload` gives the payload)."""
    from IPython.display import display

    payload = headline_payload(headline, ci, term=term, label=label, unit=unit)
    line = f"{TEXT('published')}: {format_headline(payload)}"
    display({MIME: payload, "text/markdown": f"**{line}**", "text/plain": line}, raw=True)


def read_published(nb: Any) -> dict[str, Any] | None:
    """The last headline published in an executed notebook (a NotebookNode), if any."""
    found = None
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if MIME in data:
                found = dict(data[MIME])
    return found
