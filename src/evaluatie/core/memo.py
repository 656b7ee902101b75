"""Work done once: tables derived once per loaded data set, results once per process
(or batch), raw files parsed once per change.

Three kinds of reuse, all invisible in the numbers:

* :func:`remembered` -- validation builds every report's design before any kernel
  starts, and several params files use the same data: the exam rates of a group, or the
  VSV rates of the RMC regions, are the same for each. A loaded data set carries a
  ``memo`` dict, and a derived table is computed once per key in it.
* :func:`reused` -- a batch runs several reports on one warm kernel
  (:mod:`evaluatie.workbench.kernel`), and the VVE reports of different gemeenten
  repeat the same national analysis (the dose event study's randomization test alone
  takes seconds). A function marked ``@reused`` keeps its last results in this process,
  keyed by its name and a digest of the *contents* of its arguments (every value of
  every table), so equal inputs give the stored result -- a deep copy, so that a caller
  changing it changes nothing stored -- and the warnings the computation gave are given
  again. Any other input is computed afresh; arguments that cannot be digested are
  never looked up. The processes of one batch share these results through a folder
  (:data:`SHARED_ENV`, set by :mod:`evaluatie.workbench.batch` for its workers'
  kernels and removed with the batch): with two workers, the VVE report that came second
  to a worker computed the national analysis again (6 s) although the other had it.
* :func:`stored_read` -- the readers of raw-data folders parse DUO/CBS files (the school
  panel: 0.75 s). The workbench names a folder (:data:`CACHE_ENV`, ``data/processed/
  cache`` of the project) where each reader keeps what it read, keyed by the folder's
  entries (name, size, modification time), the arguments, this package's files and the
  versions of Python, numpy, pandas and pyarrow; any change reads the files again. So
  checking the params files and every report's kernel parse a folder once, and a
  rerun on the same data not at all.
* :func:`stored_result` -- a computation that reads files only through :func:`signature`
  taking readers (checking the params files against the data: 2-3 s for the project's
  18) is kept in the same folder with the signature of every file or folder it read
  (:func:`watching`), and given again while its key, this package's files and all of
  those are unchanged.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import hashlib
import inspect
import os
import pickle
import re
import sys
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from enum import Enum
from pathlib import Path, PurePath
from typing import Any, ParamSpec, TypeVar, cast

import numpy as np
import pandas as pd

from evaluatie.core.atomic import atomic_path

P = ParamSpec("P")
R = TypeVar("R")

#: Results kept per process (least recently used dropped first).
MAX_RESULTS = 64
_RESULTS: OrderedDict[tuple[str, bytes], tuple[Any, list[warnings.WarningMessage]]] = OrderedDict()
#: Environment variable naming a folder where the processes of one batch share results.
SHARED_ENV = "EVALUATIE_SHARED_RESULTS"
#: Environment variable naming the folder where raw-data readers keep what they read.
CACHE_ENV = "EVALUATIE_CACHE"
#: Readings kept there (the ones used last; the project's data use about 7).
MAX_STORED = 32

Signature = tuple[tuple[str, bool, int, int], ...]


def remembered(
    memo: dict[Hashable, pd.DataFrame], key: Hashable, compute: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """``compute()``, the first time ``key`` is asked for; a copy every time, so that a
    caller changing its table changes nobody else's."""
    if key not in memo:
        memo[key] = compute()
    return memo[key].copy()


class Undigestible(TypeError):
    """An argument whose contents :func:`digest` cannot read."""


def digest(value: Any) -> bytes:
    """A digest of ``value``'s contents: equal for equal contents (tables compared value
    by value, with their index, columns and dtypes; a module's function by its name),
    different otherwise."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, value)
    return h.digest()


def _feed(h: Any, value: Any) -> None:
    h.update(type(value).__qualname__.encode())
    if value is None or isinstance(value, bool | int | float | complex | str | bytes | Enum):
        h.update(repr(value).encode())
    elif isinstance(value, PurePath):
        h.update(str(value).encode())
    elif isinstance(value, pd.DataFrame):
        h.update(repr((list(value.columns), [str(t) for t in value.dtypes])).encode())
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, pd.Series | pd.Index):
        h.update(repr((value.name, str(value.dtype))).encode())
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, np.ndarray):
        h.update(repr((value.dtype.str, value.shape)).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic):
        h.update(repr((value.dtype.str, value.item())).encode())
    elif isinstance(value, tuple | list):
        h.update(str(len(value)).encode())
        for item in value:
            _feed(h, item)
    elif isinstance(value, dict):
        h.update(str(len(value)).encode())
        for key in sorted(value, key=repr):
            _feed(h, key)
            _feed(h, value[key])
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            h.update(f.name.encode())
            _feed(h, getattr(value, f.name))
    elif inspect.isfunction(value) and "<" not in value.__qualname__:
        # a module's function by its name: its code does not change while results are
        # kept (a process, or a batch). Not a closure (its captured values are not
        # digested) nor a lambda (every lambda of a module has the same name).
        h.update(f"{value.__module__}.{value.__qualname__}".encode())
    else:
        raise Undigestible(f"cannot digest a {type(value).__qualname__}")


def reused(fn: Callable[P, R]) -> Callable[P, R]:
    """Keep ``fn``'s results in this process for reuse on equal inputs (module docstring).
    For pure functions only: the result must depend on the arguments' contents alone."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            key = (name, digest((args, kwargs)))
        except Undigestible:
            return fn(*args, **kwargs)
        if key not in _RESULTS:
            _RESULTS[key] = _shared(key) or _computed(key, fn, args, kwargs)
            while len(_RESULTS) > MAX_RESULTS:
                _RESULTS.popitem(last=False)
        _RESULTS.move_to_end(key)
        stored, given = _RESULTS[key]
        warn_again(given)
        return copy.deepcopy(stored)

    return wrapper


