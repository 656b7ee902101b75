"""The po -> vo table: read and checked, summed over advice levels by hand, the
simulated transition programme recovered by the gemeente report's design, and clear
errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluatie.core.errors import DataFormatError
from evaluatie.sources.duo import read_duo
from evaluatie.sources.povo import load_povo_rates, read_povo
from evaluatie.studies import gemeente as gm
from evaluatie.synth.files import POVO_FILE

HEADER = '"GEMEENTECODE";"SCHOOLJAAR_GROEP8";"ADVIES";"LEERLINGEN";"LAGER";"HOGER"'


def test_rates_sum_the_advice_levels_by_hand(small_raw: Path) -> None:
    rows = read_duo(small_raw / POVO_FILE)
    mine = rows[(rows["gemeente_code"] == "GM0034") & (rows["schooljaar"] == "2017-2018")]
    rates = load_povo_rates(small_raw).set_index(["gemeente_code", "jaar"])
    row = rates.loc[("GM0034", 2018)]
    assert row["leerlingen"] == mine["leerlingen"].sum()
    assert row["afstroom_percentage"] == pytest.approx(
        100 * mine["lager"].sum() / mine["leerlingen"].sum()
    )
    assert row["opstroom_percentage"] == pytest.approx(
        100 * mine["hoger"].sum() / mine["leerlingen"].sum()
    )
    # nobody below the lowest advice, nobody above vwo (the simulator's rules)
    assert rows.loc[rows["advies"] == "VMBO-B", "lager"].eq(0).all()
    assert rows.loc[rows["advies"] == "VWO", "hoger"].eq(0).all()
    # realistic levels (u): about a tenth below, a little less above
    assert (
        8 < rates["afstroom_percentage"].mean() < 15
        and 5 < rates["opstroom_percentage"].mean() < 11
    )


def test_bad_tables_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(HEADER + '\n"GM0034";"2020-2021";"MBO";"10";"1";"1"\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="'MBO' is not one of VMBO-B") as err:
        read_povo(path)
    assert err.value.column == "ADVIES"
    path.write_text(HEADER + '\n"GM0034";"2020-2021";"HAVO";"10";"6";"5"\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="LAGER \\+ HOGER exceed LEERLINGEN for GM0034"):
        read_povo(path)


def test_programme_recovered_by_the_gemeente_design(full_raw: Path) -> None:
    """Almere's transition programme (a quarter fewer pupils below their advice from the
    2018-19 cohort): the truth is named, found within 3 SE; the share above the advice,
    untouched, has truth 0."""
    rates = load_povo_rates(full_raw)
    below = gm.povo_case(
        rates, gemeente="GM0034", outcome="afstroom_percentage", first_year=2019, raw_dir=full_raw
    )
    assert below.truth is not None and -4.5 < below.truth < -2.0
    o = gm.compare(below, replications=100, seed=2).sdid.overall
    assert abs(o.estimate - below.truth) < 3 * o.se
    above = gm.povo_case(
        rates, gemeente="GM0034", outcome="opstroom_percentage", first_year=2019, raw_dir=full_raw
    )
    assert above.truth == 0.0
    o = gm.compare(above, replications=100, seed=2).sdid.overall
    assert abs(o.estimate) < 3 * o.se


@pytest.mark.slow
def test_programme_coverage_over_many_draws(tmp_path: Path) -> None:
    """200 draws of the po -> vo table (schools fixed): synthetic DiD's 95% interval for
    Almere covers the true effect on the share below the advice in about 95%."""
    from evaluatie.sources.layouts_extra import POVO, POVO_WAARHEID
    from evaluatie.sources.writer import write_duo
    from evaluatie.synth import _dgp, _sim_povo
    from evaluatie.synth.files import POVO_WAARHEID_FILE

    schools = _dgp.draw_schools(np.random.default_rng(2), 6000, _dgp.GrantDesign(), 0.02)
    hits = []
    for i in range(200):
        raw = tmp_path / f"d{i}"
        raw.mkdir()
        table, truth = _sim_povo.draw(np.random.default_rng(5000 + i), schools)
        write_duo(table, raw / POVO_FILE, POVO)
        write_duo(truth, raw / POVO_WAARHEID_FILE, POVO_WAARHEID)
        case = gm.povo_case(
            load_povo_rates(raw), gemeente="GM0034", outcome="afstroom_percentage",
            first_year=2019, raw_dir=raw,
        )  # fmt: skip
        o = gm.compare(case, replications=200, seed=i).sdid.overall
        hits.append(o.ci_low <= case.truth <= o.ci_high)
    coverage = float(np.mean(hits))
    print(f"po -> vo programme, synthetic DiD coverage over 200 draws: {coverage:.3f}")
    assert 0.90 <= coverage <= 0.99
