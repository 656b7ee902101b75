"""The command line itself: version and help."""

from __future__ import annotations

import pytest


def test_version_and_exit_codes_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    from evaluatie import __version__
    from evaluatie.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"evaluatie {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 ok; 1 a notebook failed" in text and "2 bad input" in text
