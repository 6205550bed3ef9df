"""Did complaints fall because of the task forces? The numbers always shown together.

1. naive change (the official figure): treated compounds' tickets in the (up to) 12 months from
   the start month vs the same calendar months one year earlier.
2. placebo, built exactly like the naive figure (placebo.naive_like_placebo): the same top-N rule
   per selection window, the same N and the same month pairs, moved back to months with no task
   force; None, with the months it would need, when the data start too late. Also there: the
   adjusted estimator on a fake earlier start and over random untreated compounds with a peak
   ("what this method reports when nothing happened").
3. adjusted effect with a 95% interval: a stacked Poisson fixed-effects regression. For each
   cohort of task forces (same start month and selection window) a stack holds its treated
   compounds and controls not treated at that time — by default the compounds ranked just below
   the cut in the same selection window (ten per treated compound, at least 300). Compounds of
   later cohorts serve as controls until their own start and are then dropped; leaving them out
   altogether would keep only compounds without a spike in their selection window, i.e. a
   control group chosen on its outcomes. Already-treated compounds are never controls, so
   staggered starts do not suffer from the known bias of a plain two-way fixed-effects
   regression. Each stack has its own compound and calendar-month fixed effects (month-of-year
   seasonality, the Spring Festival and any district-wide trend are absorbed), and the
   selection-window months are dropped, so the baseline lies before the ranking window and the
   spike that got a compound selected is not the yardstick. Compound fixed effects are profiled
   out (conditional Poisson likelihood); standard errors come from the one-step cluster
   jackknife by compound (CR3), which unlike the plain sandwich does not understate the variance
   when a few big compounds carry much weight. Cohort effects are pooled on the ratio scale with
   fixed weights, each cohort's counterfactual post tickets: its baseline tickets scaled to its
   post months by the stack's month effects (estimates.counterfactual_post), never its
   post-start tickets; the pooled figure is the treated compounds' post tickets over their
   counterfactual, and its SE carries the weights' uncertainty (estimates.pooled_effect). The
   95% intervals are b +- t se, t with (treated compounds - 1) degrees of freedom: the effective
   number of clusters is the treated ones. The untreated compounds of the treated compounds'
   communities are not controls (net.community_rows).
4. net effect (net): treated plus same-community neighbours, as a share of the treated
   compounds' counterfactual tickets, from one joint fit; and the empirical-Bayes before-after
   (eb) beside the model. Log effects b become (exp(b) - 1) * 100 percent,
   interval ends transformed the same way.

Also: an event study (relative-month coefficients, centred on the pre-window months, so a leader
can see whether treated and controls moved in parallel before), per-compound counterfactual
bands with a test per compound (Benjamini-Hochberg across the treated compounds), effects by
category and on neighbouring compounds (displacement) and cost per avoided complaint.

Pure computation on a Panel and its cohorts: panel (the unit, month indices), poisson (the
conditional Poisson FE fit), variance (its cluster jackknife), stacking (stacks, controls,
design), estimates (naive, adjusted, event study), placebo, net, eb, integrity (data breaks that
would pass for an effect), pretrend (joint pre-trend test, the effect path with simultaneous
bands), multiplicity (Benjamini-Hochberg), breakdowns (per compound, by category, displacement,
cost), result (EffectsResult, and the window sensitivity). Loading from and storing to the store:
analytics.services.effects; the leaders' ten-second summary: analytics.reports.effects_text.
"""
