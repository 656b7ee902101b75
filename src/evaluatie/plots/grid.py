"""Small multiples: one panel per group, each with its own scale."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def small_multiples(
    n: int, *, ncols: int = 3, width: float = 4.2, height: float = 3.2
) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels in rows of at most ``ncols`` (the unused cells of the
    last row hidden), and the panels in reading order."""
    cols = min(n, ncols)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(np.ravel(axes))
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]
