# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
# Parameters: names, types, defaults and help are declared once, in
# evaluatie.workbench.params.VveBudgetParams (`evaluatie params vve_budget`).
# papermill replaces this dict; empty means the defaults.
parameters = {}

# %%
# The report's prose lives in evaluatie.studies.vve.text (Dutch and English); each
# `vve.text.section(...)` below shows one section in p.language.
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import evaluatie as ev
from evaluatie.studies import vve
from evaluatie.workbench import VveBudgetParams

# %%
p = VveBudgetParams(**parameters)
ev.reporting.set_language(p.language)
ev.reporting.warnings_as_notes()
say = vve.text.section
labels = vve.tables.COLUMNS.texts()  # the study's column names as a reader sees them
data = ev.load_vve(p.raw_dir)
names = ev.sources.gemeente_names()
studies = {o: ev.vve_study(data, outcome=o, comparison_band=p.comparison_band) for o in p.outcomes}
outcomes = {o: ev.sources.VVE_OUTCOMES[o] for o in p.outcomes}  # label, unit, weight
say("intro")
for s in studies.values():
    if note := vve.text.dropped_sentence(s):
        say("data_note", note=note)

# %%
say("redistribution")
doses = next(iter(studies.values())).doses
# The national figures are the same in every gemeente's report: drawn once per batch.
ev.reporting.show_figure(
    vve.plots.budget_change_plot, doses, p.marked, names, comparison_band=p.comparison_band
)
display(Markdown(vve.text.redistribution_sentence(doses)))
shown = list(dict.fromkeys([*p.marked, *(p.gemeenten or [])]))
ev.reporting.show_table(
    vve.tables.dose_table(doses, shown, names),
    name="budget_en_dosis",
    labels=labels,
    digits=vve.tables.DOSE_DIGITS,
)

# %%
say("timing")
timing = vve.tables.study_timing_table(studies)
ev.reporting.show_table(timing, name="timing", labels=labels)
display(Markdown("\n\n".join(vve.text.timing_sentences(timing))))

# %%
say("exposure")
for o, s in studies.items():
    say("exposure.outcome", label=outcomes[o].label, groep=s.timing.groep, reference=s.reference)
    ev.reporting.show_table(
        vve.tables.exposure_table(s.schools, shown, names), name=f"blootstelling_{o}", digits=0
    )
shares = {o: vve.received_share(s) for o, s in studies.items()}
received = {o: vve.mean_received_share(s, shares[o]) for o, s in studies.items()}
ev.reporting.show_table(vve.tables.share_table(shares), name="ontvangen_aandeel", labels=labels)

# %%
say("twfe")
fits = {o: vve.exposure_twfe(s) for o, s in studies.items()}
ev.reporting.show_table(
    vve.tables.stack_tables({o: f.table for o, f in fits.items()}),
    name="vaste_effecten",
    labels=labels,
    digits=3,
)

# %%
display(Markdown(vve.gaps.section()))
weging = vve.gaps.schoolweging(p.raw_dir)
for o, s in studies.items():
    bands = vve.gaps.weging_bands(s, weging)
    if bands is None:
        display(Markdown(vve.gaps.none_sentence()))
        continue
    words = vve.gaps.sentences(
        vve.gaps.band_slopes(s, bands),
        vve.gaps.difference(s, bands),
        outcome=outcomes[o].label,
        unit=outcomes[o].unit,
        simulated=ev.synth.is_simulated(p.raw_dir),
    )
    display(Markdown(words))

# %%
say("inference")
for o, f in fits.items():
    display(Markdown(f"**{outcomes[o].label}**"))
    ev.reporting.show_table(
        ev.reporting.inference_alternatives(f, studies[o].schools),
        name=f"inferentie_{o}",
        digits=3,
    )

# %%
say("event")
events = {o: vve.dose_event(s) for o, s in studies.items()}
pretrends = {}
for o, event in events.items():
    ev.reporting.show_figure(
        vve.plots.dose_event_plot,
        event,
        share=shares[o],
        title=outcomes[o].label,
        unit=outcomes[o].unit,
    )
    pretrends[o] = ev.reporting.pretrend_sentence(event.pretrend_test())
    display(Markdown(pretrends[o]))

# %%
say("dose_response")
curves = {
    o: vve.dose_response_by_side(s, degree=p.degree, num_knots=p.num_knots)
    for o, s in studies.items()
}
for o, s in studies.items():
    ev.reporting.show_figure(
        vve.plots.dose_response_plot,
        curves[o],
        truth=vve.known_curves(s, p.raw_dir, curves[o]),
        slope=vve.slope_per_policy_dose(fits[o], received[o]),
        doses=s.units.query("group != 'comparison'")["dose"].to_numpy(),
        comparison_band=p.comparison_band,
        ylabel=outcomes[o].unit,
        title=outcomes[o].label,
    )
    for text in vve.text.truth_sentences(s, curves[o], p.raw_dir):
        display(Markdown(text))
ev.reporting.show_table(
    vve.tables.stack_tables(
        {(o, side): c.table for o, by_side in curves.items() for side, c in by_side.items()}
    ),
    name="dosis_respons",
    labels=labels,
    digits=3,
)

# %%
say("placebo")
ev.reporting.show_table(vve.tables.placebo_table(curves), name="placebo", labels=labels, digits=3)

# %%
if p.gemeenten:
    say("focus")
    for o, s in studies.items():
        for code in p.gemeenten:
            name = names.get(code, code)
            vve.plots.focus_plot(
                s,
                code,
                name,
                ylabel=f"{outcomes[o].label} ({outcomes[o].level_unit})",
                title=f"{name}: {outcomes[o].label}",
            )
            plt.show()
            display(Markdown(vve.text.focus_gemeente(s, curves[o], code, name)))

# %%
say("interpretation")
for o, s in studies.items():
    display(Markdown(vve.text.interpretation(s, curves[o], fits[o], received=received[o])))
focus = (p.gemeenten[0], names.get(p.gemeenten[0], p.gemeenten[0])) if p.gemeenten else None
headline = vve.headline(curves, p.outcomes, studies=studies, focus=focus)

# %%
# The bestuurlijke samenvatting and the RPE questions for the first outcome: computed
# here, from the numbers above; the report shows them first, under the title.
first = p.outcomes[0]
ev.reporting.show_summary(
    vve.text.summary(studies[first], curves[first], focus=focus),
    vve.text.rpe(
        studies[first],
        curves[first],
        fits[first],
        received=received[first],
        pretrend=pretrends[first],
        focus=focus,
        simulated=ev.synth.is_simulated(p.raw_dir),
    ),
)
ev.workbench.publish(headline.result, term=headline.term, label=headline.label, unit=headline.unit)
