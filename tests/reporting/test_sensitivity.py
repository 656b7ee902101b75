"""The honest_did sentence of a report: the breakdown value where the event study's
covariance can be trusted, the reason and the alternative where it cannot."""

from __future__ import annotations

import math

import pytest

import evaluatie as ev
from evaluatie.core.language import number, use_language
from evaluatie.reporting.sensitivity import sensitivity
from evaluatie.synth.panels import staggered_panel

KEYS = {"outcome": "y", "unit": "unit", "time": "year", "cohort": "cohort", "window": (-3, 3)}


@pytest.fixture(scope="module")
def panel():
    return staggered_panel(n_units=400, n_groups=80, seed=5)


def test_breakdown_sentence_where_the_covariance_is_trusted(panel) -> None:
    es = ev.event_study(panel, cluster="group", inference="analytic", **KEYS)
    result, sentence = sensitivity(es)
    assert result is not None
    assert result.breakdown == ev.honest_did(es).breakdown
    with use_language("nl"):
        _, sentence = sensitivity(es)
    if math.isfinite(result.breakdown):
        assert number(result.breakdown, 2) in sentence and "ten opzichte van periode -1" in sentence
    else:
        assert "nul" in sentence


def test_no_analysis_with_randomization_inference_and_the_reason(panel) -> None:
    es = ev.event_study(panel, cluster="group", inference="randomization", **KEYS)
    with use_language("nl"):
        result, sentence = sensitivity(es)
    assert result is None
    assert (
        sentence.startswith("**Geen gevoeligheidsanalyse") and "randomisatie-inferentie" in sentence
    )


def test_an_event_study_too_short_for_the_analysis_says_so_not_few_clusters(panel) -> None:
    """A trusted covariance but one pre-period only: the reason is the window, in words."""
    es = ev.event_study(panel, cluster="group", inference="analytic", **{**KEYS, "window": (-1, 2)})
    with use_language("nl"):
        result, sentence = sensitivity(es)
    assert result is None
    assert "voor deze event study" in sentence and "pre-period" in sentence
