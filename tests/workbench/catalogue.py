"""The bad-input catalogue: every way a user can get a run wrong, built from simulated data.

Each :class:`Case` starts from a pristine simulated raw-data folder (scale 0.1), breaks
one thing (a data file, the params file, a CLI option, the environment) and says what
the user must see: the exit status, the words that locate the problem (file, line,
column or parameter) and, for the few inputs that are used with a warning rather than
refused, the warning. ``test_catalogue.py`` runs them all through the real CLI;
``python tests/workbench/catalogue.py`` prints the table for a closing note.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Mutation = Callable[[Path], None]

#: The school year the file edits below touch (any year of the simulated panel would do).
YEAR = "2016-2017"


def _file(raw: Path, prefix: str) -> Path:
    matches = sorted(raw.glob(f"{prefix}*"))
    assert matches, f"no {prefix}* in {raw}"
    return matches[0]


def eindscores(raw: Path, year: str = YEAR) -> Path:
    return _file(raw, f"05.-gemiddelde-eindscores-bo-sbo-{year}")


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8", newline="")


def set_field(path: Path, line: int, column: str, value: str) -> None:
    """Replace one field (1-based ``line``, header name ``column``) keeping the file as is."""
    lines = read_lines(path)
    header = [h.strip('"') for h in lines[0].rstrip("\r\n").split(";")]
    at = header.index(column)
    end = lines[line - 1][len(lines[line - 1].rstrip("\r\n")) :]
    fields = lines[line - 1].rstrip("\r\n").split(";")
    fields[at] = value
    lines[line - 1] = ";".join(fields) + end
    write_lines(path, lines)


def map_column(path: Path, column: str, value: Callable[[str], str]) -> None:
    """Apply ``value`` to one column on every data line."""
    lines = read_lines(path)
    header = [h.strip('"') for h in lines[0].rstrip("\r\n").split(";")]
    at = header.index(column)
    for i in range(1, len(lines)):
        body = lines[i].rstrip("\r\n")
        if not body:
            continue
        fields = body.split(";")
        fields[at] = value(fields[at])
        lines[i] = ";".join(fields) + lines[i][len(body) :]
    write_lines(path, lines)


# -- data-file mutations ---------------------------------------------------------------


def truncate_last_line(raw: Path) -> None:
    path = eindscores(raw)
    data = path.read_bytes().rstrip(b"\r\n")
    last = data.rfind(b"\n")
    path.write_bytes(data[: last + 1 + (len(data) - last) // 2])


def duplicate_row(raw: Path) -> None:
    path = eindscores(raw)
    lines = read_lines(path)
    write_lines(path, [*lines, lines[5]])


def all_missing_outcome(raw: Path) -> None:
    for path in sorted(raw.glob("05.-gemiddelde-eindscores-*")):
        if "CET_GEM" in read_lines(path)[0]:
            map_column(path, "CET_GEM", lambda _: "NA")


def non_numeric_score(raw: Path) -> None:
    set_field(eindscores(raw), 8, "CET_GEM", "abc")


def suppressed_score(raw: Path) -> None:
    set_field(eindscores(raw), 8, "CET_GEM", '"<5"')


def thousands_separator(raw: Path) -> None:
    set_field(eindscores(raw), 8, "CET_GEM", "1.534,5")


def ragged_row(raw: Path) -> None:
    path = eindscores(raw)
    lines = read_lines(path)
    lines[9] = lines[9].replace(";", ";;", 1)  # one field too many
    write_lines(path, lines)


def gemeentenummer_text(raw: Path) -> None:
    set_field(eindscores(raw), 8, "GEMEENTENUMMER", '"Leiden"')


def subsidies(raw: Path) -> Path:
    return raw / "innovatiebudget-subsidies.csv"


def grants_for_every_school(raw: Path) -> None:
    """Every vestiging gets a grant: no never-treated comparison schools."""
    schools: dict[str, None] = {}
    for path in sorted(raw.glob("05.-gemiddelde-eindscores-*")):
        lines = read_lines(path)
        header = [h.strip('"') for h in lines[0].rstrip("\r\n").split(";")]
        inst, vest = header.index("INSTELLINGSCODE"), header.index("VESTIGINGSCODE")
        for line in lines[1:]:
            f = line.rstrip("\r\n").split(";")
            schools[f"{f[inst]};{f[vest]}"] = None
    rows = ['"INSTELLINGSCODE";"VESTIGINGSCODE";"EERSTE_SCHOOLJAAR";"BEDRAG"\r\n']
    rows += [f'{school};"2018-2019";20000\r\n' for school in schools]
    write_lines(subsidies(raw), rows)


def grants_in_first_year(raw: Path) -> None:
    """Every grant starts in the panel's first school year: no pre-period to compare."""
    map_column(subsidies(raw), "EERSTE_SCHOOLJAAR", lambda _: '"2013-2014"')


