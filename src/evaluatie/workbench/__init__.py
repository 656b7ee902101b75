"""Running parameterised notebooks: typed parameters, papermill execution, HTML reports."""

from evaluatie.workbench.params import InnovatiebudgetParams, read_params_file, validate

__all__ = ["InnovatiebudgetParams", "read_params_file", "validate"]
