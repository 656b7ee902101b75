"""The innovatiebudget study's sample, and what it must contain before anything is estimated.

:func:`study_panel` is what the notebook analyses; :func:`design_problems` is what the
workbench's pre-flight asks of the same sample before a kernel starts. The design (see
:mod:`.design`) compares schools before and after their first grant with schools that
never had one, so the sample needs both kinds of school, grant schools observed before
*and* after their grant, and at least two clusters. Problems are phrased in the params
file's terms (``first_year``, ``gemeenten``, ``cluster``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evaluatie.core.errors import DesignError
from evaluatie.sources.outcomes import outcome_info
from evaluatie.sources.sample import select

#: The params file's ``cluster`` choice -> the panel column.
CLUSTER_COLUMNS = {"vestiging": "vestiging", "gemeente": "gemeente_code"}


def study_panel(
    panel: pd.DataFrame,
    *,
    outcome: str,
    first_year: int,
    last_year: int,
    gemeenten: Sequence[str] | None = None,
    cluster: str = "gemeente",
) -> pd.DataFrame:
    """The school-year rows of ``first_year..last_year`` (and ``gemeenten``); a
    :class:`DesignError` listing every problem of :func:`design_problems`.

    A share outcome (pupils reaching a referentieniveau) is returned in percent, so
    that effects on it read in percentage points (:mod:`evaluatie.sources.outcomes`).
    """
    sample, problems = checked_sample(
        panel,
        outcome=outcome,
        first_year=first_year,
        last_year=last_year,
        gemeenten=gemeenten,
        cluster=cluster,
    )
    if problems:
        raise DesignError("; ".join(problems))
    factor = outcome_info(outcome).factor
    if factor != 1.0:
        sample = sample.assign(**{outcome: sample[outcome] * factor})
    return sample


def checked_sample(
    panel: pd.DataFrame,
    *,
    outcome: str,
    first_year: int,
    last_year: int,
    gemeenten: Sequence[str] | None,
    cluster: str,
) -> tuple[pd.DataFrame, list[str]]:
    """The sample of :func:`study_panel` and its :func:`design_problems`, without raising."""
    sample = select(panel, years=(first_year, last_year), gemeenten=gemeenten)
    problems = design_problems(
        sample, outcome=outcome, first_year=first_year, last_year=last_year, cluster=cluster
    )
    return sample, problems


def design_problems(
    sample: pd.DataFrame, *, outcome: str, first_year: int, last_year: int, cluster: str
) -> list[str]:
    """Every reason the design cannot be estimated on ``sample`` (empty: it can)."""
    kinds = sample.attrs.get("kinds", {})
    grant_files = kinds.get("subsidies", [])
    raw = sample.attrs.get("raw_dir", "raw_dir")
    if "kinds" in sample.attrs and not grant_files:
        return [
            f"no grant table in {raw} (innovatiebudget-subsidies.csv, layout "
            "'innovatiebudget-subsidies'; see FORMATS.md): without grants there is nothing "
            "to evaluate"
        ]
    if grant_files and sample.attrs.get("rows", {}).get(grant_files[0]) == 0:
        return [f"the grant table {grant_files[0]} has no rows: there is nothing to evaluate"]
    used = sample[sample[outcome].notna()]
    if used.empty:
        return [f"no {outcome} values in {first_year}-{last_year} for the chosen gemeenten"]
    schools = used.groupby("vestiging")["cohort"].first()
    granted = schools[schools > 0]
    problems = []
    if len(schools) < 2:
        problems.append(
            f"{len(schools)} school with {outcome} data in {first_year}-{last_year}: "
            "the design compares schools with and without a grant"
        )
    if granted.empty:
        table = grant_files[0] if grant_files else "the grant table"
        problems.append(
            f"no school with {outcome} data in {first_year}-{last_year} has a grant in "
            f"{table}; choose gemeenten (or years) with grant schools"
        )
    elif len(granted) == len(schools):
        problems.append(
            f"every school in the sample has a grant ({len(schools)} schools, grant table "
            f"{grant_files[0] if grant_files else '?'}): the design needs schools that never "
            "had one to compare with; add gemeenten with such schools"
        )
    first_seen = used.groupby("vestiging")["jaar"].min()
    before_and_after = granted[granted > first_seen.reindex(granted.index)]
    if not granted.empty and before_and_after.empty:
        problems.append(
            f"no grant school is observed before its grant: every grant starts in or before "
            f"first_year ({first_year}; first grant years {sorted(set(granted.tolist()))}); "
            "choose an earlier first_year if the data have earlier years"
        )
    column = CLUSTER_COLUMNS[cluster]
    n_clusters = used[column].nunique()
    if n_clusters < 2:
        problems.append(
            f"cluster '{cluster}': the sample has {n_clusters} {cluster}: standard errors "
            "need at least 2 clusters"
            + ("; use cluster: vestiging" if cluster == "gemeente" else "")
        )
    return problems
