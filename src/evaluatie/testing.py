"""Helpers for checking evaluatie against peer implementations, shared by tests/ and bench/.

Nothing in evaluatie imports this module, and it imports no peer package until called.

moderndid 0.2's ``cont_did`` filters its float cohort column with
``is_in(np.arange(...))``, which polars >= 2 rejects for int64; :func:`moderndid_polars_compat`
gives that one moderndid module a float ``arange`` for the duration of a call. Nothing
in site-packages is changed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np


class _FloatArange:
    """numpy, except that ``arange`` returns floats."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def arange(*args: Any, **kwargs: Any) -> np.ndarray:
        return np.arange(*args, **kwargs).astype(float)


@contextlib.contextmanager
def moderndid_polars_compat() -> Iterator[None]:
    """Run moderndid's continuous DiD with the float ``arange`` patch in place."""
    from moderndid.didcont.estimation import process_panel

    old = process_panel.np
    process_panel.np = _FloatArange()
    try:
        yield
    finally:
        process_panel.np = old
