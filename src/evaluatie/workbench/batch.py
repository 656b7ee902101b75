"""Run many notebook runs: in this process, on local worker processes, or on a Dask cluster.

:func:`run_batch` prepares every run's record (:mod:`evaluatie.workbench.provenance`)
in this process, skips the runs whose last successful record has the same cache key
(unless ``force``; :func:`plan_batch`, which a caller may run first to know how many
kernels to start), and executes the rest:

- ``jobs=1``: one after the other, in this process;
- ``jobs=N``: on up to N worker processes (forked on Linux when the command has no
  other thread, else spawned; one notebook at a time each;
  at most N runs are handed out at once, so Ctrl-C starts nothing new), whose kernels
  share ``@reused`` results (:mod:`evaluatie.core.memo`) through a folder that lives
  as long as the batch;

  in both cases one kernel per process serves all its runs, reset between them
  (:mod:`evaluatie.workbench.kernel`), so the kernel start and imports are paid once;
- ``scheduler="tcp://host:8786"``: submitted to an existing Dask distributed cluster.
  Its workers must import this evaluatie and see the project folder at the same path
  (one machine, or a shared file system); a worker thread runs one notebook, so start
  workers with ``--nthreads 1`` for one kernel per worker.

A failing run never stops the batch: it is reported (with its error) in the progress
output, the summary, its sidecar and the index, which is rewritten at the end.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evaluatie.core.errors import EvaluatieError
from evaluatie.core.memo import SHARED_ENV
from evaluatie.workbench.index import write_index
from evaluatie.workbench.kernel import open_for_worker, warm_kernel
from evaluatie.workbench.lock import report_locks
from evaluatie.workbench.params import RunSpec
from evaluatie.workbench.provenance import read_sidecar, sidecar_path
from evaluatie.workbench.run import (
    RunOutcome,
    cached_outcome,
    prepare,
    project_root,
    record_crash,
    run_notebook,
)


@dataclass(frozen=True)
class RunTask:
    """One run to execute, with everything a worker needs (picklable)."""

    spec: RunSpec
    record: dict[str, Any]
    root: Path
    reports: Path
    show_code: bool


def execute_task(task: RunTask) -> RunOutcome:
    """Execute one run (in any process); an unexpected error becomes a failed run."""
    t0 = time.perf_counter()
    try:
        return run_notebook(
            task.spec,
            root=task.root,
            reports_dir=task.reports,
            show_code=task.show_code,
            progress=False,
            force=True,  # the cache was consulted when the batch was prepared
            record=task.record,
        )
    except Exception as exc:
        return _crashed(task, exc, time.perf_counter() - t0)


def _crashed(task: RunTask, exc: BaseException, seconds: float) -> RunOutcome:
    return record_crash(task.record, task.reports, f"{type(exc).__name__}: {exc}", seconds)


@dataclass(frozen=True)
class BatchResult:
    """Every run's outcome, the wall time and the index written at the end."""

    outcomes: list[RunOutcome]
    seconds: float
    index: Path | None

    def count(self, status: str) -> int:
        """How many runs ended with ``status`` ("ok", "failed" or "cached")."""
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> list[RunOutcome]:
        """The failed runs, in order of completion."""
        return [o for o in self.outcomes if o.status == "failed"]

    def summary(self) -> str:
        """``N runs in T s: a done, b failed, c skipped (cached)`` plus each failure."""
        n = len(self.outcomes)
        lines = [
            f"{n} run{'' if n == 1 else 's'} in {self.seconds:.1f} s: {self.count('ok')} done, "
            f"{self.count('failed')} failed, {self.count('cached')} skipped (cached)"
        ]
        lines += [f"  FAILED {o.name}: {o.error}" for o in self.failed]
        if self.index is not None:
            lines.append(f"index: {self.index}")
        return "\n".join(lines)


def outcome_line(outcome: RunOutcome) -> str:
    """One line per finished run for the progress output."""
    if outcome.status == "cached":
        return f"cached  {outcome.name}  (inputs unchanged; --force reruns)"
    if outcome.status == "ok":
        return f"ok      {outcome.name}  ({outcome.seconds:.1f} s)"
    return f"FAILED  {outcome.name}  ({outcome.seconds:.1f} s): {outcome.error}"


@dataclass(frozen=True)
class Planned:
    """A batch before it runs: the runs whose last successful report is still valid
    (``cached``), and the ``tasks`` to execute, longest first."""

    cached: list[RunOutcome]
    tasks: list[RunTask]