def grants_before_the_data(raw: Path) -> None:
    """Every grant starts before the first school year with data."""
    map_column(subsidies(raw), "EERSTE_SCHOOLJAAR", lambda _: '"2010-2011"')


def subsidies_header_only(raw: Path) -> None:
    write_lines(subsidies(raw), read_lines(subsidies(raw))[:1])


def no_subsidies(raw: Path) -> None:
    subsidies(raw).unlink()


def negative_bedrag(raw: Path) -> None:
    set_field(subsidies(raw), 3, "BEDRAG", "-16500")


def duplicate_grant(raw: Path) -> None:
    lines = read_lines(subsidies(raw))
    write_lines(subsidies(raw), [*lines, lines[2]])


def single_school(raw: Path) -> None:
    """The eindscores files keep one school: one with a CET mean in every file that has one."""
    files = sorted(raw.glob("05.-gemiddelde-eindscores-*"))
    tables = [read_lines(path) for path in files]

    def school(line: str) -> str:
        return ";".join(line.split(";")[2:4])  # INSTELLINGSCODE;VESTIGINGSCODE

    def scored(lines: list[str]) -> set[str]:
        header = [h.strip('"') for h in lines[0].rstrip("\r\n").split(";")]
        if "CET_GEM" not in header:
            return {school(line) for line in lines[1:]}
        at = header.index("CET_GEM")
        return {
            school(line) for line in lines[1:] if line.split(";")[at].strip('"') not in ("NA", "0")
        }

    keep = min(set.intersection(*(scored(t) for t in tables)))
    for path, lines in zip(files, tables, strict=True):
        write_lines(path, [lines[0], *(line for line in lines[1:] if school(line) == keep)])


def eindscores_1990(raw: Path) -> None:
    """A stray file for 1990-91 (peildatum and name), beside the real years."""
    source = eindscores(raw)
    text = source.read_text(encoding="utf-8")
    text = text.replace('"20161001"', '"19901001"').replace('"20170601"', '"19910601"')
    (raw / "05.-gemiddelde-eindscores-bo-sbo-1990-1991.csv").write_text(
        text, encoding="utf-8", newline=""
    )


def directory_as_eindscores(raw: Path) -> None:
    path = eindscores(raw)
    path.unlink()
    path.mkdir()


def xlsx_in_raw(raw: Path) -> None:
    (raw / "05.-gemiddelde-eindscores-bo-sbo-2024-2025.xlsx").write_bytes(b"PK\x03\x04 not csv")


def empty_raw(raw: Path) -> None:
    for path in raw.iterdir():
        path.unlink()


def comma_separated(raw: Path) -> None:
    path = eindscores(raw)
    path.write_text(path.read_text(encoding="utf-8").replace(";", ","), encoding="utf-8")


def utf16(raw: Path) -> None:
    path = eindscores(raw)
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def empty_file(raw: Path) -> None:
    eindscores(raw).write_bytes(b"")


def unknown_header(raw: Path) -> None:
    path = eindscores(raw)
    lines = read_lines(path)
    lines[0] = lines[0].replace('"CET_GEM"', '"CET_GEMIDDELDE"')
    write_lines(path, lines)


def unrelated_csv(raw: Path) -> None:
    (raw / "notities.csv").write_text("wat;wanneer\nbellen;maandag\n", encoding="utf-8")


def vve_budget_negative(raw: Path) -> None:
    set_field(raw / "oab-budget-gemeenten.csv", 5, "BUDGET_EUR", "-16500")


def vve_outcome_text(raw: Path) -> None:
    set_field(raw / "vve-uitkomsten-bo.csv", 6, "KLEUTERVERLENGING", '"veel"')


def vve_no_budget(raw: Path) -> None:
    (raw / "oab-budget-gemeenten.csv").unlink()


def vve_budget_truncated(raw: Path) -> None:
    path = raw / "oab-budget-gemeenten.csv"
    data = path.read_bytes().rstrip(b"\r\n")
    path.write_bytes(data[: len(data) - 12])


def vve_duplicate_budget_row(raw: Path) -> None:
    path = raw / "oab-budget-gemeenten.csv"
    lines = read_lines(path)
    write_lines(path, [*lines, lines[3]])


