"""Report language: Dutch by default, English on request; numbers, tables and exports."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluatie.core.errors import ParameterError
from evaluatie.core.language import (
    Catalogue,
    current_language,
    number,
    percent,
    pvalue,
    set_language,
    significant,
    use_language,
)
from evaluatie.reporting.tables import TABLE_MIME, formatted, show_table, table_payload


def test_numbers_are_written_the_dutch_way_by_default() -> None:
    assert current_language() == "nl"
    assert number(-12345.678, 1) == "\u221212.345,7"  # typographic minus, point groups
    assert number(2019, 0) == "2019"  # four digits stay ungrouped: years read as years
    assert number(0.5, 2, signed=True) == "+0,50" and number(0.0, 2, signed=True) == "0,00"
    assert number(math.nan) == "–" and number(None) == "–" and number(-math.inf) == "\u2212∞"
    assert significant(1.003, 3) == "1,00" and significant(0.0692, 3) == "0,0692"
    assert percent(-0.207, 1) == "\u221220,7%"
    assert (
        pvalue(1.5e-10) == "<\u00a00,001" and pvalue(0.0432) == "0,043" and pvalue(0.78) == "0,78"
    )
    with use_language("en"):
        assert number(-12345.678, 1) == "\u221212,345.7" and pvalue(0.0432) == "0.043"
    assert current_language() == "nl"  # the block restores the language


def test_language_is_checked_and_set_per_context() -> None:
    with pytest.raises(ParameterError, match="language must be one of nl, en, got 'de'"):
        set_language("de")
    with use_language("en"):
        assert current_language() == "en"
        with use_language("nl"):
            assert current_language() == "nl"
        assert current_language() == "en"


def test_a_catalogue_refuses_a_missing_translation_or_placeholder() -> None:
    texts = Catalogue({"a": {"nl": "{n} scholen", "en": "{n} schools"}})
    assert texts("a", n=3) == "3 scholen"
    with use_language("en"):
        assert texts("a", n=3) == "3 schools"
    with pytest.raises(ValueError, match="message 'b' has no text in en"):
        Catalogue({"b": {"nl": "x"}})
    with pytest.raises(ValueError, match="placeholders differ"):
        Catalogue({"c": {"nl": "{n} scholen", "en": "{m} schools"}})


def test_every_catalogue_of_the_package_is_complete() -> None:
    """Import every module that defines a catalogue: construction checks each one."""
    import evaluatie.plots.labels
    import evaluatie.reporting
    import evaluatie.studies.innovatiebudget
    import evaluatie.studies.vve
    import evaluatie.workbench.texts

    catalogues = [
        evaluatie.plots.labels.LABELS,
        evaluatie.reporting.interpret.TEXT,
        evaluatie.reporting.compare.TEXT,
        evaluatie.reporting.power.TEXT,
        evaluatie.studies.innovatiebudget.text.SECTIONS,
        evaluatie.studies.vve.text.TEXT,
        evaluatie.studies.vve.text.SECTIONS,
        evaluatie.studies.vve.tables.COLUMNS,
        evaluatie.workbench.texts.TEXT,
    ]
    for catalogue in catalogues:
        for key in catalogue:
            for language in ("nl", "en"):
                with use_language(language):
                    assert catalogue.texts()[key].strip(), (key, language)


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "estimate": [1.23456, -0.5, np.nan],
            "p": [1.5e-10, 0.78, np.nan],
            "n_obs": [15166.0, 3.0, 4580.0],
            "reference": [False, True, False],
            "side": ["gain", "loss", "gain"],
        },
        index=pd.Index([-1, 0, 1], name="rel_time"),
    )


def test_a_table_is_shown_in_the_readers_words_and_numbers() -> None:
    shown = formatted(_table(), labels={"gain": "winst", "side": "kant"})
    assert list(shown.columns) == ["schatting", "p", "waarnemingen", "referentiejaar", "kant"]
    assert shown.index.name == "jaren sinds start" and list(shown.index) == ["\u22121", "0", "1"]
    assert list(shown["schatting"]) == ["1,23", "\u22120,50", "–"]  # no "nan"
    assert list(shown["p"]) == ["<\u00a00,001", "0,78", "–"]
    # a count stored as float: no decimals, and the whole column grouped alike
    assert list(shown["waarnemingen"]) == ["15.166", "3", "4.580"]
    assert list(shown["referentiejaar"]) == ["nee", "ja", "nee"]
    assert list(shown["kant"]) == ["winst", "loss", "winst"]


def test_show_table_displays_html_and_hands_the_values_to_the_exports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[dict[str, object]] = []
    monkeypatch.setattr("IPython.display.display", lambda bundle, raw: shown.append(bundle))
    assert show_table(_table(), name="tabel", title="Titel") is None  # nothing echoed
    bundle = shown[0]
    assert "<b>Titel</b>" in str(bundle["text/html"]) and "15.166" in str(bundle["text/html"])
    payload = bundle[TABLE_MIME]
    assert payload == table_payload(_table(), name="tabel", title="Titel", labels=None)
    assert payload["columns"][0] == "jaren sinds start"
    assert payload["rows"][0][:3] == [-1, 1.23456, 1.5e-10]  # full precision
    assert payload["rows"][2][1] is None  # NaN exported as empty, not as "nan"


def test_exports_write_one_workbook_and_csv_files_reproducibly(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from evaluatie.workbench.exports import write_exports

    tables = [
        table_payload(_table(), name="event study", title="Effect per jaar", labels=None),
        table_payload(_table(), name="event study", title="", labels=None),  # a twin name
    ]
    written = write_exports(tmp_path, "run", tables, language="nl")
    assert [p.name for p in written] == ["run.xlsx", "01_event_study.csv", "02_event_study_2.csv"]
    book = load_workbook(tmp_path / "run.xlsx")
    assert book.sheetnames == ["event study", "event study_2"]
    assert book["event study"]["A1"].value == "Effect per jaar"
    assert [c.value for c in book["event study"][4]][:3] == [-1, 1.23456, 1.5e-10]
    text = (tmp_path / "run_tabellen" / "01_event_study.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][:3] == ["-1", "1,23456", "1,5e-10"] and rows[3][1] == ""
    first = {p.name: p.read_bytes() for p in written}
    again = write_exports(tmp_path, "run", tables, language="nl")
    assert {p.name: p.read_bytes() for p in again} == first  # same bytes on a rerun
    # a rerun without tables leaves no stale exports behind
    assert write_exports(tmp_path, "run", [], language="nl") == []
    assert not (tmp_path / "run.xlsx").exists() and not (tmp_path / "run_tabellen").exists()


def test_the_estimators_frequent_notes_read_in_dutch() -> None:
    """The estimators' own warnings (not copies of their text) become Dutch notes."""
    import warnings

    from evaluatie import att_gt
    from evaluatie.reporting.notes import in_report_language

    rng = np.random.default_rng(4)
    units, years = np.repeat(np.arange(40), 6), np.tile(np.arange(2015, 2021), 40)
    cohort = np.where(np.arange(40) < 10, 2018, 0)[units]
    y = rng.normal(size=units.size)
    y[0] = np.nan  # one missing outcome: a row dropped, and its unit with it
    data = pd.DataFrame({"u": units, "t": years, "g": cohort, "y": y})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        att_gt(data, outcome="y", unit="u", time="t", cohort="g", inference="analytic")
    notes = [in_report_language(str(w.message)) for w in caught]
    assert "1 rij(en) weggelaten met een ontbrekende waarde in 'y'." in notes
    assert any(n.startswith("Het panel is niet gebalanceerd: 1 van de 40 eenheden") for n in notes)
    with use_language("en"):
        assert in_report_language("Dropped 1 row(s) with a missing value in ['y'].").startswith(
            "Dropped"
        )
    assert in_report_language("something new") == "something new"  # unknown: as it is


