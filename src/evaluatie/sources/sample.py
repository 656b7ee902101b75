"""Analysis samples: restrict a panel to years and gemeenten, refusing what is not there."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluatie.core.checks import numeric_values, require_columns, require_frame
from evaluatie.core.errors import ParameterError


def select(
    panel: pd.DataFrame,
    *,
    years: tuple[int, int] | None = None,
    gemeenten: Sequence[str] | None = None,
    time: str = "jaar",
    gemeente: str = "gemeente_code",
) -> pd.DataFrame:
    """Rows with ``years[0] <= time <= years[1]`` and gemeente in ``gemeenten``.

    A year range that does not overlap the data, or a gemeente code the data does not
    contain, is an error naming the values that do exist: an empty analysis sample
    should never be discovered three cells later as a cryptic estimation failure.
    """
    require_frame(panel)
    require_columns(panel, {"time": time, "gemeente": gemeente if gemeenten else None})
    out = panel
    if years is not None:
        if (
            not isinstance(years, (tuple, list))
            or len(years) != 2
            or not all(isinstance(y, (int, np.integer)) for y in years)
            or years[0] > years[1]
        ):
            raise ParameterError(f"years must be (first, last) with first <= last, got {years!r}")
        first, last = years
        values = numeric_values(panel, time, "time")
        available = sorted(np.unique(values[~np.isnan(values)]).astype(int))
        if not available or first > available[-1] or last < available[0]:
            span = f"{available[0]}-{available[-1]}" if available else "none"
            raise ParameterError(
                f"years {first}-{last} lie outside the data (years present: {span})"
            )
        out = out[(out[time] >= first) & (out[time] <= last)]
    if isinstance(gemeenten, str):
        gemeenten = [gemeenten]
    if gemeenten:
        present = set(panel[gemeente].dropna().unique())
        missing = [g for g in gemeenten if g not in present]
        if missing:
            raise ParameterError(
                f"gemeente code(s) {missing} do not occur in the data "
                f"({len(present)} gemeenten present, e.g. {sorted(present)[:5]})"
            )
        out = out[out[gemeente].isin(list(gemeenten))]
    return out.reset_index(drop=True)


def balanced(
    panel: pd.DataFrame,
    columns: Sequence[str],
    *,
    unit: str = "vestiging",
    time: str = "jaar",
) -> pd.DataFrame:
    """Units observed, with all ``columns`` non-missing, in every period of the panel.

    Estimators that need a balanced panel (the Bacon decomposition) get this subset; the
    number of units kept and dropped is in ``.attrs["balanced"]`` for the report.
    """
    complete = panel.dropna(subset=list(columns))
    n_periods = panel[time].nunique()
    per_unit = complete.groupby(unit)[time].nunique()
    keep = per_unit.index[per_unit == n_periods]
    out = complete[complete[unit].isin(keep)].reset_index(drop=True)
    out.attrs["balanced"] = {"kept": len(keep), "dropped": panel[unit].nunique() - len(keep)}
    return out


#: Bands of schoolweging (the CBS onderwijsachterstandenindicator), more achterstand first.
WEGING_BANDS = ("meer", "minder")


def weging_bands(weging: pd.Series) -> pd.Series:
    """Each school's band (``weging`` indexed by vestiging, missing values left out):
    ``meer`` achterstand above the median schoolweging of these schools, else
    ``minder``. Used by every study that splits its effect by achterstand."""
    weging = weging.dropna()
    band = np.where(weging > weging.median(), WEGING_BANDS[0], WEGING_BANDS[1])
    return pd.Series(band, index=weging.index, name="band")
