"""One package per study: its design, tables, sentences and plots together.

* :mod:`.innovatiebudget` -- did schools improve after an onderwijs-innovatiebudget grant
  (staggered adoption)?
* :mod:`.vve` -- did the 2019 OAB redistribution's change in VVE funding per target
  child move the early-years outcomes of the cohorts it reached?
"""
