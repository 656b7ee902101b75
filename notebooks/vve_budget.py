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

# %% [markdown]
# # VVE funding and early-years outcomes: the 2019 OAB redistribution
#
# From 2019 the national onderwijsachterstandenbudget (OAB), which pays for VVE, was
# shared out among gemeenten with the new CBS onderwijsachterstandenindicator, phased in
# until 2022: most gemeenten gained, 38 lost. This report asks whether the change in
# **VVE funding per target child** moved the outcomes of the children it reached.
# Each gemeente's change is its *dose*; because VVE reaches children aged 2.5-4, a change
# can only show in outcomes measured years later, on the cohorts that were of VVE age
# after it.

# %% tags=["parameters"]
# Parameters: names, types, defaults and help are declared once, in
# evaluatie.workbench.params.VveBudgetParams (`evaluatie params vve_budget`).
# papermill replaces this dict; empty means the defaults.
parameters = {}

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import evaluatie as ev
from evaluatie.studies import vve
from evaluatie.workbench import VveBudgetParams

p = VveBudgetParams(**parameters)
ev.reporting.warnings_as_notes()
data = ev.load_vve(p.raw_dir)
names = ev.sources.gemeente_names()
studies = {o: ev.vve_study(data, outcome=o, comparison_band=p.comparison_band) for o in p.outcomes}
outcomes = {o: ev.sources.VVE_OUTCOMES[o] for o in p.outcomes}  # label, unit, weight
for s in studies.values():
    if note := vve.text.dropped_sentence(s):
        display(Markdown(f"*Data note:* {note}"))

# %% [markdown]
# ## The redistribution
#
# Each gemeente's OAB budget in 2018 (old allocation) and 2022 (new allocation fully in
# force), and the **policy dose**: the change in funding per target child
# (budget / doelgroepkinderen), in EUR 1,000 per child per year. Gemeenten whose funding
# per child moved by at most the comparison band form the comparison group.

# %%
doses = next(iter(studies.values())).doses
vve.plots.budget_change_plot(doses, p.marked, names, comparison_band=p.comparison_band)
plt.show()
display(Markdown(vve.text.redistribution_sentence(doses)))
shown = list(dict.fromkeys([*p.marked, *(p.gemeenten or [])]))
vve.tables.dose_table(doses, shown, names)

# %% [markdown]
# ## When can an outcome reflect the change?
#
# A pupil in groep *k* in the school year ending in *t* was born between October
# *t − k − 5* and September *t − k − 4*, so was of VVE age (2.5 to 4) in the calendar years
# *t − k − 2* to *t − k*. The table computes, for each outcome, from which measured year
# the cohorts were partly, mostly and wholly of VVE age after 2018, and what the data's
# last year allows.

# %%
timing = vve.tables.study_timing_table(studies)
display(timing)
display(Markdown("\n\n".join(vve.text.timing_sentences(timing))))

# %% [markdown]
# ## Exposure of the measured cohorts
#
# Funding per target child (EUR per year) that each measured cohort received at VVE age
# (weighted over its VVE years), for the named gemeenten, and the share of the full policy
# dose that the cohorts measured in each year received (read from the budget data: it
# shows the phase-in).

# %%
for o, s in studies.items():
    display(Markdown(f"**{o}** (groep {s.timing.groep}; reference year {s.reference})"))
    display(vve.tables.exposure_table(s.schools, shown, names))
shares = {o: vve.received_share(s) for o, s in studies.items()}
received = {o: vve.mean_received_share(s, shares[o]) for o, s in studies.items()}
display(vve.tables.share_table(shares))

# %% [markdown]
# ## Two-way fixed effects with the dose
#
# y<sub>st</sub> = α<sub>s</sub> + λ<sub>t</sub> + β·E<sub>g(s)t</sub> + ε<sub>st</sub>, with
# E the funding per target child (EUR 1,000) the cohort measured at school *s* in year *t*
# received at VVE age; school-years weighted by their pupils, standard errors clustered by
# gemeente (CRV1, G − 1 df). β is a single slope per EUR 1,000 of the measured cohort's
# funding: it assumes the response is linear and the same everywhere.

# %%
fits = {o: vve.exposure_twfe(s) for o, s in studies.items()}
vve.tables.stack_tables({o: f.table for o, f in fits.items()})

