"""The numerical engine of the regression estimators: the within transformation
(:mod:`.within`, alternating projections on cell sums) and least squares with absorbed
fixed effects (:mod:`.ols`), whose covariances follow :mod:`evaluatie.inference.vcov`."""

from evaluatie.engine.ols import AbsorbedFit, fit_absorbed_ols
from evaluatie.engine.within import FixedEffects, factorize

__all__ = ["AbsorbedFit", "FixedEffects", "factorize", "fit_absorbed_ols"]
