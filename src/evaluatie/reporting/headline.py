"""The one estimate a report puts first, chosen by a study's written rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evaluatie.core.results import Overall, Result


@dataclass(frozen=True)
class Headline:
    """A result, the row of it to publish (``None``: its overall estimate) and a label."""

    result: Result
    term: Any
    label: str
    unit: str = ""

    @property
    def value(self) -> Overall:
        return self.result.headline(self.term)
