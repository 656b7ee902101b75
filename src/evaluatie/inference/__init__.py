"""How uncertainty is measured: standard-error conventions for regressions
(:mod:`.vcov`), inference from influence functions with the multiplier bootstrap
(:mod:`.influence`), joint Wald tests (:mod:`.wald`), the wild cluster bootstrap
(:mod:`.wild`), randomization inference (:mod:`.randomization`) and the rule that
chooses between them (:mod:`.choice`)."""

from evaluatie.inference.choice import Choice, choose
from evaluatie.inference.influence import BOOT_WEIGHTS, IFInference
from evaluatie.inference.randomization import Randomization
from evaluatie.inference.vcov import CONVENTIONS, Convention, get_convention, sandwich_vcov
from evaluatie.inference.wald import wald_test
from evaluatie.inference.wild import WildBootstrap

__all__ = [
    "BOOT_WEIGHTS",
    "CONVENTIONS",
    "Choice",
    "Convention",
    "IFInference",
    "Randomization",
    "WildBootstrap",
    "choose",
    "get_convention",
    "sandwich_vcov",
    "wald_test",
]
