"""Rank compounds from one posterior: expected tickets over the next 12 months, with honest uncertainty.

Inputs of `posterior_rank` (frames in, frames out; the store is analytics.services.ranking_posterior's job):

- `monthly`: valid tickets per compound and month (compound_id, month, n); no row = 0 tickets;
- `registry`: one row per compound to rank (compound_id, and as far as known type, is_old,
  built_year, households); every compound here is ranked, also with 0 tickets or no households;
- `months`: the window's months (pd.Period or anything pd.Period takes), oldest first;
- `shares` (optional): per compound the counts of the "问题突出" shares (repeats/n_caller,
  unresolved/n_resolved, unsatisfied/n_satisfied), as analytics.metrics.source.compound_stats
  gives them.

The model (one empirical-Bayes hierarchy, every constant estimated from the data):

1. District season and level: a log-linear fit of the district's monthly totals (month-of-year
   with 12+ months, a linear trend with 24+) gives each month's exposure e_t relative to the
   level of the last month; the next 12 months get their season at that level.
2. Covariate prior: a negative-binomial GLM of each compound's window total on type, age (is_old,
   built year), log households and a households-unknown flag, offset log(sum e_t), gives m_i,
   the tickets a month of a compound of its kind and size (alpha by moments after a Poisson pass).
3. Compound deviations: x_it = y_it / (e_t m_i) = g_i (1 + d_it) + Poisson noise, where g_i is the
   compound's persistent level (mean 1, variance V: the between-compound variance of the gamma
   prior) and d_it its transient deviation. The covariance of d is fitted to the pooled lag
   moments of x (noise removed at lag 0) as A rho^L (AR(1)-like persistence) + B (1 - L/b)+
   (shocks lasting b months) + white noise, choosing rho and b by weighted least squares: the
   data decide how much recent months weigh.
4. Posterior: per compound the best linear predictor of W_i = E[next 12 months' tickets | the
   compound's state] from its own months (the Gamma-Poisson shrinkage generalised to correlated
   months), with its error variance; draws are log-normal with that mean and variance.
5. Hyper-parameter uncertainty: `N_HYPER` sets of (GLM coefficients from their sampling
   distribution, lag moments bootstrapped over compounds and refitted); draw d uses set d mod H.
6. Shares enter `volume` only when their between-compound variance is distinguishable from zero
   (Tarone's binomial over-dispersion test at `SHARE_TEST_LEVEL`); then each expected share
   ticket counts 1 + weight times (beta-binomial posterior). Otherwise the weight is 0 and `info`
   says why.

Presets (the quantity drawn per compound; wording in the catalogue as rk_preset_<name>):
- `volume` (default): expected tickets over the next 12 months if nothing is done;
- `excess`: expected tickets minus the covariate prediction (a compound of its type, age and size);
- `rate`: expected tickets per 100 households per month (only compounds with households).

Ranks come from the draws: per draw every compound is ranked (1 = worst); p_top = share of draws
in the top `top`; the list is the `top` compounds with the highest p_top (ties by expected rank),
shown in expected-rank order; rank = the posterior median rank, rank_low/rank_high its 5th/95th
percentiles, so rank_low <= rank <= rank_high always.

Output frame (one row per ranked compound; the list first): compound_id, rank, rank_median,
rank_low, rank_high, expected_rank, p_top, listed, expected_tickets, avoidable_tickets,
rate_per_100_households, tickets (observed in the window), score (posterior mean of the preset's
quantity), preset. `info` holds the fitted constants, the share tests and the dropped components.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import ValidationError
from analytics.models.ranking.prior import UNKNOWN_TYPE, beta_prior

PRESETS = ("volume", "excess", "rate")
N_DRAWS = 1000  # the ranking's draws: the ends of a 90% rank interval need about this many
HORIZON = 12
RANK_INTERVAL = (0.05, 0.95)
N_HYPER = 10
RHO_GRID = np.linspace(0.0, 0.98, 50)
BLOCK_WIDTHS = (3, 6, 9, 12)
SHARE_TEST_LEVEL = 0.05
# Surges: a run of SURGE_WIDTHS months whose tickets exceed SURGE_RATIO x the compound's robust
# level by more than SURGE_Z Poisson standard deviations. They are discounted (set to that level)
# only when the fitted covariance says transient deviations are mostly shocks that end
# (shock share of the transient variance >= SURGE_SHOCK_SHARE); persistent AR-like deviations
# keep their information. Chosen on tuning seeds 0-9 of analytics.synthetic.rank_dgp.
SURGE_WIDTHS = (3, 6)
SURGE_RATIO = 1.6
SURGE_Z = 3.0
SURGE_SHOCK_SHARE = 0.5
SURGE_BLOCK = 3  # months per block of the robust level (median of block rates)
# The best linear predictor's error variance is that of the best *linear* predictor: wider than
# the posterior where deviations are far from Gaussian. Scaled by this factor, chosen on tuning
# seeds 0-9 (of 0.8, 0.9, 1.0) so that 90% rank intervals cover 0.85-0.95 overall and for the true
# top 65 on every process there (1.0: up to 0.96 overall; 0.8: down to 0.83 at the top).
VARIANCE_CALIBRATION = 0.9
# a surge's typical length when too few whole surges are seen to tell, and the least number of
# months a surge under way may go on for in the variance (see _ongoing_surge)
SURGE_MAX_LEFT = 6
SHARE_INPUTS = {
    "repeat_share": ("repeats", "n_caller"),
    "unresolved_share": ("unresolved", "n_resolved"),
    "dissatisfaction": ("unsatisfied", "n_satisfied"),
}
# each repeat, unresolved or dissatisfied ticket counts 1.2 (where the share has signal): 问题突出 stays
# in the definition at little cost to finding the most-ticketed compounds (tuning seeds 0-9 of
# analytics.synthetic.rank_dgp: at most -0.3 of 65 against weight 0, -0.8 with 0.5)
DEFAULT_SHARE_WEIGHTS = {"repeat_share": 0.2, "unresolved_share": 0.2, "dissatisfaction": 0.2}


@dataclass(frozen=True)
class Kernel:
    """Covariance of the relative monthly level: V + (1 + V) (A rho^L + B (1 - L/b)+ + N [L = 0])."""

    v: float
    a: float
    rho: float
    b: float
    width: int
    nugget: float

    def transient(self, lag: np.ndarray) -> np.ndarray:
        lag = np.abs(lag)
        return self.a * self.rho**lag + self.b * np.clip(1.0 - lag / self.width, 0.0, None)


# --------------------------------------------------------------------------- inputs


def _matrix(monthly: pd.DataFrame, ids: pd.Index, months: pd.PeriodIndex) -> np.ndarray:
    y = np.zeros((len(ids), len(months)))
    if monthly is None or monthly.empty:
        return y
    rows = ids.get_indexer(monthly["compound_id"].astype(str))
    cols = months.get_indexer(pd.PeriodIndex(pd.to_datetime(monthly["month"]), freq="M"))
    keep = (rows >= 0) & (cols >= 0)
    np.add.at(y, (rows[keep], cols[keep]), pd.to_numeric(monthly["n"]).to_numpy(float)[keep])
    return y


def _exposure(totals: np.ndarray, months: pd.PeriodIndex) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Relative exposure of each window month and of the next 12, at the level of the last month."""
    t_count = len(months)
    moy = np.asarray(months.month) - 1
    cols = [np.ones(t_count)]
    use_trend = t_count >= 24
    use_season = t_count >= 12
    if use_trend:
        cols.append(np.arange(t_count) - (t_count - 1.0))
    if use_season:
        cols += [(moy == k).astype(float) for k in range(1, 12)]
    x = np.column_stack(cols)
    coef = np.linalg.lstsq(x, np.log(totals + 0.5), rcond=None)[0]
    gamma = np.zeros(12)
    if use_season:
        gamma[1:] = coef[-11:]
        gamma -= gamma.mean()
    trend = float(coef[1]) if use_trend else 0.0
    past = np.exp(gamma[moy] + trend * (np.arange(t_count) - (t_count - 1.0)))
    future_moy = (moy[-1] + np.arange(1, HORIZON + 1)) % 12
    future = np.exp(gamma[future_moy])
    return past, future, {"season": np.exp(gamma).round(4).tolist(), "monthly_trend": round(trend, 5)}


