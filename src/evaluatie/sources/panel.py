"""Build the tidy vestiging x year panel from a folder of DUO-style files.

:func:`load_panel` recognises each ``*.csv`` in the folder by its header (file names
are free): eindscores files (one per school year, required; old BRIN and new layouts
stack on one ``vestiging`` key), referentieniveaus and schooladviezen files, the school
file, the innovation-grant table and the VVE/OAB budget table (all optional; the user
treatment layouts are described in ``FORMATS.md`` beside this module). Recognised files
that do not belong in a primary-school panel (VO exams, CBS VSV) are listed in
``panel.attrs["not_in_panel"]``. Other CSVs are skipped with a warning, except that a
file whose name says it holds one of these data must parse. Nothing is written to the
folder.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from evaluatie.core.atomic import atomic_path
from evaluatie.core.errors import DataFormatError, DataQualityWarning, ParameterError
from evaluatie.core.memo import stored_read
from evaluatie.sources._panel_parts import (
    PROVIDERS,
    STANDARDISED,
    add_budget,
    add_grants,
    add_schools,
    eindscores_rows,
    fill_gemeente,
    shares,
)
from evaluatie.sources.duo import decode, match_layout, read_duo
from evaluatie.sources.gemeenten import load_gemeenten
from evaluatie.sources.layouts import Layout

#: Plausible range of a school's mean per provider; the CET scale runs from 501 to 550.
#: Standardised scores are z-scores: beyond +-10 something is wrong.
SCORE_RANGE = {"CET": (501.0, 550.0), STANDARDISED: (-10.0, 10.0)}
#: Accepted spellings of the standardised scale.
_STANDARDISED_NAMES = (STANDARDISED, "STANDARDIZED", "Z")
SHARES = (
    "lezen_ge1f",
    "lezen_2f",
    "taalverzorging_ge1f",
    "taalverzorging_2f",
    "rekenen_ge1f",
    "rekenen_1s",
)
PANEL_COLUMNS = (
    "vestiging",
    "instellingscode",
    "vestigingscode",
    "schooljaar",
    "jaar",
    "gemeente_code",
    "gemeente_naam",
    "soort_po",
    "eindtoets",
    "eindtoets_n",
    "eindtoets_suppressed",
    *SHARES,
    "referentieniveau_suppressed",
    "n_leerlingen",
    "schoolweging",
    "cohort",
    "subsidie_bedrag",
    "treated",
    "oab_budget_eur",
    "doelgroepkinderen",
)
#: File kinds that are recognised but are not part of the vestiging x year bo panel.
_NOT_IN_PANEL = ("examens", "vsv", "vsv_soort", "povo", "vve")
# File-name words that promise a data file: such a file must parse, never be skipped.
_DATA_WORDS = (
    "eindscores",
    "referentieniveau",
    "schooladvie",
    "vestigingen",
    "subsidie",
    "budget",
    "examenkandidaten",
    "vsv",
    "vve-",
)


def _sniff(path: Path) -> Layout | None:
    """The layout of ``path`` from its header line, or None for a non-DUO CSV."""
    with open(path, "rb") as fh:
        first = fh.readline()
    try:
        text, _ = decode(first, path)
        header = next(csv.reader([text.rstrip("\r\n")], delimiter=";"), [])
        if ";" not in text:
            raise DataFormatError("header has no ';' separator", path=path, line=1)
        return match_layout(header, path)
    except DataFormatError:
        if any(word in path.name.lower() for word in _DATA_WORDS):
            read_duo(path)  # raises the full, located error
        return None


#: Plausible end years of a school year (``jaar``).
_YEARS = (2000, 2100)


def _by_year(frames: list[pd.DataFrame], what: str) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for frame in frames:
        path = frame.attrs["path"]
        year = frame.attrs["schooljaar"]
        if year is None:
            raise DataFormatError(
                f"cannot tell the school year of this {what} file (no single peildatum "
                "and no YYYY-YYYY in the name)",
                path=path,
            )
        if not _YEARS[0] <= int(year[5:]) <= _YEARS[1]:
            raise DataFormatError(
                f"school year {year} lies outside {_YEARS[0] - 1}-{_YEARS[0]} .. "
                f"{_YEARS[1] - 1}-{_YEARS[1]}; is PEILDATUM_LEERLINGEN right?",
                path=path,
            )
        if year in out:
            raise DataFormatError(
                f"second {what} file for {year} (first: {out[year].attrs['path']})", path=path
            )
        out[year] = frame
    return out


@stored_read
def load_panel(
    raw_dir: str | Path = "data/raw",
    provider: str = "CET",
    *,
    unmatched_grants: str = "warn",
    unmatched_budget: str = "warn",
) -> pd.DataFrame:
    """Read every DUO-style file in ``raw_dir`` (or one file) into one row per vestiging x year.

    ``eindtoets`` is the mean for ``provider`` (missing where the school did not use
    it, where it is suppressed, and in years whose layout lacks it: no CET from
    2023-24 on). Test scales are never mixed: ``provider="standardised"`` instead gives
    every school mean as a z-score within its provider x year (school means of that
    provider in that year have mean 0 and SD 1; a school with two providers gets the
    takers-weighted average), so the outcome is comparable over time across the
    2023-24 switch to the doorstroomtoets. Effects on it are in SDs of school means.

    Referentieniveau shares are of pupils with a level (``*_ge1f`` = at least 1F;
    ``rekenen_1s`` counts 1S and 2F); suppressed counts enter as 2.5 and
    ``referentieniveau_suppressed`` marks those rows. ``gemeente_code`` is the one in
    the eindscores file of that year, else in another file of the same year, else in
    the school file: after a merger a vestiging keeps its old code in earlier years.
    ``cohort`` is the end year of the first grant school year (0 = never);
    ``oab_budget_eur`` and ``doelgroepkinderen`` come from a budget table by gemeente
    x ``jaar``. Grant or budget rows that match no vestiging or gemeente-year of the
    outcome data are reported as a :class:`DataQualityWarning` (``"error"`` raises).
    """
    raw = Path(raw_dir)
    provider = provider.upper()
    if provider in _STANDARDISED_NAMES:
        provider = STANDARDISED
    if provider not in (*PROVIDERS, STANDARDISED):
        raise ParameterError(
            f"unknown eindtoets provider {provider!r}; choose from {', '.join(PROVIDERS)} "
            "or 'standardised'"
        )
    for name, value in (
        ("unmatched_grants", unmatched_grants),
        ("unmatched_budget", unmatched_budget),
    ):
        if value not in ("warn", "error"):
            raise ParameterError(f"{name} must be 'warn' or 'error', got {value!r}")
    found, skipped = _read_folder(raw)
    if skipped:
        warnings.warn(
            f"{raw}: skipped CSV files with no known layout: {', '.join(skipped)}",
            DataQualityWarning,
            stacklevel=2,
        )
    if not found.get("eindscores"):
        raise DataFormatError(
            "no eindscores file found (DUO 05.-gemiddelde-eindscores-bo-sbo-YYYY-YYYY.csv "
            "or a file with that header); `evaluatie simulate` writes synthetic ones",
            path=raw,
        )
    scores = _by_year(found["eindscores"], "eindscores")
    if provider != STANDARDISED and not any(
        f"{provider.lower()}_gem" in f for f in scores.values()
    ):
        raise ParameterError(f"provider {provider} occurs in none of the eindscores files in {raw}")
    parts = [eindscores_rows(f, y, provider) for y, f in sorted(scores.items())]
    small = [group for _, groups, _ in parts for group in groups]
    if small:
        warnings.warn(
            f"{raw}: too few schools to standardise, scores left missing: " + ", ".join(small),
            DataQualityWarning,
            stacklevel=2,
        )
    panel = pd.concat([rows for rows, _, _ in parts], ignore_index=True)

    refs = _by_year(found.get("referentieniveaus", []), "referentieniveaus")
    if refs:
        levels = pd.concat([shares(f, y) for y, f in refs.items()], ignore_index=True)
        panel = panel.merge(
            levels, on=["vestiging", "schooljaar"], how="left", validate="one_to_one"
        )
    else:
        panel = panel.assign(**dict.fromkeys(SHARES, np.nan), referentieniveau_suppressed=False)
    panel["referentieniveau_suppressed"] = (
        panel["referentieniveau_suppressed"].fillna(False).astype(bool)
    )
    adviezen = _by_year(found.get("schooladviezen", []), "schooladviezen")
    same_year: dict[str, list[pd.DataFrame]] = {}
    for by_year in (refs, adviezen):
        for year, frame in by_year.items():
            same_year.setdefault(year, []).append(frame)
    panel = fill_gemeente(panel, same_year)
    panel = add_schools(panel, found.get("vestigingen", []))
    panel = add_grants(panel, found.get("subsidies", []), unmatched_grants)
    panel = add_budget(panel, found.get("budget", []), unmatched_budget)
    names = load_gemeenten().set_index("gemeente_code")["gemeente_naam"]
    # The shipped list spells every gemeente correctly; DUO's own file garbles two.
    panel["gemeente_naam"] = panel["gemeente_code"].map(names).fillna(panel["gemeente_naam"])
    panel = _typed(panel).sort_values(["vestiging", "jaar"], ignore_index=True)
    panel.attrs = {
        "raw_dir": str(raw),
        "provider": provider,
        # the SD each provider x year was divided by (standardised scale only)
        "scales": {key: sd for _, _, scales in parts for key, sd in scales.items()},
        "files": sorted(Path(f.attrs["path"]).name for fs in found.values() for f in fs),
        "kinds": {kind: [Path(f.attrs["path"]).name for f in fs] for kind, fs in found.items()},
        "rows": {Path(f.attrs["path"]).name: len(f) for fs in found.values() for f in fs},
        "not_in_panel": {
            Path(f.attrs["path"]).name: kind for kind in _NOT_IN_PANEL for f in found.get(kind, [])
        },
    }
    validate_panel(panel)
    return panel


def _promises_data(path: Path) -> bool:
    return any(word in path.name.lower() for word in _DATA_WORDS)


def csv_paths(raw: Path) -> list[Path]:
    """The CSV files of the folder ``raw``, sorted; what else there is, said.

    A folder named like a data file is an error (a year would vanish silently); a file
    named like DUO data in another format (``.xlsx``) is not read, with a warning.
    """
    if not raw.is_dir():
        raise DataFormatError("raw-data folder does not exist", path=raw)
    entries = sorted(p for p in raw.iterdir() if not p.name.startswith("."))
    folders = [p for p in entries if p.is_dir() and _promises_data(p)]
    if folders:
        raise DataFormatError.combine(
            [
                DataFormatError("is a folder, not a data file; move or rename it", path=p)
                for p in folders
            ]
        )
    other = [
        p.name for p in entries if p.is_file() and p.suffix.lower() != ".csv" and _promises_data(p)
    ]
    if other:
        warnings.warn(
            f"{raw}: not read (only CSV files are): {', '.join(other)}; export them as "
            "';'-separated CSV to use them",
            DataQualityWarning,
            stacklevel=3,
        )
    return [p for p in entries if p.suffix.lower() == ".csv" and p.is_file()]


def _read_folder(raw: Path) -> tuple[dict[str, list[pd.DataFrame]], list[str]]:
    """Every recognised file in ``raw`` (or ``raw`` itself) by kind; skipped file names.

    Every file is read before anything is raised, so one error lists each broken file.
    """
    paths = [raw] if raw.is_file() else csv_paths(raw)  # a file: e.g. one DUO download
    found: dict[str, list[pd.DataFrame]] = {}
    skipped = []
    errors: list[DataFormatError] = []
    for path in paths:
        try:
            layout = _sniff(path)
            if layout is None:
                skipped.append(path.name)
            elif layout.kind == "waarheid":
                continue  # the simulator's truth is for checking estimators, not an input
            elif layout.kind in _NOT_IN_PANEL:
                # Recognised by its header; not parsed here (read_examens / read_vsv do).
                stub = pd.DataFrame()
                stub.attrs = {"path": str(path), "layout": layout.name, "kind": layout.kind}
                found.setdefault(layout.kind, []).append(stub)
            else:
                found.setdefault(layout.kind, []).append(read_duo(path, layout))
        except DataFormatError as exc:
            errors.append(exc)
    if errors:
        raise DataFormatError.combine(errors)
    return found, skipped


def _typed(panel: pd.DataFrame) -> pd.DataFrame:
    out = panel.assign(
        jaar=panel["jaar"].astype("int64"),
        eindtoets=panel["eindtoets"].astype("float64"),
        eindtoets_n=panel["eindtoets_n"].astype("Int64"),
        eindtoets_suppressed=panel["eindtoets_suppressed"].astype(bool),
        treated=(panel["cohort"] > 0) & (panel["jaar"] >= panel["cohort"]),
        oab_budget_eur=panel["oab_budget_eur"].astype("float64"),
        doelgroepkinderen=panel["doelgroepkinderen"].astype("Int64"),
    )
    for col in (
        "vestiging",
        "instellingscode",
        "vestigingscode",
        "schooljaar",
        "gemeente_code",
        "gemeente_naam",
        "soort_po",
    ):
        out[col] = out[col].astype("str").where(out[col].notna())
    return out[list(PANEL_COLUMNS)]


def validate_panel(panel: pd.DataFrame) -> None:
    """Check keys, types and ranges of a panel; raise DataFormatError naming the rows."""
    missing = [c for c in PANEL_COLUMNS if c not in panel]
    if missing:
        raise DataFormatError(f"panel lacks column(s) {', '.join(missing)}")

    def fail(mask: pd.Series | np.ndarray, what: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            rows = panel.loc[mask, ["vestiging", "jaar"]].head(5)
            listed = ", ".join(f"{v}/{j}" for v, j in rows.itertuples(index=False))
            raise DataFormatError(f"{what}: {int(mask.sum())} row(s), e.g. {listed}", column=None)

    fail(panel.duplicated(["vestiging", "jaar"], keep=False), "vestiging x jaar not unique")
    fail(
        panel["vestiging"].isna()
        | ~panel["vestiging"].str.fullmatch(r"[0-9A-Z]{4}\d{2}").fillna(False),
        "malformed vestiging",
    )
    fail(
        panel["jaar"].ne(panel["schooljaar"].str[5:].astype("int64")),
        "jaar does not match schooljaar",
    )
    fail(~panel["jaar"].between(*_YEARS), f"jaar outside {_YEARS[0]}-{_YEARS[1]}")
    provider = panel.attrs.get("provider")
    low, high = SCORE_RANGE.get(provider, (0.0, np.inf))
    score = panel["eindtoets"]
    fail(score.notna() & ~score.between(low, high), f"eindtoets outside {low:g}..{high:g}")
    fail((panel["eindtoets_n"] < 0).fillna(False), "negative eindtoets_n")
    fail(panel["eindtoets_suppressed"] & score.notna(), "suppressed eindtoets has a value")
    for col in SHARES:
        fail(panel[col].notna() & ~panel[col].between(0.0, 1.0), f"{col} outside 0..1")
    fail(
        (panel["cohort"] < 0) | ((panel["cohort"] > 0) & ~panel["cohort"].between(2000, 2100)),
        "bad cohort",
    )
    fail(panel["subsidie_bedrag"] < 0, "negative subsidie_bedrag")
    fail((panel["oab_budget_eur"] < 0).to_numpy(), "negative oab_budget_eur")


def build_panel(
    raw_dir: str | Path = "data/raw",
    out_path: str | Path = "data/processed/panel.parquet",
    provider: str = "CET",
    **kwargs: str,
) -> Path:
    """Load the panel (see :func:`load_panel`) and write it as Parquet, atomically.

    Refuses an ``out_path`` inside ``raw_dir``: raw data stays untouched.
    """
    raw, out = Path(raw_dir).resolve(), Path(out_path).resolve()
    if out.is_relative_to(raw):
        raise ParameterError(
            f"out_path {out_path} lies inside raw_dir {raw_dir}; raw data is read-only"
        )
    panel = load_panel(raw_dir, provider, **kwargs)
    with atomic_path(out) as tmp:
        panel.to_parquet(tmp, index=False)
    return Path(out_path)


def has_eindscores(raw_dir: str | Path) -> bool:
    """Whether ``raw_dir`` holds an eindscores file, found by its header as
    :func:`load_panel` finds it (under any name): the data every report reads, real or
    synthetic. False for a missing folder; a file named like data that does not parse is
    the same error as in :func:`load_panel`. Other files are said when they are read."""
    raw = Path(raw_dir)
    if not raw.is_dir():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return bool(files_by_kind(raw).get("eindscores"))


def files_by_kind(raw_dir: str | Path) -> dict[str, list[Path]]:
    """The CSV files in ``raw_dir`` by the kind of layout their header matches (sorted).

    Only header lines are read, so finding the one budget table in a folder of large
    eindscores files is cheap; a file whose name promises data but does not parse is
    an error, as in :func:`load_panel` (one error naming every such file).
    """
    found: dict[str, list[Path]] = {}
    errors: list[DataFormatError] = []
    for path in csv_paths(Path(raw_dir)):
        try:
            layout = _sniff(path)
        except DataFormatError as exc:
            errors.append(exc)
            continue
        if layout is not None:
            found.setdefault(layout.kind, []).append(path)
    if errors:
        raise DataFormatError.combine(errors)
    return found
