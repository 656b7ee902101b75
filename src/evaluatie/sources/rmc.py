"""RMC-regio's and the gemeentelijke herindelingen that carry them to the gemeenten of 2022-23.

Two tables ship with the package:

``rmc_regios.csv``
    Bijlage C ("Vaststelling RMC-regio's") of the Regeling regionale aanpak voortijdig
    schoolverlaten en prestatiesubsidie voor het voortgezet onderwijs (BWBR0031387,
    Staatscourant 2012, as amended; the version listing "De Friese Meren" in Regio 5): the
    39 regions of the Regionale Meld- en Coördinatiefunctie, each with the gemeente names as
    published then (413 names, the publisher's spelling kept).
``herindelingen.csv``
    The mergers, splits and renamings of 1 January 2013 to 1 January 2023 with old and new
    CBS codes, each row with its source (see the file's header; ``(u)`` marks a row no
    source confirmed).

:func:`successor` and :func:`fold_mergers` use the second table to carry data published
under the codes of earlier years to the gemeenten of ``gemeenten.csv``
(:func:`~evaluatie.sources.gemeenten.load_gemeenten`); :func:`load_rmc_regions` uses both
to place every one of those gemeenten in one region.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Literal

import pandas as pd

from evaluatie.core.errors import DataFormatError, DataQualityWarning, ParameterError
from evaluatie.sources.gemeenten import gemeente_code, load_gemeenten

HERINDELING_COLUMNS = ["jaar", "oude_code", "oude_naam", "nieuwe_code", "nieuwe_naam", "bron"]
RMC_COLUMNS = ["rmc_code", "rmc_naam", "gemeente_naam"]
REGION_COLUMNS = ["gemeente_code", "gemeente_naam", "rmc_code", "rmc_naam"]

#: Bijlage C spellings that :func:`match_key` alone does not bring to a name in
#: ``gemeenten.csv`` or ``herindelingen.csv``, keyed by their match key.
BIJLAGE_C_ALIASES = {
    "hengelo o": "GM0164",  # "Hengelo(O)"; CBS: Hengelo (O.), now Hengelo
    "noord oostpolder": "GM0171",  # Noordoostpolder
    "hellevloetsluis": "GM0530",  # a typo in the Staatscourant for Hellevoetsluis
    "tytjerksteradiel": "GM0737",  # Tytsjerksteradiel
    "bergeyk": "GM1724",  # Bergeijk
    # Listed in Regio 38 (Limburg); Bergen in Noord-Holland is written "Bergen (NH)".
    "bergen": "GM0893",
    # "c.a." (cum annexis) stands for the rest of the official name, which the key drops.
    "nuenen": "GM0820",  # Nuenen, Gerwen en Nederwetten
    "kollumerland": "GM0079",  # Kollumerland en Nieuwkruisland
    "haarlemmerliede": "GM0393",  # Haarlemmerliede en Spaarnwoude
}

#: Gemeenten of 2022-23 that ``gemeenten.csv`` lacks (it is derived from the first 4,693 rows
#: of a DUO file, which hold no school there). They are placed in their region so that
#: :func:`rmc_of` can answer for them, but :func:`load_rmc_regions` and :func:`rmc_members`
#: list only the gemeenten of ``gemeenten.csv``. Code from a public list of CBS codes.
NOT_IN_GEMEENTEN = {"GM0221": "Doesburg"}

#: Gemeenten of 2022-23 whose predecessors lie in more than one Bijlage C region, with the
#: regions involved. Without population figures the region is the one of the predecessor
#: that carries the gemeente's own name, else the one most predecessors belong to (a
#: predecessor divided over n gemeenten counts 1/n). :func:`load_rmc_regions` checks that
#: the shipped tables still give exactly these gemeenten.
CROSSES_REGIONS: dict[str, tuple[str, ...]] = {
    "GM0074": ("RMC04", "RMC06"),  # Heerenveen (part of Boarnsterhim): its own, RMC06
    "GM0080": ("RMC04", "RMC05"),  # Leeuwarden (part of Littenseradiel): its own, RMC04
    "GM0394": ("RMC21", "RMC25"),  # Haarlemmermeer (+ Haarlemmerliede c.a.): RMC21
    "GM0824": ("RMC35", "RMC36"),  # Oisterwijk (part of Haaren): its own, RMC35
    "GM0855": ("RMC35", "RMC36"),  # Tilburg (part of Haaren): its own, RMC35
    "GM1900": ("RMC04", "RMC05"),  # Súdwest-Fryslân (part of Boarnsterhim, (u)): RMC05
    "GM1940": ("RMC04", "RMC05"),  # De Fryske Marren: De Friese Meren 1 v. Boarnsterhim 1/4
    "GM1949": ("RMC04", "RMC05"),  # Waadhoeke: three of RMC04 v. 1/3 of Littenseradiel
    "GM1952": ("RMC01", "RMC03"),  # Midden-Groningen: two of RMC03 v. Menterwolde
    "GM1961": ("RMC19", "RMC30"),  # Vijfheerenlanden: Leerdam, Zederik v. Vianen: RMC30
    "GM1969": ("RMC02", "RMC03"),  # Westerkwartier: four of RMC03 v. 1/2 of Winsum
}


def match_key(name: str) -> str:
    """The form gemeente and region names are matched in.

    Accents, case, apostrophes, punctuation and ``c.a.`` are dropped and ``St.``/``a.d.``
    written out, so ``'s-Gravenhage`` and ``’s-Gravenhage``, ``Súdwest Fryslân`` and
    ``Súdwest-Fryslân``, ``St. Anthonis`` and ``Sint Anthonis`` get one key.
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"\bc\.\s*a\.?", " ", text)
    text = re.sub(r"\ba\.\s*d\.", " aan de ", text)
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join("sint" if word == "st" else word for word in text.split())


