"""show_figure: the same output as drawing and ``plt.show()``, drawn once for equal inputs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

from evaluatie.reporting import show_figure

# A module-level drawing function (show_figure keys on its name), in a file of its own
# so that the IPython session below can import it.
FIGURES = """
import matplotlib.pyplot as plt
from evaluatie.core.language import current_language

calls = []


def draw(level, *, label="a"):
    calls.append(level)
    _, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, level], label=f"{label} {current_language()}")
    ax.legend()
"""

# An IPython shell with the inline backend, as in a report's kernel (a subprocess: the
# shell is a process-wide singleton), recording what is displayed.
SESSION = """
import json
import sys

import matplotlib.pyplot as plt
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

import figures
from evaluatie.reporting import set_language, show_figure


class Shell(InteractiveShell):
    def enable_gui(self, gui=None):  # no event loop: the inline backend needs none
        pass


shell = Shell.instance()
shell.enable_matplotlib("inline")
shell.display_pub = CapturingDisplayPublisher()
steps = {}


def step(name, action):
    before, drawn = len(shell.display_pub.outputs), len(figures.calls)
    action()
    shown = shell.display_pub.outputs[before:]
    steps[name] = {
        "drawn": len(figures.calls) - drawn,
        "shown": [{"data": o["data"], "metadata": o["metadata"] or {}} for o in shown],
    }


def plain():
    figures.draw(1.0)
    plt.show()


def open_figure_first():
    plt.subplots()
    show_figure(figures.draw, 1.0)


step("plain", plain)
step("first", lambda: show_figure(figures.draw, 1.0))
step("again", lambda: show_figure(figures.draw, 1.0))
step("other_argument", lambda: show_figure(figures.draw, 2.0))
step("other_keyword", lambda: show_figure(figures.draw, 1.0, label="b"))
set_language("en")
step("english", lambda: show_figure(figures.draw, 1.0))
set_language("nl")
plt.rcParams["lines.linewidth"] = 3.0
step("other_settings", lambda: show_figure(figures.draw, 1.0))
step("open_figure", open_figure_first)
json.dump(steps, sys.stdout)
"""


def _session(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "figures.py").write_text(textwrap.dedent(FIGURES))
    (tmp_path / "session.py").write_text(textwrap.dedent(SESSION))
    done = subprocess.run(
        [sys.executable, "session.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr  # the session's traceback, not just its exit code
    return dict(json.loads(done.stdout))


def test_show_figure_shows_what_plt_show_would_and_draws_equal_inputs_once(
    tmp_path: Path,
) -> None:
    steps = _session(tmp_path)
    plain = steps["plain"]["shown"]
    assert len(plain) == 1 and "image/png" in plain[0]["data"]
    # the first call draws and shows exactly what the two calls show
    assert steps["first"] == {"drawn": 1, "shown": plain}
    # equal inputs: nothing drawn, the same output
    assert steps["again"] == {"drawn": 0, "shown": plain}
    # anything that changes the figure is part of the key
    for name in ("other_argument", "other_keyword", "english", "other_settings"):
        assert steps[name]["drawn"] == 1, name
        assert steps[name]["shown"] != plain, name
    # a figure already open is shown with it, as plt.show() would: drawn, not looked up
    assert steps["open_figure"]["drawn"] == 1
    assert len(steps["open_figure"]["shown"]) == 2


_CALLS: list[float] = []


def _draw(level: float) -> None:
    import matplotlib.pyplot as plt

    _CALLS.append(level)
    plt.subplots()


def test_with_another_backend_show_figure_draws_every_time() -> None:
    # a script, or IPython with windows: plt.show() shows the figure there, no output is
    # kept, so each call draws (a kept empty output would show nothing the second time)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for _ in range(2):
        show_figure(_draw, 1.0)
        plt.close("all")  # Agg's show leaves it open, which alone would skip the lookup
    assert _CALLS == [1.0, 1.0]
