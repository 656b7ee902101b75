"""The list of gemeenten the simulator and the panel builder use.

The package ships ``gemeenten.csv``: one row per gemeente with its code, name, province
and the number of primary-school vestigingen it has in the DUO file it was derived from.
:func:`derive_gemeenten` rebuilds that table from a DUO eindscores file, so the shipped
table can be checked against (and regenerated from) the real source.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from importlib import resources
from pathlib import Path

import pandas as pd

from evaluatie.core.atomic import atomic_open
from evaluatie.core.errors import DataFormatError, ParameterError
from evaluatie.sources.duo import read_duo

#: Where ``gemeenten.csv`` comes from; repeated in the file's header comment.
SOURCE = (
    "DUO open onderwijsdata, 05.-gemiddelde-eindscores-bo-sbo-2022-2023.csv, "
    "first 4,693 data rows (peildatum 2022-10-01)"
)

#: DUO's 2022-23 file spells two Frisian gemeenten with doubly encoded characters
#: (e.g. ``SÂ·dwest-FryslÃ\x94n``); keyed by code so the fix does not depend on
#: which garbling a particular copy of the file shows.
NAME_FIXES = {
    "GM1970": "Noardeast-Fryslân",
    "GM1900": "Súdwest-Fryslân",
}

COLUMNS = ["gemeente_code", "gemeente_naam", "provincie", "n_vestigingen"]

#: Names DUO's files use that the shipped (2022-23) list does not have: another spelling
#: of a listed gemeente, or a gemeente formed later. Keyed by the normalised name.
NAME_ALIASES = {
    # DUO's VO files write "NUENEN C.A." (cum annexis) for Nuenen, Gerwen en Nederwetten.
    "nuenen c.a.": "GM0820",
    # Formed 1 January 2023 from Brielle (GM0501), Hellevoetsluis (GM0530) and
    # Westvoorne (GM0614).
    "voorne aan zee": "GM1992",
}


def gemeente_code(nummer: int | str) -> str:
    """Return the CBS code ``GM%04d`` for a gemeentenummer such as ``637`` or ``"0637"``."""
    text = str(nummer).strip().upper().removeprefix("GM")
    if not text.isdigit() or len(text) > 4:
        raise ParameterError(f"not a gemeentenummer: {nummer!r} (expected 1-4 digits)")
    return f"GM{int(text):04d}"


def load_gemeenten() -> pd.DataFrame:
    """Return the shipped gemeente table (344 rows), sorted by code.

    Columns: ``gemeente_code`` (``GM0546``), ``gemeente_naam``, ``provincie``,
    ``n_vestigingen`` (vestigingen in the source file; used as allocation weights).
    """
    return _gemeenten().copy()


@functools.cache
def _gemeenten() -> pd.DataFrame:
    # read once per process: a params check asks for it some 50 times
    text = resources.files("evaluatie.sources").joinpath("gemeenten.csv").read_text("utf-8")
    table = pd.read_csv(io.StringIO(text), comment="#", dtype={"n_vestigingen": "int64"})
    return table[COLUMNS].sort_values("gemeente_code", ignore_index=True)


def gemeente_names() -> dict[str, str]:
    """Gemeente code -> name (``{"GM0546": "Leiden", ...}``) from :func:`load_gemeenten`."""
    table = load_gemeenten()
    return dict(zip(table["gemeente_code"], table["gemeente_naam"], strict=True))


def derive_gemeenten(eindscores_path: str | Path) -> pd.DataFrame:
    """Build the gemeente table from a DUO eindscores file that has gemeente columns.

    Names are taken from the file with the known mojibake fixed (:data:`NAME_FIXES`);
    a gemeente with two different names or provinces in one file is an error.
    """

    raw = read_duo(eindscores_path)
    needed = {"gemeente_code", "gemeentenaam", "provincie"}
    if not needed <= set(raw.columns):
        raise DataFormatError(
            f"layout {raw.attrs['layout']!r} has no gemeente columns",
            path=eindscores_path,
        )
    names = raw["gemeente_code"].map(NAME_FIXES).fillna(raw["gemeentenaam"])
    frame = pd.DataFrame(
        {
            "gemeente_code": raw["gemeente_code"],
            "gemeente_naam": names,
            "provincie": raw["provincie"],
        }
    )
    distinct = frame.drop_duplicates()
    clash = distinct["gemeente_code"].duplicated(keep=False)
    if clash.any():
        codes = sorted(distinct.loc[clash, "gemeente_code"].unique())
        raise DataFormatError(
            f"gemeenten with more than one name or province: {', '.join(codes)}",
            path=eindscores_path,
            column="GEMEENTENAAM",
        )
    counts = frame.groupby("gemeente_code").size().rename("n_vestigingen")
    table = distinct.merge(counts, left_on="gemeente_code", right_index=True)
    return table[COLUMNS].sort_values("gemeente_code", ignore_index=True)


def write_gemeenten(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a gemeente table as the package's ``gemeenten.csv`` (with source comment)."""
    path = Path(path)
    with atomic_open(path, newline="") as fh:
        fh.write(f"# Source: {SOURCE}.\n")
        fh.write("# Two Frisian names fixed (publisher's mojibake): GM1900, GM1970.\n")
        table[COLUMNS].to_csv(fh, index=False, lineterminator="\n")
    return path


def normalise_name(name: str) -> str:
    """The form names are matched in: NFC, case-folded, single spaces (``'S-GRAVENHAGE``
    and ``'s-Gravenhage`` are one name)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(name))).strip().casefold()


def name_crosswalk(pairs: pd.DataFrame | None = None) -> dict[str, str]:
    """Normalised gemeente name -> ``GM`` code.

    From the shipped list (:func:`load_gemeenten`), then :data:`NAME_ALIASES`, then
    ``pairs`` (a frame with ``gemeente_code`` and ``gemeente_naam`` or ``gemeentenaam``,
    e.g. from a file that carries both); later sources win, so a data file's own year
    decides for a name that changed code.
    """
    table = load_gemeenten()
    cross = dict(
        zip(table["gemeente_naam"].map(normalise_name), table["gemeente_code"], strict=True)
    )
    cross.update(NAME_ALIASES)
    if pairs is not None:
        name_col = "gemeente_naam" if "gemeente_naam" in pairs else "gemeentenaam"
        if not {"gemeente_code", name_col} <= set(pairs.columns):
            raise ParameterError(
                "gemeente pairs need columns gemeente_code and gemeente_naam (or gemeentenaam)"
            )
        known = pairs[["gemeente_code", name_col]].dropna().drop_duplicates()
        cross.update(zip(known[name_col].map(normalise_name), known["gemeente_code"], strict=True))
    return cross


def codes_for_names(
    names: pd.Series, pairs: pd.DataFrame | None = None
) -> tuple[pd.Series, dict[str, int]]:
    """``GM`` codes for gemeente names (see :func:`name_crosswalk`), and the unmatched ones.

    Returns the codes (missing where a name is unknown) and ``{name: rows}`` for every
    name that could not be matched, so the caller can report them.
    """
    cross = name_crosswalk(pairs)
    codes = names.map(lambda n: cross.get(normalise_name(n)) if pd.notna(n) else None)
    lost = names[codes.isna() & names.notna()]
    return codes.astype(object), {str(k): int(v) for k, v in lost.value_counts().items()}
