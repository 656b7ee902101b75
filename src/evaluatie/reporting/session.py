"""Return a reused Jupyter kernel to the state of a fresh one, imports kept.

A batch runs many notebooks on one kernel per worker (:mod:`evaluatie.workbench.kernel`)
so that each report does not pay the kernel start and the imports again. Before each
notebook the kernel runs :func:`fresh_session`, which undoes what a report may have
changed: the user namespace, the input and output history and the execution counter
(IPython's reset with a new session), the warning filters and the hook
:func:`evaluatie.reporting.warnings_as_notes` installs (and with them which warnings
were already shown), the report language, open figures and matplotlib's settings.
Imported modules stay: that is the point. Whether anything else leaks is tested by
comparing every report run on a reused kernel with the same report run on a fresh one.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, cast

from evaluatie.core.language import DEFAULT_LANGUAGE, set_language

#: What the first call found, before any notebook ran: the state later calls restore.
_baseline: dict[str, Any] = {}


def fresh_session() -> None:
    """Reset this kernel's session state; the first call records the state to reset to."""
    if not _baseline:
        _baseline["filters"] = list(warnings.filters)
        _baseline["showwarning"] = warnings.showwarning
    warnings.resetwarnings()  # also forgets which warnings were shown ("default" action)
    filters = cast(list[Any], warnings.filters)  # typeshed says Sequence; it is the list
    filters[:] = _baseline["filters"]
    warnings.showwarning = _baseline["showwarning"]
    set_language(DEFAULT_LANGUAGE)
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib
        import matplotlib.pyplot as plt

        plt.close("all")  # figure numbers start at 1 again
        matplotlib.rc_file_defaults()  # the rc file's settings; the backend is kept
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - a kernel always has IPython
        return
    shell = get_ipython()
    if shell is not None:
        shell.reset(new_session=True)  # namespace, In/Out history, execution count 1