@dataclass(frozen=True)
class Case:
    """One bad input and what the user must be told.

    ``params`` is the params file's text (``{raw}`` is replaced by the raw folder);
    ``argv`` the CLI arguments after ``evaluatie`` (``{params}``, ``{reports}``,
    ``{raw}`` and ``{tmp}`` replaced). ``expect`` are fragments that must all appear in
    stderr (case-insensitive, whitespace-normalised): in the one ``error:`` message, or
    for an ``accepted`` input (used, with a warning) in a ``warning:`` line.
    """

    name: str
    what: str
    expect: tuple[str, ...]
    mutate: Mutation | None = None
    params: str = "notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}\n"
    argv: tuple[str, ...] = ("run", "{params}", "--reports", "{reports}")
    accepted: bool = False
    read_only_reports: bool = False

    @property
    def exit(self) -> int:
        """The exit status: 0 when the input is used (the notebook runs), else 2."""
        return 0 if self.accepted else 2


VVE = "notebook: vve_budget\nparameters:\n  raw_dir: {raw}\n"

CASES: tuple[Case, ...] = (
    # -- data files, innovatiebudget study (defaults only: they must be checked too)
    Case(
        "truncated-last-line",
        "an eindscores file whose last line is cut off",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line ", "truncated"),
        truncate_last_line,
    ),
    Case(
        "duplicate-row",
        "a school listed twice in one eindscores file",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line ", "duplicate vestiging", "first on line 6"),
        duplicate_row,
    ),
    Case(
        "all-missing-outcome",
        "CET_GEM is NA in every eindscores file",
        ("outcome", "eindtoets", "no values"),
        all_missing_outcome,
    ),
    Case(
        "non-numeric-score",
        "CET_GEM 'abc' on line 8",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line 8", "CET_GEM", "'abc'"),
        non_numeric_score,
    ),
    Case(
        "suppressed-score",
        "CET_GEM '<5' (a count code in an average)",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line 8", "CET_GEM", "<5"),
        suppressed_score,
    ),
    Case(
        "thousands-separator",
        "CET_GEM '1.534,5'",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line 8", "CET_GEM", "1.534,5"),
        thousands_separator,
    ),
    Case(
        "ragged-row",
        "a line with one field too many",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line 10", "fields"),
        ragged_row,
    ),
    Case(
        "gemeentenummer-text",
        "GEMEENTENUMMER 'Leiden' on line 8",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line 8", "GEMEENTENUMMER", "Leiden"),
        gemeentenummer_text,
    ),
    Case(
        "no-never-treated",
        "every school has a grant",
        ("never", "innovatiebudget-subsidies.csv"),
        grants_for_every_school,
    ),
    Case(
        "all-treated-first-year",
        "every grant starts in the first school year of the data",
        ("first_year", "before"),
        grants_in_first_year,
    ),
    Case(
        "grants-before-data",
        "every grant starts before the data do",
        ("first_year", "before"),
        grants_before_the_data,
    ),
    Case(
        "single-school",
        "the eindscores files hold one school",
        ("1 school",),
        single_school,
    ),
    Case(
        "eindscores-1990",
        "an extra eindscores file for 1990-91",
        ("1990-1991.csv", "1990"),
        eindscores_1990,
    ),
    Case(
        "subsidies-header-only",
        "the grant table has a header and no rows",
        ("innovatiebudget-subsidies.csv", "no rows"),
        subsidies_header_only,
    ),
    Case(
        "no-subsidies-file",
        "no grant table in the folder",
        ("grant table", "innovatiebudget-subsidies.csv"),
        no_subsidies,
    ),
    Case(
        "negative-bedrag",
        "BEDRAG -16500 on line 3",
        ("innovatiebudget-subsidies.csv", "line 3", "BEDRAG", "-16500"),
        negative_bedrag,
    ),
    Case(
        "duplicate-grant",
        "one school with two grant rows",
        ("innovatiebudget-subsidies.csv", "line ", "duplicate vestiging", "first on line 3"),
        duplicate_grant,
    ),
    Case(
        "directory-as-file",
        "a folder where an eindscores file should be",
        (f"eindscores-bo-sbo-{YEAR}.csv", "folder"),
        directory_as_eindscores,
    ),
    Case(
        "comma-separated",
        "an eindscores file saved with ',' as separator",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line 1", "','"),
        comma_separated,
    ),
    Case(
        "utf-16",
        "an eindscores file saved as UTF-16",
        (f"eindscores-bo-sbo-{YEAR}.csv", "UTF-16", "UTF-8"),
        utf16,
    ),
    Case(
        "empty-file",
        "an empty eindscores file",
        (f"eindscores-bo-sbo-{YEAR}.csv", "empty"),
        empty_file,
    ),
    Case(
        "unknown-header",
        "a column renamed in an eindscores file's header",
        (f"eindscores-bo-sbo-{YEAR}.csv", "line 1", "CET_GEMIDDELDE"),
        unknown_header,
    ),
    Case(
        "unrelated-csv",
        "a CSV of notes in the raw folder",
        ("notities.csv", "skipped"),
        unrelated_csv,
        accepted=True,
    ),
    Case(
        "xlsx-in-raw",
        "an Excel file in the raw folder",
        ("2024-2025.xlsx", "not read"),
        xlsx_in_raw,
        accepted=True,
    ),
    Case(
        "empty-raw",
        "an empty raw-data folder",
        ("no eindscores file", "evaluatie simulate"),
        empty_raw,
    ),
    # -- data files, VVE study
    Case(
        "vve-negative-budget",
        "BUDGET_EUR -16500 in the OAB budget table",
        ("oab-budget-gemeenten.csv", "line 5", "BUDGET_EUR", "-16500"),
        vve_budget_negative,
        params=VVE,
    ),
    Case(
        "vve-outcome-text",
        "KLEUTERVERLENGING 'veel' in the VVE outcome table",
        ("vve-uitkomsten-bo.csv", "line 6", "KLEUTERVERLENGING", "veel"),
        vve_outcome_text,
        params=VVE,
    ),
    Case(
        "vve-no-budget",
        "no OAB budget table",
        ("oab-budget", "no OAB/VVE budget table"),
        vve_no_budget,
        params=VVE,
    ),
    Case(
        "vve-budget-truncated",
        "OAB budget table cut off mid-line",
        ("oab-budget-gemeenten.csv", "line ", "truncated"),
        vve_budget_truncated,
        params=VVE,
    ),
    Case(
        "vve-duplicate-budget",
        "a gemeente-year twice in the OAB budget table",
        ("oab-budget-gemeenten.csv", "line ", "duplicate gemeente_code/jaar", "first on line 4"),
        vve_duplicate_budget_row,
        params=VVE,
    ),
    Case(
        "vve-empty-raw",
        "an empty raw-data folder, VVE study",
        ("vve-uitkomsten", "oab-budget", "evaluatie simulate"),
        empty_raw,
        params=VVE,
    ),
    Case(
        "vve-band-too-narrow",
        "comparison_band so narrow no gemeente is a comparison",
        ("comparison_band", "widen"),
        params=VVE + "  comparison_band: 0.001\n",
    ),
    # -- params files
    Case(
        "params-unknown-notebook",
        "a notebook name with a typo",
        ("run.yaml", "innovatiebudgt", "did you mean 'innovatiebudget'"),
        params="notebook: innovatiebudgt\nparameters:\n  raw_dir: {raw}\n",
    ),
    Case(
        "params-not-a-mapping",
        "parameters given as a list",
        ("'parameters' must be a mapping",),
        params="notebook: innovatiebudget\nparameters: [raw_dir, {raw}]\n",
    ),
    Case(
        "params-years-reversed",
        "first_year after last_year",
        ("first_year (2020) must be before last_year (2016)",),
        params="notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}\n"
        "  first_year: 2020\n  last_year: 2016\n",
    ),
    Case(
        "params-language-unknown",
        "language: de (reports are nl or en)",
        ("language", "'nl' or 'en'", "got de"),
        params="notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}\n  language: de\n",
    ),
    Case(
        "params-latin1",
        "a params file saved as latin-1",
        ("run.yaml", "UTF-8"),
        params='notebook: innovatiebudget\nparameters:\n  title: "Caf\xe9"\n  raw_dir: {raw}\n',
    ),
    Case(
        "params-duplicate-key",
        "the key 'outcome' twice",
        ("run.yaml", "outcome", "twice"),
        params="notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}\n"
        "  outcome: eindtoets\n  outcome: lezen_2f\n",
    ),
    Case(
        "params-year-outside-data",
        "last_year 2030",
        ("last_year", "2030"),
        params="notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}\n  last_year: 2030\n",
    ),
    Case(
        "params-gemeente-absent",
        "a gemeente code that is not in the data",
        ("gemeenten", "GM9999"),
        params="notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}\n"
        "  gemeenten: [GM0546, GM9999]\n",
    ),
    Case(
        "params-gemeente-without-grants",
        "gemeenten whose schools have no grant",
        ("gemeenten", "grant"),
        params="notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}\n"
        "  gemeenten: [{ungranted}]\n",
    ),
    Case(
        "params-raw-missing",
        "raw_dir that does not exist",
        ("raw_dir", "does-not-exist"),
        params="notebook: innovatiebudget\nparameters:\n  raw_dir: {raw}/does-not-exist\n",
    ),
    Case(
        "params-missing-file",
        "a params file that does not exist",
        ("nope.yaml", "does not exist"),
        argv=("run", "{tmp}/nope.yaml", "--reports", "{reports}"),
    ),
    Case(
        "params-not-yaml",
        "a params file that is not YAML",
        ("run.yaml", "YAML"),
        params="notebook: innovatiebudget\nparameters: [\n",
    ),
    # -- CLI options and environment
    Case(
        "simulate-out-is-file",
        "simulate --out names an existing file",
        ("--out", "is a file"),
        argv=("simulate", "--out", "{params}", "--scale", "0.1"),
    ),
    Case(
        "reports-is-file",
        "run --reports names an existing file",
        ("--reports", "is a file"),
        argv=("run", "{params}", "--reports", "{params}"),
    ),
    Case(
        "reports-read-only",
        "the reports folder cannot be written",
        ("reports", "cannot write"),
        read_only_reports=True,
    ),
    Case(
        "simulate-negative-seed",
        "simulate --seed -1",
        ("--seed", "-1"),
        argv=("simulate", "--out", "{tmp}/sim", "--seed", "-1"),
    ),
    Case(
        "all-negative-seed",
        "all --seed -1 where the data must be simulated",
        ("--seed", "-1"),
        argv=("all", "--raw", "{tmp}/fresh", "--params-dir", "{tmp}", "--seed", "-1"),
    ),
    Case(
        "all-no-params",
        "all with a params folder without params files",
        ("no params files", "none"),
        argv=("all", "--raw", "{tmp}/fresh", "--params-dir", "{tmp}/none"),
    ),
    Case(
        "index-reports-is-file",
        "index --reports names an existing file",
        ("--reports", "is a file"),
        argv=("index", "--reports", "{params}"),
    ),
    Case(
        "jobs-zero",
        "-j 0",
        ("--jobs", "at least 1"),
        argv=("run", "{params}", "--reports", "{reports}", "-j", "0"),
    ),
    Case(
        "pupils-negative",
        "simulate --pupils -1",
        ("--pupils",),
        argv=("simulate", "--out", "{tmp}/sim", "--pupils", "-1"),
    ),
)


