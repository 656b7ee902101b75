"""Errors that name what is wrong and what was expected.

Every error a user can trigger with bad input derives from :class:`EvaluatieError`,
so notebooks and the CLI can show one clear message instead of a deep traceback.
"""

from __future__ import annotations

from pathlib import Path


class EvaluatieError(Exception):
    """Base class: a problem the user can fix (input data, parameters, design)."""


class DataFormatError(EvaluatieError, ValueError):
    """A data file does not have the expected layout or content.

    The message always names the file and, where known, the line and column.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        #: One line per problem: several when :meth:`combine` joined errors of many files.
        self.problems: list[str] = [str(self)]

    @classmethod
    def combine(cls, errors: list[DataFormatError]) -> DataFormatError:
        """One error carrying every problem of ``errors`` (each file's first), in order."""
        if len(errors) == 1:
            return errors[0]
        problems = [p for e in errors for p in e.problems]
        combined = cls(f"{len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems))
        combined.problems = problems
        return combined


class ParameterError(EvaluatieError, ValueError):
    """A parameter (function argument or params-file entry) is invalid."""


class DesignError(EvaluatieError, ValueError):
    """The data cannot identify what was asked (e.g. no untreated units, no variation)."""


class DataQualityWarning(UserWarning):
    """Input that was used but deserves a look (skipped files, rows that match nothing)."""
