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
# evaluatie.workbench.params.SchooluitvalParams (`evaluatie params schooluitval`).
# papermill replaces this dict; empty means the defaults.
parameters = {}

# %%
# An RMC region's approach to early school leaving against the other RMC regions. The
# design (regions as units, school types, the gap) is in evaluatie.studies.schooluitval.design;
# the report's prose in evaluatie.studies.schooluitval.text.
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import evaluatie as ev
from evaluatie.plots import synthetic as synthetic_plots
from evaluatie.studies import gemeente as gm
from evaluatie.studies import schooluitval as su
from evaluatie.workbench import SchooluitvalParams

# %%
p = SchooluitvalParams(**parameters)
ev.reporting.set_language(p.language)
ev.reporting.warnings_as_notes()
say = su.text.section
names = ev.sources.gemeente_names()
data = su.load(p.raw_dir)
code, region = su.region(p.rmc)
case = su.region_case(data, rmc=code, first_year=p.first_year)
members = su.members(code)
say("intro", region=region, year_start=p.first_year - 1, year_end=p.first_year)
say("members", n=len(members), names=", ".join(names.get(m, m) for m in members))

# %%
say("trend", region=region)
labels = {g: su.text.group_label(g) for g in su.GROUPS}
su.plots.trend_plot(data, code=code, name=region, first_year=p.first_year, labels=labels)
plt.show()

# %%
results = gm.compare(case)
say("effect", n=len(case.donors), region=region, draws=results.sdid.meta["inference"].draws)
ylabel = f"{case.outcome.label} ({case.outcome.level_unit})"
synthetic_plots.synthetic_paths(results.sdid, name=region, ylabel=ylabel)
plt.show()
display(Markdown(su.text.truth_sentence(results.sdid, case.truth, region)))
ev.reporting.show_table(
    gm.text.comparison_table(results, units=su.text.TEXT("units.regions")),
    name="drie_methoden",
    digits=2,
)
display(Markdown(gm.text.agreement(results, case)))

# %%
if data.by_type.empty:
    say("no_types")
else:
    say("types")
    by_type = {}
    for group in p.groups:
        group_case = su.region_case(data, rmc=code, first_year=p.first_year, group=group)
        by_type[group] = (group_case, ev.synthetic_did(group_case.panel, **gm.design.KEYS))
    ev.reporting.show_table(su.text.type_table(by_type), name="per_onderwijssoort", digits=2)
    if p.gap is not None:
        a, b = (su.region_case(data, rmc=code, first_year=p.first_year, group=g) for g in p.gap)
        gap = su.gap_case(a, b)
        gap_result = ev.synthetic_did(gap.panel, **gm.design.KEYS)
        display(Markdown(su.text.gap_sentence(gap, gap_result, *p.gap)))

# %%
if p.gemeente is not None:
    name = names.get(p.gemeente, p.gemeente)
    member = su.member_case(data, gemeente=p.gemeente, first_year=p.first_year, donors=p.donors)
    member_result = ev.synthetic_did(member.panel, **gm.design.KEYS)
    say("member", name=name, n=len(member.donors))
    synthetic_plots.synthetic_paths(member_result, name=name, ylabel=ylabel)
    plt.show()
    display(Markdown(su.text.estimate_sentence(member_result, name)))
    display(Markdown(su.text.truth_sentence(member_result, member.truth, name)))

# %%
# The bestuurlijke samenvatting and the RPE questions, computed here from the numbers
# above; the report shows them first, under the title.
ev.reporting.show_summary(
    su.text.summary(results, case, region),
    su.text.rpe(results, case, region, simulated=ev.synth.is_simulated(p.raw_dir)),
)
ev.workbench.publish(results.sdid, label=f"{region}: {case.outcome.label}", unit=case.outcome.unit)
