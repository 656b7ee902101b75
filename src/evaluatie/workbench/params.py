"""Typed notebook parameters: one pydantic model per notebook, checked before any kernel starts.

A params file is YAML with two keys::

    notebook: innovatiebudget          # which notebook (see ``evaluatie params``)
    parameters:                        # overrides of that notebook's defaults
      outcome: eindtoets
      cluster: gemeente

(a sweep file adds a third, ``matrix``: see :mod:`evaluatie.workbench.sweep`).

The models below are the single source of truth for names, types, defaults and help
texts. The notebook's ``parameters`` cell holds only ``parameters = {}``; papermill
fills it in, and the notebook validates it against the same model, so a notebook
opened by hand in JupyterLab runs with exactly these defaults.

Validation with ``root`` (the project folder) also checks the parameters against the
data in ``raw_dir`` (:mod:`evaluatie.workbench.datacheck`): gemeente codes, years and
the outcome must occur there. Schema and data problems come back in one message.
"""

from __future__ import annotations

import difflib
import re
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evaluatie.core.errors import DataQualityWarning, EvaluatieError, ParameterError
from evaluatie.core.language import DEFAULT_LANGUAGE, Language
from evaluatie.core.memo import warn_again
from evaluatie.sources.layouts import PROVIDERS_2022
from evaluatie.sources.outcomes import outcomes_of
from evaluatie.sources.vve import VVE_OUTCOMES
from evaluatie.workbench.datacheck import (
    DATA_CONTEXT,
    DataChecker,
    DataInventory,
    Source,
    resolve_raw_dir,
)

#: The school panel's outcomes (Literal needs a tuple), from the outcome catalogue.
OUTCOMES = outcomes_of("panel")
#: Eindtoets scales a run can use: each provider's own, or all of them standardised.
EINDTOETS_PROVIDERS = (*PROVIDERS_2022, "DOE", "LIB", "standardised")
#: The gemeente report's outcomes: the VVE outcomes, the exam pass rate and VSV.
GEMEENTE_OUTCOMES = (
    *outcomes_of("vve"),
    *outcomes_of("examens"),
    *outcomes_of("vsv"),
    *outcomes_of("povo"),
)


class NotebookParams(BaseModel):
    """Base for every notebook's parameters: unknown names are refused, not ignored."""

    # Defaults are validated too: they must fit the data as much as given values do.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    notebook: ClassVar[str]
    #: What the notebook reads from ``raw_dir`` (see :mod:`.datacheck`).
    sources: ClassVar[tuple[Source, ...]]
    #: Rough seconds a run takes on the default data (a 2-core machine, warm kernel; the
    #: 18 reports' times of 2026-12-05): a batch starts the longest runs first, unless a
    #: previous run's record says better, so that the shortest end it on both workers.
    expected_seconds: ClassVar[float] = 5.0

    title: str = Field("Evaluatie", description="Report title shown at the top of the report.")
    language: Language = Field(
        DEFAULT_LANGUAGE,
        description="Language of the report: nl (Nederlands) or en (English).",
    )
    raw_dir: str = Field("data/raw", description="Folder with the DUO-format input files.")

    @field_validator("raw_dir")
    @classmethod
    def _raw_dir_readable(cls, raw_dir: str, info: ValidationInfo) -> str:
        checker = (info.context or {}).get(DATA_CONTEXT)
        if checker is not None:
            checker.inventory(raw_dir, cls.sources)  # a ValueError names every problem
        return raw_dir

    def design_problems(self, checker: DataChecker) -> list[str]:
        """What stops the study's design on these data (checked after the parameters)."""
        return []


def _inventory(cls: type[NotebookParams], info: ValidationInfo) -> DataInventory | None:
    """The data inventory when validating with data checks and ``raw_dir`` was readable."""
    checker = (info.context or {}).get(DATA_CONTEXT)
    raw_dir = info.data.get("raw_dir")  # absent if raw_dir itself failed
    if checker is None or raw_dir is None:
        return None
    return checker.inventory(raw_dir, cls.sources)


