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
# evaluatie.workbench.params.InnovatiebudgetParams (`evaluatie params innovatiebudget`).
# papermill replaces this dict; empty means the defaults.
parameters = {}

# %%
# The report's prose lives in evaluatie.studies.innovatiebudget.text (Dutch and
# English); each `study.section(...)` below shows one section in p.language.
# %matplotlib inline
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import evaluatie as ev
from evaluatie.sources.outcomes import outcome_info
from evaluatie.studies import innovatiebudget as study
from evaluatie.workbench import InnovatiebudgetParams

# %%
p = InnovatiebudgetParams(**parameters)
ev.reporting.set_language(p.language)
ev.reporting.warnings_as_notes()
cluster = p.cluster_column
outcome = outcome_info(p.outcome, p.provider)  # label and unit in the report's language
study.section("intro")

# %%
study.section("data")
panel = study.study_panel(
    ev.load_panel(p.raw_dir, p.provider),
    outcome=p.outcome,
    first_year=p.first_year,
    last_year=p.last_year,
    gemeenten=p.gemeenten,
    cluster=p.cluster,
)
ev.reporting.show_table(study.tables.panel_overview(panel, p.outcome), name="gegevens_per_jaar")
ev.reporting.show_table(study.tables.cohort_overview(panel), name="subsidiegolven")

# %%
study.section("trends")
ev.plots.trends_by_cohort(panel, p.outcome, ylabel=f"{outcome.label} ({outcome.unit})")
plt.show()

# %%
study.section("twfe")
fit = ev.twfe(
    panel, outcome=p.outcome, treatment="treated", unit="vestiging", time="jaar", cluster=cluster
)
headline = study.headline(fit, p.outcome, p.provider)  # the report index shows this estimate
ev.workbench.publish(headline.result, term=headline.term, label=headline.label, unit=headline.unit)
ev.reporting.show_table(
    fit.table,
    name="vaste_effecten",
    digits=3,
    labels={"treated": study.text.SECTIONS("treated_term")},
)

# %%
study.section("inference")
ev.reporting.show_table(
    ev.reporting.inference_alternatives(fit, panel), name="inferentie", digits=3
)

# %%
study.section("mde")
text, table, mde = study.detectable_effect(panel, outcome=p.outcome, cluster=cluster)
display(Markdown(text))
if table is not None:
    ev.reporting.show_table(table, name="mde")

# %%
study.section("cost")
truth = ev.synth.truth.known_effect(p.raw_dir, p.outcome, sample=panel)
grant_cost = study.cost.grant_cost(fit, panel, mde=mde, truth=truth)
ev.reporting.show_table(
    study.cost.cost_table(grant_cost, unit=outcome.unit), name="kosten", digits=3
)
price = study.cost.cost_sentences(
    grant_cost, subject=outcome.subject, unit=outcome.unit, percent=outcome.kind == "percent"
)
display(Markdown(" ".join(price)))

# %%
bands = study.gaps.weging_bands(panel)
study.gaps.section(outcome=outcome.subject)
if bands is None:
    display(Markdown(study.gaps.no_weging_sentence()))
else:
    by_band = study.gaps.band_effects(panel, outcome=p.outcome, cluster=cluster, bands=bands)
    band_truth = study.gaps.band_truths(p.raw_dir, outcome=p.outcome, panel=panel, bands=bands)
    ev.reporting.show_table(
        study.gaps.band_table(by_band, band_truth), name="per_achterstand", digits=3
    )
    difference = study.gaps.difference(panel, outcome=p.outcome, cluster=cluster, bands=bands)
    display(Markdown(study.gaps.difference_sentence(difference, unit=outcome.unit)))
    display(Markdown(study.gaps.truth_sentence(band_truth, unit=outcome.unit)))
    gaps = study.gaps.gap_table(panel, outcome=p.outcome, bands=bands)
    ev.reporting.show_table(study.gaps.gap_display(gaps), name="verschil_achterstand", digits=2)
    display(Markdown(study.gaps.gap_note(outcome=outcome.subject)))

# %%
study.section("event_study")
es = ev.event_study(
    panel,
    outcome=p.outcome,
    unit="vestiging",
    time="jaar",
    cohort="cohort",
    window=p.window,
    cluster=cluster,
)
ev.plots.event_study_plot({study.text.SECTIONS("event_label"): es}, ylabel=outcome.unit)
plt.show()
ev.reporting.show_table(es.table, name="event_study", digits=3)
display(Markdown(ev.reporting.thin_cells_sentence(es)))
honest, honest_sentence = ev.reporting.sensitivity(es)
if honest is not None:
    ev.plots.sensitivity_plot(honest)
    plt.show()
display(Markdown(honest_sentence))

# %%
study.section("interpretation")
display(
    Markdown(
        ev.reporting.describe_effect(
            fit,
            outcome_label=outcome.subject,
            unit_label=outcome.unit,
            treated_label=study.text.SECTIONS("treated_label"),
        )
    )
)
if truth := study.truth_sentence(p.raw_dir, p.outcome, panel):
    display(Markdown(truth))

# %%
study.section("robust")
studies = study.event_studies(panel, outcome=p.outcome, window=p.window, cluster=cluster, twfe=es)
ev.plots.event_study_plot(
    studies,
    ylabel=outcome.unit,
    truth=study.true_event_path(p.raw_dir, p.outcome, p.window, panel),
)
plt.show()
ev.reporting.show_table(ev.reporting.event_study_table(studies), name="robuuste_event_studies")

# %%
study.section("overall")
cs = ev.att_gt(
    panel, outcome=p.outcome, unit="vestiging", time="jaar", cohort="cohort", cluster=cluster
)
overall = study.overall_estimates(fit, cs)
ev.reporting.show_table(ev.reporting.overall_table(overall), name="totaaleffect", digits=3)
robust = {k: v for k, v in overall.items() if k != "TWFE"}
agreement = ev.reporting.disagreement_sentence(
    ("TWFE", overall["TWFE"]), robust, unit_label=outcome.unit
)
display(Markdown(agreement))

# %%
study.section("pretrends")
pretrend = ev.reporting.pretrend_sentence(cs.pretrend_test())
display(Markdown(pretrend))

# %%
study.section("bacon")
bal = ev.sources.balanced(panel, [p.outcome])
bacon = ev.bacon(bal, outcome=p.outcome, unit="vestiging", time="jaar", cohort="cohort")
ev.plots.bacon_plot(bacon, unit=outcome.unit)
plt.show()
kept = bal.attrs["balanced"]
study.section("balanced", kept=kept["kept"], dropped=kept["dropped"])
ev.reporting.show_table(study.tables.bacon_table(bacon), name="bacon", digits=3)

# %%
# The bestuurlijke samenvatting and the RPE questions: computed here, from the numbers
# above; the report shows them first, under the title.
ev.reporting.show_summary(
    study.summary(fit, panel, outcome=p.outcome, mde=mde) + price,
    study.rpe(
        fit,
        panel,
        outcome=p.outcome,
        agreement=agreement,
        pretrend=pretrend,
        simulated=ev.synth.is_simulated(p.raw_dir),
    ),
)
