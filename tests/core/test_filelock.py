"""Advisory file locks between processes (and between open files of one process, which
``flock`` treats alike): one holder at a time, a waiter enters when it is released,
and where no lock can be had the work runs unlocked instead of failing."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from evaluatie.core.filelock import try_lock, waiting_lock

posix_only = pytest.mark.skipif(
    sys.platform == "win32", reason="flock's semantics are checked here; Windows locks differ"
)


@posix_only
def test_try_lock_refuses_a_held_lock_and_takes_a_released_one(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with open(path, "a", encoding="utf-8") as first, open(path, "a", encoding="utf-8") as second:
        assert try_lock(first)
        assert not try_lock(second)
        first.close()  # releases it
        assert try_lock(second)


@posix_only
def test_a_waiting_lock_enters_only_after_the_holder_releases(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    entered = threading.Event()

    def waiter() -> None:
        with waiting_lock(path) as held:
            assert held
            entered.set()

    with open(path, "a", encoding="utf-8") as holder:
        assert try_lock(holder)
        thread = threading.Thread(target=waiter)
        thread.start()
        assert not entered.wait(0.5)  # still held: the waiter waits
    thread.join(timeout=60)
    assert entered.is_set()


def test_no_writable_folder_runs_the_block_unlocked(tmp_path: Path) -> None:
    with waiting_lock(tmp_path / "missing" / "x.lock") as held:  # no such folder
        assert not held


@posix_only
def test_a_file_system_without_locks_runs_the_block_unlocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    def refuse(*args: object) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refuse)
    with waiting_lock(tmp_path / "x.lock") as held:
        assert not held
