"""Tables derived once per loaded data set.

Validation builds every report's design before any kernel starts, and several params
files use the same data: the exam rates of a group, or the VSV rates of the RMC regions,
are the same for each of them. A loaded data set therefore carries a ``memo`` dict, and
:func:`remembered` computes a derived table once per key in it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import pandas as pd


def remembered(
    memo: dict[Hashable, pd.DataFrame], key: Hashable, compute: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """``compute()``, the first time ``key`` is asked for; a copy every time, so that a
    caller changing its table changes nobody else's."""
    if key not in memo:
        memo[key] = compute()
    return memo[key].copy()