def _computed(
    key: tuple[str, bytes], fn: Callable[..., R], args: Any, kwargs: Any
) -> tuple[R, list[warnings.WarningMessage]]:
    """``fn``'s result and warnings (:func:`_recorded`), also stored in the batch's shared
    folder, if there is one."""
    result, seen = _recorded(fn, args, kwargs)
    if (path := _shared_path(key)) is not None:
        _store(path, result, seen)
    return result, seen


def _shared(key: tuple[str, bytes]) -> tuple[Any, list[warnings.WarningMessage]] | None:
    """The result another process of this batch stored under ``key``, if any."""
    path = _shared_path(key)
    return None if path is None else _load(path)


def _shared_path(key: tuple[str, bytes]) -> Path | None:
    folder = os.environ.get(SHARED_ENV)
    name = re.sub(r"[^\w.]", "_", key[0])  # a local function's <locals>: no file name
    return Path(folder) / f"{name}-{key[1].hex()}.pickle" if folder else None


def _recorded(
    fn: Callable[..., R], args: Any, kwargs: Any
) -> tuple[R, list[warnings.WarningMessage]]:
    """``fn(*args, **kwargs)`` and the warnings it gave, recorded, not shown; if it
    raises, its warnings are given and the error raised."""
    done: tuple[R] | None = None
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            done = (fn(*args, **kwargs),)
        except BaseException as exc:
            error = exc
    if done is None:
        warn_again(seen)
        raise error
    return done[0], list(seen)


def _store(path: Path, result: Any, seen: list[warnings.WarningMessage]) -> bool:
    """Pickle ``result`` and its warnings to ``path`` (atomically: a reader sees all of it
    or nothing); False if it cannot be pickled or written (then it is kept nowhere)."""
    try:
        payload = pickle.dumps((result, portable(seen)), protocol=pickle.HIGHEST_PROTOCOL)
        with atomic_path(path) as tmp:
            tmp.write_bytes(payload)
    except Exception:
        return False
    return True


def _load(path: Path) -> tuple[Any, list[warnings.WarningMessage]] | None:
    """What :func:`_store` wrote to ``path``; None if absent or unreadable."""
    try:
        result, given = pickle.loads(path.read_bytes())
    except Exception:
        return None
    return result, restored(given)


#: A recorded warning as it pickles: (message, category, file name, line).
Given = tuple[Warning | str, type[Warning], str, int]


def portable(seen: list[warnings.WarningMessage]) -> list[Given]:
    """Recorded warnings in a form that pickles: to keep them, or to send them from
    another process (:func:`restored` turns them back)."""
    return [(w.message, w.category, w.filename, w.lineno) for w in seen]


def restored(given: list[Given]) -> list[warnings.WarningMessage]:
    """:func:`portable`'s warnings as ``warnings.catch_warnings(record=True)`` records them."""
    return [warnings.WarningMessage(m, c, f, n) for m, c, f, n in given]


def signature(path: Path) -> Signature:
    """Every entry's name, kind, size and modification time (of ``path`` itself if it is
    a file): changes when the data change. Inside :func:`watching` it is recorded."""
    entries = [path] if path.is_file() else sorted(path.iterdir())
    found = tuple(
        (p.name, p.is_dir(), (s := p.stat()).st_size, s.st_mtime_ns)
        for p in entries
        if not p.name.startswith(".")
    )
    for seen in _WATCHERS:
        seen.setdefault(str(path.resolve()), found)  # the first: what was read first
    return found


_WATCHERS: list[dict[str, Signature]] = []


@contextlib.contextmanager
def watching() -> Iterator[dict[str, Signature]]:
    """The resolved path and first signature of every file or folder whose
    :func:`signature` is taken inside the block: the data a result computed there read."""
    seen: dict[str, Signature] = {}
    _WATCHERS.append(seen)
    try:
        yield seen
    finally:
        # by identity: list.remove compares dicts by value, and nested blocks may be equal
        del _WATCHERS[next(i for i, w in enumerate(_WATCHERS) if w is seen)]


