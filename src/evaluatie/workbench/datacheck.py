"""Data-dependent parameter checks, run before any kernel starts.

The schema (types, allowed values) is checked by the pydantic models in
:mod:`evaluatie.workbench.params`; whether a gemeente code, a year or an outcome
actually occurs in the input data can only be told by reading the data. This module
reads ``raw_dir`` once with :func:`evaluatie.sources.load_panel` (about 0.7 s for the
full simulated data, 0.4 s at scale 0.1) and, if present, the VVE tables; keeps a
small :class:`DataInventory` (years, gemeenten, and the years in which each column has
values), and checks parameters against it.

The models call these checks from their field validators when validation is given a
:class:`DataChecker` as context, so data problems are reported together with the
schema problems, in one message.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from pathlib import Path

from evaluatie.core.errors import EvaluatieError

#: Key of the :class:`DataChecker` in the pydantic validation context.
DATA_CONTEXT = "evaluatie.data"


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

_Signature = tuple[str, str, tuple[tuple[str, int, int], ...]]
_CACHE: dict[_Signature, DataInventory | str] = {}


def _signature(path: Path, shown_as: str) -> _Signature:
    """Folder path plus name, size and mtime of each file: changes when the data change."""
    files = input_files(path)
    stats = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return shown_as, str(path.resolve()), stats


def read_inventory(path: Path, shown_as: str) -> DataInventory:
    """Read ``path`` into an inventory; ValueError if it cannot be read at all.

    The primary-school panel (:func:`load_panel`) and, when the folder has them, the VVE
    study's budget and early-years tables (:func:`load_vve`) both contribute: a folder
    with only one of the two serves the notebooks that need that one.
    """
    if not path.exists():
        raise ValueError(f"no such file or folder: {path}")
    key = _signature(path, shown_as)
    if key not in _CACHE:
        _CACHE[key] = _inventory_of(path, shown_as)
    found = _CACHE[key]
    if isinstance(found, str):
        raise ValueError(found)
    return found


def _inventory_of(path: Path, shown_as: str) -> DataInventory | str:
    from evaluatie.sources.panel import files_of_kind, load_panel
    from evaluatie.sources.vve import VVE_OUTCOMES, load_vve

    years: set[int] = set()
    gemeenten: set[str] = set()
    column_years: dict[str, tuple[int, ...]] = {}
    errors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # data-quality notes belong in the report
        try:
            panel = load_panel(path)
        except EvaluatieError as exc:
            errors.append(str(exc))
        else:
            jaar = panel["jaar"].dropna().astype(int)
            years |= set(jaar)
            gemeenten |= set(panel["gemeente_code"].dropna().astype(str))
            column_years.update(
                {
                    col: tuple(sorted(set(jaar[panel[col].notna()])))
                    for col in panel.columns
                    if col not in ("jaar", "schooljaar")
                }
            )
        has_vve = path.is_dir() and files_of_kind(path, "vve") and files_of_kind(path, "budget")
        if has_vve:
            try:
                vve = load_vve(path)
            except EvaluatieError as exc:
                errors.append(str(exc))
            else:
                schools = vve.schools
                years |= set(schools["jaar"].astype(int))
                gemeenten |= set(vve.budget["gemeente_code"].astype(str))
                for col in VVE_OUTCOMES:
                    column_years[col] = tuple(
                        sorted(set(schools.loc[schools[col].notna(), "jaar"].astype(int)))
                    )
    if errors and not column_years:
        return "cannot read the data: " + "; ".join(errors)
    return DataInventory(
        raw_dir=shown_as,
        years=tuple(sorted(years)),
        gemeenten=frozenset(gemeenten),
        column_years=column_years,
    )


class DataChecker:
    """Validation context: resolves ``raw_dir`` against the project root, reads it once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def inventory(self, raw_dir: str) -> DataInventory:
        """The inventory of ``raw_dir``; ValueError naming the problem if it cannot be read."""
        return read_inventory(resolve_raw_dir(self.root, raw_dir), raw_dir)
