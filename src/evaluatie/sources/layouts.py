"""Small declarative descriptions of the DUO-style file layouts the reader knows.

A :class:`Layout` lists a file's columns with their *kind* (how the text is converted
and written back) and the name the column gets in the tidy frame. Supporting another
DUO publication means adding one more ``Layout`` with :func:`register_layout`; the reader
and writer in :mod:`evaluatie.sources.duo` need no change. This module holds the eindscores
layouts and those the simulator writes; :mod:`evaluatie.sources.layouts_extra` the others
(schooladviezen, old referentieniveaus, VO exams, CBS VSV, OAB budget).

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
``vestiging``
    a full six-character vestiging code (``00AH00``, as in the VO exam file); adds
    ``vestigingscode`` (its last two characters)
``gmcode``
    a gemeente code ``GM0546`` (also accepted: ``546``, ``0546``) into ``gemeente_code``
``regio``
    a CBS region code (``GM0546``, ``NL01``, ``PV28``); adds ``gemeente_code`` for GM codes
``periode``
    a CBS school-year period, ``2019SJ00``/``2019MJ00`` or ``2019/'20`` (also ``2019/2020``,
    ``2019-2020``), read as ``2019-2020`` (the 4 digits are the first calendar year (u))

Besides its kind, a column can carry ``aliases`` (older spellings of the same header,
e.g. ``VMBO_BL`` for ``VMBO_B``: the tidy frame then uses one vocabulary), be
``optional`` (descriptive columns that not every year's file has), have ``bounds``
(values outside are an error naming the line), and name the ``measure`` and ``dims``
it holds in the long format of :func:`evaluatie.sources.tidy.read_duo_long` (e.g. the exam
file's ``GESLAAGDEN SCHOOLJAAR 2019-2020 - MAN`` is measure ``geslaagden`` with dims
schooljaar ``2019-2020`` and geslacht ``MAN``). Header names match case-insensitively.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from evaluatie.core.errors import ParameterError

Kind = Literal[
    "text", "id", "vnr", "vestiging", "date", "gemeente", "gmcode", "regio", "periode",
    "count", "mean", "number", "int", "schooljaar",
]  # fmt: skip
FileKind = Literal[
    "eindscores", "referentieniveaus", "schooladviezen", "examens", "vsv",
    "vestigingen", "subsidies", "budget", "waarheid", "vve", "vsv_soort", "povo",
]  # fmt: skip
#: Kinds whose columns are measures in the long format.
MEASURE_KINDS = ("count", "mean", "number", "int")

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
    aliases: tuple[str, ...] = ()
    optional: bool = False
    bounds: tuple[float, float] | None = None
    measure: str = ""
    dims: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.canonical:
            object.__setattr__(self, "canonical", self.name.lower())
        if not self.measure:
            object.__setattr__(self, "measure", self.canonical)
        if (self.kind == "mean") != (self.count is not None):
            raise ParameterError(f"column {self.name}: a mean needs its count column, only a mean")

    @property
    def spellings(self) -> tuple[str, ...]:
        """Upper-case header names this column is recognised by (its name first)."""
        return tuple(dict.fromkeys(n.upper() for n in (self.name, *self.aliases)))


@dataclass(frozen=True)
class Layout:
    """A file layout: its columns (any order in the file), key and writing conventions.

    ``style="duo"`` writes DUO's conventions (quoted counts, decimal comma, ``NA``);
    ``style="cbs"`` writes CBS StatLine's (bare numbers, decimal point, ``.`` for
    missing). The reader accepts both in every layout; in a ``cbs`` layout a bare ``.``
    also means missing.
    """

    name: str
    kind: FileKind
    columns: tuple[Column, ...]
    description: str = ""
    key: tuple[str, ...] = ("vestiging",)
    quote_means: bool = False
    gemeente_digits: int = 0
    style: Literal["duo", "cbs"] = "duo"
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Column] = {}
        for col in self.columns:
            for spelling in col.spellings:
                if spelling in by_name:
                    raise ParameterError(f"layout {self.name}: column name {spelling} used twice")
                by_name[spelling] = col
        primary = {c.name: c for c in self.columns}
        for col in self.columns:
            if col.count is not None and primary.get(col.count, Column("", "text")).kind != "count":
                raise ParameterError(f"layout {self.name}: {col.name} refers to a missing count")
        object.__setattr__(self, "by_name", by_name)

    @property
    def header(self) -> tuple[str, ...]:
        """Column names in the order the writer uses."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[Column, ...]:
        """The columns every file of this layout must have."""
        return tuple(c for c in self.columns if not c.optional)

    def resolve(self, names: Sequence[str]) -> dict[str, Column] | None:
        """Map upper-case header names to columns, or None if the header does not fit.

        Fits means: every name is a spelling of one column, no column appears twice and
        every required column is present.
        """
        found: dict[str, Column] = {}
        seen: set[str] = set()
        for name in names:
            col = self.by_name.get(name)
            if col is None or col.name in seen:
                return None
            seen.add(col.name)
            found[name] = col
        if any(c.name not in seen for c in self.required):
            return None
        return found

    def has(self, canonical: str) -> bool:
        """Whether the tidy frame of this layout has column ``canonical``."""
        return any(c.canonical == canonical for c in self.columns)


