"""Event studies by relative time: dynamic TWFE and the heterogeneity-robust estimators of
Sun & Abraham (2021), Borusyak, Jaravel & Spiess (2024) and Callaway & Sant'Anna (2021)."""

from .study import ESTIMATORS, event_study

__all__ = ["ESTIMATORS", "event_study"]
