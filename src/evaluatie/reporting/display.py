"""Showing generated text in a notebook (and so in its report)."""

from __future__ import annotations


def show_markdown(text: str) -> None:
    """Display ``text`` as Markdown (a paragraph, or a heading and its paragraph)."""
    from IPython.display import Markdown, display

    display(Markdown(text))