def _read_table(filename: str, columns: list[str]) -> pd.DataFrame:
    text = resources.files("evaluatie.sources").joinpath(filename).read_text("utf-8")
    table = pd.read_csv(io.StringIO(text), comment="#", dtype=str, keep_default_na=False)
    if list(table.columns) != columns:
        raise DataFormatError(
            f"expected columns {', '.join(columns)}, found {', '.join(map(str, table.columns))}",
            path=filename,
        )
    return table


@cache
def _herindelingen() -> pd.DataFrame:
    table = _read_table("herindelingen.csv", HERINDELING_COLUMNS)
    table["jaar"] = table["jaar"].astype("int64")
    return table


@cache
def _bijlage_c() -> pd.DataFrame:
    return _read_table("rmc_regios.csv", RMC_COLUMNS)


def load_herindelingen() -> pd.DataFrame:
    """The shipped herindelingen 2013-2023 (``herindelingen.csv``), one row per dissolved or
    renamed gemeente and successor.

    Columns ``jaar`` (the year on whose 1 January the change took effect), ``oude_code``,
    ``oude_naam``, ``nieuwe_code``, ``nieuwe_naam``, ``bron`` (source keys explained in the
    file's header; ``(u)`` = unconfirmed).
    """
    return _herindelingen().copy()


@cache
def _successor_rows(as_of: int) -> dict[str, list[tuple[int, str]]]:
    rows: dict[str, list[tuple[int, str]]] = defaultdict(list)
    table = _herindelingen()
    for jaar, old, new in zip(table["jaar"], table["oude_code"], table["nieuwe_code"], strict=True):
        if jaar <= as_of and old != new:
            rows[old].append((int(jaar), new))
    return rows


def _final_codes(code: str, rows: dict[str, list[tuple[int, str]]], since: int = 0) -> set[str]:
    # Only changes after the one that produced ``code`` apply to it, so a chain is followed
    # forward in time (Millingen -> Groesbeek 2015 -> Berg en Dal 2016).
    steps = [(jaar, new) for jaar, new in rows.get(code, []) if jaar >= since]
    if not steps:
        return {code}
    first = min(jaar for jaar, _ in steps)
    finals: set[str] = set()
    for jaar, new in steps:
        if jaar == first:
            finals |= _final_codes(new, rows, jaar + 1)
    return finals


