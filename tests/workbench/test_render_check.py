"""The report checklist finds each defect it names (and passes a clean page)."""

from __future__ import annotations

import pytest
from render_check import report_problems

CLEAN = (
    '<html lang="nl"><body><h1>Rapport</h1><p>Effect +0,85 punten (95%-BI 0,41 tot 1,30).</p>'
    "<table><tr><th>jaren sinds start</th><th>schatting</th></tr>"
    "<tr><td>\u22121</td><td>0,853</td></tr><tr><td>2019</td><td>15.166</td></tr></table>"
    "<p>\u20ac 1.000 \u00d7 2 \u2192 \u2264 \u221e \u03b1 \u03b2 \u03c7\u00b2</p></body></html>"
)


def test_a_clean_page_passes() -> None:
    assert report_problems(CLEAN) == []


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<p>Status: \u2705 voltooid</p>", "glyphs without a safe font"),
        ("<p>y<sub></sub>st</p>", "empty <sub>"),
        ("<table><tr><th>rel_time</th></tr></table>", "raw column name shown: 'rel_time'"),
        ("<p>ATT_o en ci_low</p>", "raw column name shown: 'ATT_o'"),
        ("<table><tr><td>nan</td></tr></table>", "'nan' shown"),
        ("<table><tr><td>1.510696</td></tr></table>", "too many digits"),
        ("<table><tr><td>0,0011784</td></tr></table>", "too many digits"),
    ],
)
def test_each_defect_is_found(html: str, problem: str) -> None:
    found = report_problems(f"<html><body>{html}</body></html>")
    assert any(problem in p for p in found), found


def test_the_provenance_block_is_not_read() -> None:
    block = (
        "<details><summary>Herkomst</summary><table><tr><td>sha256 1.234567 nan</td></tr>"
        "</table></details>"
    )
    assert report_problems(f"<html><body>{block}</body></html>") == []
