"""The outcomes the studies read: what each measures, in which unit, in both languages.

One entry per outcome column, so that every table, axis and sentence names it the same
way and in its own unit. Shares in the DUO files (the fraction of pupils reaching a
referentieniveau) are analysed in percent (0-100), so that their effects read in
percentage points, not as fractions a reader mistakes for points on a test.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from evaluatie.core.errors import ParameterError
from evaluatie.core.language import current_language


@dataclass(frozen=True)
class Outcome:
    """An outcome column: ``kind`` is "score" (test points) or "percent" (0-100);
    ``table`` the study table that holds it ("panel": the school panel of
    :func:`evaluatie.load_panel`; "vve": the early-years outcomes of ``load_vve``;
    "examens", "vsv" and "povo": the gemeente rates of :mod:`evaluatie.sources.examens`,
    :mod:`~evaluatie.sources.vsv` and :mod:`~evaluatie.sources.povo`)."""

    name: str
    labels: tuple[str, str]  # nl, en
    units: tuple[str, str]  # nl, en: the unit of an effect on it
    kind: Literal["score", "percent"]
    #: Multiply the file's values by this to get the analysed scale (100 for shares).
    factor: float = 1.0
    #: The Dutch article of the label ("het aandeel", "de score"): sentences need it.
    article: str = "de"
    table: Literal["panel", "vve", "examens", "vsv", "povo"] = "panel"

    @property
    def label(self) -> str:
        return self.labels[0 if current_language() == "nl" else 1]

    @property
    def level_unit(self) -> str:
        """The unit of the outcome's level: "%" for a share (its changes are in
        percentage points), else the unit of its changes."""
        return "%" if self.kind == "percent" else self.unit

    @property
    def subject(self) -> str:
        """The label as the subject of a sentence: "het aandeel …", "the share …"."""
        article = self.article if current_language() == "nl" else "the"
        return f"{article} {self.label}"

    @property
    def unit(self) -> str:
        return self.units[0 if current_language() == "nl" else 1]


_POINTS = ("punten", "points")
_PP = ("procentpunt", "percentage points")

OUTCOMES: dict[str, Outcome] = {
    o.name: o
    for o in (
        Outcome(
            "eindtoets", ("gemiddelde eindtoetsscore", "mean eindtoets score"), _POINTS, "score"
        ),
        Outcome(
            "lezen_2f",
            ("aandeel leerlingen dat lezen 2F haalt", "share of pupils reaching reading 2F"),
            _PP,
            "percent",
            100.0,
            "het",
        ),
        Outcome(
            "taalverzorging_2f",
            (
                "aandeel leerlingen dat taalverzorging 2F haalt",
                "share of pupils reaching writing conventions 2F",
            ),
            _PP,
            "percent",
            100.0,
            "het",
        ),
        Outcome(
            "rekenen_1s",
            ("aandeel leerlingen dat rekenen 1S haalt", "share of pupils reaching maths 1S"),
            _PP,
            "percent",
            100.0,
            "het",
        ),
        Outcome(
            "kleuterverlenging",
            ("aandeel kleuters dat groep 2 overdoet", "share of groep-2 pupils repeating groep 2"),
            _PP,
            "percent",
            1.0,
            "het",
            table="vve",
        ),
        Outcome(
            "groep3",
            ("gemiddelde score groep 3", "mean groep-3 score"),
            _POINTS,
            "score",
            table="vve",
        ),
        Outcome(
            "slaagpercentage",
            ("slagingspercentage vo-examen", "VO exam pass rate"),
            _PP,
            "percent",
            1.0,
            "het",
            table="examens",
        ),
        Outcome(
            "vsv_percentage",
            ("percentage voortijdig schoolverlaters", "early school leaving rate"),
            _PP,
            "percent",
            1.0,
            "het",
            table="vsv",
        ),
        Outcome(
            "afstroom_percentage",
            (
                "percentage leerlingen onder hun schooladvies in leerjaar 3",
                "share of pupils below their school advice in year 3",
            ),
            _PP,
            "percent",
            1.0,
            "het",
            table="povo",
        ),
        Outcome(
            "opstroom_percentage",
            (
                "percentage leerlingen boven hun schooladvies in leerjaar 3",
                "share of pupils above their school advice in year 3",
            ),
            _PP,
            "percent",
            1.0,
            "het",
            table="povo",
        ),
    )
}


def outcomes_of(table: str) -> tuple[str, ...]:
    """The outcome names held by study table ``table`` ("panel", "vve", "examens", "vsv",
    "povo"), in order."""
    return tuple(name for name, o in OUTCOMES.items() if o.table == table)


#: The eindtoets on the within-provider z-score scale (``load_panel(provider="standardised")``).
_STANDARDISED_EINDTOETS = dict(
    labels=("gestandaardiseerde eindtoetsscore", "standardised eindtoets score"),
    units=("standaardafwijking", "standard deviations"),
)


def outcome_info(name: str, provider: str | None = None) -> Outcome:
    """The :class:`Outcome` of column ``name``; an error naming the known ones otherwise.
    With ``provider`` "standardised" (any case) the eindtoets is in standard deviations
    of the school means of its provider and year, and says so."""
    try:
        info = OUTCOMES[name]
    except KeyError:
        raise ParameterError(
            f"unknown outcome {name!r}; known outcomes: {', '.join(OUTCOMES)}"
        ) from None
    if name == "eindtoets" and str(provider).upper() == "STANDARDISED":
        return replace(info, **_STANDARDISED_EINDTOETS)  # type: ignore[arg-type]
    return info
