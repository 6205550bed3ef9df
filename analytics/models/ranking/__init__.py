"""Which compounds have the most persistent complaint problem, and how sure we are.

The ranking (`posterior`): an empirical-Bayes hierarchy of monthly counts (district season and
level, a negative-binomial prior on type, age and size, correlated monthly deviations) gives each
compound draws of its expected tickets over the next 12 months if nothing is done; every compound
of the registry is ranked, also those with few or no tickets (shrunk towards similar compounds).
Three definitions of "worst" (presets): `volume` (default, the district's 工单量大、问题突出:
expected tickets, each repeat, unresolved or dissatisfied ticket counting extra only where that
share really differs between compounds), `excess` (expected minus what a compound of its type, age
and size would have) and `rate` (per 100 households a month). The list is the `top` compounds with
the highest P(top `top`); the rank shown is the median rank over the draws, inside its 90% interval.
How its accuracy and calibration were measured: benchmarks/ranking_accuracy.py and the README.

Also here: the window's components (`components`, with the rate prior in `prior`: counts,
exposure, the gamma-Poisson shrunk rate and the beta-binomial shrunk shares, peer groups), the
former composite score (`score`, the benchmark's baseline), the funnel plot (`funnel`), the league
tables of property companies, communities and subdistricts, and stars against complaints
(`leagues`). Loading the counts from the store and keeping snapshots is
analytics.services.ranking's job.
"""
