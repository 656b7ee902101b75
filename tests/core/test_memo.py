"""Results reused on equal inputs only, as copies, with their warnings given again."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core import memo
from evaluatie.core.memo import Undigestible, digest, reused


@dataclasses.dataclass(frozen=True)
class Study:
    outcome: str
    schools: pd.DataFrame
    years: tuple[int, ...]


def _study(value: float = 1.0) -> Study:
    frame = pd.DataFrame({"school": [1, 2, 3], "y": [0.5, value, np.nan]})
    return Study("y", frame, (2019, 2020))


def test_digest_reads_contents_not_identity() -> None:
    assert digest(_study()) == digest(_study())  # equal contents, different objects
    assert digest(_study()) != digest(_study(1.0 + 1e-12))  # one value changed
    renamed = Study("y", _study().schools.rename(columns={"y": "z"}), (2019, 2020))
    assert digest(renamed) != digest(_study())
    as_int = Study("y", _study().schools.astype({"school": "int32"}), (2019, 2020))
    assert digest(as_int) != digest(_study())  # dtypes count
    assert digest((1, "a")) != digest(("1", "a")) and digest([1]) != digest((1,))
    with pytest.raises(Undigestible):
        digest(object())


def test_a_module_function_is_digested_by_name_a_closure_or_lambda_not_at_all() -> None:
    assert digest(_study) == digest(_study) and digest(_study) != digest(os.path.join)
    assert digest((_study, 1)) != digest((_study, 2))

    def local() -> None: ...

    for function in (local, lambda: None):  # what they capture would not be digested
        with pytest.raises(Undigestible):
            digest(function)


def test_equal_inputs_reuse_a_copy_and_give_the_warnings_again() -> None:
    calls = []

    @reused
    def mean(study: Study, *, scale: float = 1.0) -> pd.DataFrame:
        calls.append(study.outcome)
        warnings.warn("left out a missing value", UserWarning, stacklevel=2)
        return pd.DataFrame({"mean": [study.schools["y"].mean() * scale]})

    with pytest.warns(UserWarning, match="left out"):
        first = mean(_study())
    first.loc[0, "mean"] = -1.0  # a caller changing its result changes nothing stored
    with pytest.warns(UserWarning, match="left out"):
        again = mean(_study())
    assert len(calls) == 1 and again.loc[0, "mean"] == pytest.approx(0.75)
    with pytest.warns(UserWarning, match="left out"):
        mean(_study(2.0))
    with pytest.warns(UserWarning, match="left out"):
        mean(_study(), scale=2.0)
    assert len(calls) == 3  # other data, another argument: computed afresh


def test_undigestible_arguments_and_errors_are_never_stored() -> None:
    calls = []

    @reused
    def f(x: object) -> int:
        calls.append(x)
        if x == "bad":
            warnings.warn("about to fail", UserWarning, stacklevel=2)
            raise ValueError("bad input")
        return 1

    marker = object()
    f(marker)
    f(marker)
    assert len(calls) == 2
    for _ in range(2):
        with pytest.warns(UserWarning, match="about to fail"), pytest.raises(ValueError):
            f("bad")
    assert len(calls) == 4


def test_the_store_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "MAX_RESULTS", 3)
    monkeypatch.setattr(memo, "_RESULTS", memo.OrderedDict())

    @reused
    def square(x: int) -> int:
        return x * x

    for x in range(10):
        square(x)
    assert len(memo._RESULTS) == 3


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A batch's shared folder, and an empty store in this process."""
    monkeypatch.setenv(memo.SHARED_ENV, str(tmp_path))
    monkeypatch.setattr(memo, "_RESULTS", memo.OrderedDict())
    return tmp_path


def test_the_processes_of_a_batch_share_results_through_its_folder(shared: Path) -> None:
    calls = []

    @reused
    def mean(study: Study) -> pd.DataFrame:
        calls.append(study.outcome)
        warnings.warn("left out a missing value", UserWarning, stacklevel=2)
        return pd.DataFrame({"mean": [study.schools["y"].mean()]})

    with pytest.warns(UserWarning, match="left out"):
        first = mean(_study())
    assert len(list(shared.glob("*.pickle"))) == 1
    memo._RESULTS.clear()  # as in another process of the batch: nothing of this one's
    with pytest.warns(UserWarning, match="left out"):  # its warnings come with it
        again = mean(_study())
    assert len(calls) == 1
    pd.testing.assert_frame_equal(again, first)
    with pytest.warns(UserWarning, match="left out"):
        mean(_study(2.0))
    assert len(calls) == 2  # other data: computed


