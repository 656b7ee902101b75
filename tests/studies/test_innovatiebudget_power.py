"""The innovatiebudget report's "what could this design detect" section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluatie.studies.innovatiebudget import detectable_effect

pytestmark = pytest.mark.usefixtures("english")


def _schools(n_schools: int, n_grant: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = np.repeat(np.arange(n_schools), 6)
    jaar = np.tile(np.arange(2016, 2022), n_schools)
    cohort = np.where(np.arange(n_schools) < n_grant, 2019, 0)[s]
    treated = ((cohort > 0) & (jaar >= cohort)).astype(float)
    y = 535 + rng.normal(size=n_schools)[s] + rng.normal(size=s.size)
    return pd.DataFrame(
        {"vestiging": s, "jaar": jaar, "cohort": cohort, "treated": treated,
         "eindtoets": y, "gemeente_code": s // 3}
    )  # fmt: skip


def test_paragraph_and_table_agree() -> None:
    text, table, mde = detectable_effect(
        _schools(60, 6, 1), outcome="eindtoets", cluster="gemeente_code"
    )
    # the grants went to whole gemeenten here (2 of 20): sizes in gemeenten; 50 do not fit
    assert table is not None and list(table.index) == [2, 10]
    assert f"{table.loc[2, 'MDE']:.2f} points" in text and "With 2 treated units" in text
    assert mde == table.loc[2, "MDE"]  # the design's own MDE, for the summary


def test_a_design_that_cannot_be_simulated_is_said_not_shown() -> None:
    text, table, mde = detectable_effect(
        _schools(20, 12, 2), outcome="eindtoets", cluster="gemeente_code"
    )
    assert table is None and mde is None
    assert text.startswith("The minimum detectable effect cannot be simulated for this panel")


def test_the_summary_finding_is_the_fit_put_beside_the_grant_schools_level_before() -> None:
    from evaluatie import twfe
    from evaluatie.studies.innovatiebudget import summary_finding

    panel = _schools(60, 6, 1)
    fit = twfe(panel, outcome="eindtoets", treatment="treated", unit="vestiging",
               time="jaar", cluster="gemeente_code")  # fmt: skip
    finding = summary_finding(fit, panel, outcome="eindtoets", mde=0.7)
    before = panel.loc[(panel["cohort"] > 0) & (panel["jaar"] < 2019), "eindtoets"]
    assert finding.baseline == pytest.approx(before.mean(), rel=1e-12)
    assert finding.sd == pytest.approx(before.std(ddof=1), rel=1e-12)
    head = fit.overall
    assert (finding.estimate, finding.ci_low, finding.ci_high, finding.p) == (
        head.estimate, head.ci_low, head.ci_high, head.p,
    )  # fmt: skip
    assert finding.mde == 0.7 and finding.unit == "points" and finding.level_unit == "points"