class InnovatiebudgetParams(NotebookParams):
    """Did schools improve after an onderwijs-innovatiebudget grant?"""

    notebook: ClassVar[str] = "innovatiebudget"
    expected_seconds: ClassVar[float] = 17.0  # randomization tests of 5,000 draws
    sources: ClassVar[tuple[Source, ...]] = ("panel",)

    title: str = Field(
        "Onderwijs-innovatiebudget: effect op de eindtoets",
        description="Report title shown at the top of the report.",
    )
    outcome: Literal[OUTCOMES] = Field(  # type: ignore[valid-type]
        "eindtoets",
        description="School-year outcome: eindtoets mean (CET scale) or a referentieniveau share.",
    )
    provider: Literal[EINDTOETS_PROVIDERS] = Field(  # type: ignore[valid-type]
        "CET",
        description="Eindtoets provider whose school means are the outcome: CET (the "
        "Centrale Eindtoets, to 2022-23), another provider, or standardised: every school "
        "mean as a z-score within its provider and year, comparable across providers and "
        "across the 2023-24 switch to the doorstroomtoets (effects in standard deviations).",
    )
    first_year: int = Field(
        2014, ge=2000, le=2100, description="First school year (end year, 2013-2014 -> 2014)."
    )
    last_year: int = Field(
        2023, ge=2000, le=2100, description="Last school year (end year, 2022-2023 -> 2023)."
    )
    cluster: Literal["vestiging", "gemeente"] = Field(
        "gemeente", description="Level at which standard errors are clustered."
    )
    window: tuple[int, int] = Field(
        (-4, 4), description="Event-study window (first lead, last lag); endpoints are binned."
    )
    gemeenten: list[str] | None = Field(
        None, description="Restrict to these gemeente codes (GM####); empty = all gemeenten."
    )

    @property
    def cluster_column(self) -> str:
        """The panel column behind ``cluster``."""
        return {"vestiging": "vestiging", "gemeente": "gemeente_code"}[self.cluster]

    @field_validator("outcome")
    @classmethod
    def _outcome_in_data(cls, outcome: str, info: ValidationInfo) -> str:
        if (inventory := _inventory(cls, info)) is not None:
            inventory.check_outcome(outcome)
        return outcome

    @field_validator("first_year", "last_year")
    @classmethod
    def _year_in_data(cls, year: int, info: ValidationInfo) -> int:
        if (inventory := _inventory(cls, info)) is not None:
            outcome = info.data.get("outcome")
            # the inventory's eindtoets years are CET's; another scale: any year with data
            if outcome == "eindtoets" and info.data.get("provider", "CET") != "CET":
                outcome = None
            inventory.check_year(year, outcome)
        return year

    @field_validator("window")
    @classmethod
    def _check_window(cls, window: tuple[int, int]) -> tuple[int, int]:
        lead, lag = window
        if lead > -2 or lag < 0:
            raise ValueError("must be (lead, lag) with lead <= -2 and lag >= 0, e.g. [-4, 4]")
        return window

    @field_validator("gemeenten")
    @classmethod
    def _check_gemeenten(cls, codes: list[str] | None, info: ValidationInfo) -> list[str] | None:
        return _check_codes(cls, codes, info) or None

    @model_validator(mode="after")
    def _check_combination(self) -> InnovatiebudgetParams:
        problems = []
        if self.first_year >= self.last_year:
            problems.append(
                f"first_year ({self.first_year}) must be before last_year ({self.last_year})"
            )
        if self.cluster == "gemeente" and self.gemeenten is not None and len(self.gemeenten) < 2:
            problems.append(
                f"cluster 'gemeente' needs at least 2 gemeenten, got {self.gemeenten}: "
                "one gemeente is one cluster; use cluster: vestiging"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def design_problems(self, checker: DataChecker) -> list[str]:
        from evaluatie.studies.innovatiebudget.sample import checked_sample

        source = "panel" if self.provider == "CET" else f"panel:{self.provider}"
        _, problems = checked_sample(
            checker.load(self.raw_dir, source),
            outcome=self.outcome,
            first_year=self.first_year,
            last_year=self.last_year,
            gemeenten=self.gemeenten,
            cluster=self.cluster,
        )
        return problems


VVE_OUTCOME_NAMES = tuple(VVE_OUTCOMES)  # Literal needs a tuple


class VveBudgetParams(NotebookParams):
    """Did the 2019 OAB redistribution's change in VVE funding per target child move
    the early-years outcomes of the cohorts it reached?"""

    notebook: ClassVar[str] = "vve_budget"
    expected_seconds: ClassVar[float] = 9.0  # the national analysis, once per batch
    sources: ClassVar[tuple[Source, ...]] = ("vve",)

    title: str = Field(
        "VVE-budget en vroege uitkomsten: herverdeling OAB 2019",
        description="Report title shown at the top of the report.",
    )
    outcomes: list[Literal[VVE_OUTCOME_NAMES]] = Field(  # type: ignore[valid-type]
        ["kleuterverlenging", "groep3"],
        min_length=1,
        validate_default=True,  # the default outcomes must be in the data too
        description="Outcomes to analyse: kleuterverlenging (% repeating groep 2), groep3 "
        "(mean groep-3 score).",
    )
    gemeenten: list[str] | None = Field(
        None,
        description="Focus gemeenten (GM####): each gets its own single-gemeente DiD and "
        "its predicted effect; estimation always uses every gemeente. Empty = no focus.",
    )
    marked: list[str] = Field(
        ["GM0546", "GM0034", "GM0453"],
        description="Gemeenten named in the budget-change plot (default Leiden, Almere, "
        "Velsen); codes absent from the data are not drawn.",
    )
    comparison_band: float = Field(
        0.5,
        gt=0.0,
        le=3.0,
        description="Gemeenten whose funding per target child changed by at most this many "
        "EUR 1,000 form the comparison group.",
    )
    degree: int = Field(3, ge=1, le=5, description="B-spline degree of the dose-response.")
    num_knots: int = Field(
        0, ge=0, le=6, description="Interior knots of the dose-response B-spline."
    )

    @field_validator("outcomes")
    @classmethod
    def _outcomes_in_data(cls, outcomes: list[str], info: ValidationInfo) -> list[str]:
        if len(set(outcomes)) != len(outcomes):
            raise ValueError(f"an outcome is listed twice: {outcomes}")
        if (inventory := _inventory(cls, info)) is not None:
            for outcome in outcomes:
                inventory.check_outcome(outcome)
        return outcomes

    @field_validator("gemeenten")
    @classmethod
    def _known_gemeenten(cls, codes: list[str] | None, info: ValidationInfo) -> list[str] | None:
        return _check_codes(cls, codes, info) or None

    @field_validator("marked")
    @classmethod
    def _well_formed(cls, codes: list[str]) -> list[str]:
        return _check_codes(cls, codes, None) or []

    def design_problems(self, checker: DataChecker) -> list[str]:
        from evaluatie.studies.vve import design_problems

        return design_problems(
            checker.load(self.raw_dir, "vve"),
            outcomes=self.outcomes,
            comparison_band=self.comparison_band,
            gemeenten=self.gemeenten,
            degree=self.degree,
            num_knots=self.num_knots,
        )


def _check_codes(
    cls: type[NotebookParams], codes: list[str] | None, info: ValidationInfo | None
) -> list[str] | None:
    """Refuse malformed codes, and (given ``info``) codes absent from the data when checked."""
    bad = [c for c in codes or [] if not re.fullmatch(r"GM\d{4}", c)]
    if bad:
        raise ValueError(f"gemeente codes must look like GM0546, not {bad}")
    if codes and info is not None and (inventory := _inventory(cls, info)) is not None:
        inventory.check_gemeenten(codes)
    return codes


class GemeenteParams(NotebookParams):
    """Did outcome X in gemeente G change after year T, compared with gemeenten like G?
    Synthetic control, synthetic DiD and a single-gemeente DiD side by side."""

    notebook: ClassVar[str] = "gemeente"
    expected_seconds: ClassVar[float] = 0.8
    # which table is read depends on `data`: design_problems reads it (after validation)
    sources: ClassVar[tuple[Source, ...]] = ()

    title: str = Field(
        "Eén gemeente vergeleken met gemeenten die erop lijken",
        description="Report title shown at the top of the report.",
    )
    data: Literal["examens", "vsv", "povo", "vve"] = Field(
        "vve",
        description="examens: DUO's VO exam results (pass rate per gemeente); vsv: CBS's "
        "VSV table (early school leaving per gemeente); povo: the po -> vo table (pupils "
        "below or above their school advice in VO year 3, by groep-8 year); vve: the VVE "
        "study's early-years "
        "outcomes (the gemeente from its first year with new funding).",
    )
    gemeente: str = Field("GM0546", description="The gemeente (GM####); default Leiden.")
    outcome: Literal[GEMEENTE_OUTCOMES] = Field(  # type: ignore[valid-type]
        "kleuterverlenging",
        description="kleuterverlenging or groep3 (data: vve); slaagpercentage (data: "
        "examens); vsv_percentage (data: vsv); afstroom_percentage or opstroom_percentage "
        "(data: povo).",
    )
    first_year: int | None = Field(
        None,
        ge=2000,
        le=2100,
        description="First year (end year of the school year) with the policy; required for "
        "data: examens, taken from the funding change for data: vve.",
    )
    donors: int = Field(
        40, ge=2, le=400, description="Comparison gemeenten: the ones nearest in size."
    )
    comparison_band: float = Field(
        0.5,
        gt=0.0,
        le=3.0,
        description="data: vve only: donors are gemeenten whose funding per target child "
        "changed by at most this many EUR 1,000.",
    )

    @field_validator("gemeente")
    @classmethod
    def _code(cls, code: str) -> str:
        _check_codes(cls, [code], None)
        return code

    @model_validator(mode="after")
    def _consistent(self) -> GemeenteParams:
        wanted = {
            "slaagpercentage": "examens",
            "vsv_percentage": "vsv",
            "afstroom_percentage": "povo",
            "opstroom_percentage": "povo",
        }.get(self.outcome, "vve")
        if self.data != wanted:
            raise ValueError(f"outcome {self.outcome} comes with data: {wanted}, not {self.data}")
        if self.data != "vve" and self.first_year is None:
            raise ValueError(f"data: {self.data} needs first_year (the first year with the policy)")
        if self.data == "vve" and self.first_year is not None:
            raise ValueError(
                "data: vve takes the start from the funding change; leave first_year out"
            )
        return self

    def design_problems(self, checker: DataChecker) -> list[str]:
        from evaluatie.studies.gemeente import case_problems

        try:
            data = checker.load(self.raw_dir, self.data)
        except ValueError as exc:
            return str(exc).split("\n")
        # the case reads the simulation's truth from raw_dir too: from the project's
        # folder, as the kernel will (relative to the current folder it read another's)
        raw = resolve_raw_dir(checker.root, self.raw_dir)
        return case_problems(data, **{**self.case_arguments(), "raw_dir": raw})

    def case_arguments(self) -> dict[str, Any]:
        """The arguments of :func:`evaluatie.studies.gemeente.build_case` besides the data."""
        return {
            "data_kind": self.data,
            "gemeente": self.gemeente,
            "outcome": self.outcome,
            "first_year": self.first_year,
            "donors": self.donors,
            "comparison_band": self.comparison_band,
            "raw_dir": self.raw_dir,
        }


#: The school types and groups the schooluitval report can split by.
VSV_GROUPS = ("VO", "MBO1", "MBO2", "MBO34", "MBO")


class SchooluitvalParams(NotebookParams):
    """Did an RMC region's approach lower voortijdig schoolverlaten, compared with the
    other RMC regions, per school type, and in one of its gemeenten?"""

    notebook: ClassVar[str] = "schooluitval"
    expected_seconds: ClassVar[float] = 1.7
    sources: ClassVar[tuple[Source, ...]] = ("schooluitval",)

    title: str = Field(
        "Schooluitval: de regionale aanpak vergeleken met andere RMC-regio's",
        description="Report title shown at the top of the report.",
    )
    rmc: str = Field(
        "RMC26",
        description="The RMC region: its code (RMC01-RMC39) or name, e.g. Zuid-Holland-Noord "
        "(Holland Rijnland, contactgemeente Leiden).",
    )
    first_year: int = Field(
        2022,
        ge=2000,
        le=2100,
        description="First school year (end year) of the approach: 2022 = 2021-2022.",
    )
    gemeente: str | None = Field(
        "GM0546",
        description="A member gemeente (GM####) compared on its own with gemeenten of like "
        "size outside the region; empty = none.",
    )
    donors: int = Field(
        40, ge=2, le=400, description="Comparison gemeenten for the member gemeente."
    )
    groups: list[Literal[VSV_GROUPS]] = Field(  # type: ignore[valid-type]
        ["VO", "MBO1", "MBO2", "MBO34"],
        description="School types shown one by one (needs the table by school type).",
    )
    gap: tuple[Literal[VSV_GROUPS], Literal[VSV_GROUPS]] | None = Field(  # type: ignore[valid-type]
        ("MBO", "VO"),
        description="Two groups whose gap is compared before and after the start; empty = no gap.",
    )

    @field_validator("gemeente")
    @classmethod
    def _code(cls, code: str | None) -> str | None:
        _check_codes(cls, [code] if code else None, None)
        return code

    @model_validator(mode="after")
    def _distinct_gap(self) -> SchooluitvalParams:
        if self.gap is not None and self.gap[0] == self.gap[1]:
            raise ValueError(f"gap needs two different groups, got {list(self.gap)}")
        return self

    def design_problems(self, checker: DataChecker) -> list[str]:
        from evaluatie.studies.schooluitval import design_problems

        groups = [*self.groups, *(self.gap or ())]
        return design_problems(
            checker.load(self.raw_dir, "schooluitval"), rmc=self.rmc, first_year=self.first_year,
            gemeente=self.gemeente, donors=self.donors, groups=list(dict.fromkeys(groups)),
        )  # fmt: skip


#: The exam groups the doorstroom report can show (levels, school types, sexes).
EXAM_GROUPS = ("VMBO-B", "VMBO-K", "VMBO-GT", "VMBO", "HAVO", "VWO", "HAVO/VWO", "MAN", "VROUW")


class DoorstroomParams(NotebookParams):
    """How do a gemeente's pupils pass their VO exams, per level and for boys and girls,
    against its region, the country and like gemeenten -- and the gaps between groups?"""

    notebook: ClassVar[str] = "doorstroom"
    expected_seconds: ClassVar[float] = 2.5
    sources: ClassVar[tuple[Source, ...]] = ("doorstroom",)

    title: str = Field(
        "Doorstroom: slagen voor het eindexamen, per niveau en voor jongens en meisjes",
        description="Report title shown at the top of the report.",
    )
    raw_dir: str = Field(
        "tests/data/duo",
        description="Folder with DUO's exam-results file (default: the real file shipped in "
        "the repository).",
    )
    gemeente: str = Field("GM0034", description="The gemeente (GM####); default Almere.")
    first_year: int = Field(
        2023,
        ge=2000,
        le=2100,
        description="First school year (end year) compared after; a chosen year unless "
        "`policy` names what started then.",
    )
    policy: str | None = Field(
        None,
        description="What started in first_year (shown in the report); empty = the "
        "comparison is an illustration of the method, not an evaluation.",
    )
    groups: list[Literal[EXAM_GROUPS]] = Field(  # type: ignore[valid-type]
        ["VMBO-B", "VMBO-K", "VMBO-GT", "HAVO", "VWO"],
        min_length=1,
        description="Groups shown one by one (levels, school types or sexes).",
    )
    gaps: list[tuple[Literal[EXAM_GROUPS], Literal[EXAM_GROUPS]]] = Field(  # type: ignore[valid-type]
        [("VMBO", "HAVO/VWO"), ("MAN", "VROUW")],
        description="Pairs of groups whose gap is shown and compared.",
    )
    donors: int = Field(
        40, ge=2, le=400, description="Comparison gemeenten: the ones nearest in candidates."
    )

    @field_validator("gemeente")
    @classmethod
    def _code(cls, code: str) -> str:
        _check_codes(cls, [code], None)
        return code

    @field_validator("gaps")
    @classmethod
    def _distinct(cls, gaps: list[tuple[str, str]]) -> list[tuple[str, str]]:
        same = [list(g) for g in gaps if g[0] == g[1]]
        if same:
            raise ValueError(f"a gap needs two different groups, got {same}")
        return gaps

    def design_problems(self, checker: DataChecker) -> list[str]:
        from evaluatie.studies.doorstroom import design_problems

        return design_problems(
            checker.load(self.raw_dir, "doorstroom"), gemeente=self.gemeente,
            first_year=self.first_year, groups=self.groups, gaps=self.gaps, donors=self.donors,
        )  # fmt: skip


NOTEBOOK_PARAMS: dict[str, type[NotebookParams]] = {
    cls.notebook: cls
    for cls in (
        InnovatiebudgetParams,
        VveBudgetParams,
        GemeenteParams,
        SchooluitvalParams,
        DoorstroomParams,
    )
}


@dataclass(frozen=True)
class RunSpec:
    """A validated run: which notebook, with which parameters, from which params file.

    ``name`` (the report's file name) is the params file's stem, or ``run_name`` when
    set (a sweep names each of its runs).
    """

    notebook: str
    params: NotebookParams
    source: Path | None = None
    run_name: str | None = None

    @property
    def name(self) -> str:
        if self.run_name is not None:
            return self.run_name
        return self.source.stem if self.source is not None else self.notebook


def params_model(notebook: str) -> type[NotebookParams]:
    """The parameter model of ``notebook``; a clear error naming the known notebooks."""
    try:
        return NOTEBOOK_PARAMS[notebook]
    except KeyError:
        known = ", ".join(sorted(NOTEBOOK_PARAMS))
        hint = closest_hint(notebook, NOTEBOOK_PARAMS)
        raise ParameterError(
            f"unknown notebook {notebook!r}{hint}; known notebooks: {known}"
        ) from None


def describe(notebook: str) -> list[dict[str, Any]]:
    """Name, type, default and help of every parameter of ``notebook``."""
    model = params_model(notebook)
    rows = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if typing.get_origin(annotation) is typing.Literal:
            type_name = "one of " + ", ".join(map(str, typing.get_args(annotation)))
        else:
            type_name = str(annotation).replace("typing.", "").replace("<class '", "")
            type_name = type_name.replace("'>", "")
        rows.append(
            {
                "name": name,
                "type": type_name,
                "default": field.default,
                "help": field.description or "",
            }
        )
    return rows


def validate(
    notebook: str,
    values: dict[str, Any],
    *,
    source: str = "parameters",
    root: Path | None = None,
    checker: DataChecker | None = None,
) -> NotebookParams:
    """Validate ``values`` against the notebook's model, reporting *all* problems at once.

    With ``root`` (the project folder, against which a relative ``raw_dir`` is read) the
    values are also checked against the data.
    """
    try:
        model = params_model(notebook)
    except ParameterError as exc:
        raise ParameterError(f"{source}: {exc}") from None
    if not isinstance(values, dict):
        raise ParameterError(
            f"{source}: 'parameters' must be a mapping, got {type(values).__name__}"
        )
    if checker is None and root is not None:
        checker = DataChecker(root)
    context = {DATA_CONTEXT: checker} if checker is not None else None
    try:
        params = model.model_validate(values, context=context)
    except ValidationError as exc:
        raise ParameterError(_format_errors(exc, model, source, set(values))) from None
    if checker is not None:
        # the design's data notes once for all params files, not once per file
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", DataQualityWarning)
            try:
                problems = params.design_problems(checker)
            except (ValueError, EvaluatieError) as exc:  # e.g. a selection the data cannot serve
                problems = [str(exc)]
        for w in seen:
            if issubclass(w.category, DataQualityWarning):
                checker.note(str(w.message))
        warn_again([w for w in seen if not issubclass(w.category, DataQualityWarning)])
        if problems:
            lines = [f"{source}: {len(problems)} problem(s) with the design of {notebook!r}:"]
            lines += [f"  - {p}" for p in problems]
            raise ParameterError("\n".join(lines))
    return params


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice (YAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    problem=f"key {key!r} appears twice (lines {seen[key]} and {line}); keep one",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    """A params or sweep file as a mapping with a ``notebook`` and only ``keys``."""
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ParameterError(f"params file {path} {what}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ParameterError(
            f"{path}, line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8; save the params "
            "file as UTF-8"
        ) from None
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError(f"{path}{where}: not valid YAML: {problem}") from None
    expected = " and ".join(repr(k) for k in keys)
    if not isinstance(doc, dict):
        raise ParameterError(f"{path}: expected a mapping with keys {expected}")
    unknown = set(doc) - set(keys)
    if unknown:
        hint = (
            "; a 'matrix' declares a sweep: run it with `evaluatie batch`"
            if "matrix" in unknown
            else ""
        )
        raise ParameterError(
            f"{path}: unknown top-level key(s) {sorted(unknown)}; expected {expected}{hint}"
        )
    if "notebook" not in doc:
        raise ParameterError(f"{path}: missing key 'notebook' (one of {sorted(NOTEBOOK_PARAMS)})")
    return doc


def read_params_file(
    path: str | Path, *, root: Path | None = None, checker: DataChecker | None = None
) -> RunSpec:
    """Read and validate a YAML params file (safe loader only); ``root``: check the data too."""
    path = Path(path)
    doc = read_yaml_mapping(path, ("notebook", "parameters"))
    notebook = str(doc["notebook"])
    params = validate(
        notebook, doc.get("parameters") or {}, source=str(path), root=root, checker=checker
    )
    return RunSpec(notebook=notebook, params=params, source=path)


def closest_hint(name: str, candidates: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or empty."""
    match = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _format_errors(
    exc: ValidationError, model: type[NotebookParams], source: str, given: set[str]
) -> str:
    """One line per problem, each once; a default that fails says it is the default."""
    allowed = sorted(model.model_fields)
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(parameters)"
        if err["type"] == "extra_forbidden":
            lines.append(
                f"unknown parameter {loc!r}{closest_hint(loc, allowed)}; "
                f"allowed: {', '.join(allowed)}"
            )
            continue
        msg = err["msg"].removeprefix("Value error, ")
        name = str(err["loc"][0]) if err["loc"] else None
        if name == "raw_dir":  # data problems: each names its file, line and column
            lines += [f"{loc}: {m}" if m.startswith("no such") else m for m in msg.split("\n")]
        elif name is not None and name not in given:
            lines.append(
                f"{loc} (default {_plain(err.get('input'))}, not set in the file): {msg}; "
                f"set {loc} in the params file"
            )
        else:
            got = f" (got {_plain(err.get('input'))})" if err["loc"] else ""
            lines.append(f"{loc}: {msg}{got}")
    head = f"{source}: {len(lines)} problem(s) with the parameters or data of {model.notebook!r}:"
    return "\n".join([head, *(f"  - {line}" for line in lines)])


def _plain(value: Any) -> str:
    """A parameter value as the params file would spell it (YAML flow style)."""
    if isinstance(value, tuple):
        value = list(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=200)
    return text.replace("\n...\n", "").strip()  # a lone scalar ends in a document marker