def test_a_result_that_cannot_be_shared_is_computed_and_kept_here(shared: Path) -> None:
    calls = []

    @reused
    def closure(x: int) -> Callable[[], int]:
        calls.append(x)
        return lambda: x  # cannot be pickled

    assert closure(3)() == 3 and closure(3)() == 3
    assert len(calls) == 1 and not list(shared.iterdir())  # nothing half-written

    @reused
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    assert square(4) == 16
    (stored,) = shared.glob("*.pickle")
    stored.write_bytes(b"not a pickle")
    memo._RESULTS.clear()
    assert square(4) == 16 and len(calls) == 3  # unreadable: computed again


def test_a_folder_is_read_once_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    raw.mkdir()
    (raw / "a.csv").write_text("x\n1\n2\n", encoding="utf-8")
    monkeypatch.setenv(memo.CACHE_ENV, str(cache))
    calls = []

    @memo.stored_read
    def read(raw_dir: str | Path, *, scale: float = 1.0) -> pd.DataFrame:
        calls.append(raw_dir)
        warnings.warn("skipped a file", UserWarning, stacklevel=2)
        frames = [pd.read_csv(f) for f in sorted(Path(raw_dir).glob("*.csv"))]
        return pd.concat(frames, ignore_index=True) * scale

    with pytest.warns(UserWarning, match="skipped"):
        first = read(raw)
    with pytest.warns(UserWarning, match="skipped"):  # given again with the stored result
        again = read(raw)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(again, first)
    again.loc[0, "x"] = -1  # a fresh copy for every caller
    with pytest.warns(UserWarning):
        assert read(raw).loc[0, "x"] == 1
    with pytest.warns(UserWarning):
        read(raw, scale=2.0)  # other arguments: read, and kept beside
    assert len(calls) == 2 and len(list(cache.iterdir())) == 2

    (raw / "b.csv").write_text("x\n3\n", encoding="utf-8")  # the data changed
    with pytest.warns(UserWarning):
        assert read(raw)["x"].tolist() == [1, 2, 3]
    assert len(calls) == 3 and len(list(cache.iterdir())) == 2  # the old reading is gone

    monkeypatch.setenv(memo.CACHE_ENV, "")  # turned off: always read
    with pytest.warns(UserWarning):
        read(raw)
    assert len(calls) == 4


def test_a_reading_that_fails_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(memo.CACHE_ENV, str(tmp_path / "cache"))
    calls = []

    @memo.stored_read
    def read(raw_dir: str | Path) -> int:
        calls.append(raw_dir)
        warnings.warn("skipped a file", UserWarning, stacklevel=2)
        raise ValueError("not a DUO file")

    for _ in range(2):  # its warnings are still given
        with pytest.warns(UserWarning, match="skipped"), pytest.raises(ValueError, match="DUO"):
            read(tmp_path)
    assert len(calls) == 2 and not (tmp_path / "cache").exists()


def test_the_readings_used_last_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv(memo.CACHE_ENV, str(cache))
    monkeypatch.setattr(memo, "MAX_STORED", 2)
    calls = []

    @memo.stored_read
    def read(raw_dir: str | Path, *, column: str) -> str:
        calls.append(column)
        return column

    folder = tmp_path / "raw"
    folder.mkdir()
    read(folder, column="a")
    read(folder, column="b")
    (a,) = [
        p
        for p in cache.iterdir()
        if p.stat().st_mtime_ns == min(q.stat().st_mtime_ns for q in cache.iterdir())
    ]
    os.utime(a, ns=(1, 1))  # read long ago ...
    assert read(folder, column="a") == "a"  # ... and now again: it is the one used last
    read(folder, column="c")
    assert calls == ["a", "b", "c"] and len(list(cache.iterdir())) == 2
    read(folder, column="a")
    read(folder, column="b")
    assert calls == ["a", "b", "c", "b"]  # b was dropped, a kept


