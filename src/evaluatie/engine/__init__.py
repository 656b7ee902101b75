"""The numerical engine of the regression estimators: the within transformation
(:mod:`.within`, alternating projections on cell sums) and least squares with absorbed
fixed effects (:mod:`.ols`), whose covariances follow :mod:`evaluatie.inference.vcov`."""
