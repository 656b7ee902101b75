"""Advisory locks on files between processes: ``flock`` on POSIX, ``msvcrt.locking`` on
Windows. The operating system releases them when the file closes or the process ends,
however it ends, so a crash never leaves a stale lock.

Two uses: :mod:`evaluatie.workbench.lock` refuses a second writer of one report at
once (:func:`try_lock`); the synthetic DiD solver makes a second process wait while the
first compiles it (:func:`waiting_lock`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def try_lock(handle: IO[str]) -> bool:
    """Lock the open file ``handle`` exclusively if no other process holds it; whether
    it did."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def waiting_lock(path: Path) -> Iterator[bool]:
    """Hold the lock of ``path`` (created if missing) for the block, waiting for another
    process that holds it; yields whether it is held.

    For work that is only *cheaper* done by one process at a time: where the file
    cannot be opened or locked (no writable folder, a file system without locks, a
    Windows lock held past its 10 s of retries) the block runs unlocked."""
    try:
        handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        yield False
        return
    with handle:
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except OSError:
            yield False
            return
        yield True  # released when the file closes
