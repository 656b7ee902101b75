"""Build the tidy vestiging x year panel from a folder of DUO-style files.

:func:`load_panel` recognises each ``*.csv`` in the folder by its header (file names
are free): eindscores files (one per school year, required), referentieniveaus files,
the school file and the innovation-grant table (all optional). Other CSVs are skipped
with a warning, except that a file whose name says it holds eindscores,
referentieniveaus, vestigingen or subsidies must parse. Nothing is written to the folder.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from evaluatie._atomic import atomic_path
from evaluatie.data.duo import _decode, match_layout, read_duo
from evaluatie.data.gemeenten import load_gemeenten
from evaluatie.data.layouts import PROVIDERS_2022, PROVIDERS_2023, Layout
from evaluatie.errors import DataFormatError, ParameterError

PROVIDERS = tuple(dict.fromkeys(PROVIDERS_2022 + PROVIDERS_2023))
#: Plausible range of a school's mean per provider; the CET scale runs from 501 to 550.
SCORE_RANGE = {"CET": (501.0, 550.0)}
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
)
# File-name words that promise a data file: such a file must parse, never be skipped.
_DATA_WORDS = ("eindscores", "referentieniveau", "vestigingen", "subsidie")
# A suppressed count ("<5") is one of 1..4; shares use the midpoint.
_SUPPRESSED_COUNT = 2.5


class DataQualityWarning(UserWarning):
    """Input that was used but deserves a look (skipped files, unmatched grants)."""


def _sniff(path: Path) -> Layout | None:
    """The layout of ``path`` from its header line, or None for a non-DUO CSV."""
    with open(path, "rb") as fh:
        first = fh.readline()
    text, _ = _decode(first)
    header = next(csv.reader([text.rstrip("\r\n")], delimiter=";"), [])
    try:
        if ";" not in text:
            raise DataFormatError("header has no ';' separator", path=path, line=1)
        return match_layout(header, path)
    except DataFormatError:
        if any(word in path.name.lower() for word in _DATA_WORDS):
            read_duo(path)  # raises the full, located error
        return None


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
        if year in out:
            raise DataFormatError(
                f"second {what} file for {year} (first: {out[year].attrs['path']})", path=path
            )
        out[year] = frame
    return out


def _eindscores_rows(frame: pd.DataFrame, year: str, provider: str) -> pd.DataFrame:
    p = provider.lower()
    n = len(frame)
    has = f"{p}_gem" in frame

    return pd.DataFrame(
        {
            "vestiging": frame["vestiging"],
            "instellingscode": frame["instellingscode"],
            "vestigingscode": frame["vestigingscode"],
            "schooljaar": year,
            "jaar": int(year[5:]),
            "gemeente_code": frame.get("gemeente_code", pd.NA),
            "gemeente_naam": frame.get("gemeentenaam", pd.NA),
            "soort_po": frame.get("soort_po", pd.NA),
            "eindtoets": frame[f"{p}_gem"] if has else np.nan,
            "eindtoets_n": frame[f"{p}_aantal"] if has else pd.array([pd.NA] * n, "Int64"),
            "eindtoets_suppressed": frame[f"{p}_aantal_suppressed"] if has else False,
        }
    )


def _shares(frame: pd.DataFrame, year: str) -> pd.DataFrame:
    """Shares of pupils with a level; suppressed counts count as 2.5 (midpoint of 1-4)."""
    out = pd.DataFrame({"vestiging": frame["vestiging"], "schooljaar": year})
    any_suppressed = np.zeros(len(frame), dtype=bool)
    for dom, name, top in (
        ("lv", "lezen", "2f"),
        ("tv", "taalverzorging", "2f"),
        ("rekenen", "rekenen", "1s"),
    ):
        parts = {}
        for level in ("lager1f", "1f", top):
            c = f"{dom}_{level}"
            flag = frame[f"{c}_suppressed"].to_numpy(dtype=bool)
            any_suppressed |= flag
            values = frame[c].to_numpy(dtype="float64", na_value=np.nan)
            parts[level] = np.where(flag, _SUPPRESSED_COUNT, values)
        total = parts["lager1f"] + parts["1f"] + parts[top]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_ge1f"] = np.where(total > 0, (parts["1f"] + parts[top]) / total, np.nan)
            out[f"{name}_{top}"] = np.where(total > 0, parts[top] / total, np.nan)
    out["referentieniveau_suppressed"] = any_suppressed
    return out


def load_panel(
    raw_dir: str | Path = "data/raw", provider: str = "CET", *, unmatched_grants: str = "warn"
) -> pd.DataFrame:
    """Read every DUO-style file in ``raw_dir`` (or one file) into one row per vestiging x year.

    ``eindtoets`` is the mean for ``provider`` (missing where the school did not use
    it, where it is suppressed, and in years whose layout lacks it: no CET from
    2023-24 on). Referentieniveau shares are of pupils with a level (``*_ge1f`` = at
    least 1F); suppressed counts enter as 2.5 and ``referentieniveau_suppressed`` marks
    those rows. ``cohort`` is the end year of the first grant school year (0 = never);
    grants for a vestiging that is in no eindscores file are reported as a
    :class:`DataQualityWarning` (``unmatched_grants="error"`` raises instead).
    """
    raw = Path(raw_dir)
    provider = provider.upper()
    if provider not in PROVIDERS:
        raise ParameterError(
            f"unknown eindtoets provider {provider!r}; choose from {', '.join(PROVIDERS)}"
        )
    if unmatched_grants not in ("warn", "error"):
        raise ParameterError(
            f"unmatched_grants must be 'warn' or 'error', got {unmatched_grants!r}"
        )
    if raw.is_file():
        paths = [raw]  # a single eindscores file, e.g. one DUO download
    elif raw.is_dir():
        paths = sorted(p for p in raw.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    else:
        raise DataFormatError("raw-data folder does not exist", path=raw)
    found: dict[str, list[pd.DataFrame]] = {}
    skipped = []
    for path in paths:
        layout = _sniff(path)
        if layout is None:
            skipped.append(path.name)
        elif layout.kind != "waarheid":
            found.setdefault(layout.kind, []).append(read_duo(path, layout))
    if skipped:
        warnings.warn(
            f"{raw}: skipped CSV files with no known layout: {', '.join(skipped)}",
            DataQualityWarning,
            stacklevel=2,
        )
    if not found.get("eindscores"):
        raise DataFormatError(
            "no eindscores file found (DUO 05.-gemiddelde-eindscores-bo-sbo-YYYY-YYYY.csv "
            "or a file with that header)",
            path=raw,
        )
    scores = _by_year(found["eindscores"], "eindscores")
    if not any(f"{provider.lower()}_gem" in f for f in scores.values()):
        raise ParameterError(f"provider {provider} occurs in none of the eindscores files in {raw}")
    panel = pd.concat(
        [_eindscores_rows(f, y, provider) for y, f in sorted(scores.items())], ignore_index=True
    )

    refs = _by_year(found.get("referentieniveaus", []), "referentieniveaus")
    if refs:
        shares = pd.concat([_shares(f, y) for y, f in refs.items()], ignore_index=True)
        panel = panel.merge(
            shares, on=["vestiging", "schooljaar"], how="left", validate="one_to_one"
        )
    else:
        panel = panel.assign(**dict.fromkeys(SHARES, np.nan), referentieniveau_suppressed=False)
    panel["referentieniveau_suppressed"] = (
        panel["referentieniveau_suppressed"].fillna(False).astype(bool)
    )

    panel = _add_schools(panel, found.get("vestigingen", []))
    panel = _add_grants(panel, found.get("subsidies", []), unmatched_grants)
    names = load_gemeenten().set_index("gemeente_code")["gemeente_naam"]
    # The shipped list spells every gemeente correctly; DUO's own file garbles two.
    panel["gemeente_naam"] = panel["gemeente_code"].map(names).fillna(panel["gemeente_naam"])
    panel = _typed(panel).sort_values(["vestiging", "jaar"], ignore_index=True)
    panel.attrs = {
        "raw_dir": str(raw),
        "provider": provider,
        "files": sorted(Path(f.attrs["path"]).name for fs in found.values() for f in fs),
    }
    validate_panel(panel)
    return panel


def _add_schools(panel: pd.DataFrame, files: list[pd.DataFrame]) -> pd.DataFrame:
    if len(files) > 1:
        raise DataFormatError(
            f"more than one school file: {', '.join(f.attrs['path'] for f in files)}",
            path=files[1].attrs["path"],
        )
    if not files:
        return panel.assign(
            n_leerlingen=pd.array([pd.NA] * len(panel), "Int64"), schoolweging=np.nan
        )
    school = files[0].set_index("vestiging")
    panel["n_leerlingen"] = panel["vestiging"].map(school["aantal_leerlingen"]).astype("Int64")
    panel["schoolweging"] = panel["vestiging"].map(school["schoolweging"]).astype("float64")
    # Older layouts have no gemeente or soort; the school file fills them in.
    for col, src in (
        ("gemeente_code", "gemeente_code"),
        ("gemeente_naam", "gemeentenaam"),
        ("soort_po", "soort_po"),
    ):
        panel[col] = panel[col].fillna(panel["vestiging"].map(school[src]))
    return panel


def _add_grants(panel: pd.DataFrame, files: list[pd.DataFrame], unmatched: str) -> pd.DataFrame:
    if len(files) > 1:
        raise DataFormatError(
            f"more than one grant table: {', '.join(f.attrs['path'] for f in files)}",
            path=files[1].attrs["path"],
        )
    if not files:
        return panel.assign(cohort=0, subsidie_bedrag=0.0)
    grants = files[0]
    known = set(panel["vestiging"].unique())
    lost = grants[[v not in known for v in grants["vestiging"]]]
    if len(lost):
        listed = ", ".join(
            f"{v} ({y})" for v, y in zip(lost["vestiging"], lost["eerste_schooljaar"], strict=True)
        )
        message = f"{len(lost)} grant(s) for vestigingen in no eindscores file: {listed}"
        if unmatched == "error":
            raise DataFormatError(message, path=grants.attrs["path"], column="VESTIGINGSCODE")
        warnings.warn(f"{grants.attrs['path']}: {message}", DataQualityWarning, stacklevel=3)
    g = grants.set_index("vestiging")
    cohort = g["eerste_schooljaar"].str[5:].astype("int64")
    panel["cohort"] = panel["vestiging"].map(cohort).fillna(0).astype("int64")
    panel["subsidie_bedrag"] = panel["vestiging"].map(g["bedrag"]).fillna(0.0).astype("float64")
    return panel


def _typed(panel: pd.DataFrame) -> pd.DataFrame:
    out = panel.assign(
        jaar=panel["jaar"].astype("int64"),
        eindtoets=panel["eindtoets"].astype("float64"),
        eindtoets_n=panel["eindtoets_n"].astype("Int64"),
        eindtoets_suppressed=panel["eindtoets_suppressed"].astype(bool),
        treated=(panel["cohort"] > 0) & (panel["jaar"] >= panel["cohort"]),
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
    fail(~panel["jaar"].between(2000, 2100), "jaar out of range")
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
