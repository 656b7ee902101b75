"""The workbench's own texts (report header, index, banner), in Dutch and English."""

from __future__ import annotations

from evaluatie.core.language import Catalogue

TEXT = Catalogue(
    {
        "status.ok": {"nl": "voltooid", "en": "completed"},
        "status.failed": {"nl": "mislukt", "en": "failed"},
        "status.label": {"nl": "Status", "en": "Status"},
        "failed.where": {
            "nl": "de cel die faalde is hieronder gemarkeerd",
            "en": "the failing cell is marked below",
        },
        "headline": {"nl": "Kernresultaat", "en": "Headline"},
        "ci.short": {"nl": "95%-BI {low} tot {high}", "en": "95% CI {low} to {high}"},
        "params.file": {"nl": "parameterbestand", "en": "params file"},
        "params.none": {"nl": "(standaardwaarden)", "en": "(defaults)"},
        "params.title": {"nl": "Parameters van deze run", "en": "Parameters of this run"},
        "provenance.title": {"nl": "Herkomst", "en": "Provenance"},
        "provenance.code": {"nl": "evaluatie", "en": "evaluatie"},
        "provenance.notebook": {"nl": "notebook", "en": "notebook"},
        "provenance.data": {"nl": "gegevens", "en": "data"},
        "provenance.files": {"nl": "{n} bestanden (sha256)", "en": "{n} files (sha256)"},
        "provenance.environment": {"nl": "omgeving", "en": "environment"},
        "provenance.cache": {"nl": "cachesleutel", "en": "cache key"},
        "provenance.run": {"nl": "run", "en": "run"},
        "provenance.started": {
            "nl": "gestart {started}, {seconds} s",
            "en": "started {started}, {seconds} s",
        },
        "provenance.record": {"nl": "verslag", "en": "record"},
        "banner.simulated": {
            "nl": "Gesimuleerde gegevens. Deze rapportage rekent op een kunstmatig "
            "panel dat <code>evaluatie simulate</code> maakte ({files}). Namen en "
            "codes van gemeenten zijn echt, de cijfers niet: trek er geen conclusies "
            "over een gemeente uit.",
            "en": "Simulated data. This report is computed on an artificial panel made by "
            "<code>evaluatie simulate</code> ({files}). Gemeente names and codes are "
            "real, the numbers are not: draw no conclusion about any gemeente from them.",
        },
        "banner.files": {
            "nl": "{n} van de {total} invoerbestanden",
            "en": "{n} of {total} input files",
        },
        "index.title": {"nl": "evaluatie-rapportages", "en": "evaluatie reports"},
        "index.count": {
            "nl": "{runs} runs, waarvan {failed} mislukt.",
            "en": "{runs} runs, {failed} failed.",
        },
        "index.banner": {
            "nl": "{n} van de {runs} rapportages rekenen op gesimuleerde gegevens "
            "(gemarkeerd): de cijfers daarin gaan over geen echte gemeente.",
            "en": "{n} of {runs} reports are computed on simulated data (marked): their "
            "numbers are about no real gemeente.",
        },
        "index.simulated": {"nl": "gesimuleerd", "en": "simulated"},
        "index.col.report": {"nl": "Rapportage", "en": "Report"},
        "index.col.notebook": {"nl": "Notebook", "en": "Notebook"},
        "index.col.params": {
            "nl": "Parameters (afwijkend van standaard)",
            "en": "Parameters (non-default)",
        },
        "index.col.headline": {"nl": "Kernresultaat (95%-BI)", "en": "Headline (95% CI)"},
        "index.col.status": {"nl": "Status", "en": "Status"},
        "index.col.duration": {"nl": "Duur", "en": "Duration"},
        "index.col.started": {"nl": "Gestart", "en": "Started"},
        "index.col.code": {"nl": "Code", "en": "Code"},
        "exports": {"nl": "Tabellen", "en": "Tables"},
        "published": {"nl": "Kernresultaat van deze rapportage", "en": "This report's headline"},
    }
)
