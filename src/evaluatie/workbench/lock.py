"""One writer per report: a lock file per report name, held while its run executes.

Two ``evaluatie run`` of the same params file at once would otherwise both run to the
end and the last writer would win without a word. The lock is an advisory OS lock
(``flock`` on POSIX, ``msvcrt.locking`` on Windows) on ``<reports>/.<name>.lock``: the
operating system releases it when the process ends, however it ends, so a crashed run
never leaves a stale lock. The file itself stays (removing it would race with a run
that just opened it) and holds the process id of the current writer, for the message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from evaluatie.core.errors import EvaluatieError


class ReportLocked(EvaluatieError):
    """Another process is writing the same report."""


def _try_lock(handle: IO[str]) -> bool:
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


@contextmanager
def _lock(path: Path, name: str) -> Iterator[None]:
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole run
    try:
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise ReportLocked(
                f"report {name!r} is being written by another evaluatie run (process "
                f"{holder}) into {path.parent}; wait for it to finish, or write this run "
                "elsewhere with --reports"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


@contextmanager
def report_locks(reports: Path, names: Iterable[str]) -> Iterator[None]:
    """Hold the lock of every report in ``names`` (all or none: a :class:`ReportLocked`
    names the first one another process holds)."""
    names = sorted(set(names))
    if not names:
        yield
        return
    reports.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(_lock(reports / f".{name}.lock", name))
        yield
