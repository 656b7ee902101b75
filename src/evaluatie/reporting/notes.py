"""Warnings shown as short notes in a report, not as stderr blocks with source lines."""

from __future__ import annotations

import sys
import warnings
from typing import TextIO

from evaluatie.core.language import Catalogue

TEXT = Catalogue({"note": {"nl": "Opmerking", "en": "Note"}})


def warnings_as_notes() -> None:
    """Route :mod:`warnings` to a one-line note in the notebook output, each text once.

    Estimators warn about what they did to the data (rows dropped, cohorts left out);
    a report reader should see that sentence, not the line of library code behind it.
    """
    seen: set[str] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = str(message)
        if text in seen:
            return
        seen.add(text)
        note = f"Note ({category.__name__}): {text}"
        try:
            from IPython.display import Markdown, display
        except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
            print(note, file=file or sys.stderr)
            return
        display(Markdown(f"> **{TEXT('note')}:** {text}"))

    warnings.showwarning = show
    warnings.simplefilter("always")
