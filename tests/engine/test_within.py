"""Within transformation, factorization, singletons, nesting, covariance conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.engine.within import (
    FixedEffects,
    combine_codes,
    factorize,
    is_nested,
    singleton_mask,
)
from evaluatie.inference.vcov import FixedEffectCount, get_convention


def dummies(codes: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((codes.size, n))
    out[np.arange(codes.size), codes] = 1.0
    return out


def lstsq_residual(x: np.ndarray, factors: list[np.ndarray], w: np.ndarray | None) -> np.ndarray:
    """Reference: residual of weighted least squares on all dummy columns."""
    d = np.column_stack([dummies(*factorize(f)) for f in factors])
    root_w = np.ones(x.shape[0]) if w is None else np.sqrt(w)
    coef, *_ = np.linalg.lstsq(d * root_w[:, None], x * root_w[:, None], rcond=None)
    return x - d @ coef


def random_factors(rng: np.random.Generator, n: int, sizes: tuple[int, ...]) -> list[np.ndarray]:
    return [rng.integers(0, s, n) for s in sizes]


def make_fe(factors: list[np.ndarray], w: np.ndarray | None = None) -> FixedEffects:
    coded = [factorize(f) for f in factors]
    return FixedEffects([c for c, _ in coded], [n for _, n in coded], w)


@pytest.mark.parametrize(
    "values",
    [
        np.array([2021, 2019, 2021, 2023, 2019]),  # dense integer path
        np.array([10**15, 3, 10**15, -7, 3]),  # wide range: hashing path
        np.array(["b", "a", "b", "c", "a"], dtype=object),
        np.array([1.5, 0.5, 1.5, 2.5, 0.5]),
    ],
)
def test_factorize_codes_identify_the_values(values: np.ndarray) -> None:
    codes, n = factorize(values)
    assert n == len(set(values.tolist()))
    assert codes.min() == 0 and codes.max() == n - 1
    # equal values <-> equal codes
    same_value = values[:, None] == values[None, :]
    same_code = codes[:, None] == codes[None, :]
    assert np.array_equal(same_value, same_code)


def test_factorize_marks_missing() -> None:
    codes, n = factorize(pd.Series([1.0, np.nan, 2.0, 1.0]))
    assert n == 2
    assert codes[1] == -1 and codes[0] == codes[3] != codes[2]


def test_factorize_uses_a_categorical_s_own_codes() -> None:
    labels = pd.Categorical(
        ["GM0546", None, "GM0034", "GM0546", "GM0453"],
        categories=["GM0003", "GM0034", "GM0453", "GM0546"],  # GM0003 never occurs
    )
    codes, n = factorize(pd.Series(labels))
    assert n == 3  # unused categories are not levels
    assert codes[1] == -1
    assert sorted(codes[[0, 2, 4]].tolist()) == [0, 1, 2] and codes[0] == codes[3]


def test_combine_codes_one_code_per_combination() -> None:
    a = np.array([0, 0, 1, 1, 0, 2])
    b = np.array([0, 1, 0, 1, 0, 1])
    cell, n = combine_codes([a, b], [3, 2])
    pairs = list(zip(a.tolist(), b.tolist(), strict=True))
    assert n == len(set(pairs))
    for i in range(a.size):
        for j in range(a.size):
            assert (cell[i] == cell[j]) == (pairs[i] == pairs[j])


def test_one_factor_is_group_demeaning() -> None:
    rng = np.random.default_rng(1)
    g = rng.integers(0, 7, 200)
    x = rng.normal(size=200)
    expected = x - pd.Series(x).groupby(g).transform("mean").to_numpy()
    got = make_fe([g]).demean(x)
    np.testing.assert_allclose(got.values, expected, atol=1e-12)
    assert got.converged and got.iterations == 1


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sizes", [(30, 6), (25, 5, 4), (200, 100)])  # last: hashed cells
def test_matches_dummy_regression(weighted: bool, sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(2)
    n = 600  # several rows per cell for the two-factor case
    factors = random_factors(rng, n, sizes)
    x = rng.normal(size=(n, 3)) + factors[0][:, None] * 0.1
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    got = make_fe(factors, w).demean(x)
    assert got.converged
    np.testing.assert_allclose(got.values, lstsq_residual(x, factors, w), atol=1e-10)


def test_one_dimensional_input_gives_one_dimensional_output() -> None:
    rng = np.random.default_rng(3)
    factors = random_factors(rng, 100, (10, 4))
    x = rng.normal(size=100)
    fe = make_fe(factors)
    np.testing.assert_allclose(fe.demean(x).values, fe.demean(x[:, None]).values[:, 0])


def chain_design(rng: np.random.Generator, n_units: int, n_periods: int) -> list[np.ndarray]:
    """Each unit observed in two adjacent periods: weakly connected, slow for plain sweeps."""
    start = rng.integers(0, n_periods - 1, n_units)
    unit = np.repeat(np.arange(n_units), 2)
    period = np.column_stack([start, start + 1]).ravel()
    return [unit, period]


def test_weakly_connected_design_converges_exactly() -> None:
    rng = np.random.default_rng(5)
    factors = chain_design(rng, 150, 40)
    x = rng.normal(size=(300, 2))
    result = make_fe(factors).demean(x)
    assert result.converged and result.iterations < 1000
    np.testing.assert_allclose(result.values, lstsq_residual(x, factors, None), atol=1e-9)


def test_not_converging_warns() -> None:
    rng = np.random.default_rng(4)
    factors = chain_design(rng, 150, 40)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        result = make_fe(factors).demean(rng.normal(size=300), maxiter=2)
    assert not result.converged


@pytest.mark.parametrize(
    "sizes",
    [(5_000, 12), (3_000, 7), (150_000, 100), (600,)],
    ids=["dense", "dense-all-present", "hashed", "one-factor"],
)
def test_cells_are_int32_and_gather_back(sizes: tuple[int, ...]) -> None:
    """The row cells are narrowed to int32 (in place, over chunk boundaries) and map
    every row to its factor levels; the chunked row passes agree with plain numpy."""
    rng = np.random.default_rng(4)
    n = 200_003  # a few chunks of 65,536 rows and a partial one
    factors = random_factors(rng, n, sizes)
    if sizes == (3_000, 7):
        factors[0][: 3_000 * 7] = np.repeat(np.arange(3_000), 7)  # every combination
        factors[1][: 3_000 * 7] = np.tile(np.arange(7), 3_000)
    fe = make_fe(factors)
    assert fe.cell.dtype == (np.intp if len(sizes) == 1 else np.int32)
    for codes, cell_codes in zip(fe.codes, fe.cell_codes, strict=True):
        np.testing.assert_array_equal(cell_codes[fe.cell], codes)
    assert fe.cell_rows.sum() == n
    x = rng.normal(size=n)
    values = rng.normal(size=fe.n_cells)
    np.testing.assert_array_equal(fe.minus_cells(x, values), x - values[fe.cell])
    sums = np.zeros(fe.n_cells)
    np.add.at(sums, fe.cell.astype(np.intp), x)
    np.testing.assert_array_equal(fe.cell_sums(x), sums)


def test_singletons_are_removed_repeatedly() -> None:
    # unit 2 has one row -> singleton; dropping it leaves period 9 with one row
    # (unit 1's), which then is a singleton too. Units 0 and 1 keep two rows.
    unit = np.array([0, 0, 1, 1, 1, 2])
    period = np.array([5, 6, 5, 6, 9, 9])
    u, nu = factorize(unit)
    p, np_ = factorize(period)
    drop = singleton_mask([u, p], [nu, np_])
    assert drop.tolist() == [False, False, False, False, True, True]


def test_no_singletons_drops_nothing() -> None:
    u = np.array([0, 0, 1, 1])
    assert not singleton_mask([u, np.array([0, 1, 0, 1])], [2, 2]).any()


def test_is_nested() -> None:
    school = np.array([0, 0, 1, 1, 2, 2])
    gemeente = np.array([7, 7, 7, 7, 8, 8])
    year = np.array([0, 1, 0, 1, 0, 1])
    assert is_nested(school, 3, gemeente)
    assert not is_nested(year, 2, gemeente)
    assert not is_nested(gemeente - 7, 2, school)


def test_fixed_effect_counts() -> None:
    count = FixedEffectCount((50, 9), (True, False))
    assert count.k_fe("full") == 50 + 9 - 1
    assert count.k_fe("nested") == 1 + (9 - 1)
    assert count.k_fe("linearmodels") == 50 + 9 - 1
    single = FixedEffectCount((50,), (True,))
    assert single.k_fe("linearmodels") == 0
    assert single.k_fe("full") == 50


def test_unknown_convention_lists_names() -> None:
    with pytest.raises(ParameterError, match="CRV1"):
        get_convention("cluster")
