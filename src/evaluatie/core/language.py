"""The report language: Dutch by default, English on request, and numbers written to match.

Reports are read by gemeenten, so every sentence, label and number a report shows goes
through this module: :class:`Catalogue` holds each text once in both languages, and
:func:`number`, :func:`pvalue` and :func:`percent` write ``1.234,5`` in Dutch and
``1,234.5`` in English. The language is set once per notebook (:func:`set_language`,
from the ``language`` parameter) and read wherever text is made, so generated sentences
need no language argument threaded through every call.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal, get_args

from evaluatie.core.errors import ParameterError

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "nl"

# A context variable, not a module global, so that threads and asyncio tasks (a Dask
# worker running two reports) each keep their own language.
_current: ContextVar[Language] = ContextVar("evaluatie_language", default=DEFAULT_LANGUAGE)

#: Typographic minus: a hyphen in "-0.21" breaks across lines and reads as a dash.
MINUS = "\u2212"


def _checked(language: str) -> Language:
    if language not in LANGUAGES:
        raise ParameterError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


def set_language(language: str) -> Language:
    """Make ``language`` ("nl" or "en") the language of every text made from now on."""
    _current.set(_checked(language))
    return current_language()


def current_language() -> Language:
    return _current.get()


@contextmanager
def use_language(language: str) -> Iterator[Language]:
    """Within the block, texts are made in ``language``; the previous one returns after."""
    token = _current.set(_checked(language))
    try:
        yield language  # type: ignore[misc]
    finally:
        _current.reset(token)


def number(
    x: float | None,
    digits: int = 2,
    *,
    signed: bool = False,
    language: str | None = None,
    grouping: bool | None = None,
) -> str:
    """``x`` with ``digits`` decimals: ``-12.345,50`` in Dutch, ``-12,345.50`` in English.

    Thousands are grouped from five digits on, as the Taalunie advises for Dutch, so a
    year or a four-digit count reads ``2019``, not ``2.019``; ``grouping`` forces it on
    or off (a table column groups all its numbers or none). Negative numbers carry a
    typographic minus; ``signed`` adds ``+`` to positive ones.
    A missing or non-finite value is written as a dash ("–"), never as "nan".
    """
    if x is None or not math.isfinite(float(x)):
        if x is not None and math.isinf(float(x)):
            return ("" if x > 0 else MINUS) + "∞"
        return "–"
    value = round(float(x), digits)
    group = abs(value) >= 10_000 if grouping is None else grouping
    text = f"{abs(value):{',' if group else ''}.{digits}f}"
    if (language or current_language()) == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    if value < 0:
        return MINUS + text
    return ("+" + text) if signed and value > 0 else text


def significant(
    x: float | None, digits: int = 3, *, signed: bool = False, language: str | None = None
) -> str:
    """``x`` to ``digits`` significant digits (whole numbers keep all their digits),
    written as :func:`number` writes it."""
    if x is None or not math.isfinite(float(x)) or float(x) == 0:
        decimals = 0 if x == 0 else 2
    else:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(float(x)))))
    return number(x, decimals, signed=signed, language=language)


def percent(share: float | None, digits: int = 0, *, signed: bool = False) -> str:
    """A share (0.123) as a percentage: ``12%`` (Dutch and English alike: "12%")."""
    if share is None or not math.isfinite(float(share)):
        return "–"
    return number(100 * float(share), digits, signed=signed) + "%"


def pvalue(p: float | None) -> str:
    """A p-value as a reader needs it: two significant digits, ``< 0,001`` below that."""
    if p is None or not math.isfinite(float(p)):
        return "–"
    if p < 0.001:
        return "<\u00a0" + number(0.001, 3)  # no break between "<" and the number
    return significant(p, 2) if p < 0.1 else number(p, 2)


def p_statement(p: float | None) -> str:
    """``p = 0,043`` or ``p < 0,001``: a p-value as a clause of a sentence."""
    text = pvalue(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


class Catalogue:
    """Texts by key, each in every language; ``catalogue(key, **values)`` fills one in.

    Construction checks that each key has every language and that the translations use
    the same placeholders, so a missing translation fails at import, not in a report.
    """

    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        for key, texts in messages.items():
            missing = [lang for lang in LANGUAGES if lang not in texts]
            if missing:
                raise ValueError(f"message {key!r} has no text in {', '.join(missing)}")
            fields = {lang: _fields(texts[lang]) for lang in LANGUAGES}
            if len({frozenset(f) for f in fields.values()}) > 1:
                raise ValueError(f"message {key!r}: placeholders differ between languages")
        self._messages = {k: dict(v) for k, v in messages.items()}

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._messages[key][current_language()]
        return text.format(**values) if values else text

    def __contains__(self, key: object) -> bool:
        return key in self._messages

    def __iter__(self) -> Iterator[str]:
        return iter(self._messages)

    def texts(self) -> dict[str, str]:
        """Every key with its text in the current language (e.g. a table's labels)."""
        language = current_language()
        return {key: texts[language] for key, texts in self._messages.items()}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