def read_elsewhere(seen: dict[str, Signature]) -> None:
    """Record in every open :func:`watching` block what another process read for it
    (``seen``: that process's own ``watching``), as if it had been read here."""
    for watcher in _WATCHERS:
        for path, found in seen.items():
            watcher.setdefault(path, found)


def _unchanged(seen: dict[str, Signature]) -> bool:
    for name, found in seen.items():
        try:
            if signature(Path(name)) != found:
                return False
        except OSError:  # removed, or no longer readable
            return False
    return True


def stored_result(name: str, key: Any, compute: Callable[[], R]) -> R:
    """``compute()``, kept in the folder :data:`CACHE_ENV` names (if it names one) and
    given again, with its warnings, while ``key``, this package's files and the
    signature of every path it read (:func:`watching`) are unchanged; a computation that
    raises is never kept. Only for computations whose inputs are ``key``, the code, and
    files read through :func:`signature`-taking readers (:func:`stored_read`,
    :class:`evaluatie.workbench.datacheck.DataChecker`)."""
    stored = _entry(name, key)
    if stored is None:
        return compute()
    kept = _valid(stored)
    if kept is not None:
        return cast(R, kept[0])
    with watching() as seen:
        result, given = _recorded(compute, (), {})
    if _store(stored, (result, dict(seen)), given):
        _prune(stored.parent)
    warn_again(given)
    return result


def kept_result(name: str, key: Any) -> tuple[Any] | None:
    """``(result,)`` if :func:`stored_result` with ``name`` and ``key`` would give a kept
    result now (its warnings are given again), else None: nothing is computed."""
    stored = _entry(name, key)
    return None if stored is None else _valid(stored)


def _entry(name: str, key: Any) -> Path | None:
    """Where :func:`stored_result` keeps ``name`` under ``key``; None with no cache folder,
    or a key that cannot be digested (then nothing is kept)."""
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return None
    try:
        where = digest((key, _code_digest())).hex()[:24]
    except Undigestible:
        return None
    return Path(folder) / f"{name}-{where}.pickle"


def _valid(stored: Path) -> tuple[Any] | None:
    """``(result,)`` kept in ``stored`` while everything it read is unchanged, its warnings
    given again; else None."""
    kept = _load(stored)
    if kept is None or not isinstance(kept[0], tuple) or not _unchanged(kept[0][1]):
        return None
    with contextlib.suppress(OSError):
        os.utime(stored)  # used now: the last to go when the folder is pruned
    warn_again(kept[1])
    return (kept[0][0],)


def stored_read(fn: Callable[P, R]) -> Callable[P, R]:
    """Keep what ``fn(raw_dir, ...)`` read in the folder :data:`CACHE_ENV` names, if it
    names one (module docstring), with the warnings the reading gave
    (:func:`stored_result`, keyed by the folder as written and resolved and the other
    arguments; valid while the folder's entries are unchanged); a reading that fails is
    never kept. ``fn``'s first parameter is the raw-data folder (or file); it is called
    as before, by position or keyword, with its defaults."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    signature_of_fn = inspect.signature(fn)
    first = next(iter(signature_of_fn.parameters))

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        bound = signature_of_fn.bind(*args, **kwargs)  # a wrong call fails as fn's would
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        raw_dir = arguments.pop(first)
        if not isinstance(raw_dir, str | os.PathLike) or not Path(raw_dir).exists():
            return fn(*args, **kwargs)  # a bad argument or folder for fn to refuse
        path = Path(raw_dir)

        def read() -> R:
            signature(path)  # what keeps the reading valid: the folder's entries
            return fn(*args, **kwargs)

        return stored_result(name, (str(raw_dir), str(path.resolve()), arguments), read)

    return wrapper


def _prune(folder: Path) -> None:
    """Keep the :data:`MAX_STORED` entries used last (readings of folders that are gone,
    or of other data, would otherwise pile up)."""

    def used(entry: Path) -> int:
        try:
            return entry.stat().st_mtime_ns
        except OSError:  # removed meanwhile by another worker of the batch
            return -1

    for old in sorted(folder.glob("*.pickle"), key=used, reverse=True)[MAX_STORED:]:
        old.unlink(missing_ok=True)


@functools.cache
def _code_digest() -> bytes:
    """This package's files and the libraries its readers' results depend on."""
    import pyarrow

    h = hashlib.blake2b(digest_size=20)
    h.update(repr((sys.version, np.__version__, pd.__version__, pyarrow.__version__)).encode())
    package = Path(__file__).resolve().parents[1]
    for file in sorted(package.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            h.update(file.relative_to(package).as_posix().encode())
            h.update(file.read_bytes())
    return h.digest()


def warn_again(seen: list[warnings.WarningMessage]) -> None:
    """Warn again what ``warnings.catch_warnings(record=True)`` recorded, as the
    computation did, under the caller's filters."""
    for w in seen:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
