"""Tables as a report shows them, and as the run exports them.

:func:`show_table` is the one way a notebook puts a table in a report. It displays the
table for the reader, with column names in the report's language and numbers written
as that language writes them (``1.234,5``; p-values as ``< 0,001``; no "nan"). Beside
the HTML it carries the unformatted values under :data:`TABLE_MIME`, the way
:func:`evaluatie.workbench.publish` carries the headline: the runner collects every
such table from the executed notebook and writes them to one ``.xlsx`` and one
``.csv`` each (:mod:`evaluatie.workbench.exports`), so the exports hold exactly the
report's tables, with full precision.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluatie.core.language import Catalogue, number, pvalue

TABLE_MIME = "application/vnd.evaluatie.table+json"

#: Column and index names the estimators' tables use, as a reader should see them.
COLUMNS = Catalogue(
    {
        "estimate": {"nl": "schatting", "en": "estimate"},
        "se": {"nl": "standaardfout", "en": "standard error"},
        "p": {"nl": "p", "en": "p"},
        "ci_low": {"nl": "95%-BI onder", "en": "95% CI low"},
        "ci_high": {"nl": "95%-BI boven", "en": "95% CI high"},
        "statistic": {"nl": "toetsgrootheid", "en": "statistic"},
        "df": {"nl": "vrijheidsgraden", "en": "degrees of freedom"},
        "n_obs": {"nl": "waarnemingen", "en": "observations"},
        "n_units": {"nl": "eenheden", "en": "units"},
        "n_clusters": {"nl": "clusters", "en": "clusters"},
        "n_treated": {"nl": "behandeld", "en": "treated"},
        "rel_time": {"nl": "jaren sinds start", "en": "years since start"},
        "term": {"nl": "term", "en": "term"},
        "method": {"nl": "methode", "en": "method"},
        "cohort": {"nl": "cohort (startjaar)", "en": "cohort (first year)"},
        "jaar": {"nl": "jaar", "en": "year"},
        "gemeente": {"nl": "gemeente", "en": "gemeente"},
        "gemeente_code": {"nl": "gemeentecode", "en": "gemeente code"},
        "vestiging": {"nl": "vestiging", "en": "vestiging"},
        "weight": {"nl": "gewicht", "en": "weight"},
        "inference": {"nl": "inferentie", "en": "inference"},
        "mde": {"nl": "kleinste aantoonbare effect", "en": "minimum detectable effect"},
        "reference": {"nl": "referentiejaar", "en": "reference"},
        "t": {"nl": "t", "en": "t"},
        "yes": {"nl": "ja", "en": "yes"},
        "no": {"nl": "nee", "en": "no"},
    }
)

#: Columns written as p-values.
P_COLUMNS = frozenset({"p", "p_value", "pvalue"})


def column_label(name: Any, labels: Mapping[str, str] | None = None) -> str:
    """The reader's name of a column: ``labels`` first, then :data:`COLUMNS`, else as is."""
    key = str(name)
    if labels and key in labels:
        return labels[key]
    return COLUMNS(key) if key in COLUMNS else key


def _cell(
    value: Any,
    column: str,
    digits: int,
    labels: Mapping[str, str] | None = None,
    grouping: bool | None = None,
) -> str:
    if isinstance(value, str):
        return (labels or {}).get(value, value)
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, bool | np.bool_):
        return COLUMNS("yes" if value else "no")
    if isinstance(value, int | np.integer):
        return number(float(value), 0, grouping=grouping)
    if isinstance(value, float | np.floating):
        if column in P_COLUMNS:
            return pvalue(float(value))
        return number(float(value), digits, grouping=grouping)
    return str(value)