# %% [markdown]
# The same slope with three kinds of inference: the analytic cluster-robust standard
# error, the wild cluster bootstrap, and re-assigning the gemeenten's funding paths
# among them (randomization inference, the one used above). Where they agree the
# conclusion does not hang on the choice. A minimum detectable effect (`evaluatie.mde`)
# is not given: it places the design on gemeenten whose funding did not change, and in
# this redistribution every gemeente's did.

# %%
for o, f in fits.items():
    display(Markdown(f"**{o}**"))
    display(ev.reporting.inference_alternatives(f, studies[o].schools).style.format(precision=3))

# %% [markdown]
# ## Event study in the dose
#
# y<sub>st</sub> = α<sub>s</sub> + λ<sub>t</sub> + Σ<sub>j≠r</sub> β<sub>j</sub>·D<sub>g(s)</sub>·1[t = j] + ε<sub>st</sub>:
# the outcome's change from the reference year *r* (the last cohort measured wholly before
# the change) per EUR 1,000 of policy dose. Before *r* the coefficients are placebo tests
# of parallel trends; after it they should grow with the share of the dose the measured
# cohorts received (green line).

# %%
events = {o: vve.dose_event(s) for o, s in studies.items()}
for o, event in events.items():
    vve.plots.dose_event_plot(
        event,
        share=shares[o],
        title=f"{o}: {outcomes[o].label}",
        ylabel=f"{outcomes[o].unit} per EUR 1,000",
    )
    plt.show()
    display(Markdown(ev.reporting.pretrend_sentence(event.pretrend_test())))

# %% [markdown]
# ## Dose-response: continuous difference-in-differences
#
# Callaway, Goodman-Bacon & Sant'Anna (2024): for each gemeente the change in its outcome
# from the reference year to each later year, regressed on a B-spline of its dose, minus the
# comparison group's change; gemeenten weighted by their pupils, standard errors from the
# influence functions (gemeenten as clusters, normal critical values). Gains and losses
# are estimated apart, each against the comparison group: one curve through both would
# assume a smooth response across the band where no treated gemeente is. ATT(d) is the
# average effect of a dose *d* on gemeenten with that dose, averaged over the post years;
# it needs parallel trends, and comparing ATT(d) across doses (its slope, ACRT) needs the
# stronger assumption that gemeenten with different doses would respond alike. On
# simulated data the dashed line is the truth the estimator targets: the true effect at
# *d* minus the comparison group's own (small) true effect. The darker shade is the 95%
# interval at each dose; the lighter one is a uniform band that holds for the whole curve
# at once (sup-t; leverage-corrected, since a few gemeenten carry the curve at its ends):
# read the curve's shape against the band, not against the pointwise intervals.

# %%
curves = {
    o: vve.dose_response_by_side(s, degree=p.degree, num_knots=p.num_knots)
    for o, s in studies.items()
}
for o, s in studies.items():
    vve.plots.dose_response_plot(
        curves[o],
        truth=vve.known_curves(s, p.raw_dir, curves[o]),
        slope=vve.slope_per_policy_dose(fits[o], received[o]),
        doses=s.units.query("group != 'comparison'")["dose"].to_numpy(),
        comparison_band=p.comparison_band,
        ylabel=outcomes[o].unit,
        title=f"{o}: {outcomes[o].label}",
    )
    plt.show()
    for text in vve.text.truth_sentences(s, curves[o], p.raw_dir):
        display(Markdown(text))
vve.tables.stack_tables(
    {(o, side): c.table for o, by_side in curves.items() for side, c in by_side.items()}
)

# %% [markdown]
# ### Pre-trends in the continuous DiD
#
# The same estimator on the years before the reference year (placebo periods): average
# effects there should be near zero.

# %%
vve.tables.placebo_table(curves)

# %%
if p.gemeenten:
    display(Markdown("## Focus gemeenten"))
    for o, s in studies.items():
        for code in p.gemeenten:
            name = names.get(code, code)
            display(Markdown(vve.text.focus_gemeente(s, curves[o], code, name)))

# %% [markdown]
# ## Interpretation

# %%
for o, s in studies.items():
    display(Markdown(vve.text.interpretation(s, curves[o], fits[o], received=received[o])))
headline = vve.headline(curves, p.outcomes)  # the report index shows this estimate
ev.workbench.publish(headline.result, term=headline.term, label=headline.label)
