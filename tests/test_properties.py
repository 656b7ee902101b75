"""Property-based tests (hypothesis): invariances every estimator must have, and readers
that never fail with anything but a :class:`DataFormatError` on corrupted files.

Examples are bounded so that ``make test`` stays fast; a failing example is printed by
hypothesis and can be replayed with ``@example``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluatie import att_gt, twfe
from evaluatie.core.errors import EvaluatieError
from evaluatie.sources.duo import read_duo
from evaluatie.synth.panels import clustered_panel

EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
KEYS = {"outcome": "y", "unit": "unit", "time": "year"}
EINDSCORES = (
    Path(__file__).parent / "data" / "duo" / "eindscores-bo-sbo-2022-2023-first-4693-rows.csv"
)


def _panel(seed: int) -> pd.DataFrame:
    data = clustered_panel(n_units=48, n_groups=12, seed=seed)
    never = data["group"] < 3  # always some never-treated gemeenten (and their schools)
    return data.assign(cohort=data["cohort"].where(~never, 0), d=data["d"].where(~never, 0.0))


def _twfe(data: pd.DataFrame) -> pd.DataFrame:
    fit = twfe(data, **KEYS, treatment="d", covariates=["x"], cluster="group", inference="analytic")
    return fit.table[["estimate", "se"]]


def _att_gt(data: pd.DataFrame) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = att_gt(data, **KEYS, cohort="cohort", cluster="group", inference="analytic")
    overall = fit.aggregate("simple").overall
    assert overall is not None
    cells = fit.table[["estimate", "se"]]
    return pd.concat([cells, pd.DataFrame({"estimate": [overall.estimate], "se": [overall.se]})])


ESTIMATORS = {"twfe": _twfe, "att_gt": _att_gt}


@pytest.mark.parametrize("name", ESTIMATORS)
@EXAMPLES
@given(seed=st.integers(0, 10_000), order_seed=st.integers(0, 10_000))
def test_row_order_does_not_matter(name, seed, order_seed):
    data = _panel(seed)
    shuffled = data.sample(frac=1.0, random_state=order_seed)
    a, b = ESTIMATORS[name](data), ESTIMATORS[name](shuffled)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ESTIMATORS)
@EXAMPLES
@given(
    seed=st.integers(0, 10_000),
    shift=st.floats(-1e3, 1e3, allow_nan=False),
    scale=st.floats(0.01, 100.0),
    negative=st.booleans(),
)
def test_effects_are_equivariant_in_the_outcome(name, seed, shift, scale, negative):
    """y -> a y + c: effects scale by a, standard errors by |a|, the shift vanishes."""
    data = _panel(seed)
    a = -scale if negative else scale
    base = ESTIMATORS[name](data)
    moved = ESTIMATORS[name](data.assign(y=a * data["y"] + shift))
    expected = base.to_numpy() * np.array([a, abs(a)])
    np.testing.assert_allclose(moved.to_numpy(), expected, rtol=1e-7, atol=1e-9 * abs(a))


@pytest.mark.parametrize("name", ESTIMATORS)
@EXAMPLES
@given(seed=st.integers(0, 10_000), label_seed=st.integers(0, 10_000))
def test_relabelling_units_and_clusters_changes_nothing(name, seed, label_seed):
    data = _panel(seed)
    rng = np.random.default_rng(label_seed)
    units = dict(zip(data["unit"].unique(), rng.permutation(10**6).astype(str), strict=False))
    groups = {
        g: f"GM{v:04d}" for g, v in zip(data["group"].unique(), rng.permutation(9999), strict=False)
    }
    renamed = data.assign(unit=data["unit"].map(units), group=data["group"].map(groups))
    a, b = ESTIMATORS[name](data), ESTIMATORS[name](renamed)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def eindscores_head() -> bytes:
    lines = EINDSCORES.read_bytes().splitlines(keepends=True)
    return b"".join(lines[:120])


@EXAMPLES
@given(data=st.data())
def test_corrupted_files_fail_with_a_data_format_error_only(eindscores_head, tmp_path, data):
    """Flip, drop or insert random bytes in a real DUO file: the reader either reads it
    (the damage left a valid file) or raises an EvaluatieError naming the problem."""
    raw = bytearray(eindscores_head)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "drop", "insert"]))
        if action == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif action == "drop":
            del raw[at]
        else:
            raw.insert(at, data.draw(st.sampled_from(list(b';,"\n\r\x00\xff9a'))))
    path = tmp_path / EINDSCORES.name
    path.write_bytes(bytes(raw))
    try:
        read_duo(path)
    except EvaluatieError as exc:
        assert str(exc)  # a message, naming what is wrong


def test_a_carriage_return_inside_the_header_is_a_data_format_error(eindscores_head, tmp_path):
    # found by the test above: csv.Error escaped from the header parser
    from evaluatie.core.errors import DataFormatError

    broken = eindscores_head.replace(b";", b"\r;", 1)
    path = tmp_path / EINDSCORES.name
    path.write_bytes(broken)
    with pytest.raises(DataFormatError, match="line 1"):
        read_duo(path)