LAYOUTS: dict[str, Layout] = {}


def register_layout(layout: Layout) -> Layout:
    """Add a layout to the registry the reader matches headers against."""
    clash = [
        other.name
        for other in LAYOUTS.values()
        if set(other.by_name) == set(layout.by_name)
        and {c.name for c in other.required} == {c.name for c in layout.required}
    ]
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


def descriptive_columns(*, optional: bool = False) -> list[Column]:
    """Name, address, gemeente, type and board of a vestiging (DUO's bo/sbo files)."""
    return [
        Column("INSTELLINGSNAAM_VESTIGING", "text", optional=optional),
        Column("POSTCODE_VESTIGING", "text", optional=optional),
        Column("PLAATSNAAM", "text", optional=optional),
        Column("GEMEENTENUMMER", "gemeente", optional=optional),
        Column("GEMEENTENAAM", "text", optional=optional),
        Column("PROVINCIE", "text", optional=optional),
        Column("SOORT_PO", "text", optional=optional),
        Column("DENOMINATIE_VESTIGING", "text", optional=optional),
        Column("BEVOEGD_GEZAG_NUMMER", "id", optional=optional),
    ]


#: The 2-character vestigingscode era's identifiers (from 2019-2020 on).
VESTIGING_IDS = (Column("INSTELLINGSCODE", "id"), Column("VESTIGINGSCODE", "id"))


def _school_columns(prikdatum: str | None) -> list[Column]:
    """Identifier and descriptive columns shared by the 2022-23+ vestiging files."""
    cols = [Column("PEILDATUM_LEERLINGEN", "date")]
    if prikdatum is not None:
        cols.append(Column(prikdatum, "date", "prikdatum"))
    return [*cols, *VESTIGING_IDS, *descriptive_columns()]


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

# Pre-2019 BRIN layouts as listed in docs/domain.md §8; not yet checked against a real
# file (u). They carry no gemeente: the panel takes it from another file of the same
# year (referentieniveaus, schooladviezen) or else from the school file.
#
# Identifier mapping: the 4-character BRIN_NUMMER *is* the INSTELLINGSCODE (DUO kept the
# codes), and the one-digit VESTIGINGSNUMMER becomes the two-character VESTIGINGSCODE by
# a leading zero: BRIN_NUMMER "00AP" + VESTIGINGSNUMMER "1" -> vestiging "00AP01"
# (a two-digit number is kept: "12" -> "12"). So old and new files stack on one key.
BRIN_IDS = (
    Column("BRIN_NUMMER", "id", "instellingscode"),
    Column("VESTIGINGSNUMMER", "vnr", "vestigingscode"),
)
EINDSCORES_BRIN_2014 = register_layout(
    Layout(
        "eindscores-brin-2014",
        "eindscores",
        (
            *BRIN_IDS,
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
            *BRIN_IDS,
            Column("LEERJAAR_8", "count"),
            Column("ONTHEFFING_REDEN_ND", "count"),
            *_providers(PROVIDERS_2022),
        ),
        "DUO eindscores, BRIN layout 2016-2017 to 2018-2019 (u)",
    )
)

#: Referentieniveau counts in DUO's column order: rekenen, reading (LV), taalverzorging
#: (TV). REKENEN_2F is all "0" in recent files (the groep-8 rekenen target is 1S); older
#: files have pupils there, so the panel counts 1S and 2F together as the target level.
REFERENTIENIVEAU_COUNTS = (
    "REKENEN_LAGER1F",
    "REKENEN_1F",
    "REKENEN_1S",
    "REKENEN_2F",
    "LV_LAGER1F",
    "LV_1F",
    "LV_2F",
    "TV_LAGER1F",
    "TV_1F",
    "TV_2F",
)

#: DUO's 10.-leerlingen-bo-referentieniveaus-YYYY-YYYY.csv with INSTELLINGSCODE; the
#: dates and descriptive columns may be absent (their set varies by year), the counts
#: may not. The simulator writes every column.
REFERENTIENIVEAUS = register_layout(
    Layout(
        "referentieniveaus",
        "referentieniveaus",
        (
            Column("PEILDATUM_LEERLINGEN", "date", aliases=("PEILDATUM",), optional=True),
            Column("PRIKDATUM_SCORES", "date", "prikdatum", aliases=("PRIKDATUM",), optional=True),
            *VESTIGING_IDS,
            *descriptive_columns(optional=True),
            *(Column(name, "count") for name in REFERENTIENIVEAU_COUNTS),
        ),
        "DUO leerlingen bo per behaald referentieniveau (INSTELLINGSCODE layout)",
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
            Column("BEDRAG", "number", bounds=(0.0, float("inf"))),
        ),
        "onderwijs-innovatiebudget grants per vestiging (user data, or simulated)",
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
