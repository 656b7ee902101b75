"""Doorstroom po -> vo per gemeente: how many pupils are below or above their school
advice in VO year 3 (layout ``doorstroom-povo``, FORMATS.md).

The table has one row per gemeente of the primary school, groep-8 school year and
school advice; :func:`load_povo_rates` sums the advice levels to one row per gemeente and
year (the groep-8 year's end year), with the shares below and above the advice
recomputed from the counts and gemeenten merged later folded into their successors
(:func:`evaluatie.sources.rmc.fold_mergers`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluatie.core.errors import DataFormatError
from evaluatie.core.memo import stored_read
from evaluatie.sources.duo import read_duo, require_values
from evaluatie.sources.examens import complete_series, one_file
from evaluatie.sources.layouts_extra import ADVIES_NIVEAUS
from evaluatie.sources.rmc import fold_mergers

COUNTS = ("leerlingen", "lager", "hoger")


def read_povo(path: str | Path) -> pd.DataFrame:
    """The po -> vo table at ``path``, checked: known advice levels, and no more pupils
    below plus above their advice than pupils."""
    frame = read_duo(path)
    require_values(frame, "advies", ADVIES_NIVEAUS, header="ADVIES", path=path)
    bad = frame["lager"] + frame["hoger"] > frame["leerlingen"]
    if bad.any():
        row = frame[bad].iloc[0]
        raise DataFormatError(
            f"LAGER + HOGER exceed LEERLINGEN for {row['gemeente_code']} "
            f"{row['schooljaar']} {row['advies']}",
            path=path,
            column="LAGER",
        )
    return frame.assign(jaar=frame["schooljaar"].str[5:].astype("int64"))


@stored_read
def load_povo_rates(raw_dir: str | Path = "data/raw", *, complete: bool = True) -> pd.DataFrame:
    """Per gemeente x jaar: ``leerlingen, lager, hoger``, ``afstroom_percentage`` and
    ``opstroom_percentage`` (0-100: below / above the advice in VO year 3) and
    ``leerlingen_gemiddeld`` (mean pupils per cohort, a time-invariant size); with
    ``complete`` only gemeenten with pupils in every year."""
    path = one_file(raw_dir, "povo", "po -> vo table (layout doorstroom-povo)")
    counts = fold_mergers(read_povo(path), by=("jaar",), counts=COUNTS, divided="drop")
    counts = counts[counts["leerlingen"] > 0]
    out = counts.assign(
        afstroom_percentage=100.0 * counts["lager"] / counts["leerlingen"],
        opstroom_percentage=100.0 * counts["hoger"] / counts["leerlingen"],
    )
    if complete:
        out = complete_series(out)
    size = out.groupby("gemeente_code")["leerlingen"].transform("mean")
    return out.assign(leerlingen_gemiddeld=size).reset_index(drop=True)