def plan_batch(
    specs: list[RunSpec],
    *,
    root: Path | None = None,
    reports_dir: Path | None = None,
    force: bool = False,
    show_code: bool = False,
) -> Planned:
    """Each run's record (inputs and cache key), and whether it must run (unless
    ``force``, not if its last successful record has the same key and its report is
    there)."""
    root = project_root(root)
    reports = reports_dir or root / "reports"
    cached: list[RunOutcome] = []
    tasks = []
    took: dict[str, float] = {}  # each run's previous duration, for the order
    for spec in specs:
        record = prepare(spec, root, show_code=show_code)
        previous = read_sidecar(sidecar_path(reports, record["name"]))
        hit = None if force else cached_outcome(record, reports, previous)
        if hit is not None:
            cached.append(hit)
            continue
        tasks.append(RunTask(spec, record, root, reports, show_code))
        if previous is not None and isinstance(previous.get("duration_s"), int | float):
            took[record["name"]] = float(previous["duration_s"])
    return Planned(cached, longest_first(tasks, took))


def run_batch(
    specs: list[RunSpec],
    *,
    root: Path | None = None,
    reports_dir: Path | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    show_code: bool = False,
    progress: bool = True,
    started: float | None = None,
    ahead: Ahead | None = None,
    planned: Planned | None = None,
) -> BatchResult:
    """Run ``specs`` (validated), skipping cached ones, and rewrite the index at the end.

    ``started``: ``time.perf_counter()`` when the command began, so the reported time
    includes reading and checking the inputs (else it starts here). ``ahead``: kernels
    the caller started while it checked them (:func:`started_ahead`, same ``jobs``).
    ``planned``: :func:`plan_batch` of the same ``specs`` and options, if the caller
    already made it.
    """
    t0 = time.perf_counter() if started is None else started
    root = project_root(root)
    reports = reports_dir or root / "reports"
    if planned is None:
        planned = plan_batch(
            specs, root=root, reports_dir=reports, force=force, show_code=show_code
        )
    outcomes, tasks = list(planned.cached), planned.tasks
    bar = tqdm(total=len(specs), unit="run", desc="evaluatie", disable=not progress)
    for outcome in outcomes:
        bar.write(outcome_line(outcome))
        bar.update()
    ran = False
    completed_normally = False
    try:
        # one writer per report: a second concurrent run stops here, before any kernel
        with report_locks(reports, [task.record["name"] for task in tasks]):
            for outcome in _dispatch(tasks, jobs, scheduler, ahead):
                ran = True
                outcomes.append(outcome)
                bar.write(outcome_line(outcome))
                bar.update()
        completed_normally = True
    finally:
        bar.close()
        # Interrupted: the runs that finished have their records; the index should show them.
        index = write_index(reports) if completed_normally or ran else None
    return BatchResult(outcomes, time.perf_counter() - t0, index)


def longest_first(tasks: list[RunTask], took: dict[str, float]) -> list[RunTask]:
    """``tasks`` by expected duration, longest first (``took``: the previous run's time
    by run name, else the notebook's ``expected_seconds``): with several workers a long
    run started last would finish alone, after the rest (on a fresh clone the
    innovatiebudget report ended 48 s after it started, 22 s into the batch)."""

    def expected(task: RunTask) -> float:
        name = task.record["name"]
        return took[name] if name in took else type(task.spec.params).expected_seconds

    return sorted(tasks, key=expected, reverse=True)  # stable: ties keep their order


@dataclass
class Ahead:
    """Kernels started ahead of a batch (:func:`started_ahead`): this process's warm
    kernel (:func:`.kernel.current`), starting in ``thread``, or the worker processes of
    ``pool``."""

    thread: threading.Thread | None = None
    pool: ProcessPoolExecutor | None = None


@contextlib.contextmanager
def started_ahead(root: Path, jobs: int, n_runs: int) -> Iterator[Ahead | None]:
    """Start the batch's kernels now, to boot while the caller reads and checks the
    params files (2-3 s for the 18 of ``evaluatie all`` on parsed data; a worker's
    start, its kernel and the imports took 2-2.5 s): with ``jobs > 1`` the worker
    processes (at lower priority: :data:`.kernel.WORKER_NICENESS`), each starting
    its kernel in its initializer, else this process's warm kernel, in a thread. Pass
    the result to :func:`run_batch`; whatever it did not use is shut down on exit.
    ``n_runs``: how many runs there may be (params files); a single run keeps its
    fresh kernel, so nothing is started for it."""
    if n_runs < 2:
        yield None
        return
    if jobs > 1:
        with _worker_pool(root, min(jobs, n_runs), prestart=True) as pool:
            yield Ahead(pool=pool)
        return
    with warm_kernel(root) as kernel:
        thread = threading.Thread(target=kernel.prestart, name="evaluatie-kernel-ahead")
        thread.start()
        try:
            yield Ahead(thread=thread)
        finally:
            thread.join()


