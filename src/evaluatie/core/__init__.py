"""The ground floor: the result contract, errors, input checks and atomic file output.

Everything else in evaluatie imports from here; nothing here imports the rest.
"""

from evaluatie.core.errors import (
    DataFormatError,
    DataQualityWarning,
    DesignError,
    EvaluatieError,
    ParameterError,
)
from evaluatie.core.results import (
    Inference,
    Overall,
    RegressionResult,
    Result,
    TestResult,
    call_record,
    inference_table,
)

__all__ = [
    "DataFormatError",
    "DataQualityWarning",
    "DesignError",
    "EvaluatieError",
    "Inference",
    "Overall",
    "ParameterError",
    "RegressionResult",
    "Result",
    "TestResult",
    "call_record",
    "inference_table",
]
