"""Data-dependent checks, run before any kernel starts.

The schema (types, allowed values) is checked by the pydantic models in
:mod:`evaluatie.workbench.params`; whether the input files parse, and whether a gemeente
code, a year or an outcome occurs in them, can only be told by reading them. A
:class:`DataChecker` reads ``raw_dir`` with the readers the notebook itself uses
(:func:`~evaluatie.sources.load_panel` for the primary-school panel,
:func:`~evaluatie.sources.load_vve` for the VVE tables), once per folder and source,
and keeps a small :class:`DataInventory` (years, gemeenten, and the years in which each
column has values) to check parameters against. Each notebook reads only the sources
it declares, so a broken VVE table never blocks the innovatiebudget report and the VVE
report never asks for eindscores files.

The models call these checks from their field validators when validation is given a
:class:`DataChecker` as context, so data problems are reported together with the
schema problems, in one message, each once. Data-quality notes met while reading
(skipped files, grants for unknown schools) are re-issued once as
:class:`~evaluatie.core.errors.DataQualityWarning`, for the command line to show.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from evaluatie.core.errors import DataQualityWarning, EvaluatieError
from evaluatie.core.memo import Signature, signature

#: Key of the :class:`DataChecker` in the pydantic validation context.
DATA_CONTEXT = "evaluatie.data"
#: What a notebook can read from ``raw_dir``.
Source = Literal["panel", "vve", "examens", "vsv", "povo", "schooluitval", "doorstroom"]


def input_files(raw: Path) -> list[Path]:
    """The input files of ``raw``: the non-hidden files in the folder, or ``raw`` itself.

    Hidden files (an editor's swap file, a half-written ``.tmp``) are not data.
    """
    if raw.is_file():
        return [raw]
    if not raw.is_dir():
        return []
    return [p for p in sorted(raw.iterdir()) if p.is_file() and not p.name.startswith(".")]


def resolve_raw_dir(root: Path, raw_dir: str | Path) -> Path:
    """``raw_dir`` as the notebook sees it: relative paths start at the project root."""
    path = Path(raw_dir).expanduser()
    return path if path.is_absolute() else root / path


@dataclass(frozen=True)
class DataInventory:
    """What the data in one raw-data folder contain: enough to check parameters."""

    raw_dir: str
    years: tuple[int, ...]
    gemeenten: frozenset[str]
    column_years: dict[str, tuple[int, ...]]

    def check_outcome(self, outcome: str) -> None:
        """Refuse an outcome without a single value in the data."""
        if not self.column_years.get(outcome):
            with_data = [c for c, ys in self.column_years.items() if ys and c in _OUTCOME_HINT]
            raise ValueError(
                f"{outcome!r} has no values in the data in {self.raw_dir} "
                f"({_OUTCOME_HINT.get(outcome, 'column missing')}); "
                f"outcomes with data: {', '.join(with_data) or 'none'}"
            )

    def check_year(self, year: int, outcome: str | None) -> None:
        """Refuse a year outside the years with data (for ``outcome`` when it is known)."""
        years = self.column_years.get(outcome or "") or self.years
        what = f"{outcome} data" if outcome in self.column_years else "data"
        if years and not years[0] <= year <= years[-1]:
            raise ValueError(
                f"{year} lies outside the years with {what} in {self.raw_dir} "
                f"({years[0]}-{years[-1]})"
            )

    def check_gemeenten(self, codes: list[str]) -> None:
        """Refuse gemeente codes that do not occur in the data, suggesting near codes."""
        missing = [c for c in codes if c not in self.gemeenten]
        if not missing:
            return
        hints = []
        for code in missing:
            near = difflib.get_close_matches(code, sorted(self.gemeenten), n=1, cutoff=0.8)
            hints.append(f"{code} (did you mean {near[0]}?)" if near else code)
        raise ValueError(
            f"not in the data in {self.raw_dir}: {', '.join(hints)}; "
            f"{len(self.gemeenten)} gemeenten occur there, e.g. "
            f"{', '.join(sorted(self.gemeenten)[:4])}"
        )


# Why an outcome can lack values: which input file provides it.
_OUTCOME_HINT = {
    "eindtoets": "needs eindscores files with CET scores",
    "lezen_2f": "needs referentieniveaus files",
    "taalverzorging_2f": "needs referentieniveaus files",
    "rekenen_1s": "needs referentieniveaus files",
    "kleuterverlenging": "needs a vve-uitkomsten table and an oab-budget table",
    "groep3": "needs a vve-uitkomsten table and an oab-budget table",
}


@dataclass(frozen=True)
class _Read:
    """One source of one folder as read: the value, or the problems; the notes met."""

    value: Any
    problems: tuple[str, ...]
    notes: tuple[str, ...]


#: The last read of each folder and source, with the signature it was read under: a
#: long-lived process (JupyterLab) keeps one copy per folder (and spelling), never stale ones.
_CACHE: dict[tuple[str, str, str], tuple[Signature, _Read]] = {}


def _in_root(root: Path) -> bool:
    """Whether this process's working folder is ``root``, so that a relative ``raw_dir``
    names the same folder here as in a report's kernel."""
    try:
        return Path.cwd().resolve() == root.resolve()
    except OSError:  # the working folder was removed
        return False


def _read(path: Path, source: str) -> _Read:
    """``source`` (a :data:`Source`, or ``"panel:<provider>"`` for the school panel on
    another eindtoets scale) read from ``path``; problems and quality notes kept."""
    from evaluatie.sources.examens import load_exam_rates
    from evaluatie.sources.panel import load_panel
    from evaluatie.sources.povo import load_povo_rates
    from evaluatie.sources.vsv import load_vsv_rates
    from evaluatie.sources.vve import load_vve
    from evaluatie.studies.doorstroom import load as load_doorstroom
    from evaluatie.studies.schooluitval import load as load_schooluitval

    loaders: dict[str, Callable[[Path], Any]] = {
        "panel": load_panel,
        "vve": load_vve,
        "examens": load_exam_rates,
        "vsv": load_vsv_rates,
        "povo": load_povo_rates,
        "schooluitval": load_schooluitval,
        "doorstroom": load_doorstroom,
    }
    if source.startswith("panel:"):
        loader: Callable[[Path], Any] = partial(load_panel, provider=source.split(":", 1)[1])
    else:
        loader = loaders[source]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            value, problems = loader(path), ()
        except EvaluatieError as exc:
            value, problems = None, tuple(getattr(exc, "problems", [str(exc)]))
    notes = tuple(
        dict.fromkeys(str(w.message) for w in seen if issubclass(w.category, DataQualityWarning))
    )
    return _Read(value, problems, notes)


class DataChecker:
    """Validation context: resolves ``raw_dir`` against the project root, reads it once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._noted: set[str] = set()
        # Within one check the data do not change: each inventory is built once.
        self._inventories: dict[tuple[str, tuple[Source, ...]], DataInventory] = {}

    def load(self, raw_dir: str, source: str) -> Any:
        """``source`` read from ``raw_dir``; ValueError with one line per problem."""
        path = resolve_raw_dir(self.root, raw_dir)
        if not path.exists():
            raise ValueError(f"no such file or folder: {path}")
        # The readers keep what they parsed under the folder as spelled (memo.stored_read:
        # a reading may name it). The reports' kernels run in the project root and spell
        # it as the params file does; read it so here too when this process runs there,
        # or each kernel parses the folder again (1.4 s of a fresh `evaluatie all`'s first
        # doorstroom report on each worker).
        written = Path(raw_dir)
        relative = not written.expanduser().is_absolute()
        spelled = written if relative and _in_root(self.root) else path
        key, found_now = (str(spelled), str(path.resolve()), source), signature(path)
        if key not in _CACHE or _CACHE[key][0] != found_now:
            _CACHE[key] = (found_now, _read(spelled, source))
        found = _CACHE[key][1]
        # A relative raw_dir is shown as the user wrote it, not from the filesystem root.
        prefix = f"{self.root}{os.sep}" if not Path(raw_dir).is_absolute() else None

        def shown(text: str) -> str:
            return text.replace(prefix, "") if prefix else text

        for note in map(shown, found.notes):
            self.note(note)
        if found.problems:
            raise ValueError("\n".join(map(shown, found.problems)))
        return found.value

    def note(self, text: str) -> None:
        """Warn ``text`` as a :class:`DataQualityWarning`, once however many checks see it."""
        if text not in self._noted:
            self._noted.add(text)
            warnings.warn(text, DataQualityWarning, stacklevel=3)

    def inventory(self, raw_dir: str, sources: tuple[Source, ...]) -> DataInventory:
        """What ``sources`` of ``raw_dir`` contain; ValueError naming every problem."""
        if (raw_dir, sources) in self._inventories:
            return self._inventories[raw_dir, sources]
        problems: list[str] = []
        loaded: dict[Source, Any] = {}
        for source in sources:
            try:
                loaded[source] = self.load(raw_dir, source)
            except ValueError as exc:
                problems.extend(p for p in str(exc).split("\n") if p not in problems)
        if problems:
            raise ValueError("\n".join(problems))
        found = self._inventories[raw_dir, sources] = _inventory(raw_dir, loaded)
        return found


def _inventory(raw_dir: str, loaded: dict[Source, Any]) -> DataInventory:
    from evaluatie.sources.vve import VVE_OUTCOMES

    years: set[int] = set()
    gemeenten: set[str] = set()
    column_years: dict[str, tuple[int, ...]] = {}

    def add(frame: Any, columns: Any) -> None:
        jaar = frame["jaar"].astype(int)
        years.update(jaar)
        for col in columns:
            column_years[col] = tuple(sorted(set(jaar[frame[col].notna()])))

    if (panel := loaded.get("panel")) is not None:
        panel = panel[panel["jaar"].notna()]
        gemeenten.update(panel["gemeente_code"].dropna().astype(str))
        add(panel, [c for c in panel.columns if c not in ("jaar", "schooljaar")])
    if (vve := loaded.get("vve")) is not None:
        gemeenten.update(vve.budget["gemeente_code"].astype(str))
        add(vve.schools, VVE_OUTCOMES)
    if (vsv := loaded.get("schooluitval")) is not None:
        loaded = {**loaded, "vsv": vsv.gemeenten}
    if (exams := loaded.get("doorstroom")) is not None:
        from evaluatie.studies.doorstroom import group_rates

        loaded = {**loaded, "examens": group_rates(exams)}
    for source, columns in (
        ("examens", ["slaagpercentage"]),
        ("vsv", ["vsv_percentage"]),
        ("povo", ["afstroom_percentage", "opstroom_percentage"]),
    ):
        if (rates := loaded.get(source)) is not None:  # type: ignore[call-overload]
            gemeenten.update(rates["gemeente_code"])
            add(rates, columns)
    return DataInventory(
        raw_dir=raw_dir,
        years=tuple(sorted(years)),
        gemeenten=frozenset(gemeenten),
        column_years=column_years,
    )
