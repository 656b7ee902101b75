"""Work on a column's distinct values only: DUO and CBS files repeat a few names, codes
and years over many rows (writing them formatted each row again; reading them parsed
each row again)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd


def on_distinct(values: Any, transform: Callable[[Any], Any]) -> Any:
    """``transform(distinct)[codes]``: ``transform`` of the distinct values of
    ``values`` (an array or Series, in order of appearance, a missing value as one of
    them), spread back over every position. Values that compare equal share one result,
    so ``transform`` must not tell them apart (-0.0 and 0.0, 1 and True)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return transform(distinct)[codes]
