"""How uncertainty is measured: standard-error conventions for regressions
(:mod:`.vcov`), inference from influence functions with the multiplier bootstrap
(:mod:`.influence`) and joint Wald tests (:mod:`.wald`)."""
