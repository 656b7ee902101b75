"""The sup-t critical value (evaluatie.inference.bands) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evaluatie.core.errors import ParameterError
from evaluatie.inference.bands import sup_t_critical


def test_independent_points_give_the_sidak_value() -> None:
    """For G independent standard normals, P(max |Z| <= c) = (2 Phi(c) - 1)^G."""
    g = 10
    exact = stats.norm.ppf((1 + 0.95 ** (1 / g)) / 2)
    c = sup_t_critical(np.diag(np.linspace(0.5, 3.0, g)), draws=200_000)
    assert c == pytest.approx(exact, abs=0.01)


def test_one_common_factor_gives_the_pointwise_value() -> None:
    """Perfectly correlated points (a low-rank covariance) move together: the band is
    the pointwise interval."""
    scale = np.array([1.0, 2.0, 0.5, 4.0])
    c = sup_t_critical(np.outer(scale, scale), draws=200_000)
    assert c == pytest.approx(stats.norm.ppf(0.975), abs=0.01)


def test_few_degrees_of_freedom_widen_the_band() -> None:
    """One point with df: the t quantile."""
    c = sup_t_critical(np.array([[2.0]]), draws=400_000, df=5)
    assert c == pytest.approx(stats.t.ppf(0.975, 5), abs=0.03)
    assert sup_t_critical(np.eye(3), df=5) > sup_t_critical(np.eye(3))


def test_zero_variance_points_are_left_out_and_bad_input_is_refused() -> None:
    cov = np.zeros((3, 3))
    cov[1, 1] = 1.0
    assert sup_t_critical(cov, draws=100_000) == pytest.approx(stats.norm.ppf(0.975), abs=0.02)
    assert np.isnan(sup_t_critical(np.zeros((2, 2))))
    with pytest.raises(ParameterError, match="square"):
        sup_t_critical(np.ones(3))
    # the same value on every run (fixed seed)
    assert sup_t_critical(np.eye(4)) == sup_t_critical(np.eye(4))