def formatted(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    digits: int | Mapping[str, int] = 2,
) -> pd.DataFrame:
    """``table`` as text: labelled columns and index, numbers in the report's language."""
    out = pd.DataFrame(index=table.index)
    for column in table.columns:
        places = digits.get(str(column), 2) if isinstance(digits, Mapping) else digits
        if _counts(table[column]):
            places = 0  # counts stored as floats: "15.166", not "15.166,00"
        # one column groups its thousands alike: "4580" above "15.020" reads as a typo
        grouping = _largest(table[column]) >= 10_000
        out[column] = [
            _cell(v, str(column), places, labels, grouping) for v in table[column].tolist()
        ]
    out.columns = [column_label(c, labels) for c in table.columns]
    names = [column_label(n, labels) if n is not None else None for n in table.index.names]
    relabel = labels or {}
    if isinstance(table.index, pd.MultiIndex):
        tuples = [tuple(relabel.get(c, c) for c in map(_index_cell, v)) for v in table.index]
        out.index = pd.MultiIndex.from_tuples(tuples, names=names)
    else:
        rows = [_index_cell(v) for v in table.index]
        out.index = pd.Index([relabel.get(r, r) for r in rows], name=names[0])
    return out


def _counts(column: pd.Series) -> bool:
    """A float column whose every finite value is a whole number, not all of them zero
    (a column of zeros beside shares is a share of nothing, not a count)."""
    if not pd.api.types.is_float_dtype(column.dtype):
        return False
    values = column.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    return bool(finite.size and np.any(finite != 0) and np.all(finite == np.round(finite)))


def _largest(column: pd.Series) -> float:
    """The largest absolute number in a column (0 for a column without numbers)."""
    if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column):
        return 0.0
    values = np.abs(column.to_numpy(dtype=float, na_value=np.nan))
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else 0.0


def _index_cell(value: Any) -> str:
    if isinstance(value, int | np.integer) or (
        isinstance(value, float | np.floating) and float(value).is_integer()
    ):
        return number(float(value), 0)
    return str(value)


def table_payload(
    table: pd.DataFrame, *, name: str, title: str, labels: Mapping[str, str] | None
) -> dict[str, Any]:
    """The exported form of a table: its name, title and the values, labelled."""
    if labels:
        table = table.rename(index=lambda r: labels.get(str(r), r))
    flat = table.reset_index() if _has_named_index(table) else table.reset_index(drop=True)
    return {
        "name": name,
        "title": title,
        "columns": [column_label(c, labels) for c in flat.columns],
        "rows": [[_plain(v) for v in row] for row in flat.itertuples(index=False)],
    }


def _has_named_index(table: pd.DataFrame) -> bool:
    return any(n is not None for n in table.index.names) or not isinstance(
        table.index, pd.RangeIndex
    )


def _plain(value: Any) -> Any:
    """A JSON value: numbers stay numbers (non-finite ones become None), the rest text."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(float(value)) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def table_html(table: pd.DataFrame, *, title: str = "") -> str:
    """The reader's HTML of an already :func:`formatted` table (numbers right-aligned)."""
    body = table.to_html(escape=True, border=0, classes="ev-table", na_rep="–")
    caption = f"<p><b>{html.escape(title)}</b></p>\n" if title else ""
    return caption + body


def show_table(
    table: pd.DataFrame,
    *,
    name: str,
    title: str = "",
    labels: Mapping[str, str] | None = None,
    digits: int | Mapping[str, int] = 2,
) -> None:
    """Display ``table`` in the report and hand its values to the run's exports.

    ``name`` names the table in the exports (a sheet of the ``.xlsx``, a ``.csv``
    file): short, unique in the report. ``labels`` maps column names to what the
    reader sees (study-specific names; the estimators' own columns are translated
    already), and row labels and text cells too; ``digits`` is the number of decimals, one for all
    columns or per column. Returns nothing, so that a call ending a cell shows the
    table once, not also its payload.
    """
    from IPython.display import display

    shown = formatted(table, labels=labels, digits=digits)
    payload = table_payload(table, name=name, title=title, labels=labels)
    bundle = {
        "text/html": table_html(shown, title=title),
        "text/plain": (f"{title}\n" if title else "") + shown.to_string(),
        TABLE_MIME: payload,
    }
    display(bundle, raw=True)
