"""Kernels for notebook runs: a fresh one per run, or one warm kernel reused by a batch.

Starting a kernel and importing pandas, scipy, matplotlib and evaluatie took 2-3 s of
every report, more than most reports compute. :func:`warm_kernel` keeps one kernel
alive for the runs of a batch in this process (or of one batch worker); before each
notebook the kernel runs :func:`evaluatie.reporting.session.fresh_session`, silently
(no cell, no execution count), which resets what a notebook may change while keeping
the imports. The executed notebook is the same, output for output, as on a fresh
kernel (tested for every notebook), so provenance does not change.

A kernel that died, timed out or failed to start is shut down and the next run starts
a new one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import papermill as pm
from jupyter_client.client import KernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines
from papermill.iorw import write_ipynb
from traitlets.config import Config

KERNEL = "python3"
ENGINE = "evaluatie-warm"
#: Runs in the reused kernel before each notebook (silently: no cell, no counter); the
#: reset also removes the names it uses. A batch's kernels keep freed memory for the next
#: arrays (:mod:`evaluatie.core.heap`).
RESET = (
    "import evaluatie.core.heap as _h\n_h.keep_freed_memory()\n"
    "import evaluatie.reporting.session as _s\n_s.fresh_session()\n"
)
#: Runs in a kernel started ahead of its first report (:meth:`WarmKernel.prestart`):
#: what the reports' first cells import, so that they find it loaded, as on a reused
#: kernel. The names it leaves go with the reset before the first notebook. Then the
#: objects the imports made (140,000) go to the garbage collector's permanent
#: generation: IPython's reset before each report runs a full collection, and every
#: full collection walked them again (three reports in one process: 0.47 -> 0.16 s of
#: full collections). Only what the imports made is frozen, so a report's garbage is
#: still collected.
PRELOAD = (
    "import importlib, pkgutil\n"
    "import matplotlib.pyplot\n"
    "import evaluatie, evaluatie.workbench, evaluatie.studies\n"
    "for _m in pkgutil.iter_modules(evaluatie.studies.__path__):\n"
    "    importlib.import_module('evaluatie.studies.' + _m.name)\n"
    "import gc\n"
    "gc.collect()\n"
    "gc.freeze()\n"
)

#: How much lower the batch workers' priority is than the command's (Unix ``nice``): on
#: two cores the two workers' kernels started while the params files were checked, and
#: the check, which every run waits for, took 3.9 s instead of 2.1 s.
WORKER_NICENESS = 5

#: A kernel that dies before it answers has run nothing: over TCP, two kernels started
#: at once can pick the same free port ("Address already in use"). Such starts are retried.
KERNEL_START_ATTEMPTS = 3

_log = logging.getLogger("papermill")


def kernel_config(folder: str) -> Config:
    """Kernels talk over Unix sockets in ``folder`` where the platform has them: no port
    to race for between parallel runs, nothing sent in plain text over TCP (and no
    ipykernel warning saying so on every run). Windows keeps TCP on localhost."""
    config = Config()
    if os.name == "posix":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(folder, "kernel")
    return config


#: Thread settings of the numerical libraries, for the kernels this package starts.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """Kernels started from here on use one BLAS thread, unless the user chose otherwise.

    Reports do many small matrix products; with a pool of BLAS threads in each of two
    parallel kernels the 2-core machine was oversubscribed: the innovatiebudget report
    took 55.6 s beside another worker instead of 31.0 s alone, and 32.7 s with one
    thread (18 reports with -j 2: 66.8 -> 53.1 s; with -j 1 also faster, 87.4 -> 82.3 s).
    Every run gets the same setting, so a report does not depend on how it was run.
    """
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")


def is_start_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a kernel that died before it ran anything (worth a retry)."""
    return isinstance(exc, RuntimeError) and "died before replying to kernel_info" in str(exc)


class _ResetClient(PapermillNotebookClient):
    """Papermill's notebook client on a running kernel: resets the kernel's session
    before the first cell and leaves the kernel running afterwards."""

    @contextlib.contextmanager
    def setup_kernel(self, **kwargs: Any) -> Iterator[None]:
        with super().setup_kernel(**kwargs):
            reply = self.wait_for_reply(self.kc.execute(RESET, silent=True, store_history=False))
            content = (reply or {}).get("content", {})
            if content.get("status") != "ok":
                raise RuntimeError(
                    "resetting the reused kernel failed: "
                    f"{content.get('ename')}: {content.get('evalue')}"
                )
            yield


