"""Warnings shown as short notes in a report, not as stderr blocks with source lines.

The estimators warn in English (their messages are also read in logs and tests). The
notes a report shows most often are given in Dutch here (:data:`DUTCH`, matched on the
estimators' exact wording, which the tests pin); any other note is shown as it is.
"""

from __future__ import annotations

import re
import sys
import warnings
from typing import TextIO

from evaluatie.core.language import Catalogue, current_language

TEXT = Catalogue({"note": {"nl": "Opmerking", "en": "Note"}})

#: The estimators' most frequent notes (pattern of the English text) in Dutch.
DUTCH: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"Dropped (\d+) row\(s\) with a missing value in \[(.*)\]\.$"),
        "{0} rij(en) weggelaten met een ontbrekende waarde in {1}.",
    ),
    (
        re.compile(
            r"The panel is unbalanced: dropped (\d+) of (\d+) unit\(s\) not observed "
            r"\(with complete data\) in all (\d+) periods\.$"
        ),
        "Het panel is niet gebalanceerd: {0} van de {1} eenheden weggelaten die niet in "
        "alle {2} perioden (met volledige gegevens) zijn waargenomen.",
    ),
    (
        re.compile(
            r"cohorts \[(.*)\] have no observation at the reference period (-?\d+), so "
            r"their interactions are not identified; they are dropped$"
        ),
        "cohort(en) {0} hebben geen waarneming in de referentieperiode {1}; hun effecten "
        "zijn niet te schatten en zijn weggelaten.",
    ),
    (
        re.compile(
            r"relative periods (.*) have no observations of treated units in the "
            r"estimation sample; they are left out$"
        ),
        "relatieve perioden {0} hebben geen waarnemingen van behandelde eenheden; ze zijn "
        "weggelaten.",
    ),
    (
        re.compile(
            r"(\d+) treated observations belong to units or periods without untreated "
            r"observations; their Y\(0\) cannot be imputed and they are left out$"
        ),
        "{0} behandelde waarnemingen horen bij eenheden of perioden zonder onbehandelde "
        "waarnemingen; hun uitkomst zonder behandeling is niet te schatten en ze zijn "
        "weggelaten.",
    ),
    (
        re.compile(
            r"members without a count in every year, so their region's rate is made of "
            r"other gemeenten in some years: (.*)$"
        ),
        "gemeenten zonder cijfers in elk jaar, zodat het percentage van hun regio in "
        "sommige jaren uit andere gemeenten bestaat: {0}",
    ),
    (
        re.compile(
            r"left out of the RMC regions \(not in the shipped crosswalk, e\.g\. formed after "
            r"2022-23\): (.*)$"
        ),
        "niet meegeteld in de RMC-regio's (niet in de meegeleverde indeling, bijvoorbeeld "
        "gevormd na 2022-23): {0}",
    ),
)


def in_report_language(text: str) -> str:
    """An estimator's note in the report's language, where :data:`DUTCH` knows it."""
    if current_language() == "nl":
        for pattern, dutch in DUTCH:
            if found := pattern.match(text):
                return dutch.format(*found.groups())
    return text


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
        display(Markdown(f"> **{TEXT('note')}:** {in_report_language(text)}"))

    warnings.showwarning = show
    warnings.simplefilter("always")
