"""Small declarative descriptions of the DUO-style file layouts the reader knows.

A :class:`Layout` lists a file's columns with their *kind* (how the text is converted
and written back) and the name the column gets in the tidy frame. Supporting another
DUO publication means adding one more ``Layout`` with :func:`register_layout`; the reader
and writer in :mod:`evaluatie.data.duo` need no change.

Kinds:

``text``
    free text, kept verbatim (names, postcodes, denominations)
``id``
    identifier text (instellingscode, vestigingscode); surrounding spaces removed
``vnr``
    the old one-digit ``VESTIGINGSNUMMER``; read as the two-character vestigingscode
``date``
    ``YYYYMMDD``
``gemeente``
    ``GEMEENTENUMMER`` with or without leading zeros; adds ``gemeente_code`` (``GM%04d``)
``count``
    a non-negative integer that DUO suppresses as ``<5``; adds ``<name>_suppressed``
``mean``
    an average belonging to a ``count`` column; decimal comma, ``NA`` when suppressed
``number``
    any other decimal (amounts, weights); decimal comma
``int``
    an integer that is never suppressed
``schooljaar``
    a school year written ``2017-2018``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from evaluatie.errors import ParameterError

Kind = Literal[
    "text", "id", "vnr", "date", "gemeente", "count", "mean", "number", "int", "schooljaar"
]
FileKind = Literal["eindscores", "referentieniveaus", "vestigingen", "subsidies", "waarheid"]

#: Eindtoets providers; from 2023-24 the doorstroomtoets adds DOE and LIB and drops CET.
PROVIDERS_2022 = ("CET", "IEP", "ROUTE8", "DIA", "AMN")
PROVIDERS_2023 = ("IEP", "ROUTE8", "DIA", "AMN", "DOE", "LIB")


@dataclass(frozen=True)
class Column:
    """One column of a layout: header name, kind, tidy name, and for means their count."""

    name: str
    kind: Kind
    canonical: str = ""
    count: str | None = None

    def __post_init__(self) -> None:
        if not self.canonical:
            object.__setattr__(self, "canonical", self.name.lower())
        if (self.kind == "mean") != (self.count is not None):
            raise ParameterError(f"column {self.name}: a mean needs its count column, only a mean")


@dataclass(frozen=True)
class Layout:
    """A file layout: its columns (any order in the file), key and writing conventions."""

    name: str
    kind: FileKind
    columns: tuple[Column, ...]
    description: str = ""
    key: tuple[str, ...] = ("vestiging",)
    quote_means: bool = False
    gemeente_digits: int = 0
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {c.name: c for c in self.columns}
        if len(by_name) != len(self.columns):
            raise ParameterError(f"layout {self.name}: duplicate column names")
        for col in self.columns:
            if col.count is not None and by_name.get(col.count, Column("", "text")).kind != "count":
                raise ParameterError(f"layout {self.name}: {col.name} refers to a missing count")
        object.__setattr__(self, "by_name", by_name)

    @property
    def header(self) -> tuple[str, ...]:
        """Column names in the order the writer uses."""
        return tuple(c.name for c in self.columns)

    def has(self, canonical: str) -> bool:
        """Whether the tidy frame of this layout has column ``canonical``."""
        return any(c.canonical == canonical for c in self.columns)


LAYOUTS: dict[str, Layout] = {}


def register_layout(layout: Layout) -> Layout:
    """Add a layout to the registry the reader matches headers against."""
    clash = [other.name for other in LAYOUTS.values() if set(other.header) == set(layout.header)]
    if clash and layout.name not in clash:
        raise ParameterError(f"layout {layout.name} has the same columns as {clash[0]}")
    LAYOUTS[layout.name] = layout
    return layout


def _providers(names: tuple[str, ...]) -> list[Column]:
    cols: list[Column] = []
    for p in names:
        cols.append(Column(f"{p}_AANTAL", "count"))
        cols.append(Column(f"{p}_GEM", "mean", count=f"{p}_AANTAL"))
    return cols


def _school_columns(prikdatum: str | None) -> list[Column]:
    """Identifier and descriptive columns shared by the 2022-23+ vestiging files."""
    cols = [Column("PEILDATUM_LEERLINGEN", "date")]
    if prikdatum is not None:
        cols.append(Column(prikdatum, "date", "prikdatum"))
    cols += [
        Column("INSTELLINGSCODE", "id"),
        Column("VESTIGINGSCODE", "id"),
        Column("INSTELLINGSNAAM_VESTIGING", "text"),
        Column("POSTCODE_VESTIGING", "text"),
        Column("PLAATSNAAM", "text"),
        Column("GEMEENTENUMMER", "gemeente"),
        Column("GEMEENTENAAM", "text"),
        Column("PROVINCIE", "text"),
        Column("SOORT_PO", "text"),
        Column("DENOMINATIE_VESTIGING", "text"),
        Column("BEVOEGD_GEZAG_NUMMER", "id"),
    ]
    return cols


EINDSCORES_2022 = register_layout(
    Layout(
        "eindscores-2022",
        "eindscores",
        (
            *_school_columns("PRIKDATUM_SCORES"),
            Column("ONTHEFFING_REDEN_ND", "count"),
            *_providers(PROVIDERS_2022),
        ),
        "DUO gemiddelde eindscores bo/sbo, layout of 2022-2023 (Centrale Eindtoets era)",
    )
)

EINDSCORES_2023 = register_layout(
    Layout(
        "eindscores-2023",
        "eindscores",
        (
            *_school_columns("PRIKDATUM"),
            Column("ONTHEFFING_REDEN_ND", "count"),
            *_providers(PROVIDERS_2023),
        ),
        "DUO gemiddelde eindscores bo/sbo, doorstroomtoets layout from 2023-2024",
        # 2023-24 files quote their averages (12-13 decimals, i.e. 15 significant digits).
        quote_means=True,
    )
)

# Pre-2019 BRIN layouts as listed in shared/domain.md; not yet checked against a real
# file (u). They carry no gemeente, which the panel then takes from the school file.
_BRIN_IDS = (
    Column("BRIN_NUMMER", "id", "instellingscode"),
    Column("VESTIGINGSNUMMER", "vnr", "vestigingscode"),
)
EINDSCORES_BRIN_2014 = register_layout(
    Layout(
        "eindscores-brin-2014",
        "eindscores",
        (
            *_BRIN_IDS,
            Column("LEERJAAR_8", "count"),
            Column("ONTHEFFING_REDEN_ND", "count"),
            *_providers(("CET", "IEP", "ROUTE8")),
        ),
        "DUO eindscores, BRIN layout up to 2015-2016 (u)",
    )
)
EINDSCORES_BRIN_2016 = register_layout(
    Layout(
        "eindscores-brin-2016",
        "eindscores",
        (
            *_BRIN_IDS,
            Column("LEERJAAR_8", "count"),
            Column("ONTHEFFING_REDEN_ND", "count"),
            *_providers(PROVIDERS_2022),
        ),
        "DUO eindscores, BRIN layout 2016-2017 to 2018-2019 (u)",
    )
)

#: Referentieniveau counts: reading (LV), taalverzorging (TV), rekenen.
REFERENTIENIVEAU_COUNTS = (
    "LV_LAGER1F",
    "LV_1F",
    "LV_2F",
    "TV_LAGER1F",
    "TV_1F",
    "TV_2F",
    "REKENEN_LAGER1F",
    "REKENEN_1F",
    "REKENEN_1S",
)

REFERENTIENIVEAUS = register_layout(
    Layout(
        "referentieniveaus",
        "referentieniveaus",
        (
            *_school_columns("PRIKDATUM_SCORES"),
            *(Column(name, "count") for name in REFERENTIENIVEAU_COUNTS),
        ),
        "leerlingen bo per behaald referentieniveau (DUO-like; synthetic layout)",
    )
)

VESTIGINGEN = register_layout(
    Layout(
        "vestigingen-bo",
        "vestigingen",
        (
            *_school_columns(None)[1:],
            Column("AANTAL_LEERLINGEN", "int"),
            Column("SCHOOLWEGING", "number"),
        ),
        "vestigingen bo/sbo with pupil count and CBS-like schoolweging (synthetic)",
    )
)

SUBSIDIES = register_layout(
    Layout(
        "innovatiebudget-subsidies",
        "subsidies",
        (
            Column("INSTELLINGSCODE", "id"),
            Column("VESTIGINGSCODE", "id"),
            Column("EERSTE_SCHOOLJAAR", "schooljaar"),
            Column("BEDRAG", "number"),
        ),
        "onderwijs-innovatiebudget grants per vestiging (synthetic)",
    )
)

WAARHEID = register_layout(
    Layout(
        "innovatiebudget-waarheid",
        "waarheid",
        (
            Column("COHORT", "int"),
            Column("JAAR", "int"),
            Column("SCHOOLJAAR", "schooljaar"),
            Column("EVENT_TIJD", "int"),
            Column("AANBIEDER", "text"),
            Column("TAU", "number"),
            Column("N_VESTIGINGEN", "int"),
            Column("N_WAARGENOMEN", "int"),
        ),
        "true effect per cohort x year of the simulated grants (synthetic)",
        key=("cohort", "jaar"),
    )
)
