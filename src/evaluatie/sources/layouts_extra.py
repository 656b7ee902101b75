"""More layout descriptions: DUO schooladviezen, old referentieniveaus, VO exams, CBS VSV, OAB.

Importing :mod:`evaluatie.sources.duo` registers these (it imports this module). Each is a
:class:`~evaluatie.sources.layouts.Layout`; nothing here parses text. Sources of the
header names: docs/domain.md §6 and §8, the real files in ``tests/data/duo`` (exams), and public
copies of DUO's files (schooladviezen 2018-19, referentieniveaus 2015-16 to 2018-19);
layouts not checked against a real file are marked (u) in their description.
"""

from __future__ import annotations

from evaluatie.sources.layouts import (
    BRIN_IDS,
    REFERENTIENIVEAU_COUNTS,
    VESTIGING_IDS,
    Column,
    Layout,
    descriptive_columns,
    register_layout,
)

# --- schooladviezen (04-leerlingen-bo-sbo-schooladviezen-YYYY-YYYY.csv) ----------------

#: The one advice vocabulary (tidy names = these, lower case). Older files spell the
#: VMBO tracks VMBO_BL, VMBO_BL_KL, VMBO_KL, VMBO_KL_GT (basis-/kaderberoepsgerichte
#: leerweg); those are read as VMBO_B, VMBO_B_K, VMBO_K, VMBO_K_GT.
ADVIEZEN = (
    "VSO",
    "PRO",
    "VMBO_B",
    "VMBO_B_K",
    "VMBO_K",
    "VMBO_K_GT",
    "VMBO_GT",
    "VMBO_GT_HAVO",
    "HAVO",
    "HAVO_VWO",
    "VWO",
    "ADVIES_NIET_MOGELIJK",
)
OLD_ADVIES_SPELLINGS = {
    "VMBO_B": ("VMBO_BL",),
    "VMBO_B_K": ("VMBO_BL_KL",),
    "VMBO_K": ("VMBO_KL",),
    "VMBO_K_GT": ("VMBO_KL_GT",),
}


def _advice_columns() -> list[Column]:
    cols = [Column(name, "count", aliases=OLD_ADVIES_SPELLINGS.get(name, ())) for name in ADVIEZEN]
    cols.append(Column("TOTAAL_ADVIES", "count", optional=True))
    return cols


def _advice_dates() -> list[Column]:
    return [
        Column("PEILDATUM_LEERLINGEN", "date", optional=True),
        Column(
            "PRIKDATUM_ADVIEZEN",
            "date",
            "prikdatum",
            aliases=("PEILDATUM_ADVIEZEN", "PRIKDATUM"),
            optional=True,
        ),
    ]


SCHOOLADVIEZEN = register_layout(
    Layout(
        "schooladviezen",
        "schooladviezen",
        (*_advice_dates(), *VESTIGING_IDS, *descriptive_columns(optional=True), *_advice_columns()),
        "DUO leerlingen bo/sbo per schooladvies (INSTELLINGSCODE layout; dates and "
        "descriptive columns optional)",
    )
)
SCHOOLADVIEZEN_BRIN = register_layout(
    Layout(
        "schooladviezen-brin",
        "schooladviezen",
        (*_advice_dates(), *BRIN_IDS, *descriptive_columns(optional=True), *_advice_columns()),
        "DUO leerlingen bo/sbo per schooladvies, BRIN layout up to 2018-2019",
    )
)

# --- referentieniveaus, BRIN layout (2015-2016 to 2018-2019) --------------------------

REFERENTIENIVEAUS_BRIN = register_layout(
    Layout(
        "referentieniveaus-brin",
        "referentieniveaus",
        (
            # An April test date (e.g. 20190417), which still gives the school year.
            Column("PEILDATUM", "date", "peildatum_leerlingen", optional=True),
            *BRIN_IDS,
            *descriptive_columns(optional=True),
            *(Column(name, "count") for name in REFERENTIENIVEAU_COUNTS),
        ),
        "DUO leerlingen bo per behaald referentieniveau, BRIN layout up to 2018-2019",
    )
)

# --- VO exams (examenkandidaten-en-geslaagden-YYYY-YYYY.csv) ---------------------------

SEXES = ("MAN", "VROUW", "TOTAAL")