def successor(codes: pd.Series, *, as_of: int = 2023) -> pd.Series:
    """Each gemeente code carried through the herindelingen up to 1 January ``as_of``.

    A code merged in 2014 into a gemeente that merged again in 2019 ends at the 2019
    gemeente; a code never dissolved maps to itself and missing values stay missing. A
    gemeente divided over several successors (Boarnsterhim 2014, Maasdonk 2015,
    Littenseradiel 2018, Winsum 2019, Haaren 2021) raises
    :class:`~evaluatie.core.errors.DataFormatError`: its counts cannot be shared out
    without a key. Source: ``herindelingen.csv`` (:func:`load_herindelingen`); the one
    change not of 1 January, De Friese Meren renamed De Fryske Marren on 1 July 2015,
    counts as of 2015.
    """
    if not isinstance(codes, pd.Series):
        raise ParameterError(f"codes must be a pandas Series, got {type(codes).__name__}")
    rows = _successor_rows(as_of)
    mapping: dict[str, str] = {}
    divided: list[str] = []
    for code in codes.dropna().unique():
        finals = _final_codes(str(code), rows)
        if len(finals) > 1:
            divided.append(f"{code} -> {', '.join(sorted(finals))}")
        else:
            mapping[str(code)] = finals.pop()
    if divided:
        raise DataFormatError(
            "gemeente(n) divided over several successors by "
            f"{as_of}; counts cannot be folded without a key: " + "; ".join(divided)
        )
    out = codes.map(lambda c: mapping[str(c)] if pd.notna(c) else c)
    return out.rename(codes.name)


def fold_mergers(
    frame: pd.DataFrame,
    *,
    code: str = "gemeente_code",
    by: Sequence[str] = ("jaar",),
    counts: Sequence[str],
    divided: Literal["raise", "drop"] = "raise",
) -> pd.DataFrame:
    """Counts re-coded to the gemeenten of 2023 and summed per (successor, ``by``).

    Rows of a dissolved gemeente take its successor's code (:func:`successor`), so data of
    earlier years published under the old codes line up with the current gemeenten; rows
    of a successor and of its predecessors in one year are added together. Only ``code``,
    ``by`` and ``counts`` are kept, sorted by code then ``by``. A missing count in any row
    of a group leaves the group's sum missing: a partial total would understate it.

    A gemeente divided over several successors raises (``divided="raise"``) or -- with
    ``"drop"`` -- its rows are left out with a
    :class:`~evaluatie.core.errors.DataQualityWarning` naming it and its successors, whose
    series then lack that part before the split.
    """
    by = [by] if isinstance(by, str) else list(by)
    counts = [counts] if isinstance(counts, str) else list(counts)
    if not counts:
        raise ParameterError("counts must name at least one column to sum")
    for role, names in (("code", [code]), ("by", by), ("counts", counts)):
        for name in names:
            if name not in frame.columns:
                raise ParameterError(
                    f"{role}={name!r} is not a column of frame "
                    f"(columns: {', '.join(map(str, frame.columns))})"
                )
    data = frame[[code, *by, *counts]].copy()
    if divided == "drop":
        rows = _successor_rows(2023)
        split = {
            str(c): finals
            for c in data[code].dropna().unique()
            if len(finals := _final_codes(str(c), rows)) > 1
        }
        if split:
            warnings.warn(
                "left out: gemeente(n) divided over several successors, whose series lack "
                "that part before the split: "
                + "; ".join(f"{c} -> {', '.join(sorted(f))}" for c, f in sorted(split.items())),
                DataQualityWarning,
                stacklevel=2,
            )
            data = data[~data[code].isin(list(split))]
    data[code] = successor(data[code])
    keys = [code, *by]
    grouped = data.groupby(keys, sort=True, dropna=False)
    sums = grouped[counts].sum()
    incomplete = data[counts].isna().groupby([data[k] for k in keys], dropna=False).any()
    sums = sums.mask(incomplete.reindex(sums.index))
    return sums.reset_index().sort_values(keys, ignore_index=True)