def test_the_event_study_notes_read_in_dutch() -> None:
    """A wave first treated right after a year without data (2020: no eindtoets) has no
    reference year; the Sun-Abraham event study drops it and says so."""
    import warnings

    from evaluatie import event_study
    from evaluatie.reporting.notes import in_report_language

    rng = np.random.default_rng(4)
    years = [y for y in range(2015, 2024) if y != 2020]
    units, t = np.repeat(np.arange(60), len(years)), np.tile(years, 60)
    cohort = np.select([np.arange(60) < 10, np.arange(60) < 20], [2018, 2021], 0)[units]
    data = pd.DataFrame({"u": units, "t": t, "g": cohort, "y": rng.normal(size=t.size)})
    data["c"] = data["u"] // 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        event_study(data, outcome="y", unit="u", time="t", cohort="g", window=(-3, 3),
                    estimator="sun_abraham", cluster="c", inference="analytic")  # fmt: skip
    notes = [in_report_language(str(w.message)) for w in caught]
    assert "cohort(en) '2021' hebben geen waarneming in de referentieperiode -1" in notes[0]
    assert notes[1].startswith("relatieve perioden [2] hebben geen waarnemingen")


def test_the_imputation_note_reads_in_dutch() -> None:
    """A wave treated from the panel's first year has no untreated year to impute its
    Y(0) from; the imputation event study leaves it out and says so (the innovatiebudget
    report showed this note in English)."""
    import warnings

    from evaluatie import event_study
    from evaluatie.reporting.notes import in_report_language

    rng = np.random.default_rng(5)
    units, t = np.repeat(np.arange(40), 6), np.tile(np.arange(2015, 2021), 40)
    cohort = np.select([np.arange(40) < 3, np.arange(40) < 12], [2015, 2018], 0)[units]
    data = pd.DataFrame({"u": units, "t": t, "g": cohort, "y": rng.normal(size=t.size)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        event_study(data, outcome="y", unit="u", time="t", cohort="g", window=(-2, 2),
                    estimator="imputation", cluster="u", inference="analytic")  # fmt: skip
    notes = [in_report_language(str(w.message)) for w in caught]
    assert (
        "18 behandelde waarnemingen horen bij eenheden of perioden zonder onbehandelde "
        "waarnemingen; hun uitkomst zonder behandeling is niet te schatten en ze zijn "
        "weggelaten."
    ) in notes, notes


def test_a_control_character_in_a_table_does_not_stop_the_workbook(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from evaluatie.workbench.exports import write_exports

    odd = pd.DataFrame({"naam": ["school\x07 A"], "waarde": [1.5]})
    table = table_payload(odd, name="t", title="titel\x00", labels=None)
    write_exports(tmp_path, "run", [table], language="nl")
    sheet = load_workbook(tmp_path / "run.xlsx")["t"]
    assert sheet["A1"].value == "titel" and sheet["A4"].value == "school A"
    csv_text = (tmp_path / "run_tabellen" / "01_t.csv").read_text(encoding="utf-8-sig")
    assert "school\x07 A" in csv_text  # the CSV keeps the text as it was


def test_the_outcome_catalogue_covers_exactly_the_studies_outcomes() -> None:
    from evaluatie.sources.outcomes import OUTCOMES, outcomes_of
    from evaluatie.sources.panel import PANEL_COLUMNS, SHARES
    from evaluatie.sources.vve import VVE_OUTCOMES
    from evaluatie.workbench.params import OUTCOMES as PANEL_PARAMETER

    assert outcomes_of("vve") == tuple(VVE_OUTCOMES)
    assert outcomes_of("panel") == PANEL_PARAMETER
    assert set(PANEL_PARAMETER) <= set(PANEL_COLUMNS)
    for name in PANEL_PARAMETER:  # a share in the file is analysed in percent
        assert OUTCOMES[name].factor == (100.0 if name in SHARES else 1.0), name
        assert (OUTCOMES[name].kind == "percent") == (name in SHARES), name