def examens_layout(first: int, years: int = 5) -> Layout:
    """The exam-results layout for the ``years`` school years starting ``first``-``first+1``.

    One row per vestiging x onderwijstype x opleiding; per school year and sex three
    columns: candidates, passes (both suppressed as ``<5``) and the published pass rate
    (decimal point in this file). ``VESTIGINGSCODE`` holds the full six-character code.
    """
    cols = [
        Column("INSTELLINGSCODE", "id"),
        Column("VESTIGINGSCODE", "vestiging", "vestiging"),
        Column("INSTELLINGSNAAM VESTIGING", "text", "instellingsnaam_vestiging"),
        Column("GEMEENTENAAM", "text", "gemeentenaam"),
        Column("ONDERWIJSTYPE VO", "text", "onderwijstype"),
        Column("INSPECTIECODE", "id", "inspectiecode"),
        Column("OPLEIDINGSNAAM", "text", "opleiding"),
    ]
    for start in range(first, first + years):
        jaar = f"{start}-{start + 1}"
        for sex in SEXES:
            dims = (("schooljaar", jaar), ("geslacht", sex))
            tag = f"{start}_{start + 1}_{sex.lower()}"
            cols += [
                Column(
                    f"EXAMENKANDIDATEN SCHOOLJAAR {jaar} - {sex}",
                    "count",
                    f"examenkandidaten_{tag}",
                    measure="examenkandidaten",
                    dims=dims,
                ),
                Column(
                    f"GESLAAGDEN SCHOOLJAAR {jaar} - {sex}",
                    "count",
                    f"geslaagden_{tag}",
                    measure="geslaagden",
                    dims=dims,
                ),
                Column(
                    f"SLAAGPERC SCHOOLJAAR {jaar} - {sex}",
                    "number",
                    f"slaagpercentage_{tag}",
                    bounds=(0.0, 100.0),
                    measure="slaagpercentage",
                    dims=dims,
                ),
            ]
    checked = " (checked against the real file)" if first == 2019 else " (u)"
    return Layout(
        f"examenkandidaten-{first}-{first + years}",
        "examens",
        tuple(cols),
        f"DUO examenkandidaten en geslaagden VO, {first}-{first + 1} to "
        f"{first + years - 1}-{first + years}{checked}",
        key=("vestiging", "onderwijstype", "opleiding"),
    )


#: DUO publishes a rolling five-year window; the same naming is assumed for the other
#: windows (u). Only the 2019-2024 header is verified.
EXAMENS = {first: register_layout(examens_layout(first)) for first in range(2014, 2022)}

# --- CBS StatLine VSV per gemeente (table 84780NED) -------------------------------------

#: CBS code for "both sexes" in the Geslacht dimension.
GESLACHT_TOTAAL = "T001038"

VSV_CBS = register_layout(
    Layout(
        "vsv-cbs-84780NED",
        "vsv",
        (
            Column("ID", "id", "cbs_id", optional=True),
            Column("Geslacht", "id", "geslacht"),
            Column("Regiokenmerken", "regio", "regio"),
            Column("Perioden", "periode", "schooljaar"),
            Column("Leerlingen_1", "int", "leerlingen", bounds=(0.0, float("inf"))),
            Column("VoortijdigSchoolverlaters_2", "int", "vsv", bounds=(0.0, float("inf"))),
            Column(
                "VoortijdigSchoolverlatersPercentage_4",
                "number",
                "vsv_percentage",
                bounds=(0.0, 100.0),
            ),
        ),
        "CBS StatLine 84780NED-like: voortijdig schoolverlaters per regio x geslacht x "
        "school year (the Perioden codes are (u))",
        key=("regio", "geslacht", "schooljaar"),
        style="cbs",
    )
)

#: School types of the VSV-by-type table: VO and MBO by level (1, 2, and 3 and 4 together,
#: as OCW's VSV norms group them).
ONDERWIJSSOORTEN = ("VO", "MBO1", "MBO2", "MBO34")

VSV_ONDERWIJSSOORT = register_layout(
    Layout(
        "vsv-onderwijssoort",
        "vsv_soort",
        (
            Column("GEMEENTECODE", "gmcode", "gemeente_code"),
            Column("SCHOOLJAAR", "schooljaar"),
            Column("ONDERWIJSSOORT", "id"),
            Column("DEELNEMERS", "int", bounds=(0.0, float("inf"))),
            Column("VSV", "int", bounds=(0.0, float("inf"))),
        ),
        "voortijdig schoolverlaters per gemeente of residence x school year x school type "
        "(VO, MBO1, MBO2, MBO34): the pupils under 23 at 1 October and how many of them left "
        "without a startkwalificatie (user data, e.g. from DUO's RMC factsheets; the layout "
        "is ours (u))",
        key=("gemeente_code", "schooljaar", "onderwijssoort"),
    )
)

VSV_WAARHEID = register_layout(
    Layout(
        "vsv-waarheid",
        "waarheid",
        (
            Column("GEMEENTECODE", "gmcode", "gemeente_code"),
            Column("JAAR", "int"),
            Column("ONDERWIJSSOORT", "id"),
            Column("DEELNEMERS", "int"),
            Column("TAU", "number"),
        ),
        "true effect of the simulated RMC programme on the VSV percentage (percentage "
        "points, expected value) per gemeente x year x school type, with the pupils it "
        "applies to (synthetic)",
        key=("gemeente_code", "jaar", "onderwijssoort"),
    )
)