@cache
def _name_codes() -> dict[str, str]:
    """Match key -> code for current names, names of dissolved gemeenten, and aliases."""
    codes: dict[str, str] = {}
    gemeenten = load_gemeenten()
    hist = _herindelingen()
    pairs = [
        *zip(gemeenten["gemeente_naam"], gemeenten["gemeente_code"], strict=True),
        *zip(hist["oude_naam"], hist["oude_code"], strict=True),
    ]
    pairs += [(name, code) for code, name in NOT_IN_GEMEENTEN.items()]
    for name, code in pairs:
        key = match_key(name)
        if codes.setdefault(key, code) != code:
            raise DataFormatError(
                f"name {name!r} stands for both {codes[key]} and {code}",
                path="herindelingen.csv",
            )
    codes.update(BIJLAGE_C_ALIASES)
    return codes


def _assign() -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    bijlage = _bijlage_c()
    names = _name_codes()
    unknown = sorted({n for n in bijlage["gemeente_naam"] if match_key(n) not in names})
    if unknown:
        raise DataFormatError(
            f"Bijlage C names matching no gemeente: {', '.join(unknown)}", path="rmc_regios.csv"
        )
    gemeenten = load_gemeenten()
    current = dict(zip(gemeenten["gemeente_code"], gemeenten["gemeente_naam"], strict=True))
    current.update(NOT_IN_GEMEENTEN)
    rows = _successor_rows(2023)
    # For every current gemeente: (weight, carries its name, region) per predecessor.
    parts: dict[str, list[tuple[float, bool, str]]] = defaultdict(list)
    for name, region in zip(bijlage["gemeente_naam"], bijlage["rmc_code"], strict=True):
        finals = _final_codes(names[match_key(name)], rows)
        lost = sorted(finals - current.keys())
        if lost:
            raise DataFormatError(
                f"Bijlage C name {name!r} leads to {', '.join(lost)}, not in gemeenten.csv",
                path="rmc_regios.csv",
            )
        for final in finals:
            own = match_key(name) == match_key(current[final])
            parts[final].append((1 / len(finals), own, region))
    region_names = dict(zip(bijlage["rmc_code"], bijlage["rmc_naam"], strict=True))
    assigned: list[tuple[str, str, str, str]] = []
    crossings: dict[str, tuple[str, ...]] = {}
    for code, found in sorted(parts.items()):
        regions = sorted({region for *_, region in found})
        if len(regions) > 1:
            crossings[code] = tuple(regions)
        chosen = _choose_region(code, found)
        assigned.append((code, current[code], chosen, region_names[chosen]))
    return pd.DataFrame(assigned, columns=REGION_COLUMNS), crossings


def _choose_region(code: str, found: list[tuple[float, bool, str]]) -> str:
    own = {region for _, is_own, region in found if is_own}
    if len(own) == 1:
        return own.pop()
    weight: dict[str, float] = defaultdict(float)
    for share, _, region in found:
        weight[region] += share
    best = max(weight.values())
    leaders = sorted(r for r, w in weight.items() if abs(w - best) < 1e-9)
    if len(leaders) > 1:
        raise DataFormatError(
            f"{code}: predecessors split evenly over {', '.join(leaders)}; no rule picks a region",
            path="rmc_regios.csv",
        )
    return leaders[0]


@cache
def _regions() -> pd.DataFrame:
    table, crossings = _assign()
    if crossings != CROSSES_REGIONS:
        changed = sorted(set(crossings.items()) ^ set(CROSSES_REGIONS.items()))
        raise DataFormatError(
            "gemeenten whose predecessors lie in several regions differ from CROSSES_REGIONS: "
            + "; ".join(f"{c} {r}" for c, r in changed),
            path="rmc_regios.csv",
        )
    return table


