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
# evaluatie.workbench.params.GemeenteParams (`evaluatie params gemeente`).
# papermill replaces this dict; empty means the defaults.
parameters = {}

# %%
# One gemeente against gemeenten like it. The design (donors, treatment, truth) is in
# evaluatie.studies.gemeente.design; the report's prose in evaluatie.studies.gemeente.text.
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import evaluatie as ev
from evaluatie.plots import synthetic as synthetic_plots
from evaluatie.studies import gemeente as gm
from evaluatie.workbench import GemeenteParams

# %%
p = GemeenteParams(**parameters)
ev.reporting.set_language(p.language)
ev.reporting.warnings_as_notes()
say = gm.text.section
names = ev.sources.gemeente_names()
name = names.get(p.gemeente, p.gemeente)
case = gm.build_case(gm.load(p.data, p.raw_dir), **p.case_arguments())
outcome = case.outcome
say("intro", outcome=outcome.label, name=name, year=case.first_year - 1)
if p.data == "examens":
    say("illustration", name=name, year=case.first_year)
extra = gm.text.SECTIONS("donors.vve") if p.data == "vve" else ""
say("donors", name=name, n=len(case.donors), size=gm.text.size_words(case), extra=extra)

# %%
results = gm.compare(case)
say("sdid", draws=results.sdid.meta["inference"].draws)
ylabel = f"{outcome.label} ({outcome.level_unit})"
synthetic_plots.synthetic_paths(results.sdid, name=name, ylabel=ylabel)
plt.show()
display(Markdown(gm.text.truth_sentence(results, case, name)))

# %%
gm.text.sc_section(results, name=name, year=case.first_year)
synthetic_plots.synthetic_paths(results.sc, name=name, ylabel=ylabel)
plt.show()
synthetic_plots.placebo_gaps(results.sc, name=name, unit=outcome.unit)
plt.show()

# %%
say("weights")
synthetic_plots.donor_weights(results.sdid, labels=names)
plt.show()

# %%
say("comparison")
ev.reporting.show_table(gm.text.comparison_table(results), name="drie_methoden", digits=2)
display(Markdown(gm.text.agreement(results, case)))

# %%
# The bestuurlijke samenvatting and the RPE questions, computed here from the numbers
# above; the report shows them first, under the title.
ev.reporting.show_summary(
    gm.text.summary(results, case, name),
    gm.text.rpe(results, case, name, simulated=ev.synth.is_simulated(p.raw_dir)),
)
ev.workbench.publish(results.sdid, label=f"{name}: {outcome.label}", unit=outcome.unit)
