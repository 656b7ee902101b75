"""How uncertainty is measured: standard-error conventions for regressions
(:mod:`.vcov`), inference from influence functions with the multiplier bootstrap
(:mod:`.influence`) and joint Wald tests (:mod:`.wald`)."""

from evaluatie.inference.influence import BOOT_WEIGHTS, IFInference
from evaluatie.inference.vcov import CONVENTIONS, Convention, get_convention, sandwich_vcov
from evaluatie.inference.wald import wald_test

__all__ = [
    "BOOT_WEIGHTS",
    "CONVENTIONS",
    "Convention",
    "IFInference",
    "get_convention",
    "sandwich_vcov",
    "wald_test",
]