def _design(registry: pd.DataFrame, last_year: int) -> pd.DataFrame:
    frame = pd.DataFrame(index=registry.index)
    types = registry["type"].fillna(UNKNOWN_TYPE).astype(str) if "type" in registry else None
    if types is not None:
        frame = pd.get_dummies(types, prefix="type", drop_first=True, dtype=float)
    if "is_old" in registry:
        frame["is_old"] = registry["is_old"].fillna(False).astype(float)
    if "built_year" in registry:
        built = pd.to_numeric(registry["built_year"], errors="coerce").astype(float)
        age = (last_year - built) / 10.0
        frame["age"] = (age - age.mean()).fillna(0.0)
    households = _households(registry)
    logh = np.log(households)
    frame["log_households"] = (logh - np.nanmean(logh) if np.isfinite(logh).any() else logh).fillna(0.0)
    frame["households_unknown"] = households.isna().astype(float)
    frame = frame.astype(float)  # the store's nullable integer and boolean columns become plain floats
    frame = frame.loc[:, frame.std() > 0]
    frame.insert(0, "const", 1.0)
    return frame


def _households(registry: pd.DataFrame) -> pd.Series:
    if "households" not in registry:
        return pd.Series(np.nan, index=registry.index)
    h = pd.to_numeric(registry["households"], errors="coerce").astype(float)
    return h.where(h > 0)