#: School-advice levels of the po -> vo table, lowest first (DUO's nine advice categories
#: grouped by the lower level of a double advice: b/k is B, k/gt K, gt/havo GT, havo/vwo
#: HAVO).
ADVIES_NIVEAUS = ("VMBO-B", "VMBO-K", "VMBO-GT", "HAVO", "VWO")

POVO = register_layout(
    Layout(
        "doorstroom-povo",
        "povo",
        (
            Column("GEMEENTECODE", "gmcode", "gemeente_code"),
            Column("SCHOOLJAAR_GROEP8", "schooljaar", "schooljaar"),
            Column("ADVIES", "id"),
            Column("LEERLINGEN", "int", bounds=(0.0, float("inf"))),
            Column("LAGER", "int", bounds=(0.0, float("inf"))),
            Column("HOGER", "int", bounds=(0.0, float("inf"))),
        ),
        "po -> vo transitions per gemeente of the primary school x groep-8 school year x "
        "school advice: pupils in VO year 3 three years later and how many of them are "
        "below (LAGER) or above (HOGER) their advice (user data, e.g. from the "
        "samenwerkingsverband or the Inspectie's doorstroom figures; the layout is ours (u))",
        key=("gemeente_code", "schooljaar", "advies"),
    )
)

POVO_WAARHEID = register_layout(
    Layout(
        "doorstroom-povo-waarheid",
        "waarheid",
        (
            Column("GEMEENTECODE", "gmcode", "gemeente_code"),
            Column("JAAR", "int"),
            Column("LEERLINGEN", "int"),
            Column("TAU_LAGER", "number"),
        ),
        "true effect of the simulated transition programme on the share of pupils below "
        "their advice in year 3 (percentage points, expected value) per gemeente x groep-8 "
        "year (synthetic)",
        key=("gemeente_code", "jaar"),
    )
)

# --- user treatment data: VVE/OAB budget per gemeente per year -------------------------

BUDGET = register_layout(
    Layout(
        "oab-budget",
        "budget",
        (
            Column("GEMEENTECODE", "gmcode", "gemeente_code"),
            Column("JAAR", "int", bounds=(2000.0, 2100.0)),
            Column("BUDGET_EUR", "number", "budget_eur", bounds=(0.0, float("inf"))),
            Column("DOELGROEPKINDEREN", "int", bounds=(0.0, float("inf"))),
        ),
        "VVE/OAB budget per gemeente per calendar year, with the number of target children "
        "(user data)",
        key=("gemeente_code", "jaar"),
    )
)

# --- VVE outcomes per vestiging x school year, and the simulator's VVE truth ------------

VVE_UITKOMSTEN = register_layout(
    Layout(
        "vve-uitkomsten",
        "vve",
        (
            Column("SCHOOLJAAR", "schooljaar"),
            Column("INSTELLINGSCODE", "id"),
            Column("VESTIGINGSCODE", "id"),
            Column("GEMEENTECODE", "gmcode", "gemeente_code"),
            Column("LEERLINGEN_GROEP2", "int", bounds=(0.0, float("inf"))),
            Column("KLEUTERVERLENGING", "int", bounds=(0.0, float("inf"))),
            Column("LEERLINGEN_GROEP3", "count"),
            Column("GROEP3_GEM", "mean", count="LEERLINGEN_GROEP3"),
        ),
        "early-years outcomes per vestiging x school year: groep-2 pupils and how many of "
        "them repeat groep 2 (kleuterverlenging), groep-3 pupils tested and their mean "
        "score (user data or simulated; no public DUO file, so the layout is ours (u))",
        key=("vestiging", "schooljaar"),
    )
)

VVE_WAARHEID = register_layout(
    Layout(
        "vve-waarheid",
        "waarheid",
        (
            Column("GEMEENTECODE", "gmcode", "gemeente_code"),
            Column("JAAR", "int"),
            Column("UITKOMST", "text"),
            Column("BLOOTSTELLING_EUR", "number"),
            Column("BLOOTSTELLING_ZONDER_EUR", "number"),
            Column("DOSIS", "number"),
            Column("TAU", "number"),
        ),
        "true VVE effect per gemeente x measured year x outcome of the simulated OAB "
        "redistribution: the measured cohort's funding per target child with and without "
        "the redistribution, their difference in EUR 1,000 (DOSIS) and the effect (synthetic)",
        key=("gemeente_code", "jaar", "uitkomst"),
    )
)
