"""Showing generated text and figures in a notebook (and so in its report)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evaluatie.core.language import current_language
from evaluatie.core.memo import reused

#: A notebook's inline backend, whose shown figures are outputs: as a kernel starts
#: with it, and as ``%matplotlib inline`` names it.
INLINE = ("module://matplotlib_inline.backend_inline", "inline")


def show_markdown(text: str) -> None:
    """Display ``text`` as Markdown (a paragraph, or a heading and its paragraph)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_figure(draw: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Show the figure that ``draw(*args, **kwargs)`` makes, as ``plt.show()`` after it would.

    For figures that several reports of a batch draw alike: the VVE report of every
    gemeente shows the same five national figures. ``draw`` must be a module's function
    whose figure depends on its arguments alone (and on the report language and
    matplotlib's settings, which are part of the key); the first report draws it and
    every later one with equal inputs shows the same output (:func:`evaluatie.core.memo.reused`).
    Outside a notebook's inline backend (a script, or a window per figure: ``plt.show()``
    shows it there, so there is no output to keep), or with a figure already open
    (``plt.show()`` would show it too), it draws and shows as the two calls would.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython.display import publish_display_data

    if matplotlib.get_backend() not in INLINE or plt.get_fignums():
        draw(*args, **kwargs)
        plt.show()
        return
    outputs = _figure_outputs(draw, args, kwargs, current_language(), _settings())
    for data, metadata in outputs:
        publish_display_data(data, metadata)


def _settings() -> str:
    """What besides the arguments decides a shown figure's bytes: matplotlib's settings
    and the inline backend's output options."""
    import matplotlib
    from matplotlib_inline.config import InlineBackend

    options = InlineBackend.instance()
    return repr(
        [
            sorted(matplotlib.rcParams.items()),
            sorted(options.figure_formats),
            options.print_figure_kwargs,
        ]
    )


@reused
def _figure_outputs(
    draw: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], language: str,
    settings: str,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:  # fmt: skip
    """What ``draw(*args, **kwargs)`` and ``plt.show()`` display, as (data, metadata) pairs;
    ``language`` and ``settings`` are part of the key only (they are the current ones)."""
    import matplotlib.pyplot as plt
    from IPython.utils.capture import capture_output

    with capture_output(stdout=False, stderr=False, display=True) as captured:
        draw(*args, **kwargs)
        plt.show()
    return [(dict(o.data), dict(o.metadata or {})) for o in captured.outputs]