def load_rmc_regions() -> pd.DataFrame:
    """One row per gemeente of :func:`~evaluatie.sources.gemeenten.load_gemeenten` that
    Bijlage C covers, with its RMC-regio.

    Columns ``gemeente_code``, ``gemeente_naam``, ``rmc_code`` (``RMC01`` ... ``RMC39``),
    ``rmc_naam``, sorted by code (gemeenten missing from ``gemeenten.csv``, see
    :data:`NOT_IN_GEMEENTEN`, are left out). Bijlage C names are matched after :func:`match_key` and
    :data:`BIJLAGE_C_ALIASES` and carried through ``herindelingen.csv`` to 2023; a gemeente
    formed from predecessors in several regions is listed in :data:`CROSSES_REGIONS`.
    """
    return _listed_regions().copy()


@cache
def _listed_regions() -> pd.DataFrame:
    table = _regions()
    listed = table["gemeente_code"].isin(load_gemeenten()["gemeente_code"])
    return table[listed].reset_index(drop=True)


def _codes_of(gemeente: str) -> set[str]:
    text = str(gemeente).strip()
    if re.fullmatch(r"(?i)(gm)?\d{1,4}", text):
        code = gemeente_code(text)
    else:
        found = _name_codes().get(match_key(text))
        if found is None:
            raise ParameterError(f"unknown gemeente {gemeente!r} (give a GM code or a name)")
        code = found
    finals = _final_codes(code, _successor_rows(2023))
    known = set(_regions()["gemeente_code"])
    if not finals <= known:
        raise ParameterError(f"gemeente {gemeente!r} ({code}) is in no RMC-regio")
    return finals


def rmc_of(gemeente: str) -> tuple[str, str]:
    """The RMC-regio ``(code, name)`` of a gemeente, e.g. ``("RMC26", "Zuid-Holland-Noord")``.

    ``gemeente`` is a CBS code (``GM0546`` or ``546``) or a name, current or as in Bijlage
    C; a dissolved gemeente answers with its successor's region. One divided over gemeenten
    in different regions raises :class:`~evaluatie.core.errors.ParameterError`.
    """
    table = _regions().set_index("gemeente_code")
    finals = _codes_of(gemeente)
    regions = sorted({(table.at[c, "rmc_code"], table.at[c, "rmc_naam"]) for c in finals})
    if len(regions) > 1:
        raise ParameterError(
            f"gemeente {gemeente!r} was divided over {', '.join(sorted(finals))}, "
            f"which lie in {', '.join(code for code, _ in regions)}"
        )
    code, name = regions[0]
    return str(code), str(name)


def rmc_members(rmc: str) -> list[str]:
    """The gemeente codes (of :func:`load_rmc_regions`) of an RMC-regio, sorted.

    ``rmc`` is a code (``RMC26``, ``rmc26``, ``26``) or a region name as in Bijlage C
    (``Zuid-Holland-Noord``), case-insensitive; an unknown one raises
    :class:`~evaluatie.core.errors.ParameterError` listing the valid codes.
    """
    table = load_rmc_regions()
    text = str(rmc).strip()
    number = re.fullmatch(r"(?i)(rmc)?\s*0*(\d{1,2})", text)
    wanted: str | None = None
    if number:
        wanted = f"RMC{int(number.group(2)):02d}"
    else:
        by_name = {
            match_key(n): c for c, n in zip(table["rmc_code"], table["rmc_naam"], strict=True)
        }
        wanted = by_name.get(match_key(text))
    valid = sorted(table["rmc_code"].unique())
    if wanted not in valid:
        raise ParameterError(f"unknown RMC-regio {rmc!r}; valid codes: {', '.join(valid)}")
    return sorted(table.loc[table["rmc_code"] == wanted, "gemeente_code"])