class _WarmEngine(Engine):
    """A papermill engine that runs the notebook on the kernel manager it is given."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        *,
        km: AsyncKernelManager,
        warm: WarmKernel,
        partial: Path | None = None,
        log_output: bool = False,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs.pop("input_path", None)
        client = _ResetClient(
            nb_man,
            km=km,
            kernel_name=kernel_name,
            log=_log,
            log_output=log_output,
            startup_timeout=start_timeout,
            timeout=execution_timeout,
            **kwargs,
        )
        # The kernel's connected client from the last run, if any: nbclient connects a
        # new one only without it. Connecting waits for the kernel's reply and then for
        # silence on its output channel, 0.35 s of every run (6 s of the 18 reports).
        client.kc = warm.client
        try:
            return client.execute()
        except BaseException:
            # papermill writes the notebook after a cell error, but not when the kernel
            # died or a cell timed out: what ran until then goes into the failed report.
            if partial is not None:
                with contextlib.suppress(Exception):  # the error to report is the first
                    write_ipynb(nb_man.nb, str(partial))
            raise
        finally:
            warm.client = client.kc  # closed with the kernel (WarmKernel.close)


papermill_engines.register(ENGINE, _WarmEngine)


class WarmKernel:
    """One kernel, started on first use in ``root`` and reused for every run after."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sockets: tempfile.TemporaryDirectory[str] | None = None
        self._km: AsyncKernelManager | None = None
        #: The client the runs talk to the kernel through, connected by the first run.
        self.client: KernelClient | None = None

    def execute(
        self, source: Path, target: Path, parameters: dict[str, Any], progress: bool
    ) -> None:
        """Run ``source`` with ``parameters`` into ``target`` on this kernel."""
        try:
            pm.execute_notebook(
                str(source),
                str(target),
                parameters=parameters,
                kernel_name=KERNEL,
                engine_name=ENGINE,
                cwd=str(self.root),
                progress_bar=progress,
                km=self._manager(),
                warm=self,
                # Papermill writes the whole notebook, figures and all, before and after
                # every cell (as JSON, validated): 2.2 s of CPU for the 18 reports, where
                # writing it once at the end, as below, is enough for the report.
                request_save_on_cell_execute=False,
                partial=target,
            )
        except pm.PapermillExecutionError:
            raise  # a cell raised: the kernel is fine, and the next run resets it
        except BaseException:
            self.close()  # dead, timed out or interrupted: the next run starts afresh
            raise

    def prestart(self) -> None:
        """Start the kernel and import what the reports use, before the first run asks
        for it: a batch does this while it reads and checks the params files (in a
        thread, or in each worker's initializer), which took 2-4 s for the 18 params
        files while the kernel start and imports took 2-2.5 s. Any failure only closes
        the kernel, so that the first run starts one as it would have."""
        one_blas_thread()  # as for every kernel a run starts
        try:
            km = self._manager()
            run_sync(km.start_kernel)(cwd=str(self.root))
            client = km.client()
            client.start_channels()
            try:
                run_sync(client.wait_for_ready)(timeout=60)
                reply = run_sync(client.execute_interactive)(
                    PRELOAD, silent=True, store_history=False, timeout=120
                )
            finally:
                client.stop_channels()
            if reply["content"].get("status") != "ok":
                self.close()
        except Exception:
            self.close()

    def _manager(self) -> AsyncKernelManager:
        if self._km is not None and not run_sync(self._km.is_alive)():
            self.close()
        if self._km is None:
            self._sockets = tempfile.TemporaryDirectory(prefix="evaluatie-kernel-")
            self._km = AsyncKernelManager(
                kernel_name=KERNEL, config=kernel_config(self._sockets.name)
            )
        return self._km

    def close(self) -> None:
        """Shut the kernel down (if it runs) and remove its socket folder."""
        km, self._km = self._km, None
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.stop_channels()
        if km is not None and km.has_kernel:
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)
        if self._sockets is not None:
            self._sockets.cleanup()
            self._sockets = None


_current: WarmKernel | None = None


def current() -> WarmKernel | None:
    """The warm kernel runs in this process use, if a batch opened one."""
    return _current


@contextlib.contextmanager
def warm_kernel(root: Path) -> Iterator[WarmKernel]:
    """Runs inside this block share one warm kernel, shut down at the end."""
    global _current
    previous, _current = _current, WarmKernel(root)
    try:
        yield _current
    finally:
        _current.close()
        _current = previous


def open_for_worker(root: Path, prestart: bool = False) -> None:
    """Batch worker initializer: this process's runs share one warm kernel, shut down
    when the worker exits (and started now, with ``prestart``)."""
    global _current
    from multiprocessing import util

    # The workers (and the kernels they start) yield the CPU to the command's own
    # process, which checks the params files while they start (no run may start before).
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    _current = WarmKernel(root)
    # A worker process ends with os._exit, forked ones without atexit handlers; its
    # finalizers run either way (else a forked worker left its kernel to notice alone)
    util.Finalize(None, _current.close, exitpriority=10)
    if prestart:
        _current.prestart()
