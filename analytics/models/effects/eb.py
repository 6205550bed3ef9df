"""Hauer's empirical-Bayes (EB) before-after estimate of the task forces' effect, beside the DiD.

Hauer (1997), "Observational before-after studies in road safety", as practitioners use it.
Reference group: the compounds that never got a task force.

1. Complaint performance function (CPF): E[y_it] = exp(b0 + x_i'b) s_t for compound i in
   calendar month t (month x year). x_i uses what the registry has: log households (missing
   values set to the mean log and flagged), compound type (missing as its own level), is_old
   (missing as its own level) and built_year in decades from the mean (missing flagged); columns
   that do not vary among the reference compounds, duplicates and one level per categorical are
   dropped. Fitted in two steps:
   a. Month effects s_t from the monthly Poisson (quasi-likelihood) model with the covariates
      and month fixed effects. Its month score equations give exp(g_t) = Y_.t / sum_i exp(x_i'b)
      whatever b is, so s_t is the reference group's mean tickets in month t (the constant goes
      into b0). Quasi-likelihood keeps them consistent however over-dispersed the months are.
   b. b0, b and the dispersion k by maximum likelihood of an NB2 model (statsmodels
      NegativeBinomial) of the reference compounds' totals Y_i over the before period, with
      log(sum of s_t over the period) as offset: Y_i ~ NB(mu_i, k), Var = mu_i + mu_i^2 / k.
      EB needs k for the between-compound variation of a compound's total over a period, and a
      monthly dispersion does not describe it (month-to-month noise averages out over twelve
      months, a compound's persistent level does not); fitting the period totals estimates k
      where it is used, jointly with the covariate effects. With several cohorts the totals over
      each distinct before period are stacked into one fit (one k).
2. EB per treated compound i of each cohort: before = the 12 months before its first_post (they
   contain the selection window: the EB weight is what corrects for the selection), after = the
   months first_post..first_post+11 that the data cover. mu_b, mu_a = CPF sums over the two
   periods, K_b = observed before, w = 1 / (1 + mu_b / k), EB_b = w mu_b + (1 - w) K_b,
   r = mu_a / mu_b, pi_i = r EB_b (expected after without the task force),
   Var(pi_i) = r^2 (1 - w) EB_b, lambda_i = observed after.
3. Index of effectiveness over all treated compounds (cohorts pooled):
   theta = (L / P) / (1 + V / P^2), L = sum lambda, P = sum pi, V = sum Var(pi);
   effect % = (theta - 1) * 100. Analytic SE (Hauer): theta sqrt(1 / L + V / P^2) / (1 + V / P^2);
   it treats the CPF and k as known and each compound's after count as Poisson around
   theta pi_i, so it is too small. The 95% interval is a percentile bootstrap over compounds:
   the reference compounds and, within each cohort, the treated compounds are drawn with
   replacement, the CPF (s_t, b0, b, k) is refitted and theta recomputed; draws whose NB fit
   does not converge are skipped. A resample is frequency weights on the reference compounds, so
   each refit is the same NB2 ML as statsmodels on the drawn rows, computed by Newton's method on
   the weighted log-likelihood in (b0, b, log k) from the full-sample fit with the analytic
   gradient and Hessian (statsmodels on the drawn rows when that fails).

What EB corrects and what it does not: the weight w corrects the regression to the mean that
comes from counting noise around a compound's stable expected level. With a few hundred
tickets a compound a year the counting noise is small beside the spread between compounds, so
w is near zero (about 0.005 in the simulated districts), EB_b is almost K_b and the estimate is
close to the year-on-year change of the treated compounds, corrected by the reference group's
trend. When the selection window picks transient surges in the expected level itself (a burst
pipe, a dispute that ends by itself), EB does not model them and shows a fall that is not
there (simulated districts with half-year surges: about 10 points on average); the DiD drops
the selection window for that reason. So EB is shown beside the DiD as a check, and
`disagrees` flags when their intervals do not overlap. The reference group lacks the compounds
picked from the top, so its spread (and mean) understate the population's; with few tickets a
compound and a large treated share this makes EB shrink too much and understate a fall
(gamma-Poisson districts, 5% treated: about +5 points; 2%: under 2).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import digamma, gammaln, polygamma

from analytics.errors import ValidationError
from analytics.models.effects.panel import HORIZON, Cohort, Panel

N_BOOT = 1000  # bootstrap refits: about 0.4 CPU s at 1,105 compounds x 36 months, 0.8 with six cohorts
MIN_REFERENCE = 30  # fewer reference compounds than this: the CPF is noted as weak
MAX_K = 1e8  # k this large: no over-dispersion left, EB_b = mu_b
MIN_ALPHA = 1e-8
MIN_BOOT = 20  # fewer successful refits than this: no interval
CI_LEVEL = 0.95
NEWTON_TOL = 1e-8  # bootstrap refits stop when no parameter moves more (quadratic: ~1e-15 left)
NEWTON_MAX_ITER = 50
MAX_TABLE = 1_000_000  # largest count for which the trigamma difference is summed (_trigamma_gap)

PER_COMPOUND_COLUMNS = [
    "compound_id",
    "cohort",
    "observed_before",
    "predicted_before",
    "eb_before",
    "counterfactual_after",
    "counterfactual_var",
    "observed_after",
    "ratio",
]


@dataclass
class EBResult:
    """The EB before-after estimate: percent figures rounded to one decimal, None when unknown."""

    effect_pct: float | None
    ci_low_pct: float | None
    ci_high_pct: float | None
    theta: float | None
    theta_se_analytic: float | None
    n_treated: int
    n_reference: int
    k: float | None  # NB dispersion of period totals (Var = mu + mu^2 / k)
    per_compound: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PER_COMPOUND_COLUMNS))
    notes: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "eb_effect_pct": self.effect_pct,
            "eb_ci_low_pct": self.ci_low_pct,
            "eb_ci_high_pct": self.ci_high_pct,
        }


def disagrees(eb: EBResult, did_low: float | None, did_high: float | None) -> bool:
    """True when the EB and DiD 95% intervals (percent) are both known and do not overlap."""
    if None in (eb.ci_low_pct, eb.ci_high_pct, did_low, did_high):
        return False
    return bool(eb.ci_high_pct < did_low or did_high < eb.ci_low_pct)


# ---------------------------------------------------------------- the CPF


def compound_design(compound_ids: list[str], covariates: pd.DataFrame | None) -> pd.DataFrame:
    """Compound-level CPF columns before the intercept, one row a compound (no covariates: no columns)."""
    out = pd.DataFrame(index=pd.Index(compound_ids, name="compound_id"))
    if covariates is None or covariates.empty:
        return out
    cov = covariates.reindex(out.index)
    if "households" in cov:
        hh = pd.to_numeric(cov["households"], errors="coerce")
        log_hh = np.log(hh.where(hh > 0))
        if log_hh.notna().any():
            out["log_households"] = log_hh.fillna(log_hh.mean())
            out["households_missing"] = log_hh.isna().astype(float)
    if "type" in cov:
        kind = cov["type"].astype("object").where(cov["type"].notna(), "missing").astype(str)
        out = out.join(pd.get_dummies(kind, prefix="type", dtype=float))
    if "is_old" in cov:
        old = cov["is_old"].map({True: "old", False: "new"}).fillna("missing")
        out = out.join(pd.get_dummies(old, prefix="age", dtype=float))
    if "built_year" in cov:
        year = pd.to_numeric(cov["built_year"], errors="coerce")
        if year.notna().any():
            out["built_decades"] = ((year - year.mean()) / 10).fillna(0.0)
            out["built_year_missing"] = year.isna().astype(float)
    return out


def _informative(design: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Columns that vary among `rows`; duplicates and one level per categorical dropped (the intercept)."""
    sub = design.iloc[rows]
    keep = [c for c in design.columns if sub[c].nunique() > 1]
    design = design[keep]
    design = design.loc[:, ~design.iloc[rows].T.duplicated().to_numpy()]
    for prefix in ("type_", "age_"):
        dummies = [c for c in design.columns if c.startswith(prefix)]
        if dummies and np.allclose(design.iloc[rows][dummies].sum(axis=1), 1.0):
            design = design.drop(columns=dummies[0])
    return design


