"""One writer per report: a lock file per report name, held while its run executes.

Two ``evaluatie run`` of the same params file at once would otherwise both run to the
end and the last writer would win without a word. The lock is an advisory OS lock
(:func:`evaluatie.core.filelock.try_lock`) on ``<reports>/.<name>.lock``: the
operating system releases it when the process ends, however it ends, so a crashed run
never leaves a stale lock. The file holds the process id of the writer, for the
message, and is removed when the run ends; a run that opened it just before is told
by the file's changed identity (inode) and takes the new file's lock instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import IO

from evaluatie.core.errors import EvaluatieError
from evaluatie.core.filelock import try_lock


class ReportLocked(EvaluatieError):
    """Another process is writing the same report."""


@contextmanager
def _lock(path: Path, name: str) -> Iterator[None]:
    for _ in range(5):
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole run
        if not try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise ReportLocked(
                f"report {name!r} is being written by another evaluatie run (process "
                f"{holder}) into {path.parent}; wait for it to finish, or write this run "
                "elsewhere with --reports"
            )
        if _same_file(handle, path):
            break
        handle.close()  # its holder removed the file after we opened it: try the new one
    else:  # pragma: no cover - five removals in a row would be a race storm
        raise ReportLocked(f"report {name!r}: could not take its lock {path}")
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        # leave nothing behind; a run that opened the file meanwhile retries (Windows
        # keeps open files: there the file stays)
        with suppress(OSError):
            path.unlink()
        handle.close()  # closing releases the lock


def _same_file(handle: IO[str], path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


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