def _glm(y: np.ndarray, design: pd.DataFrame, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and their covariance: negative-binomial GLM, alpha by moments after a Poisson pass."""
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    x = design.to_numpy()
    off = np.full(len(y), offset)
    intercept = np.log(max(y.mean(), 1e-3)) - offset
    if len(y) < 10 or x.shape[1] == 1:
        return np.array([intercept] + [0.0] * (x.shape[1] - 1)), np.eye(x.shape[1]) * 1e-4
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            pois = GLM(y, x, family=families.Poisson(), offset=off).fit()
            mu = pois.fittedvalues
            alpha = max(float(((y - mu) ** 2 - mu).sum() / max((mu**2).sum(), 1e-12)), 1e-3)
            fit = GLM(y, x, family=families.NegativeBinomial(alpha=alpha), offset=off).fit(
                start_params=pois.params
            )
        cov = np.asarray(fit.cov_params())
        if not np.all(np.isfinite(cov)) or not np.all(np.isfinite(fit.params)):
            raise ValueError("non-finite fit")
        return np.asarray(fit.params), cov
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return np.array([intercept] + [0.0] * (x.shape[1] - 1)), np.eye(x.shape[1]) * 1e-4


# --------------------------------------------------------------------------- the deviations' covariance


def _lag_moments(y: np.ndarray, past: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per compound and lag L: mean over month pairs of (x_t - 1)(x_t+L - 1), Poisson noise removed at L = 0."""
    denom = past[None, :] * m[:, None]
    dev = y / denom - 1.0
    t_count = y.shape[1]
    out = np.empty((len(y), t_count))
    out[:, 0] = (dev**2 - 1.0 / denom).mean(axis=1)
    for lag in range(1, t_count):
        out[:, lag] = (dev[:, :-lag] * dev[:, lag:]).mean(axis=1)
    return out


def _compound_weights(m: np.ndarray, past: np.ndarray, level: float) -> np.ndarray:
    """Precision of a compound's lag moments: signal variance plus its Poisson noise, squared."""
    return 1.0 / (level + 1.0 / (m * past.mean())) ** 2


def _kernel_designs(t_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (rho, width, active columns) least-squares solver for lag moments of length `t_count`.

    With four non-negative coefficients, the NNLS optimum is the least-squares fit on one subset
    of columns whose coefficients are all >= 0, with the smallest residual: solving all subsets
    at once keeps the many refits of the bootstrap cheap.
    """
    cached = _DESIGN_CACHE.get(t_count)
    if cached is not None:
        return cached
    lag = np.arange(t_count, dtype=float)
    w = np.sqrt(t_count - lag)
    zero = (lag == 0).astype(float)
    solvers, designs, labels = [], [], []
    for width in BLOCK_WIDTHS:
        tri = np.clip(1.0 - lag / width, 0.0, None)
        for rho in RHO_GRID:
            full = np.column_stack([np.ones(t_count), rho**lag, tri, zero])
            for mask in range(1, 16):
                cols = [j for j in range(4) if mask >> j & 1]
                x = np.zeros_like(full)
                x[:, cols] = full[:, cols]
                solvers.append(np.linalg.pinv(x * w[:, None]) * w[None, :])
                designs.append(x)
                labels.append((rho, width))
    out = (np.array(solvers), np.array(designs), np.array(labels))
    _DESIGN_CACHE[t_count] = out
    return out


_DESIGN_CACHE: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(length of the run of True ending at the last month per row, lengths of every run that
    touches neither the first nor the last month)."""
    n, t_count = mask.shape
    padded = np.concatenate([np.zeros((n, 1), bool), mask, np.zeros((n, 1), bool)], axis=1).astype(np.int8)
    edges = np.diff(padded, axis=1)
    rows_s, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # row-major order: the k-th start and end belong together
    lengths = ends - starts
    ongoing = np.zeros(n, dtype=int)
    at_end = ends == t_count
    ongoing[rows_s[at_end]] = lengths[at_end]
    return ongoing, lengths[(starts > 0) & ~at_end]


def _ongoing_surge(
    observed: np.ndarray, cleaned: np.ndarray, past: np.ndarray, future: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(mean, variance) the next 12 months' tickets gain from a discounted surge still under way
    in the last month. A surge's typical length L is the upper quartile of the lengths of the
    surges seen whole in the window (SURGE_MAX_LEFT when fewer than 10); one of age a goes on for
    a number of months uniform on 0..max(L - a, 0) (the mean), at its excess per unit of exposure
    (mean over its months so far); its variance allows at least SURGE_MAX_LEFT months."""
    excess = np.clip(observed - cleaned, 0.0, None)
    age, whole = _runs(excess > 0)
    typical = int(np.percentile(whole, 75)) if len(whole) >= 10 else SURGE_MAX_LEFT
    t_count = observed.shape[1]
    rate = np.zeros(len(observed))
    for k in range(1, t_count + 1):
        has = age >= k
        rate[has] += excess[has, t_count - k] / past[t_count - k]
    rate = np.where(age > 0, rate / np.maximum(age, 1), 0.0)
    cum = np.concatenate([[0.0], np.cumsum(future)])
    left = np.clip(typical - age, 0, len(future))
    mean_s = np.array([cum[: k + 1].mean() for k in range(len(future) + 1)])
    var_s = np.array([cum[: k + 1].var() for k in range(len(future) + 1)])
    # whether it ends now is not known from its age alone: the variance allows at least
    # SURGE_MAX_LEFT more months
    spread = np.clip(np.maximum(left, SURGE_MAX_LEFT), 0, len(future))
    on = age > 0
    return np.where(on, rate * mean_s[left], 0.0), np.where(on, rate**2 * var_s[spread], 0.0)


def _surge_months(y: np.ndarray, past: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(months inside a surge [compound, month], each compound's robust monthly level at exposure 1).

    The level is the median of the compound's SURGE_BLOCK-month block rates (tickets / exposure),
    robust to a few surge blocks; a window of SURGE_WIDTHS months is a surge when its tickets are
    above SURGE_RATIO x the level's expectation by more than SURGE_Z Poisson sd. The level is then
    re-estimated from the months outside surges and the windows flagged again."""
    n, t_count = y.shape
    flagged = np.zeros((n, t_count), dtype=bool)
    n_blocks = t_count // SURGE_BLOCK
    if n_blocks < 3:
        return flagged, y.sum(axis=1) / past.sum()
    cut = n_blocks * SURGE_BLOCK
    rates = y[:, :cut].reshape(n, n_blocks, SURGE_BLOCK).sum(axis=2) / past[:cut].reshape(
        n_blocks, SURGE_BLOCK
    ).sum(axis=1)
    level = np.median(rates, axis=1)
    # tickets and exposure of every window of each width: they do not change between the passes
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(y, axis=1)], axis=1)
    windows = {
        width: (csum[:, width:] - csum[:, :-width], np.convolve(past, np.ones(width), mode="valid"))
        for width in SURGE_WIDTHS
        if width <= t_count
    }
    for _ in range(2):
        flagged[:] = False
        for width, (observed, e_sum) in windows.items():
            expect = level[:, None] * e_sum[None, :]
            hit = (observed > SURGE_RATIO * expect) & (observed - expect > SURGE_Z * np.sqrt(expect + 1.0))
            for start in np.flatnonzero(hit.any(axis=0)):
                flagged[hit[:, start], start : start + width] = True
        # a window straddling a surge's edge takes in ordinary months: only months above the
        # level are part of the surge
        flagged &= y > level[:, None] * past[None, :]
        keep = ~flagged
        kept_e = (keep * past[None, :]).sum(axis=1)
        level = np.where(kept_e > 0, (y * keep).sum(axis=1) / np.maximum(kept_e, 1e-12), level)
    return flagged, level


def _fit_kernel(c: np.ndarray) -> Kernel:
    """Fit the covariance to the pooled lag moments c(L), L = 0..T-1 (non-negative least squares)."""
    t_count = len(c)
    if t_count < 3:
        return Kernel(max(float(c[1]) if t_count > 1 else 0.0, 0.0), 0.0, 0.0, 0.0, 6, max(float(c[0]), 0.0))
    solvers, designs, labels = _kernel_designs(t_count)
    coef = solvers @ c
    w = t_count - np.arange(t_count)
    resid = (((designs @ coef[:, :, None])[:, :, 0] - c[None, :]) ** 2 * w[None, :]).sum(axis=1)
    resid[(coef < -1e-12).any(axis=1)] = np.inf
    best = int(np.argmin(resid))
    v, a, b, nugget = np.clip(coef[best], 0.0, None)
    rho, width = labels[best]
    return Kernel(
        float(v), float(a / (1 + v)), float(rho), float(b / (1 + v)), int(width), float(nugget / (1 + v))
    )


def _predict(
    kern: Kernel, y: np.ndarray, past: np.ndarray, future: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and variance of each compound's next-12-month tickets given its months.

    Best linear predictor of W = E[sum_h e_h g (1 + d_T+h) | state] from x_t = y_t / (e_t m):
    Cov(x) = K + diag(g / (e_t m)) is diagonalised once through K~ = sqrt(e) K sqrt(e), so every
    compound costs O(T^2).
    """
    t_count = y.shape[1]
    v, scale = kern.v, 1.0 + kern.v
    idx = np.arange(t_count)
    lag = idx[:, None] - idx[None, :]
    k = v + scale * (kern.transient(lag) + kern.nugget * (lag == 0))
    h = np.arange(1, HORIZON + 1)
    ahead = (t_count - 1 + h)[None, :] - idx[:, None]  # lag from month t to month T+h
    c_z = (future[None, :] * (v + scale * kern.transient(ahead))).sum(axis=1)
    s_total = future.sum()
    block = sum(future[: max(kern.width - 1 - j, 0)].sum() ** 2 for j in range(kern.width))
    var_w = v * s_total**2 + scale * (
        kern.a * (future * kern.rho**h).sum() ** 2 + kern.b / kern.width * block
    )
    root = np.sqrt(past)
    lam, q = np.linalg.eigh(root[:, None] * k * root[None, :])
    lam = np.clip(lam, 0.0, None)
    a = q.T @ (root * c_z)
    g = q * root[:, None]
    x = y / (past[None, :] * m[:, None])
    # noise of x_t is g_i / (e_t m_i): start from g = 1, then use the compound's own posterior level
    level = np.ones(len(y))
    for _ in range(2):
        delta = level / m
        coef = a[None, :] / (lam[None, :] + delta[:, None])
        weights = coef @ g.T
        mean_rel = s_total + ((x - 1.0) * weights).sum(axis=1)
        level = np.clip(mean_rel / s_total, 0.05, 20.0)
    var_rel = var_w - (a[None, :] ** 2 / (lam[None, :] + delta[:, None])).sum(axis=1)
    # the deviations are multiplicative: a compound at twice the average level moves twice as
    # much, so the population-average error variance understates it for the high ones
    var_rel = var_rel * np.maximum(1.0, level**2 / scale)
    mean_rel = np.clip(mean_rel, 0.01 * s_total, None)
    var_rel = np.maximum(var_rel, (0.02 * mean_rel) ** 2)
    return m * mean_rel, m**2 * var_rel


# --------------------------------------------------------------------------- shares


def tarone_test(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Tarone's score test of binomial over-dispersion: (z, one-sided p). Large z = real between-unit variance."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    keep = n > 0
    k, n = k[keep], n[keep]
    if len(n) < 5 or n.sum() <= 0:
        return float("nan"), 1.0
    p = k.sum() / n.sum()
    if p <= 0 or p >= 1:
        return float("nan"), 1.0
    s = ((k - n * p) ** 2).sum() / (p * (1 - p)) - n.sum()
    denom = math.sqrt(2.0 * (n * (n - 1)).sum())
    if denom <= 0:
        return float("nan"), 1.0
    z = s / denom
    return float(z), float(stats.norm.sf(z))


def _share_posteriors(
    shares: pd.DataFrame | None, ids: pd.Index
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, dict[str, Any]]]:
    """Posterior (mean, sd) of each share that carries signal, and per share the test and its verdict."""
    used: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    report: dict[str, dict[str, Any]] = {}
    frame = None if shares is None else shares.set_index(shares["compound_id"].astype(str)).reindex(ids)
    for name, (k_col, n_col) in SHARE_INPUTS.items():
        entry: dict[str, Any] = {"z": None, "p_value": None}
        if frame is None or k_col not in frame or n_col not in frame:
            report[name] = {**entry, "reason": "no_data"}
            continue
        k = frame[k_col].fillna(0).to_numpy(float)
        n = frame[n_col].fillna(0).to_numpy(float)
        if n.sum() <= 0:
            report[name] = {**entry, "reason": "no_data"}
            continue
        z, p = tarone_test(k, n)
        entry.update(z=None if math.isnan(z) else round(z, 3), p_value=round(p, 4))
        if p >= SHARE_TEST_LEVEL:
            report[name] = {**entry, "reason": "no_signal"}
            continue
        a, b = beta_prior(k, n)
        post_a, post_b = a + k, b + n - k
        mean = (post_a / (post_a + post_b)).astype(np.float32)
        sd = np.sqrt(mean * (1 - mean) / (post_a + post_b + 1)).astype(np.float32)
        used[name] = (mean, sd)
        report[name] = {**entry, "reason": "signal", "prior": (round(a, 3), round(b, 3))}
    return used, report


# --------------------------------------------------------------------------- ranking


def _ranks(score: np.ndarray) -> np.ndarray:
    """Rank of each column within each row (draw): 1 = highest score."""
    order = np.argsort(-score, axis=1, kind="stable")
    ranks = np.empty(order.shape, dtype=np.int32)
    np.put_along_axis(ranks, order, np.arange(1, score.shape[1] + 1, dtype=np.int32)[None, :], axis=1)
    return ranks


@dataclass
class Draws:
    """The posterior of one window, shared by every preset, weighting and view of it.

    `expected` holds the draws of each compound's next-12-month expected tickets (draw x
    compound, float32); the prior prediction of hyper-parameter set h is `prior[h]` and draw d
    uses set `which[d]`. The shares' posteriors (mean, sd) are kept for those with signal; their
    standard-normal draws are regenerated from `share_seed`, so every re-weighting of the same
    window sees the same share draws.
    """

    ids: pd.Index
    tickets: np.ndarray
    households: np.ndarray
    expected: np.ndarray
    prior: np.ndarray
    which: np.ndarray
    share_posteriors: dict[str, tuple[np.ndarray, np.ndarray]]
    share_tests: dict[str, dict[str, Any]]
    share_seed: int
    info: dict[str, Any]

    @property
    def n_draws(self) -> int:
        return int(self.expected.shape[0])

    def avoidable(self) -> np.ndarray:
        return self.expected - self.prior[self.which]

    def rate(self) -> np.ndarray:
        hundreds = (self.households / 100.0).astype(np.float32)
        return self.expected / np.float32(HORIZON) / hundreds[None, :]

    def share_draws(self, names: Iterable[str]) -> Iterator[tuple[str, np.ndarray]]:
        """(name, draws of the share per draw and compound) for each of `names` with signal, in
        SHARE_INPUTS order; a share always gets the same normal draws, whichever others are asked."""
        wanted = set(names) & set(self.share_posteriors)
        if not wanted:
            return
        rng = np.random.default_rng(self.share_seed)
        shape = self.expected.shape
        for name in SHARE_INPUTS:
            z = rng.standard_normal(shape, dtype=np.float32)
            if name in wanted:
                mean, sd = self.share_posteriors[name]
                yield name, np.clip(mean[None, :] + sd[None, :] * z, 0.0, 1.0)

    def share_factor(self, weights: Mapping[str, float]) -> np.ndarray | None:
        """1 + sum of weight x share per draw and compound, over the shares with signal and weight."""
        used = {k: w for k, w in weights.items() if w > 0 and k in self.share_posteriors}
        if not used:
            return None
        factor = np.ones(self.expected.shape, dtype=np.float32)
        for name, share in self.share_draws(used):
            factor += np.float32(used[name]) * share
        return factor


def posterior_draws(
    monthly: pd.DataFrame,
    registry: pd.DataFrame,
    months: Sequence[Any],
    shares: pd.DataFrame | None = None,
    n_draws: int = N_DRAWS,
    seed: int = 0,
    n_hyper: int = N_HYPER,
) -> Draws:
    """Fit the model (steps 1-5 of the module docstring) and draw every compound's next 12 months."""
    if registry.empty:
        raise ValidationError("没有可排名的小区。", "There are no compounds to rank.")
    if n_draws < 20:
        raise ValidationError("抽样次数至少 20。", "Use at least 20 draws.")
    rng = np.random.default_rng(seed)
    registry = registry.reset_index(drop=True)
    ids = pd.Index(registry["compound_id"].astype(str))
    period_index = pd.PeriodIndex([pd.Period(m, freq="M") for m in months], freq="M")
    y = _matrix(monthly, ids, period_index)
    n, t_count = y.shape
    past, future, season_info = _exposure(y.sum(axis=0), period_index)
    design = _design(registry, int(period_index[-1].year))
    beta, beta_cov = _glm(y.sum(axis=1), design, math.log(past.sum()))
    x_design = design.to_numpy()
    m = np.exp(x_design @ beta)

    moments = _lag_moments(y, past, m)
    first = np.average(moments, axis=0)
    cw = _compound_weights(m, past, max(float(first[0]), 0.05))
    kernel = _fit_kernel(np.average(moments, axis=0, weights=cw))
    observed = y
    inflate = np.ones(n)
    surges = {"discounted": False, "compounds": 0, "months": 0}
    shock_share = kernel.b / (kernel.a + kernel.b) if kernel.a + kernel.b > 0 else 0.0
    if shock_share >= SURGE_SHOCK_SHARE:
        flagged, level = _surge_months(y, past)
        if flagged.any():
            y = np.where(flagged, level[:, None] * past[None, :], y)
            # the discounted months carry no information: the compound's error variance is that
            # of the months left
            inflate = t_count / np.maximum(t_count - flagged.sum(axis=1), 1)
            moments = _lag_moments(y, past, m)
            kernel = _fit_kernel(np.average(moments, axis=0, weights=cw))
            surges = {
                "discounted": True,
                "compounds": int(flagged.any(axis=1).sum()),
                "months": int(flagged.sum()),
            }
    surges["shock_share"] = round(float(shock_share), 3)
    surge_mean, surge_var = _ongoing_surge(observed, y, past, future) if surges["discounted"] else (0.0, 0.0)

    # hyper-parameter sets: GLM coefficients from their sampling distribution, lag moments resampled
    betas = rng.multivariate_normal(beta, beta_cov, size=n_hyper, method="eigh")
    kernels, means, variances, priors = [], [], [], []
    for h in range(n_hyper):
        pick = rng.integers(0, n, n)
        kern = _fit_kernel(np.average(moments[pick], axis=0, weights=cw[pick]))
        m_h = np.exp(x_design @ betas[h])
        mean_h, var_h = _predict(kern, y, past, future, m_h)
        mean_h = mean_h + surge_mean
        var_h = (var_h * inflate + surge_var) * VARIANCE_CALIBRATION
        kernels.append(kern)
        means.append(mean_h)
        variances.append(var_h)
        priors.append(m_h * future.sum())
    mean_arr, var_arr, prior_arr = np.array(means), np.array(variances), np.array(priors)
    sigma2 = np.log1p(var_arr / mean_arr**2)
    mu_log = (np.log(mean_arr) - sigma2 / 2).astype(np.float32)
    sigma = np.sqrt(sigma2).astype(np.float32)
    which = np.arange(n_draws) % n_hyper
    z = rng.standard_normal((n_draws, n), dtype=np.float32)
    expected = np.exp(mu_log[which] + sigma[which] * z)  # draws of next-12-month expected tickets
    del z
    share_posteriors, share_tests = _share_posteriors(shares, ids)

    def spread(name: str) -> float:
        return round(float(np.std([getattr(k, name) for k in kernels])), 4)

    info: dict[str, Any] = {
        "n_draws": n_draws,
        "seed": seed,
        "window": (str(period_index[0]), str(period_index[-1])),
        "n_months": t_count,
        "n_compounds": n,
        "exposure": season_info,
        "prior": {"coefficients": dict(zip(design.columns, np.round(beta, 4).tolist(), strict=True))},
        "kernel": {
            "between_variance": round(kernel.v, 4),
            "persistent_ar": round(kernel.a, 4),
            "rho": round(kernel.rho, 3),
            "shock": round(kernel.b, 4),
            "shock_months": kernel.width,
            "white": round(kernel.nugget, 4),
        },
        "kernel_sd": {"between_variance": spread("v"), "rho": spread("rho"), "persistent_ar": spread("a")},
        "n_hyper": n_hyper,
        "interval": RANK_INTERVAL,
        "surges": surges,
    }
    return Draws(
        ids=ids,
        tickets=observed.sum(axis=1),
        households=_households(registry).to_numpy(float),
        expected=expected,
        prior=prior_arr.astype(np.float32),
        which=which,
        share_posteriors=share_posteriors,
        share_tests=share_tests,
        share_seed=int(rng.integers(0, 2**31 - 1)),
        info=info,
    )


def share_weights(
    weights: Mapping[str, float] | None, draws: Draws
) -> tuple[dict[str, float], dict[str, Any]]:
    """The weights the shares get, and per share what was decided and why (no_data, no_signal,
    weight_zero or signal). A share without between-compound signal gets weight 0 whatever asked."""
    asked = dict(DEFAULT_SHARE_WEIGHTS if weights is None else weights)
    unknown = sorted(set(asked) - set(SHARE_INPUTS))
    if unknown:
        raise ValidationError(
            f"未知的权重项：{', '.join(unknown)}", f"Unknown weight(s): {', '.join(unknown)}"
        )
    if any(not math.isfinite(float(v)) or float(v) < 0 for v in asked.values()):
        raise ValidationError("权重必须是非负数。", "Weights must be non-negative numbers.")
    used: dict[str, float] = {}
    report: dict[str, Any] = {}
    for name in SHARE_INPUTS:
        weight = float(asked.get(name, 0.0))
        test = draws.share_tests[name]
        entry = {**test, "weight_requested": weight, "weight": 0.0}
        if test["reason"] == "signal" and weight <= 0:
            entry["reason"] = "weight_zero"
        elif test["reason"] == "signal":
            entry["weight"] = weight
            used[name] = weight
        report[name] = entry
    return used, report


def _preset_score(draws: Draws, preset: str, weights: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the preset's quantity for the compounds it ranks, and which compounds those are."""
    n = len(draws.ids)
    if preset == "volume":
        factor = draws.share_factor(weights)
        return (draws.expected if factor is None else draws.expected * factor), np.ones(n, dtype=bool)
    if preset == "excess":
        return draws.avoidable(), np.ones(n, dtype=bool)
    keep = np.isfinite(draws.households)
    if not keep.any():
        raise ValidationError(
            "没有小区登记了户数，无法按每百户工单排名。",
            "No compound has households in the registry: nothing to rank by rate.",
        )
    return draws.rate()[:, keep], keep


def _check_preset(preset: str) -> None:
    if preset not in PRESETS:
        raise ValidationError(
            f"未知的排名口径：{preset}；可用：{'、'.join(PRESETS)}",
            f"Unknown ranking preset: {preset}; known: {', '.join(PRESETS)}",
        )


def rank_draws(
    draws: Draws, preset: str = "volume", top: int = 65, weights: Mapping[str, float] | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rank the compounds of `draws` by the posterior of `preset` (see the module docstring)."""
    _check_preset(preset)
    if top < 1:
        raise ValidationError("入选数至少 1。", "Select at least 1.")
    used, share_report = share_weights(weights, draws)
    score, keep = _preset_score(draws, preset, used)
    ranks = _ranks(score)
    n_rank = int(keep.sum())
    top_n = min(top, n_rank)
    p_top = (ranks <= top_n).mean(axis=0)
    low, median, high = np.quantile(
        ranks, [*RANK_INTERVAL[:1], 0.5, RANK_INTERVAL[1]], axis=0, method="inverted_cdf"
    )
    expected_rank = ranks.mean(axis=0)
    del ranks
    shown = np.clip(median, low, high).astype(int)
    chosen = np.lexsort((expected_rank, -p_top))[:top_n]
    listed = np.zeros(n_rank, dtype=bool)
    listed[chosen] = True
    expected = draws.expected.mean(axis=0)
    avoidable = expected - draws.prior[draws.which].mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = expected / HORIZON / (draws.households / 100.0)
    out = pd.DataFrame(
        {
            "compound_id": draws.ids[keep],
            "rank": shown,
            "rank_median": median.astype(int),
            "rank_low": low.astype(int),
            "rank_high": high.astype(int),
            "expected_rank": expected_rank,
            "p_top": p_top,
            "listed": listed,
            "expected_tickets": expected[keep].astype(float),
            "avoidable_tickets": avoidable[keep].astype(float),
            "rate_per_100_households": rate[keep].astype(float),
            "tickets": draws.tickets[keep].astype(int),
            "score": score.mean(axis=0).astype(float),
            "preset": preset,
        }
    )
    # the list first, each part in the order of its shown (median) rank, ties by expected rank
    out = out.sort_values(
        ["listed", "rank", "expected_rank"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    info: dict[str, Any] = {
        **draws.info,
        "preset": preset,
        "definition": f"rk_preset_{preset}",
        "top": top_n,
        "n_ranked": n_rank,
        "excluded_without_households": int(len(draws.ids) - n_rank),
        "shares": share_report,
        "weights": {k: share_report[k]["weight"] for k in SHARE_INPUTS},
        "dropped": [k for k, r in share_report.items() if r["reason"] in ("no_data", "no_signal")],
        "p_top_sum": round(float(p_top[listed].sum()), 2),
    }
    return out, info


def weight_stability(
    draws: Draws,
    weights: Mapping[str, float] | None = None,
    top: int = 65,
    n: int = 200,
    jitter: float = 0.2,
    seed: int = 0,
) -> dict[str, Any]:
    """How much the `volume` list moves when each share weight with signal is multiplied by
    U(1-jitter, 1+jitter): the list of each weighting is its top `top` by posterior mean, from the
    same draws. Same keys as before: mean_overlap, min_overlap, max_overlap, n, jitter, top,
    always_in, in_top_share ({compound_id: share of weightings with it in the top}), plus `varied`
    (the shares whose weight was varied; empty when no share carries signal, and then the list
    does not depend on the weights)."""
    used, _ = share_weights(weights, draws)
    top = min(top, len(draws.ids))
    rng = np.random.default_rng(seed)
    names = list(used)
    base = np.array([used[k] for k in names])
    factors = [rng.uniform(1 - jitter, 1 + jitter, len(names)) for _ in range(n)] if names else []
    expected = draws.expected
    # E[expected x (1 + sum w_k p_k)] per compound is linear in the weights: one mean per share
    mean_expected = expected.mean(axis=0).astype(float)
    share_terms = [(expected * share).mean(axis=0).astype(float) for _, share in draws.share_draws(names)]
    terms = np.array(share_terms) if share_terms else np.zeros((0, len(draws.ids)))

    def top_of(w: np.ndarray) -> np.ndarray:
        score = mean_expected + (w @ terms if len(w) else 0.0)
        return np.argsort(-score, kind="stable")[:top]

    base_top = top_of(base)
    in_base = np.zeros(len(draws.ids), dtype=bool)
    in_base[base_top] = True
    tops = [top_of(base * f) for f in factors] or [base_top] * n
    counts = np.bincount(np.concatenate(tops), minlength=len(draws.ids)).astype(float)
    overlaps = np.array([in_base[t].sum() for t in tops])
    share = counts / len(tops)
    return {
        "mean_overlap": float(overlaps.mean()),
        "min_overlap": int(overlaps.min()),
        "max_overlap": int(overlaps.max()),
        "n": n,
        "jitter": jitter,
        "top": top,
        "always_in": int((share >= 1.0).sum()),
        "in_top_share": {str(draws.ids[i]): float(share[i]) for i in np.flatnonzero(share > 0)},
        "varied": names,
    }


def posterior_rank(
    monthly: pd.DataFrame,
    registry: pd.DataFrame,
    months: Sequence[Any],
    shares: pd.DataFrame | None = None,
    preset: str = "volume",
    top: int = 65,
    n_draws: int = N_DRAWS,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
    n_hyper: int = N_HYPER,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """`posterior_draws` then `rank_draws`: one window, one preset."""
    _check_preset(preset)
    draws = posterior_draws(monthly, registry, months, shares, n_draws, seed, n_hyper)
    return rank_draws(draws, preset, top, weights)
