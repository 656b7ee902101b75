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

from evaluatie.core.results import Result

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
) -> dict[str, Any]:
    """The published record: ``label``, ``estimate``, ``ci_low``, ``ci_high`` (floats or None).

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
    return {
        "label": label,
        "estimate": _number(estimate),
        "ci_low": _number(low),
        "ci_high": _number(high),
    }


def _sig3(x: float) -> str:
    """Three significant digits, trailing zeros kept (1.003 -> '1.00', not '1')."""
    return f"{x:#.3g}".rstrip(".")


def format_headline(payload: dict[str, Any] | None) -> str:
    """``label: 0.89 (95% CI 0.17 to 1.62)``; empty for no headline."""
    if not payload or payload.get("estimate") is None:
        return ""
    text = _sig3(payload["estimate"])
    if payload.get("ci_low") is not None and payload.get("ci_high") is not None:
        text += f" (95% CI {_sig3(payload['ci_low'])} to {_sig3(payload['ci_high'])})"
    return f"{payload['label']}: {text}" if payload.get("label") else text


def publish(
    headline: Any,
    ci: tuple[float, float] | None = None,
    *,
    term: str | None = None,
    label: str = "",
) -> dict[str, Any]:
    """Publish the notebook's headline estimate (see the module docstring); returns it."""
    from IPython.display import display

    payload = headline_payload(headline, ci, term=term, label=label)
    display({MIME: payload, "text/plain": f"Headline — {format_headline(payload)}"}, raw=True)
    return payload


def read_published(nb: Any) -> dict[str, Any] | None:
    """The last headline published in an executed notebook (a NotebookNode), if any."""
    found = None
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if MIME in data:
                found = dict(data[MIME])
    return found
