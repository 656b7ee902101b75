"""Running parameterised notebooks: typed parameters, papermill execution, HTML reports.

Modules: :mod:`~evaluatie.workbench.params` (typed parameters and their data checks in
:mod:`~evaluatie.workbench.datacheck`), :mod:`~evaluatie.workbench.sweep` (matrix
files), :mod:`~evaluatie.workbench.run` (one run), :mod:`~evaluatie.workbench.batch`
(many runs, local processes or Dask), :mod:`~evaluatie.workbench.provenance` (run
records and the cache), :mod:`~evaluatie.workbench.headline` (`publish`: a notebook's headline),
:mod:`~evaluatie.workbench.index` (``reports/index.html``) and
:mod:`~evaluatie.workbench.lab` (JupyterLab).
"""

from evaluatie.workbench.headline import publish
from evaluatie.workbench.params import (
    DoorstroomParams,
    GemeenteParams,
    InnovatiebudgetParams,
    SchooluitvalParams,
    VveBudgetParams,
    read_params_file,
    validate,
)

__all__ = [
    "DoorstroomParams",
    "GemeenteParams",
    "InnovatiebudgetParams",
    "SchooluitvalParams",
    "VveBudgetParams",
    "publish",
    "read_params_file",
    "validate",
]
