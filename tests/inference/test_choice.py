"""The rule behind ``inference="auto"`` and which fits it makes equal to an explicit one."""

from __future__ import annotations

import pytest

from evaluatie.inference.choice import choose, same_fit


@pytest.mark.parametrize(("n_clusters", "n_treated"), [(40, 1), (343, 12), (343, 171)])
def test_auto_is_the_explicit_randomization_wherever_the_estimator_randomizes(
    n_clusters: int, n_treated: int
) -> None:
    """same_fit reuses an "auto" fit for "randomization": that holds only while choose
    gives both the same settings (a change to either breaks this test first)."""
    auto = choose("auto", n_clusters=n_clusters, n_treated=n_treated)
    explicit = choose("randomization", n_clusters=n_clusters, n_treated=n_treated)
    assert auto.method == explicit.method


def test_a_fit_is_taken_only_for_its_own_method() -> None:
    assert same_fit("auto", "randomization", "randomization")
    assert same_fit("wild", "wild cluster bootstrap", "wild")
    # "auto" without randomization resolved to analytic inference, or to none at all
    assert not same_fit("auto", "analytic", "randomization")
    assert not same_fit("auto", "unavailable", "randomization")
    assert not same_fit("auto", "randomization", "wild")
    assert not same_fit("auto", "randomization", "analytic")
    assert not same_fit("randomization", "randomization", "wild")
