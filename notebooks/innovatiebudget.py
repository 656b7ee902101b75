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
# # Onderwijs-innovatiebudget: did outcomes improve at grant schools?
#
# Schools received innovation-budget grants in different years (staggered adoption).
# This report compares each school's outcome before and after its first grant with the
# change at schools without a grant, using two-way fixed effects (school and year) and an
# event study around the first grant year.

# %% tags=["parameters"]
# Parameters: names, types, defaults and help are declared once, in
# evaluatie.workbench.params.InnovatiebudgetParams (`evaluatie params innovatiebudget`).
# papermill replaces this dict; empty means the defaults.
parameters = {}

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import evaluatie as ev
from evaluatie.studies import innovatiebudget as study
from evaluatie.workbench import InnovatiebudgetParams

p = InnovatiebudgetParams(**parameters)
cluster = p.cluster_column
ev.reporting.warnings_as_notes()

# %% [markdown]
# ## Data
#
# One row per school (vestiging) and school year; the year is the calendar year in which
# the school year ends. There is no eindtoets for 2019-20 (cancelled for COVID).

# %%
panel = study.study_panel(
    ev.load_panel(p.raw_dir),
    outcome=p.outcome,
    first_year=p.first_year,
    last_year=p.last_year,
    gemeenten=p.gemeenten,
    cluster=p.cluster,
)
display(study.tables.panel_overview(panel, p.outcome).style.format(precision=2))
display(study.tables.cohort_overview(panel))

# %% [markdown]
# ## Outcome trends by grant wave
#
# Mean outcome per year for each wave of grant schools and for schools without a grant.
# Before its grant, each wave should move in parallel with the schools without one.

# %%
ev.plots.trends_by_cohort(panel, p.outcome, ylabel=p.outcome)
plt.show()

# %% [markdown]
# ## Two-way fixed effects
#
# y<sub>st</sub> = α<sub>s</sub> + λ<sub>t</sub> + β·D<sub>st</sub> + ε<sub>st</sub>, with
# D<sub>st</sub> = 1 from the school's first grant year on. Standard errors are clustered (CRV1, as fixest) at the
# level chosen in the parameters. With staggered grants and effects that grow over time,
# β is a weighted average that can differ from the average effect on the treated.

# %%
fit = ev.twfe(
    panel, outcome=p.outcome, treatment="treated", unit="vestiging", time="jaar", cluster=cluster
)
headline = study.headline(fit, p.outcome)  # the report index shows this estimate
ev.workbench.publish(headline.result, term=headline.term, label=headline.label)
fit

# %% [markdown]
# ### Does the conclusion depend on how the p-value is computed?
#
# The same coefficient with three kinds of inference: the analytic cluster-robust
# standard error, the wild cluster bootstrap, and re-assigning the grants among the
# schools (randomization inference). With few treated clusters the analytic p-value can
# be far too small; the estimate above uses the one `inference="auto"` chose.

# %%
ev.reporting.inference_alternatives(fit, panel).style.format(precision=3)

# %% [markdown]
# ### What could this design detect?
#
# The minimum detectable effect: the grant calendar is given to random sets of schools
# without a grant, an effect is added, and the test above is run on each; the MDE is the
# smallest effect it finds in 80% of them (Burlig, Preonas & Woerman 2020). Also for
# fewer and more grant schools.

# %%
text, table = study.detectable_effect(panel, outcome=p.outcome, cluster=cluster)
display(Markdown(text))
table

# %% [markdown]
# ## Event study
#
# Effects by years since the first grant, relative to the year before it (−1); the
# outermost bins collect everything beyond the window. Leads (negative years) near zero
# support the parallel-trends assumption.

# %%
es = ev.event_study(
    panel,
    outcome=p.outcome,
    unit="vestiging",
    time="jaar",
    cohort="cohort",
    window=p.window,
    cluster=cluster,
)
ev.plots.event_study_plot({"TWFE event study": es}, ylabel=p.outcome)
plt.show()
es.table.style.format(precision=3)

# %% [markdown]
# ## Interpretation

# %%
display(Markdown(ev.reporting.describe_effect(fit, outcome_label=f"the {p.outcome}")))
truth = ev.synth.known_effect(p.raw_dir, p.outcome)
if truth is not None:
    display(
        Markdown(
            f"*Simulated data:* the true average effect over treated school-years is "
            f"{truth:+.2f} points."
        )
    )

# %% [markdown]
# ## Heterogeneity-robust estimators
#
# Grants arrive in waves and their effect may differ by wave and grow over time. TWFE then
# also uses already-treated schools as controls, some with negative weight
# (Goodman-Bacon 2021). The estimators below avoid these comparisons:
# Callaway & Sant'Anna (2021) group-time ATTs with never-treated schools as controls,
# Sun & Abraham (2021) interaction-weighted event study, and the imputation estimator of
# Borusyak, Jaravel & Spiess (2024). On simulated data the dashed line is the true effect,
# binned exactly as the estimates are (the last bin averages every year at or beyond it).

# %%
studies = study.event_studies(panel, outcome=p.outcome, window=p.window, cluster=cluster, twfe=es)
ev.plots.event_study_plot(
    studies, ylabel=p.outcome, truth=study.true_event_path(p.raw_dir, p.outcome, p.window)
)
plt.show()
ev.reporting.event_study_table(studies)

# %% [markdown]
# ### Overall effect
#
# TWFE's single coefficient beside the overall averages of the robust estimators: the
# Callaway–Sant'Anna simple ATT (all treated school-years, weighted by wave size) and its
# event-time average.

# %%
cs = ev.att_gt(
    panel, outcome=p.outcome, unit="vestiging", time="jaar", cohort="cohort", cluster=cluster
)
overall = study.overall_estimates(fit, cs)
display(ev.reporting.overall_table(overall).style.format(precision=3))
robust = {k: v for k, v in overall.items() if k != "TWFE"}
display(Markdown(ev.reporting.disagreement_sentence(("TWFE", overall["TWFE"]), robust)))

# %% [markdown]
# ### Pre-trends
#
# A joint test that all pre-grant group-time ATTs are zero (parallel trends before the
# grant), with the same inference as the estimates above: where grants were assigned to
# few clusters a chi-square Wald test over-rejects by far, and the randomization test does
# not.

# %%
display(Markdown(ev.reporting.pretrend_sentence(cs.pretrend_test())))

# %% [markdown]
# ### Goodman-Bacon decomposition
#
# The TWFE coefficient is a weighted average of all 2×2 comparisons between waves and
# with never-treated schools. Comparisons that use already-treated schools as controls
# ("later vs earlier treated") are where heterogeneous effects bias TWFE. The
# decomposition needs a balanced panel: schools with an outcome in every year.

# %%
bal = ev.sources.balanced(panel, [p.outcome])
bacon = ev.bacon(bal, outcome=p.outcome, unit="vestiging", time="jaar", cohort="cohort")
ev.plots.bacon_plot(bacon)
plt.show()
kept = bal.attrs["balanced"]
display(Markdown(f"Balanced panel: {kept['kept']:,} schools kept, {kept['dropped']:,} dropped."))
bacon.by_type()
