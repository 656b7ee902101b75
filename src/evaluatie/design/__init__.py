"""Study designs: analysis samples, treatment timing and exposure."""

from evaluatie.design.sample import balanced, select

__all__ = ["balanced", "select"]