def params_text(case: Case, raw: Path, ungranted: str = "GM0000") -> str:
    return case.params.replace("{raw}", str(raw)).replace("{ungranted}", ungranted)


def argv_for(case: Case, *, params: Path, reports: Path, raw: Path, tmp: Path) -> list[str]:
    subs = {"{params}": params, "{reports}": reports, "{raw}": raw, "{tmp}": tmp}
    out = []
    for arg in case.argv:
        for key, value in subs.items():
            arg = arg.replace(key, str(value))
        out.append(arg)
    return out


def prepare(case: Case, pristine: Path, tmp: Path) -> tuple[Path, Path, Path]:
    """The case's raw folder, params file and reports folder under ``tmp``."""
    raw = tmp / "raw"
    shutil.copytree(pristine, raw)
    if case.mutate is not None:
        case.mutate(raw)
    params = tmp / "run.yaml"
    params.write_bytes(params_text(case, raw, ungranted_gemeenten(pristine)).encode("latin-1"))
    reports = tmp / "reports"
    if case.read_only_reports:
        reports = read_only_folder(reports)
    return raw, params, reports


def read_only_folder(path: Path) -> Path:
    """A folder nobody can write to: ``path`` made read-only, or (as root, who may write
    anywhere) a path on the kernel's read-only ``/sys``. Skips if neither exists."""
    import os

    import pytest

    if os.geteuid() != 0:
        path.mkdir(parents=True)
        path.chmod(0o555)
        return path
    target = Path("/sys/evaluatie-reports")
    try:
        target.mkdir()
    except OSError:
        return target
    target.rmdir()
    pytest.skip("running as root with a writable /sys: no folder is read-only to this user")


def ungranted_gemeenten(raw: Path) -> str:
    """Two gemeenten in the data none of whose schools has a grant, as a YAML list body."""
    from evaluatie.sources import load_panel

    panel = load_panel(raw)
    granted = panel.groupby("gemeente_code")["cohort"].max()
    return ", ".join(granted[granted.eq(0)].index[:2])


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()
