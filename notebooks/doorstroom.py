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
# evaluatie.workbench.params.DoorstroomParams (`evaluatie params doorstroom`).
# papermill replaces this dict; empty means the defaults.
parameters = {}

# %%
# VO exam pass rates of one gemeente per level and sex, against its RMC region, the
# country and like gemeenten, and the gaps between groups. The design is in
# evaluatie.studies.doorstroom.design; the report's prose in evaluatie.studies.doorstroom.text.
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import evaluatie as ev
from evaluatie.sources.outcomes import outcome_info
from evaluatie.studies import doorstroom as ds
from evaluatie.studies import gemeente as gm
from evaluatie.workbench import DoorstroomParams

# %%
p = DoorstroomParams(**parameters)
ev.reporting.set_language(p.language)
ev.reporting.warnings_as_notes()
say = ds.text.section
name = ev.sources.gemeente_names().get(p.gemeente, p.gemeente)
data = ds.load(p.raw_dir)
years = sorted(ds.group_rates(data)["jaar"].unique())
say("intro", name=name, first=f"{years[0] - 1}-{years[0]}", last=f"{years[-1] - 1}-{years[-1]}")
say("covid")

# %%
say("levels", name=name)
levels = ds.levels(data, gemeente=p.gemeente, groups=p.groups)
who = {w: ds.text.TEXT(f"who.{w}", name=name) for w in ("gemeente", "regio", "nederland")}
titles = {g: ds.text.group_label(g) for g in ds.GROUPS}
ds.plots.level_plot(levels, labels=who, titles=titles)
plt.show()

# %%
say("gaps", name=name)
gap_groups = list(dict.fromkeys(g for gap in p.gaps for g in gap))
gap_levels = ds.levels(data, gemeente=p.gemeente, groups=gap_groups)
ev.reporting.show_table(ds.text.gap_table(gap_levels, p.gaps, name), name="verschillen", digits=1)

# %%
say("compare", name=name, year=p.first_year, donors=p.donors)
if p.policy is None:
    gm.text.section("illustration", name=name, year=p.first_year)
else:
    say("policy", year=p.first_year, policy=p.policy)
display(Markdown(ds.text.covid_note(years, year=p.first_year)))
cases = {
    ds.text.group_label(None): ds.group_case(
        data, gemeente=p.gemeente, first_year=p.first_year, group=None, donors=p.donors
    )
}
for group in p.groups:
    cases[ds.text.group_label(group)] = ds.group_case(
        data, gemeente=p.gemeente, first_year=p.first_year, group=group, donors=p.donors
    )
for gap in p.gaps:
    cases[ds.text.gap_label(gap)] = ds.gap_case(
        data, gemeente=p.gemeente, first_year=p.first_year, gap=gap, donors=p.donors
    )
results = {
    label: (case, ev.synthetic_did(case.panel, **gm.design.KEYS)) for label, case in cases.items()
}
ev.reporting.show_table(ds.text.comparison_table(results), name="vergelijking", digits=2)

# %%
say("missing")

# %%
# The bestuurlijke samenvatting, computed here from the numbers above; the report shows it
# first, under the title.
overall = results[ds.text.group_label(None)][1]
ev.reporting.show_summary(
    ds.text.summary(
        gap_levels, p.gaps, overall, name=name, year=p.first_year, illustration=p.policy is None
    )
)
rate = outcome_info("slaagpercentage")
ev.workbench.publish(overall, label=f"{name}: {rate.label}", unit=rate.unit)