@dataclass
class CPF:
    """A fitted CPF: E[y_it] = exp(b0 + x_i'b) s_t (s_t zero where the reference group had no tickets)."""

    beta: np.ndarray  # intercept first, then the covariates
    month_effect: np.ndarray  # (months,) s_t = mean reference tickets in month t
    k: float  # NB dispersion of period totals (Var = mu + mu^2 / k)
    converged: bool

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(compounds, months) expected tickets; x without the intercept column."""
        return np.exp(self.beta[0] + x @ self.beta[1:])[:, None] * self.month_effect[None, :]


def month_effects(counts: np.ndarray) -> np.ndarray:
    """Calendar-month effects s_t of the monthly Poisson model with compound covariates and month FE.

    Its month-FE score equations give exp(g_t) = Y_.t / sum_i exp(x_i'b) for any b, so the month
    effects are the reference group's mean tickets in month t up to a constant the intercept takes.
    """
    return counts.mean(axis=0)


def _nb2(
    y: np.ndarray, design: np.ndarray, offset: np.ndarray, start: np.ndarray | None = None
) -> tuple[np.ndarray, float, bool]:
    """NB2 ML of period totals: (coefficients, alpha = 1 / k, converged).

    Starts from `start` (coefficients and alpha of an earlier fit) when given, else (or when that
    fails) from a Poisson fit and the moment estimate of alpha.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.NegativeBinomial(y, design, offset=offset, loglike_method="nb2")
        if start is not None and start[-1] > MIN_ALPHA:
            found = _nb2_from(model, start, (("newton", 50), ("bfgs", 500)))
            if found is not None:
                return found
        pois = sm.GLM(y, design, family=sm.families.Poisson(), offset=offset).fit()
        mu = pois.fittedvalues
        alpha0 = max(float(np.sum((y - mu) ** 2 - y) / np.sum(mu**2)), MIN_ALPHA)
        if alpha0 <= MIN_ALPHA:
            return np.asarray(pois.params), 0.0, bool(pois.converged)
        found = _nb2_from(model, np.append(pois.params, alpha0), (("bfgs", 500), ("nm", 5000)))
    return found if found is not None else (np.asarray(pois.params), alpha0, False)


def _nb2_from(
    model: sm.NegativeBinomial, start: np.ndarray, methods: tuple[tuple[str, int], ...]
) -> tuple[np.ndarray, float, bool] | None:
    for method, maxiter in methods:
        res = model.fit(start_params=start, method=method, maxiter=maxiter, disp=0)
        params = np.asarray(res.params)
        if np.all(np.isfinite(params)) and res.mle_retvals.get("converged", False) and params[-1] > 0:
            return params[:-1], float(params[-1]), True
    return None


def fit_cpf(counts: np.ndarray, x: np.ndarray, before: np.ndarray, start: CPF | None = None) -> CPF:
    """The CPF from reference compounds' monthly counts (compounds, months) and covariates x.

    before: (periods, months) masks of the before periods; the covariate effects and k come from
    an NB2 fit of the compounds' totals over each before period (stacked when there are several)
    with log(sum of the period's month effects) as offset. start: an earlier fit to start from.
    """
    s = month_effects(counts)
    sums = before @ s
    keep = sums > 0
    y = np.concatenate([counts[:, b].sum(axis=1) for b in before[keep]])
    offset = np.repeat(np.log(sums[keep]), counts.shape[0])
    design = np.tile(np.column_stack([np.ones(counts.shape[0]), x]), (int(keep.sum()), 1))
    init = None if start is None else np.append(start.beta, 1 / start.k)
    beta, alpha, converged = _nb2(y, design, offset, init)
    k = 1 / alpha if alpha > 1 / MAX_K else MAX_K
    return CPF(beta, s, k, converged)


# ---------------------------------------------------------------- periods and theta


@dataclass
class _Periods:
    """Each treated (cohort, row) pair and the reference rows' before periods, as month column masks."""

    cohort: np.ndarray  # per treated pair
    rows: np.ndarray  # per treated pair: panel row
    before: np.ndarray  # (pairs, months) bool
    after: np.ndarray  # (pairs, months) bool
    ref_before: np.ndarray  # (distinct before periods, months) bool


def _periods(panel: Panel, cohorts: list[Cohort], notes: list[dict[str, Any]]) -> _Periods:
    months = panel.first_month + np.arange(panel.n_months)
    pairs_c, pairs_r, before, after, ref = [], [], [], [], {}
    dropped = short = 0
    for c, cohort in enumerate(cohorts):
        b = (months >= cohort.first_post - 12) & (months < cohort.first_post)
        a = (months >= cohort.first_post) & (months < cohort.first_post + HORIZON)
        if not b.any() or not a.any() or not cohort.rows:
            dropped += 1
            continue
        short += int(b.sum() < 12)
        ref[tuple(b)] = b
        for r in cohort.rows:
            pairs_c.append(c)
            pairs_r.append(r)
            before.append(b)
            after.append(a)
    if dropped:
        notes.append({"code": "eb_dropped_cohorts", "n": dropped})
    if short:
        notes.append({"code": "eb_short_before", "n": short})
    n_m = panel.n_months
    return _Periods(
        np.array(pairs_c, dtype=int),
        np.array(pairs_r, dtype=int),
        np.array(before, dtype=bool).reshape(-1, n_m),
        np.array(after, dtype=bool).reshape(-1, n_m),
        np.array(list(ref.values()), dtype=bool).reshape(-1, n_m),
    )


def _theta(lam: np.ndarray, pi: np.ndarray, var: np.ndarray, w: np.ndarray | None = None) -> float | None:
    w = np.ones(len(lam)) if w is None else w
    total_l, total_p, total_v = float(w @ lam), float(w @ pi), float(w @ var)
    if total_p <= 0:
        return None
    return (total_l / total_p) / (1 + total_v / total_p**2)


def _theta_se(lam: np.ndarray, pi: np.ndarray, var: np.ndarray, theta: float) -> float:
    total_l, total_p, total_v = float(lam.sum()), float(pi.sum()), float(var.sum())
    rel = total_v / total_p**2
    return theta * math.sqrt((1 / total_l if total_l > 0 else 0.0) + rel) / (1 + rel)


def _eb_parts(
    k_b: np.ndarray, mu_b: np.ndarray, mu_a: np.ndarray, k: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(EB_b, pi, Var(pi)) per treated pair from its observed before and the CPF sums over the periods."""
    w = 1 / (1 + mu_b / k)
    eb_b = w * mu_b + (1 - w) * k_b
    r = np.divide(mu_a, mu_b, out=np.zeros_like(mu_a), where=mu_b > 0)
    return eb_b, r * eb_b, r**2 * (1 - w) * eb_b


def _eb_terms(
    panel: Panel, per: _Periods, mu: np.ndarray, k: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """(lambda, pi, Var(pi)) per treated pair, with the per-compound table; mu is (pairs, months)."""
    counts = panel.counts[per.rows]
    k_b = (counts * per.before).sum(axis=1)
    lam = (counts * per.after).sum(axis=1)
    mu_b = (mu * per.before).sum(axis=1)
    mu_a = (mu * per.after).sum(axis=1)
    eb_b, pi, var = _eb_parts(k_b, mu_b, mu_a, k)
    table = pd.DataFrame(
        {
            "compound_id": [panel.compound_ids[i] for i in per.rows],
            "cohort": per.cohort,
            "observed_before": k_b,
            "predicted_before": mu_b,
            "eb_before": eb_b,
            "counterfactual_after": pi,
            "counterfactual_var": var,
            "observed_after": lam,
            "ratio": np.divide(lam, pi, out=np.full_like(lam, np.nan), where=pi > 0),
        }
    )
    return lam, pi, var, table


def _pct(theta: float | None) -> float | None:
    if theta is None or not math.isfinite(theta):
        return None
    return round((theta - 1) * 100, 1)


# ---------------------------------------------------------------- the estimate


def eb_before_after(
    panel: Panel,
    cohorts: list[Cohort],
    covariates: pd.DataFrame | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> EBResult:
    """Hauer's EB before-after estimate for the treated compounds of `cohorts` (module docstring).

    covariates: indexed by compound_id, optional columns households, type, is_old, built_year.
    n_boot: bootstrap refits for the 95% interval (0: no interval).
    """
    treated = sorted({r for c in cohorts for r in c.rows})
    ref_rows = np.setdiff1d(np.arange(len(panel.compound_ids)), treated)
    if len(ref_rows) == 0:
        raise ValidationError(
            "没有从未设专班的小区，无法拟合经验贝叶斯的投诉基准模型。",
            "There are no compounds without a task force, so the empirical-Bayes reference model "
            "cannot be fitted.",
        )
    notes: list[dict[str, Any]] = []
    if len(ref_rows) < MIN_REFERENCE:
        notes.append({"code": "eb_few_reference", "n": int(len(ref_rows))})
    per = _periods(panel, cohorts, notes)
    x = _informative(compound_design(panel.compound_ids, covariates), ref_rows).to_numpy(dtype=float)
    result = EBResult(None, None, None, None, None, len(per.rows), int(len(ref_rows)), None, notes=notes)
    if len(per.rows) == 0:
        return result
    cpf = fit_cpf(panel.counts[ref_rows], x[ref_rows], per.ref_before)
    result.k = cpf.k
    if not cpf.converged:
        notes.append({"code": "eb_cpf_not_converged"})
    if cpf.k >= MAX_K:
        notes.append({"code": "eb_no_overdispersion"})
    lam, pi, var, result.per_compound = _eb_terms(panel, per, cpf.predict(x[per.rows]), cpf.k)
    theta = _theta(lam, pi, var)
    if theta is None:
        notes.append({"code": "eb_no_prediction"})
        return result
    result.theta, result.effect_pct = theta, _pct(theta)
    result.theta_se_analytic = _theta_se(lam, pi, var, theta)
    boot = _bootstrap(panel, per, x, ref_rows, cpf, n_boot, seed)
    if len(boot) >= MIN_BOOT:
        lo, hi = np.quantile(boot, [(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2])
        result.ci_low_pct, result.ci_high_pct = _pct(float(lo)), _pct(float(hi))
    elif n_boot > 0:
        notes.append({"code": "eb_no_interval"})
    return result


def _bootstrap(
    panel: Panel, per: _Periods, x: np.ndarray, ref_rows: np.ndarray, fit: CPF, n_boot: int, seed: int
) -> np.ndarray:
    """theta from n_boot CPF refits on compounds drawn with replacement (reference; treated within cohorts)."""
    rng = np.random.default_rng(seed)
    ref = _Reference(panel.counts[ref_rows], x[ref_rows], per.ref_before)
    counts = panel.counts[per.rows]
    k_b, lam = (counts * per.before).sum(axis=1), (counts * per.after).sum(axis=1)
    x_treated = np.column_stack([np.ones(len(per.rows)), x[per.rows]])
    groups = [np.flatnonzero(per.cohort == c) for c in np.unique(per.cohort)]
    out = []
    for _ in range(n_boot):
        draw = rng.integers(0, len(ref_rows), len(ref_rows))
        w_treated = np.zeros(len(per.rows))
        for idx in groups:
            np.add.at(w_treated, rng.choice(idx, len(idx)), 1.0)
        try:
            cpf = _refit(ref, np.bincount(draw, minlength=len(ref_rows)).astype(float), fit)
        except (np.linalg.LinAlgError, ValueError):  # a resample whose covariates are collinear
            continue
        if not cpf.converged:
            continue
        level = np.exp(x_treated @ cpf.beta)
        mu_b, mu_a = level * (per.before @ cpf.month_effect), level * (per.after @ cpf.month_effect)
        _, pi, var = _eb_parts(k_b, mu_b, mu_a, cpf.k)
        theta = _theta(lam, pi, var, w_treated)
        if theta is not None and math.isfinite(theta):
            out.append(theta)
    return np.array(out)


# ---------------------------------------------------------------- bootstrap refits


@dataclass
class _Reference:
    """The reference compounds' inputs to the CPF: monthly counts, covariates, before-period totals."""

    counts: np.ndarray  # (compounds, months)
    x: np.ndarray  # (compounds, covariates) without the intercept
    before: np.ndarray  # (periods, months) bool
    design: np.ndarray = field(init=False)  # (compounds, 1 + covariates)
    totals: np.ndarray = field(init=False)  # (compounds, periods)

    def __post_init__(self) -> None:
        self.design = np.column_stack([np.ones(len(self.counts)), self.x])
        self.totals = self.counts @ self.before.T.astype(float)


def _refit(ref: _Reference, freq: np.ndarray, fit: CPF) -> CPF:
    """The CPF refitted on a resample given as each reference compound's frequency `freq`.

    The same fit as fit_cpf on the resample's rows (the likelihood of a row drawn f times is its
    likelihood to the power f), by weighted Newton from `fit`; fit_cpf on the rows when that fails.
    """
    s = freq @ ref.counts / freq.sum()
    sums = ref.before @ s
    keep, rows = sums > 0, freq > 0
    found = None
    if fit.k < MAX_K and keep.any():
        n_keep = int(keep.sum())
        y = ref.totals[rows][:, keep].T.ravel()
        design = np.tile(ref.design[rows], (n_keep, 1))
        offset = np.repeat(np.log(sums[keep]), int(rows.sum()))
        try:
            found = _nb2_newton(y, design, offset, np.tile(freq[rows], n_keep), fit.beta, fit.k)
        except (OverflowError, FloatingPointError, ValueError):  # a step that ran away: statsmodels
            found = None
    if found is None:
        draw = np.repeat(np.arange(len(freq)), freq.astype(int))
        return fit_cpf(ref.counts[draw], ref.x[draw], ref.before, start=fit)
    beta, k = found
    return CPF(beta, s, min(k, MAX_K), True)


def _nb2_newton(
    y: np.ndarray, design: np.ndarray, offset: np.ndarray, weight: np.ndarray, beta: np.ndarray, k: float
) -> tuple[np.ndarray, float] | None:
    """Weighted NB2 ML by Newton's method in (b, log k) from (beta, k): (coefficients, k), None if it fails.

    Each step solves H d = -g with the analytic gradient g and Hessian H of the weighted
    log-likelihood, halving d until the log-likelihood does not fall; None when H is not negative
    definite or NEWTON_MAX_ITER steps do not bring the largest |d| under NEWTON_TOL.
    """
    params = np.append(beta, math.log(k))
    loglik, grad, hess = _nb2_derivatives(y, design, offset, weight, params)
    for _ in range(NEWTON_MAX_ITER):
        try:
            chol = np.linalg.cholesky(-hess)
        except np.linalg.LinAlgError:
            return None
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
        for _ in range(30):
            new = _nb2_derivatives(y, design, offset, weight, params + step)
            if np.isfinite(new[0]) and new[0] >= loglik - 1e-12 * abs(loglik):
                break
            step = step / 2
        else:
            return None
        params = params + step
        loglik, grad, hess = new
        if np.max(np.abs(step)) < NEWTON_TOL:
            return params[:-1], math.exp(params[-1])
    return None


def _nb2_derivatives(
    y: np.ndarray, design: np.ndarray, offset: np.ndarray, weight: np.ndarray, params: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted NB2 log-likelihood (without the constant -lgamma(y + 1)), gradient and Hessian in
    (b, log k); mu = exp(offset + design b).

    Per row, with m = k + mu: l = lgamma(y + k) - lgamma(k) + k log(k / m) + y log(mu / m); dl/d eta = k (y - mu) / m, d2l/d eta2 = -k mu (k + y) / m^2; with
    D = dl/dk = psi(y + k) - psi(k) + log(k / m) + 1 - (k + y) / m and
    D2 = psi'(y + k) - psi'(k) + 1 / k - 1 / m - (mu - y) / m^2: dl/d log k = k D,
    d2l/d(log k)2 = k^2 D2 + k D, d2l/d eta d log k = k mu (y - mu) / m^2.
    """
    log_k = params[-1]
    k = math.exp(log_k)
    eta = offset + design @ params[:-1]
    mu = np.exp(eta)
    m = k + mu
    log_m = np.log(m)
    loglik = float(weight @ (gammaln(y + k) - math.lgamma(k) + k * (log_k - log_m) + y * (eta - log_m)))
    d_k = digamma(y + k) - float(digamma(k)) + log_k - log_m + 1 - (k + y) / m
    d2_k = _trigamma_gap(y, k) + 1 / k - 1 / m - (mu - y) / m**2
    grad = np.append(design.T @ (weight * k * (y - mu) / m), k * (weight @ d_k))
    cross = design.T @ (weight * k * mu * (y - mu) / m**2)
    hess = np.empty((len(params), len(params)))
    hess[:-1, :-1] = (design * (weight * -k * mu * (k + y) / m**2)[:, None]).T @ design
    hess[:-1, -1] = hess[-1, :-1] = cross
    hess[-1, -1] = k * k * (weight @ d2_k) + k * (weight @ d_k)
    return loglik, grad, hess


def _trigamma_gap(y: np.ndarray, k: float) -> np.ndarray:
    """psi'(y + k) - psi'(k); for whole counts -sum_{j < y} 1 / (k + j)^2 from one cumulative sum.

    The Hessian only sets the pace of Newton's method, not the solution, and the sum is much
    cheaper than a vectorised polygamma (Hurwitz zeta) when the counts repeat a small range.
    """
    top = int(y.max()) if len(y) else 0
    if top > MAX_TABLE or not np.all(y == np.round(y)):
        return polygamma(1, y + k) - float(polygamma(1, k))
    table = np.concatenate([[0.0], np.cumsum(1 / (k + np.arange(top)) ** 2)])
    return -table[y.astype(int)]
