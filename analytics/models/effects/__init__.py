"""Did complaints fall because of the task forces? Three numbers, always shown together.

1. naive change (the official figure): treated compounds' tickets in the (up to) 12 months from
   the start month vs the same calendar months one year earlier.
2. placebo: the same rule (top N by tickets in a window as long as the selection window) applied
   where there were no task forces, and how much that top N fell by itself, measured the same way
   (same calendar months a year apart). Preferred: the rule applied one year earlier (window
   shifted back twelve months; compounds with a task force during that placebo year are left
   out; only month pairs the data cover are used, so with a short history the baseline is mostly
   the placebo window itself and the placebo shows the full regression to the mean). When the
   data do not reach back that far: the next N compounds below the cut in the real selection
   window (none of which got a task force), over exactly the naive figure's months.
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
   when a few big compounds carry much weight. Cohort effects are averaged with weights equal to
   their treated compounds' post-start tickets. Log effects b become (exp(b) - 1) * 100 percent,
   interval ends transformed the same way.

Also: an event study (relative-month coefficients, centred on the pre-window months, so a leader
can see whether treated and controls moved in parallel before), per-compound counterfactual
bands, effects by category and on neighbouring compounds (displacement) and cost per avoided
complaint.

Pure computation on a Panel and its cohorts: panel (the unit, month indices), poisson (the
conditional Poisson FE fit), variance (its cluster jackknife), stacking (stacks, controls,
design), estimates (the headline figures, event study), breakdowns (per compound, by category,
displacement, cost), result (EffectsResult). Loading from and storing to the store:
analytics.services.effects; the leaders' ten-second summary: analytics.reports.effects_text.
"""
