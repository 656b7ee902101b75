"""The bestuurlijke samenvatting follows the numbers and comes first in the report."""

from __future__ import annotations

import math

import nbformat
import pytest

from evaluatie.core.language import use_language
from evaluatie.reporting.summary import SUMMARY_MIME, Finding, show_summary, summary_sentences
from evaluatie.workbench.report import lift_summary


def finding(**changes: float | None) -> Finding:
    values: dict[str, object] = {
        "who": "Op de subsidiescholen",
        "subject": "de gemiddelde eindtoetsscore",
        "unit": "punten",
        "estimate": 0.85,
        "ci_low": 0.41,
        "ci_high": 1.30,
        "p": 0.0006,
        "inference": "randomisatie-inferentie",
        "baseline": 535.0,
        "sd": 5.2,
        "mde": 0.76,
        **changes,
    }
    return Finding(**values)  # type: ignore[arg-type]


def test_the_summary_says_effect_scale_interval_certainty_and_mde_in_dutch() -> None:
    sentences = summary_sentences(finding())
    assert len(sentences) == 4
    assert sentences[0] == (
        "Op de subsidiescholen veranderde de gemiddelde eindtoetsscore na de start met "
        "gemiddeld +0,85 punten; dat is +0,2% van het niveau vooraf (535,0 punten) en "
        "+0,16 standaardafwijking."
    )
    assert "tussen +0,41 en +1,30 punten (randomisatie-inferentie)" in sentences[1]
    assert sentences[2] == "Dat het effect positief is, is vrijwel zeker (p <\u00a00,001)."
    assert "effect van 0,76 punten of groter met 80% kans" in sentences[3]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"p": 0.03, "ci_low": 0.05}, "wijzen op een positief effect"),
        ({"p": 0.4, "ci_low": -0.5}, "niet te onderscheiden van nul (p = 0,40)"),
        ({"p": math.nan}, "geen eerlijke p-waarde"),
        ({"estimate": -0.9, "ci_low": -1.4, "ci_high": -0.4}, "negatief is, is vrijwel zeker"),
    ],
)
def test_certainty_in_words_follows_p_and_interval(changes: dict[str, float], words: str) -> None:
    assert words in " ".join(summary_sentences(finding(**changes)))


def test_without_scale_or_mde_the_summary_is_shorter_and_says_no_detectable_effect() -> None:
    plain = summary_sentences(finding(baseline=None, sd=None, mde=None))
    assert len(plain) == 3 and "niveau vooraf" not in plain[0]
    hopeless = summary_sentences(finding(mde=math.inf))
    assert "Geen enkel effect, hoe groot ook" in hopeless[-1]


def test_english_on_request() -> None:
    with use_language("en"):
        english = finding(who="At the grant schools", subject="the mean score", unit="points")
        text = " ".join(summary_sentences(english))
    assert "changed by +0.85 points on average" in text and "95% confidence" in text


def test_the_report_lifts_the_summary_to_the_top(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[dict[str, object]] = []
    monkeypatch.setattr("IPython.display.display", lambda bundle, raw: shown.append(bundle))
    show_summary(["Eerste zin.", "Tweede zin."])
    nb = nbformat.v4.new_notebook()
    intro = nbformat.v4.new_markdown_cell("# Rapport")
    cell = nbformat.v4.new_code_cell("show_summary(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=shown[0])]
    nb.cells = [intro, cell]
    lift_summary(nb, "nl")
    assert nb.cells[0].source == "## Bestuurlijke samenvatting\n\nEerste zin. Tweede zin."
    assert nb.cells[1] is intro and nb.cells[2].outputs == []  # moved, not copied
    assert SUMMARY_MIME in shown[0]
    again = nbformat.v4.new_notebook()
    again.cells = [nbformat.v4.new_markdown_cell("x")]
    assert lift_summary(again, "en").cells[0].source == "x"  # nothing to lift


def test_the_technical_detail_after_the_summary_is_folded_and_opens_for_print() -> None:
    from evaluatie.workbench.report import header_cell, to_html

    nb = nbformat.v4.new_notebook()
    summary = nbformat.v4.new_markdown_cell("## Bestuurlijke samenvatting\n\nZin.")
    summary.metadata["tags"] = ["evaluatie-summary"]
    record = {"name": "r", "status": "ok", "parameters": {}, "data": {}}
    nb.cells = [header_cell(record), summary, nbformat.v4.new_markdown_cell("## Methode")]
    page = to_html(nb)
    fold = page.index('<details class="ev-technical">')
    assert page.index('id="cell-id=cell-1"') < fold < page.index('id="cell-id=cell-2"')
    assert page.index("</details>\n</main>") > page.index("Methode")
    assert "Technische verantwoording" in page and "beforeprint" in page
    plain = nbformat.v4.new_notebook()
    plain.cells = [header_cell(record), nbformat.v4.new_markdown_cell("## Methode")]
    assert 'ev-technical">' not in to_html(plain)  # no summary: nothing folded
