"""Typed notebook parameters: one pydantic model per notebook, checked before any kernel starts.

A params file is YAML with two keys::

    notebook: innovatiebudget          # which notebook (see ``evaluatie params``)
    parameters:                        # overrides of that notebook's defaults
      outcome: eindtoets
      cluster: gemeente

The models below are the single source of truth for names, types, defaults and help
texts. The notebook's ``parameters`` cell holds only ``parameters = {}``; papermill
fills it in, and the notebook validates it against the same model, so a notebook
opened by hand in JupyterLab runs with exactly these defaults.
"""

from __future__ import annotations

import difflib
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from evaluatie.errors import ParameterError

OUTCOMES = ("eindtoets", "lezen_2f", "taalverzorging_2f", "rekenen_1s")


class NotebookParams(BaseModel):
    """Base for every notebook's parameters: unknown names are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notebook: ClassVar[str]

    title: str = Field("Evaluatie", description="Report title shown at the top of the report.")
    raw_dir: str = Field("data/raw", description="Folder with the DUO-format input files.")


class InnovatiebudgetParams(NotebookParams):
    """Did schools improve after an onderwijs-innovatiebudget grant?"""

    notebook: ClassVar[str] = "innovatiebudget"

    title: str = Field(
        "Onderwijs-innovatiebudget: effect op de eindtoets",
        description="Report title shown at the top of the report.",
    )
    outcome: Literal[OUTCOMES] = Field(  # type: ignore[valid-type]
        "eindtoets",
        description="School-year outcome: eindtoets mean (CET scale) or a referentieniveau share.",
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

    @field_validator("window")
    @classmethod
    def _check_window(cls, window: tuple[int, int]) -> tuple[int, int]:
        lead, lag = window
        if lead > -2 or lag < 0:
            raise ValueError("must be (lead, lag) with lead <= -2 and lag >= 0, e.g. [-4, 4]")
        return window

    @field_validator("gemeenten")
    @classmethod
    def _check_gemeenten(cls, codes: list[str] | None) -> list[str] | None:
        bad = [c for c in codes or [] if not re.fullmatch(r"GM\d{4}", c)]
        if bad:
            raise ValueError(f"gemeente codes must look like GM0546, not {bad}")
        return codes or None

    @model_validator(mode="after")
    def _check_years(self) -> InnovatiebudgetParams:
        if self.first_year >= self.last_year:
            raise ValueError(
                f"first_year ({self.first_year}) must be before last_year ({self.last_year})"
            )
        return self


NOTEBOOK_PARAMS: dict[str, type[NotebookParams]] = {
    cls.notebook: cls for cls in (InnovatiebudgetParams,)
}


@dataclass(frozen=True)
class RunSpec:
    """A validated run: which notebook, with which parameters, from which params file."""

    notebook: str
    params: NotebookParams
    source: Path | None = None

    @property
    def name(self) -> str:
        return self.source.stem if self.source is not None else self.notebook


def params_model(notebook: str) -> type[NotebookParams]:
    """The parameter model of ``notebook``; a clear error naming the known notebooks."""
    try:
        return NOTEBOOK_PARAMS[notebook]
    except KeyError:
        known = ", ".join(sorted(NOTEBOOK_PARAMS))
        hint = _closest(notebook, NOTEBOOK_PARAMS)
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
    notebook: str, values: dict[str, Any], *, source: str = "parameters"
) -> NotebookParams:
    """Validate ``values`` against the notebook's model, reporting *all* problems at once."""
    model = params_model(notebook)
    if not isinstance(values, dict):
        raise ParameterError(
            f"{source}: 'parameters' must be a mapping, got {type(values).__name__}"
        )
    try:
        return model(**values)
    except ValidationError as exc:
        raise ParameterError(_format_errors(exc, model, source)) from None


def read_params_file(path: str | Path) -> RunSpec:
    """Read and validate a YAML params file (safe loader only)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"params file {path} does not exist")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ParameterError(f"{path}: expected a mapping with keys 'notebook' and 'parameters'")
    unknown = set(doc) - {"notebook", "parameters"}
    if unknown:
        raise ParameterError(
            f"{path}: unknown top-level key(s) {sorted(unknown)}; expected 'notebook' and "
            "'parameters'"
        )
    if "notebook" not in doc:
        raise ParameterError(f"{path}: missing key 'notebook' (one of {sorted(NOTEBOOK_PARAMS)})")
    notebook = str(doc["notebook"])
    params = validate(notebook, doc.get("parameters") or {}, source=str(path))
    return RunSpec(notebook=notebook, params=params, source=path)


def _closest(name: str, candidates: Any) -> str:
    match = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _format_errors(exc: ValidationError, model: type[NotebookParams], source: str) -> str:
    allowed = sorted(model.model_fields)
    lines = [f"{source}: {exc.error_count()} problem(s) with the parameters of {model.notebook!r}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(parameters)"
        if err["type"] == "extra_forbidden":
            lines.append(
                f"  - unknown parameter {loc!r}{_closest(loc, allowed)}; "
                f"allowed: {', '.join(allowed)}"
            )
        else:
            msg = err["msg"].removeprefix("Value error, ")
            got = f" (got {err.get('input')!r})" if err["loc"] else ""
            lines.append(f"  - {loc}: {msg}{got}")
    return "\n".join(lines)
