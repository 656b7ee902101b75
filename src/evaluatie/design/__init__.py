"""Study designs: analysis samples, treatment timing and exposure."""

from evaluatie.design.sample import select

__all__ = ["select"]
