"""Shared fixtures: paths to the real DUO test files and simulated raw-data folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

DUO_DIR = Path(__file__).parent / "data" / "duo"
REAL_EINDSCORES = DUO_DIR / "eindscores-bo-sbo-2022-2023-first-4693-rows.csv"


@pytest.fixture(scope="session", autouse=True)
def _readers_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What the readers parse is kept in a folder of this session, not in the project's
    data/processed/cache (which `evaluatie run` uses when EVALUATIE_CACHE is unset): the
    tests read many temporary folders."""
    from evaluatie.core.memo import CACHE_ENV

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("readers-cache")))
        yield


@pytest.fixture
def english() -> Iterator[None]:
    """Generated text in English for the test (reports are Dutch by default); tests of
    sentence logic read the English texts, the Dutch ones are tested apart."""
    from evaluatie.core.language import use_language

    with use_language("en"):
        yield


@pytest.fixture(scope="session")
def duo_dir() -> Path:
    """Folder with the real DUO files (read-only fixtures)."""
    return DUO_DIR


@pytest.fixture(scope="session")
def real_eindscores() -> Path:
    """DUO's 2022-23 eindscores file (first 4,693 rows), unchanged."""
    return REAL_EINDSCORES


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated raw-data folder with 600 schools (scale 0.1); do not modify it."""
    from evaluatie.synth.simulate import simulate

    out = tmp_path_factory.mktemp("small_raw")
    simulate(out_dir=out, seed=11, scale=0.1)
    return out


@pytest.fixture(scope="session")
def full_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated raw-data folder at scale 1 (about 6,000 schools); do not modify it."""
    from evaluatie.synth.simulate import simulate

    out = tmp_path_factory.mktemp("full_raw")
    simulate(out_dir=out)
    return out
