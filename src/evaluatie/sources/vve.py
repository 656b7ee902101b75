"""Read the VVE study's inputs: the OAB/VVE budget table and the early-years outcomes.

Both are recognised by their header, whatever the file name (layouts ``oab-budget`` and
``vve-uitkomsten``, described in ``FORMATS.md``). :func:`load_vve` returns them tidy:
one row per vestiging x school year with the two outcomes the study can observe within
a few years of a change in VVE funding,

- ``kleuterverlenging``: the percentage of groep-2 pupils who repeat groep 2, and
- ``groep3``: the school's mean groep-3 score,

and the budget per gemeente x calendar year. :func:`gemeente_outcomes` aggregates the
outcomes to gemeente x year, the level at which VVE funding varies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluatie.core.errors import DataFormatError, ParameterError
from evaluatie.core.memo import stored_read
from evaluatie.sources.duo import read_duo
from evaluatie.sources.outcomes import OUTCOMES
from evaluatie.sources.panel import files_by_kind


@dataclass(frozen=True)
class VveOutcome:
    """An early-years outcome and the pupil count that weights it; its label and unit
    (in the report's language) come from :data:`evaluatie.sources.outcomes.OUTCOMES`."""

    name: str
    weight: str

    @property
    def label(self) -> str:
        return OUTCOMES[self.name].label

    @property
    def unit(self) -> str:
        return OUTCOMES[self.name].unit

    @property
    def subject(self) -> str:
        return OUTCOMES[self.name].subject

    @property
    def level_unit(self) -> str:
        return OUTCOMES[self.name].level_unit


#: The outcomes a change in VVE funding can reach within a few years.
VVE_OUTCOMES: dict[str, VveOutcome] = {
    "kleuterverlenging": VveOutcome("kleuterverlenging", "n_groep2"),
    "groep3": VveOutcome("groep3", "n_groep3"),
}


@dataclass(frozen=True)
class VveData:
    """The VVE study's inputs as read from a raw-data folder."""

    schools: pd.DataFrame  # vestiging x jaar
    budget: pd.DataFrame  # gemeente_code x jaar: budget_eur, doelgroepkinderen
    files: dict[str, str]  # kind -> file name


def _one(raw: Path, found: dict[str, list[Path]], kind: str, what: str) -> Path:
    paths = found.get(kind, [])
    if not paths:
        raise DataFormatError(
            f"no {what} in this folder (a CSV with the header of layout "
            f"{'oab-budget' if kind == 'budget' else 'vve-uitkomsten'}; see FORMATS.md; "
            "`evaluatie simulate` writes synthetic ones)",
            path=raw,
        )
    if len(paths) > 1:
        names = ", ".join(p.name for p in paths)
        raise DataFormatError(f"more than one {what} ({names}); keep one", path=raw)
    return paths[0]


def outcome_column(outcome: str) -> str:
    """Check an outcome name against :data:`VVE_OUTCOMES`."""
    if outcome not in VVE_OUTCOMES:
        raise ParameterError(
            f"outcome {outcome!r} is not a VVE outcome; choose one of {sorted(VVE_OUTCOMES)}"
        )
    return outcome


@stored_read
def load_vve(raw_dir: str | Path = "data/raw") -> VveData:
    """The budget table and the early-years outcomes of ``raw_dir`` (read-only)."""
    raw = Path(raw_dir)
    found = files_by_kind(raw)
    # Both tables are read before anything is raised: one error names every problem.
    errors: list[DataFormatError] = []
    frames: dict[str, pd.DataFrame] = {}
    paths: dict[str, Path] = {}
    for kind, what, layout in (
        ("budget", "OAB/VVE budget table", "oab-budget"),
        ("vve", "table of early-years outcomes", "vve-uitkomsten"),
    ):
        try:
            paths[kind] = _one(raw, found, kind, what)
            frames[kind] = read_duo(paths[kind], layout)
        except DataFormatError as exc:
            errors.append(exc)
    if errors:
        raise DataFormatError.combine(errors)
    budget, rows, outcome_path = frames["budget"], frames["vve"], paths["vve"]
    bad = rows["kleuterverlenging"] > rows["leerlingen_groep2"]
    if bad.any():
        v, y = rows.loc[bad, ["vestiging", "schooljaar"]].iloc[0]
        raise DataFormatError(
            f"KLEUTERVERLENGING exceeds LEERLINGEN_GROEP2 in {int(bad.sum())} row(s), "
            f"e.g. vestiging {v} in {y}",
            path=outcome_path,
            column="KLEUTERVERLENGING",
        )
    n2 = rows["leerlingen_groep2"].astype("float64")
    schools = pd.DataFrame(
        {
            "vestiging": rows["vestiging"],
            "gemeente_code": rows["gemeente_code"],
            "schooljaar": rows["schooljaar"],
            "jaar": rows["schooljaar"].str[5:].astype("int64"),
            "n_groep2": n2,
            "kleuterverlenging": np.where(
                n2 > 0,
                100.0 * rows["kleuterverlenging"].astype("float64") / n2.where(n2 > 0),
                np.nan,
            ),
            "n_groep3": rows["leerlingen_groep3"].astype("float64"),
            "groep3": rows["groep3_gem"].astype("float64"),
        }
    ).sort_values(["vestiging", "jaar"], ignore_index=True)
    budget = budget[["gemeente_code", "jaar", "budget_eur", "doelgroepkinderen"]].copy()
    budget["jaar"] = budget["jaar"].astype("int64")
    return VveData(
        schools=schools,
        budget=budget.sort_values(["gemeente_code", "jaar"], ignore_index=True),
        files={kind: path.name for kind, path in paths.items()},
    )


def gemeente_outcomes(schools: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Pupil-weighted mean of ``outcome`` per gemeente x jaar, with pupils and schools.

    Kleuterverlenging aggregates to repeaters / groep-2 pupils of the gemeente; the
    groep-3 score to the mean over its tested pupils. Schools without pupils in the
    outcome's groep that year are left out.
    """
    outcome_column(outcome)
    weight = VVE_OUTCOMES[outcome].weight
    use = schools[(schools[weight] > 0) & schools[outcome].notna()]
    wy = use[outcome] * use[weight]
    grouped = pd.DataFrame(
        {"gemeente_code": use["gemeente_code"], "jaar": use["jaar"], "wy": wy, "w": use[weight]}
    ).groupby(["gemeente_code", "jaar"], sort=True)
    out = grouped.agg(wy=("wy", "sum"), n_pupils=("w", "sum"), n_schools=("w", "size"))
    out[outcome] = out["wy"] / out["n_pupils"]
    return out.drop(columns="wy").reset_index()