@contextlib.contextmanager
def _worker_pool(
    root: Path, workers: int, *, prestart: bool = False
) -> Iterator[ProcessPoolExecutor]:
    """Worker processes, each with one warm kernel reused by its runs. Their kernels share
    ``@reused`` results (:mod:`evaluatie.core.memo`) through a folder that lives as long
    as the pool: the same national VVE analysis is then computed once per batch, not
    once per worker."""
    with (
        tempfile.TemporaryDirectory(prefix="evaluatie-shared-") as shared,
        environment(SHARED_ENV, shared),  # inherited by every worker and its kernel
    ):
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(_start_method()),
            initializer=open_for_worker,
            initargs=(root, prestart),
        )
        for _ in range(workers):
            pool.submit(time.time)  # each submit to a busy pool spawns a worker now
        try:
            yield pool
        except BaseException:
            # e.g. a params file was refused: say so now; the workers exit when their
            # kernel has started (shut down by each worker's exit hook)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def _start_method() -> str:
    """``fork`` where it is safe -- Linux, and no other thread in this process that could
    hold a lock the workers would inherit -- else ``spawn``. Forked workers have this
    process's imports: a spawned one imported the workbench again (1.7 s of CPU each,
    while the kernels started, before any run of a batch could begin)."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


@contextlib.contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    """``os.environ[name] = value`` inside the block (for the processes started in it)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _dispatch(
    tasks: list[RunTask], jobs: int, scheduler: str | None, ahead: Ahead | None
) -> Iterator[RunOutcome]:
    if not tasks:
        return iter(())
    if scheduler:
        return _on_dask(tasks, scheduler)
    if len(tasks) == 1 and ahead is None:
        return iter([execute_task(tasks[0])])  # a fresh kernel: nothing to share
    # A kernel started ahead serves even a single run: beside one still starting in a
    # thread, this process's run took the same kernel and removed its sockets' folder.
    if jobs > 1:
        return _on_processes(tasks, jobs, ahead.pool if ahead else None)
    return _in_this_process(tasks, ahead)


def _in_this_process(tasks: list[RunTask], ahead: Ahead | None) -> Iterator[RunOutcome]:
    """One after the other on one warm kernel (the imports paid once, not per run)."""
    if ahead is not None and ahead.thread is not None:
        ahead.thread.join()  # its kernel is this process's current one (started_ahead)
        runs: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    else:
        runs = warm_kernel(tasks[0].root)
    with runs:
        for task in tasks:
            yield execute_task(task)


def _on_processes(
    tasks: list[RunTask], jobs: int, ahead: ProcessPoolExecutor | None = None
) -> Iterator[RunOutcome]:
    """At most ``jobs`` runs at once on spawned worker processes (started ``ahead``, or
    here), yielded as they finish."""
    waiting = list(reversed(tasks))
    with ahead or _worker_pool(tasks[0].root, min(jobs, len(tasks))) as pool:
        running: dict[Future[RunOutcome], RunTask] = {}
        started: dict[Future[RunOutcome], float] = {}
        try:
            while waiting or running:
                while waiting and len(running) < jobs:
                    task = waiting.pop()
                    future = pool.submit(execute_task, task)
                    running[future], started[future] = task, time.perf_counter()
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    yield _result(future.result, task, started.pop(future))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _result(get: Callable[[], RunOutcome], task: RunTask, started: float) -> RunOutcome:
    """A worker's outcome; a worker that died or raised counts as a failed run."""
    try:
        return get()
    except Exception as exc:
        return _crashed(task, exc, time.perf_counter() - started)


def _on_dask(tasks: list[RunTask], address: str) -> Iterator[RunOutcome]:
    """Submit every run to the Dask scheduler at ``address``; yield outcomes as they finish."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise EvaluatieError(
            "--scheduler needs dask.distributed (pip package 'distributed') in this environment"
        ) from None
    try:  # waits up to dask's distributed.comm.timeouts.connect (default 30 s)
        client = Client(address)
    except (OSError, TimeoutError) as exc:
        raise EvaluatieError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = {}
        for task in tasks:
            key = f"evaluatie-{task.record['name']}-{uuid.uuid4().hex[:8]}"
            future = client.submit(execute_task, task, key=key, pure=False)
            futures[future] = (task, time.perf_counter())
        try:
            for future in as_completed(futures):
                task, started = futures[future]
                yield _result(future.result, task, started)
        except BaseException:
            client.cancel(list(futures))
            raise
