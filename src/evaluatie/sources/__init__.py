"""The publishers' files: DUO and CBS layouts, readers and writers, panel assembly.

Every reader recognises a file by its header, whatever its name, reads the publisher's
conventions (``;``, decimal comma, ``<5`` suppression, gemeente numbers with or without
leading zeros) and names the file, line and column of anything it cannot read
(:class:`~evaluatie.core.errors.DataFormatError`). Layouts are documented in
``FORMATS.md`` beside this file.
"""

from evaluatie.sources.duo import read_duo
from evaluatie.sources.examens import exam_rates, load_exam_rates
from evaluatie.sources.exposure import exposure, exposure_timing
from evaluatie.sources.gemeenten import (
    gemeente_code,
    gemeente_names,
    load_gemeenten,
    name_crosswalk,
)
from evaluatie.sources.layouts import LAYOUTS, Column, Layout, register_layout
from evaluatie.sources.panel import PANEL_COLUMNS, build_panel, load_panel, validate_panel
from evaluatie.sources.sample import balanced, select
from evaluatie.sources.tidy import read_duo_long, read_examens, read_vsv
from evaluatie.sources.vsv import load_vsv_by_type, load_vsv_rates, region_rates
from evaluatie.sources.vve import VVE_OUTCOMES, VveData, gemeente_outcomes, load_vve
from evaluatie.sources.writer import write_duo

__all__ = [
    "LAYOUTS",
    "PANEL_COLUMNS",
    "VVE_OUTCOMES",
    "Column",
    "Layout",
    "VveData",
    "balanced",
    "build_panel",
    "exam_rates",
    "exposure",
    "exposure_timing",
    "gemeente_code",
    "gemeente_names",
    "gemeente_outcomes",
    "load_exam_rates",
    "load_gemeenten",
    "load_panel",
    "load_vsv_by_type",
    "load_vsv_rates",
    "load_vve",
    "name_crosswalk",
    "read_duo",
    "read_duo_long",
    "read_examens",
    "read_vsv",
    "region_rates",
    "register_layout",
    "select",
    "validate_panel",
    "write_duo",
]