def test_pruning_survives_an_entry_another_process_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo, "MAX_STORED", 1)
    (tmp_path / "a.pickle").write_bytes(b"a")
    (tmp_path / "gone.pickle").symlink_to(tmp_path / "removed")  # listed, then gone
    memo._prune(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["a.pickle"]


def test_a_reader_is_called_as_before_by_position_keyword_or_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(memo.CACHE_ENV, str(tmp_path / "cache"))
    folder = tmp_path / "raw"
    folder.mkdir()
    calls = []

    @memo.stored_read
    def read(raw_dir: str | Path = str(folder), provider: str = "CET") -> str:
        calls.append((raw_dir, provider))
        return provider

    assert read() == read(str(folder)) == read(raw_dir=str(folder)) == "CET"
    assert read(str(folder), "IEP") == read(str(folder), provider="IEP") == "IEP"
    assert len(calls) == 2  # one reading per provider, however it was called
    with pytest.raises(TypeError):
        read(str(folder), "CET", "extra")


def test_a_result_is_kept_while_every_path_it_read_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, other, cache = tmp_path / "raw", tmp_path / "other.csv", tmp_path / "cache"
    raw.mkdir()
    (raw / "a.csv").write_text("x\n1\n", encoding="utf-8")
    other.write_text("y\n2\n", encoding="utf-8")
    monkeypatch.setenv(memo.CACHE_ENV, str(cache))
    calls = []

    def check() -> list[int]:
        calls.append(1)
        memo.signature(raw)  # what a reader taking signatures does
        memo.signature(other)
        warnings.warn("GM0088 has no count in 2019", UserWarning, stacklevel=2)
        return [len(list(raw.iterdir())), len(other.read_text(encoding="utf-8"))]

    def stored(key: str = "k") -> list[int]:
        with pytest.warns(UserWarning, match="GM0088"):  # given again when kept
            return memo.stored_result("check", key, check)

    first = stored()
    assert stored() == first and len(calls) == 1
    stored("other key")
    assert len(calls) == 2
    os.utime(other, ns=(1, 1))  # a file it read changed (its time is enough)
    assert stored() == first and len(calls) == 3
    (raw / "b.csv").write_text("x\n2\n", encoding="utf-8")  # a folder it read changed
    assert stored() == [2, 4] and len(calls) == 4
    assert stored() == [2, 4] and len(calls) == 4
    monkeypatch.setattr(memo, "_code_digest", lambda: b"other code")
    stored()
    assert len(calls) == 5
    other.unlink()  # gone: computed again (and here it fails, so it is not kept)
    with pytest.raises(FileNotFoundError):
        memo.stored_result("check", "k", check)
    monkeypatch.setenv(memo.CACHE_ENV, "")  # turned off: always computed
    other.write_text("y\n2\n", encoding="utf-8")
    stored()
    stored()
    assert len(calls) == 8


def test_a_kept_result_is_looked_up_without_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kept_result gives what stored_result would give from its folder, or None where
    stored_result would compute (nothing kept, a file it read changed, no cache)."""
    data = tmp_path / "data.csv"
    data.write_text("x\n1\n", encoding="utf-8")
    monkeypatch.setenv(memo.CACHE_ENV, str(tmp_path / "cache"))

    def check() -> list[int]:
        memo.signature(data)
        warnings.warn("GM0088 has no count in 2019", UserWarning, stacklevel=2)
        return [1, 2]

    assert memo.kept_result("check", "k") is None  # nothing kept yet
    with pytest.warns(UserWarning, match="GM0088"):
        memo.stored_result("check", "k", check)
    with pytest.warns(UserWarning, match="GM0088"):  # its warnings given again
        assert memo.kept_result("check", "k") == ([1, 2],)
    assert memo.kept_result("check", "other key") is None
    os.utime(data, ns=(1, 1))
    assert memo.kept_result("check", "k") is None  # what it read changed
    monkeypatch.setenv(memo.CACHE_ENV, "")
    assert memo.kept_result("check", "k") is None


def test_a_computation_that_fails_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv(memo.CACHE_ENV, str(cache))
    calls = []

    def refuse() -> None:
        calls.append(1)
        memo.signature(tmp_path)
        warnings.warn("a note", UserWarning, stacklevel=2)
        raise ValueError("params.yaml: 1 problem(s)")

    for _ in range(2):  # its warnings are still given, the error each time
        with pytest.warns(UserWarning, match="note"), pytest.raises(ValueError, match="problem"):
            memo.stored_result("check", "k", refuse)
    assert len(calls) == 2 and not list(cache.glob("check-*"))


def test_watching_records_the_first_signature_of_each_path(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n", encoding="utf-8")
    memo.signature(tmp_path)  # outside the block: not recorded
    with memo.watching() as seen:
        first = memo.signature(tmp_path)
        (tmp_path / "b.csv").write_text("x\n", encoding="utf-8")
        memo.signature(tmp_path)
        with memo.watching() as inner:
            memo.signature(tmp_path / "a.csv")
    assert seen == {
        str(tmp_path.resolve()): first,
        str((tmp_path / "a.csv").resolve()): inner[str((tmp_path / "a.csv").resolve())],
    }
    assert list(inner) == [str((tmp_path / "a.csv").resolve())]
    memo.signature(tmp_path / "a.csv")
    assert len(seen) == 2  # the block has ended


def test_a_block_inside_another_ends_itself_not_an_equal_one(tmp_path: Path) -> None:
    with memo.watching() as outer:
        with memo.watching():  # empty, as outer is: equal dicts
            pass
        memo.signature(tmp_path)
    assert list(outer) == [str(tmp_path.resolve())]
