"""Which compounds have the most persistent complaint problem: composite score, shrinkage, intervals.

How the score is built (the sentence a leader reads is the catalogue's `rk_weights_default`):

1. Only valid tickets (is_valid) matched to a compound count, inside the ranking window (by default
   the 12 months ending with the latest complete month: every season once).
2. Components per compound (`components`, with the prior in `prior`):
   - `volume`: valid tickets in the window;
   - `shrunk_rate`: tickets per 100 households per month, shrunk towards similar compounds by an
     empirical-Bayes Poisson-Gamma model. The prior mean comes from a Poisson GLM with exposure
     (households/100 x months) and covariates type, size band and is_old; the gamma shape from the
     method of moments. Month-to-month over-dispersion (half-year shocks, seasonality left over)
     is estimated from the data (Var = mu + c mu^2, quasi-likelihood) and tempers the
     likelihood, so a noisy compound is shrunk more and gets wider intervals;
   - `trend`: log ratio of the second half of the window to the first, net of the district's
     own change (shown; weight 0 by default);
   - `repeat_share`: share of tickets that repeat an earlier call by the same caller about the same
     category in the same compound within `REPEAT_DAYS` days (analytics.config);
   - `unresolved_share`: share of tickets marked not resolved, among those with a resolved flag;
   - `dissatisfaction`: share of satisfaction answers that are not satisfied.
   The three shares are shrunk towards the district share (beta-binomial, prior by moments).
3. Each component becomes a percentile among the compounds that can rank (at least `MIN_TICKETS`
   valid tickets), and the score is the weighted mean of the percentiles (0-100; higher = worse).
   A component with no data at all (e.g. no satisfaction survey in the upload) is dropped and the
   other weights renormalised; a compound missing one component gets the middle percentile (`score`).
4. Uncertainty: `n_draws` draws from the posterior (gamma for the rate, Jeffreys beta for the
   shares) -> recompute percentiles and score -> rank. Each compound gets its median rank, a 90%
   rank interval and the probability of being in the top `top` (`score`). The default 400 draws
   keep the page interactive at city scale; pass n_draws=1000 or more where the exact ends of the
   intervals matter (the README gives their Monte Carlo error).

Households unknown: a compound without households gets its peer group's median households
(`rate_basis = 'imputed_households'`); when no compound has households, every rate is per
compound-month instead (`rate_basis = 'per_compound'`, rate_per_100_households is null).

Also here: the funnel plot (`funnel`) and the league tables of property companies, communities
and subdistricts, and stars against complaints (`leagues`). Loading the counts from the store and
keeping snapshots is analytics.services.ranking's job.
"""
