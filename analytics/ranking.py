"""Which compounds have the most persistent complaint problem: composite score, shrinkage, intervals.

How the score is built (the sentence a leader reads is `WEIGHTS_SENTENCE`):

1. Only valid tickets (is_valid) matched to a compound count, inside the ranking window (by default
   the 12 months ending with the latest complete month: every season once).
2. Components per compound:
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
     category in the same compound within `REPEAT_DAYS` days;
   - `unresolved_share`: share of tickets marked not resolved, among those with a resolved flag;
   - `dissatisfaction`: share of satisfaction answers that are not satisfied.
   The three shares are shrunk towards the district share (beta-binomial, prior by moments).
3. Each component becomes a percentile among the compounds that can rank (at least `MIN_TICKETS`
   valid tickets), and the score is the weighted mean of the percentiles (0-100; higher = worse).
   A component with no data at all (e.g. no satisfaction survey in the upload) is dropped and the
   other weights renormalised; a compound missing one component gets the middle percentile.
4. Uncertainty: `n_draws` draws from the posterior (gamma for the rate, Jeffreys beta for the
   shares) -> recompute percentiles and score -> rank. Each compound gets its median rank, a 90%
   rank interval and the probability of being in the top `top`. The default 400 draws keep the
   page interactive at city scale; their Monte Carlo error, measured on the simulated district
   against 10,000 draws: p_top within 0.04 and the interval's lower end within 2 ranks for the
   top 65 (95% of cases), the upper end within 27 ranks (1,000 draws: 0.026, 2 and 18). Pass
   n_draws=1000 or more where the exact ends matter.

The counts come from the compound-month summary (analytics.summaries) when it is fresh and the
window is whole months; otherwise from the tickets. The figures are the same either way.

Households unknown: a compound without households gets its peer group's median households
(`rate_basis = 'imputed_households'`); when no compound has households, every rate is per
compound-month instead (`rate_basis = 'per_compound'`, rate_per_100_households is null).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from analytics import db, exports, summaries
from analytics.errors import NotFound, ValidationError

MIN_TICKETS = 10
TOP_N = 65
N_DRAWS = 400  # see point 4 of the module docstring for the Monte Carlo error
REPEAT_DAYS = 30
WINDOW_MONTHS = 12
RANK_INTERVAL = (0.05, 0.95)  # 90% rank interval
DEFAULT_WEIGHTS: dict[str, float] = {
    "shrunk_rate": 0.5,
    "volume": 0.2,
    "repeat_share": 0.1,
    "unresolved_share": 0.1,
    "dissatisfaction": 0.1,
    "trend": 0.0,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)
# share component -> (numerator, denominator) count columns
SHARE_INPUTS = {
    "repeat_share": ("repeats", "n_caller"),
    "unresolved_share": ("unresolved", "n_resolved"),
    "dissatisfaction": ("unsatisfied", "n_satisfied"),
}
WEIGHTS_SENTENCE = (
    "综合得分 = 每百户投诉率（向同类小区收缩）50% + 工单量 20% + 重复来电占比 10% + 未解决占比 10% + 不满意占比 10%，各项先换算为百分位。",
    "Score = rate per 100 households shrunk towards similar compounds 50%, ticket volume 20%, "
    "repeat-call share 10%, unresolved share 10%, dissatisfaction 10%; each as a percentile first.",
)
# households bands used for peer groups (upper bounds inclusive)
SIZE_BANDS: tuple[tuple[float, str], ...] = (
    (300, "≤300户"),
    (800, "301-800户"),
    (1500, "801-1500户"),
    (math.inf, ">1500户"),
)
UNKNOWN_BAND = "户数未知"
UNKNOWN_TYPE = "类型未知"
# block lengths (months) over which within-compound over-dispersion is measured; the largest wins
PHI_BLOCKS = (1, 3, 6)
MIN_ALPHA_INV = 1e-3
FUNNEL_Z = {"95": 1.959964, "99.8": 3.090232}
RECORD_COLUMNS = (
    "rank", "compound_id", "name", "score", "tickets", "rate_per_100_households", "rank_low", "rank_high",
    "rank_median", "p_top", "volume", "shrunk_rate", "shrunk_rate_low", "shrunk_rate_high", "trend",
    "repeat_share", "unresolved_share", "dissatisfaction", "peer_group", "peer_median_rate", "peer_ratio",
    "rate_basis",
)  # fmt: skip


# --------------------------------------------------------------------------- windows


def parse_window(text: str) -> tuple[dt.date, dt.date]:
    """'2023-01:2023-12' -> (2023-01-01, 2023-12-31), inclusive months; '2023-05' is one month."""
    parts = [p.strip() for p in str(text).split(":")]
    try:
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2:
            raise ValueError(text)
        first, last = (pd.Period(p, freq="M") for p in parts)
        if not all(len(p) == 7 and p[4] == "-" for p in parts):
            raise ValueError(text)
    except (ValueError, TypeError):
        raise ValidationError(
            f"时间窗口格式应为 YYYY-MM:YYYY-MM（例如 2023-01:2023-12），收到：{text}",
            f"The window must look like YYYY-MM:YYYY-MM (e.g. 2023-01:2023-12); got: {text}",
        ) from None
    if last < first:
        raise ValidationError(
            f"时间窗口的结束月份早于开始月份：{text}", f"The window ends before it starts: {text}"
        )
    return first.start_time.date(), last.end_time.date()


def latest_complete_month(con: duckdb.DuckDBPyConnection) -> pd.Period:
    """The month of the newest ticket if that ticket falls on the month's last day, else the month before."""
    newest = db.query_one(con, "SELECT max(created_at) FROM tickets")
    if newest is None:
        raise NotFound(
            "库中还没有工单，请先导入工单。", "There are no tickets in the store yet; ingest some first."
        )
    newest = pd.Timestamp(newest)
    month = newest.to_period("M")
    return month if newest.day == month.days_in_month else month - 1


def default_window(con: duckdb.DuckDBPyConnection, months: int = WINDOW_MONTHS) -> tuple[dt.date, dt.date]:
    """The `months` months ending with the latest complete month."""
    last = latest_complete_month(con)
    return (last - (months - 1)).start_time.date(), last.end_time.date()


def _window_bounds(window: tuple[dt.date, dt.date]) -> tuple[pd.Timestamp, pd.Timestamp, list[pd.Period]]:
    start, end = (pd.Timestamp(w) for w in window)
    stop = pd.Timestamp(end.date()) + pd.Timedelta(days=1)  # exclusive
    months = list(pd.period_range(start.to_period("M"), end.to_period("M"), freq="M"))
    return start, stop, months


# --------------------------------------------------------------------------- components

COMPOUND_STATS_SQL = """
WITH t AS (
    SELECT ticket_id, created_at, compound_id, coalesce(category, '') AS cat, caller_hash, resolved, satisfied
    FROM tickets
    WHERE is_valid AND compound_id IS NOT NULL AND created_at >= ? AND created_at < ?
), r AS (
    SELECT *,
        caller_hash IS NOT NULL AND created_at - lag(created_at) OVER (
            PARTITION BY caller_hash, compound_id, cat ORDER BY created_at, ticket_id
        ) <= to_days(CAST(? AS INTEGER)) AS is_repeat
    FROM t
)
SELECT compound_id,
    count(*) AS tickets,
    count(*) FILTER (WHERE created_at >= ?) AS recent,
    count(caller_hash) AS n_caller,
    count(*) FILTER (WHERE is_repeat) AS repeats,
    count(resolved) AS n_resolved,
    count(*) FILTER (WHERE NOT resolved) AS unresolved,
    count(satisfied) AS n_satisfied,
    count(*) FILTER (WHERE NOT satisfied) AS unsatisfied
FROM r WHERE created_at >= ?
GROUP BY compound_id
"""

MONTHLY_SQL = """
SELECT compound_id, date_trunc('month', created_at) AS month, count(*) AS n
FROM tickets
WHERE is_valid AND compound_id IS NOT NULL AND created_at >= ? AND created_at < ?
GROUP BY ALL
"""

# the same inputs from the compound-month summary (month-aligned windows, REPEAT_DAYS only)
COMPOUND_STATS_SUMMARY_SQL = """
SELECT compound_id,
    CAST(sum(valid) AS BIGINT) AS tickets,
    CAST(coalesce(sum(valid) FILTER (WHERE month >= ?), 0) AS BIGINT) AS recent,
    CAST(sum(n_caller) AS BIGINT) AS n_caller,
    CAST(sum(repeats) AS BIGINT) AS repeats,
    CAST(sum(n_resolution) AS BIGINT) AS n_resolved,
    CAST(sum(unresolved) AS BIGINT) AS unresolved,
    CAST(sum(n_satisfaction) AS BIGINT) AS n_satisfied,
    CAST(sum(unsatisfied) AS BIGINT) AS unsatisfied
FROM compound_month
WHERE valid > 0 AND compound_id IS NOT NULL AND month >= ? AND month < ?
GROUP BY compound_id
"""

MONTHLY_SUMMARY_SQL = """
SELECT compound_id, month, CAST(sum(valid) AS BIGINT) AS n
FROM compound_month
WHERE valid > 0 AND compound_id IS NOT NULL AND month >= ? AND month < ?
GROUP BY ALL
"""

REGISTRY_FINGERPRINT_SQL = """
SELECT concat_ws('|', count(*), sum(hash(compound_id, name, community, subdistrict, type, is_old,
                                         households, property_company)))
FROM compounds
"""
COMPONENTS_CACHE_SIZE = 8


@dataclass
class Components:
    """Per-compound inputs of the score for one window, plus the fitted model's constants."""

    frame: pd.DataFrame  # one row per compound in the registry
    window: tuple[dt.date, dt.date]
    n_months: int
    dispersion: float  # c in Var(total) = mu + c mu^2 within a compound
    alpha: float
    rate_basis: str  # households / per_compound
    dropped: list[str]
    share_priors: dict[str, tuple[float, float]]


def _size_band(households: pd.Series) -> pd.Series:
    out = pd.Series(UNKNOWN_BAND, index=households.index, dtype=object)
    known = households.notna() & (households > 0)
    lower = 0.0
    for upper, label in SIZE_BANDS:
        out[known & (households > lower) & (households <= upper)] = label
        lower = upper
    return out


def _overdispersion(monthly: pd.DataFrame, months: list[pd.Period]) -> float:
    """Relative variance `c` of a compound's window total beyond Poisson: Var(total) = mu + c * mu^2.

    Half-year shocks and month-to-month noise multiply a compound's rate, so their variance grows
    with the square of its mean (a quasi-Poisson constant would under-cover large compounds). For
    blocks of 1, 3 and 6 months, kappa (relative variance per block) is estimated by moments from
    each compound's block counts around its own total x the district's seasonal share, and
    converted to the window total (c = kappa * sum of squared block shares); the largest c wins,
    since half-year shocks show up only at the half-year scale. 0 means pure Poisson.
    """
    if monthly.empty or len(months) < 2:
        return 0.0
    wide = monthly.pivot_table(index="compound_id", columns="month", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=[m.start_time for m in months], fill_value=0).to_numpy(float)
    found = [0.0]
    for length in PHI_BLOCKS:
        n_blocks = len(months) // length
        if n_blocks < 2:
            continue
        blocks = wide[:, : n_blocks * length].reshape(len(wide), n_blocks, length).sum(axis=2)
        totals = blocks.sum(axis=1)
        keep = totals > 0
        if keep.sum() < 5:
            continue
        share = blocks[keep].sum(axis=0) / blocks[keep].sum()
        expected = totals[keep, None] * share[None, :]
        # E[sum (y_b - T s_b)^2] ~ (1 - 1/B) * sum (e_b + kappa e_b^2)
        squares = ((blocks[keep] - expected) ** 2).sum() / (1.0 - 1.0 / n_blocks)
        kappa = (squares - expected.sum()) / (expected**2).sum()
        found.append(kappa * float((share**2).sum()))
    return float(max(found))


def _fit_prior(frame: pd.DataFrame, c: float) -> tuple[np.ndarray, float]:
    """Prior mean rate per compound (Poisson GLM with exposure) and the common gamma shape alpha."""
    # the GLM module alone: statsmodels.api imports far more and costs a first visitor ~0.25 s
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    y = frame["tickets"].to_numpy(float)
    exposure = frame["exposure"].to_numpy(float)
    design = pd.get_dummies(frame[["type", "size_band"]].astype(str), drop_first=True, dtype=float)
    design["is_old"] = frame["is_old"].fillna(False).astype(float)
    design = design.loc[:, design.std() > 0]
    design.insert(0, "const", 1.0)
    mu = np.full(len(frame), y.sum() / exposure.sum())
    if len(frame) >= 20 and design.shape[1] > 1:
        # the covariates are categorical, so the Poisson likelihood depends on the data only
        # through the totals per design cell (at most a few dozen): fit on those, same estimate
        x = design.to_numpy()
        cells, cell_of = np.unique(x, axis=0, return_inverse=True)
        cell_of = cell_of.ravel()
        y_cell = np.bincount(cell_of, weights=y, minlength=len(cells))
        e_cell = np.bincount(cell_of, weights=exposure, minlength=len(cells))
        try:
            # with as many cells as parameters the fit is exact: statsmodels then warns about
            # perfect prediction and a zero residual scale, neither of which the prior uses
            with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
                warnings.simplefilter("ignore", PerfectSeparationWarning)
                fit = GLM(y_cell, cells, family=families.Poisson(), exposure=e_cell).fit()
            mu = np.asarray(fit.predict(cells, exposure=np.ones(len(cells))))[cell_of]
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            pass  # intercept-only prior: still a valid shrinkage target
    expected = mu * exposure
    # Var(y) = e + c e^2 (within compound) + e^2 / alpha (between compounds)
    alpha_inv = ((y - expected) ** 2 - expected - c * expected**2).sum() / max((expected**2).sum(), 1e-12)
    return mu, 1.0 / max(alpha_inv, MIN_ALPHA_INV)


_components_cache: OrderedDict[tuple[Any, ...], Components] = OrderedDict()
_components_lock = threading.Lock()


def _store_identity(con: duckdb.DuckDBPyConnection) -> str | None:
    """The store's file path, or None for an in-memory store (those are never cached)."""
    path = db.query_one(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    return str(path) if path else None


def compute_components(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    repeat_days: int = REPEAT_DAYS,
) -> Components:
    """Counts, exposure, posterior (shape, rate) and the raw components for every compound.

    The ranking page asks for the same window several times (ranking, funnel, stability), so the
    result is kept for the exact tickets and registry it came from: the key holds the tickets'
    fingerprint (analytics.summaries) and a hash of the registry, so any write makes it miss.
    """
    window = window or default_window(con)
    start, stop, months = _window_bounds(window)
    where = summaries.state(con)
    summary = (
        repeat_days == summaries.REPEAT_DAYS
        and summaries.month_aligned(start, stop)
        and where.source == summaries.TABLE
    )
    store = _store_identity(con)
    key = None
    if store is not None and where.version is not None:
        registry = db.query_one(con, REGISTRY_FINGERPRINT_SQL)
        key = (store, where.version, where.source, registry, tuple(window), repeat_days)
        with _components_lock:
            if key in _components_cache:
                _components_cache.move_to_end(key)
                return _copy(_components_cache[key])
    comps = _compute_components(con, window, repeat_days, start, stop, months, summary)
    if key is not None:
        with _components_lock:
            _components_cache[key] = _copy(comps)
            while len(_components_cache) > COMPONENTS_CACHE_SIZE:
                _components_cache.popitem(last=False)
    return comps


def _copy(comps: Components) -> Components:
    """Callers may add columns to the frame: each gets its own copy."""
    return dataclasses.replace(
        comps, frame=comps.frame.copy(), dropped=list(comps.dropped), share_priors=dict(comps.share_priors)
    )


def _compute_components(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date],
    repeat_days: int,
    start: pd.Timestamp,
    stop: pd.Timestamp,
    months: list[pd.Period],
    summary: bool,
) -> Components:
    # only the month of the first ticket is used below, so the summary's month will do
    first = db.query_one(
        con,
        "SELECT min(month) FROM compound_month WHERE valid > 0 AND month < ?"
        if summary
        else "SELECT min(created_at) FROM tickets WHERE is_valid AND created_at < ?",
        [stop],
    )
    if first is not None and pd.Timestamp(first) > start:
        # data start inside the window: count exposure only from the first month with data
        months = [m for m in months if m >= pd.Timestamp(first).to_period("M")]
    n_months = max(1, len(months))
    mid = months[len(months) // 2].start_time if len(months) >= 2 else stop
    comp = db.query_df(
        con,
        "SELECT compound_id, name, community, subdistrict, type, is_old, households, property_company FROM compounds",
    )
    if comp.empty:
        raise NotFound("小区名录为空，请先导入小区名录。", "The compound registry is empty; import it first.")
    if summary:
        agg = db.query_df(con, COMPOUND_STATS_SUMMARY_SQL, [mid, start, stop])
        monthly = db.query_df(con, MONTHLY_SUMMARY_SQL, [start, stop])
    else:
        agg = db.query_df(
            con, COMPOUND_STATS_SQL, [start - pd.Timedelta(days=repeat_days), stop, repeat_days, mid, start]
        )
        monthly = db.query_df(con, MONTHLY_SQL, [start, stop])
    frame = comp.merge(agg, on="compound_id", how="left")
    count_cols = [
        "tickets",
        "recent",
        "n_caller",
        "repeats",
        "n_resolved",
        "unresolved",
        "n_satisfied",
        "unsatisfied",
    ]
    frame[count_cols] = frame[count_cols].fillna(0).astype(int)
    frame["type"] = frame["type"].fillna(UNKNOWN_TYPE)
    households = pd.to_numeric(frame["households"], errors="coerce").astype(float).where(lambda h: h > 0)
    frame["size_band"] = _size_band(households)
    frame["peer_group"] = frame["type"].astype(str) + "·" + frame["size_band"]
    if households.notna().any():
        rate_basis = "households"
        peer_median = households.groupby(frame["type"]).transform("median").fillna(households.median())
        frame["households_imputed"] = households.isna()
        frame["exposure_households"] = households.fillna(peer_median)
        frame["rate_basis"] = np.where(frame["households_imputed"], "imputed_households", "households")
        frame["exposure"] = frame["exposure_households"] / 100.0 * n_months
    else:
        rate_basis = "per_compound"
        frame["households_imputed"] = True
        frame["exposure_households"] = np.nan
        frame["rate_basis"] = "per_compound"
        frame["exposure"] = float(n_months)
    c = _overdispersion(monthly, months)
    mu, alpha = _fit_prior(frame, c)
    frame["prior_rate"] = mu
    # quasi-likelihood: each compound's counts are worth 1/phi_i Poisson counts, where
    # phi_i = Var/mean of its total = 1 + c * (its expected total)
    expected = 0.5 * (frame["tickets"] + mu * frame["exposure"])
    frame["phi"] = 1.0 + c * expected
    frame["post_shape"] = alpha + frame["tickets"] / frame["phi"]
    frame["post_rate"] = alpha / mu + frame["exposure"] / frame["phi"]
    frame["raw_rate"] = frame["tickets"] / frame["exposure"]
    frame["shrunk_rate"] = frame["post_shape"] / frame["post_rate"]
    frame["shrunk_rate_low"] = stats.gamma.ppf(0.05, frame["post_shape"], scale=1 / frame["post_rate"])
    frame["shrunk_rate_high"] = stats.gamma.ppf(0.95, frame["post_shape"], scale=1 / frame["post_rate"])
    frame["volume"] = frame["tickets"].astype(float)
    earlier = frame["tickets"] - frame["recent"]
    d_recent, d_earlier = frame["recent"].sum(), earlier.sum()
    district = math.log((d_recent + 0.5) / (d_earlier + 0.5)) if len(months) >= 2 else 0.0
    frame["trend"] = np.log((frame["recent"] + 0.5) / (earlier + 0.5)) - district if len(months) >= 2 else 0.0
    # shares are shrunk too (beta-binomial), so a compound with 3 of 5 unsatisfied does not top the list
    priors = {}
    for name, (k_col, n_col) in SHARE_INPUTS.items():
        k, m = frame[k_col].to_numpy(float), frame[n_col].to_numpy(float)
        a, b = priors[name] = beta_prior(k, m)
        frame[f"{name}_raw"] = k / np.where(m > 0, m, np.nan)
        frame[name] = np.where(m > 0, (k + a) / (m + a + b), np.nan)
    dropped = [c for c in ("repeat_share", "unresolved_share", "dissatisfaction") if frame[c].isna().all()]
    if len(months) < 2:
        dropped.append("trend")
    return Components(frame, window, n_months, c, alpha, rate_basis, dropped, priors)


def _check_weights(weights: Mapping[str, float] | None, dropped: list[str]) -> dict[str, float]:
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = sorted(set(w) - set(COMPONENTS))
    if unknown:
        raise ValidationError(
            f"未知的权重项：{', '.join(unknown)}；可用：{', '.join(COMPONENTS)}",
            f"Unknown weight(s): {', '.join(unknown)}; known: {', '.join(COMPONENTS)}",
        )
    if any(not np.isfinite(v) or v < 0 for v in w.values()):
        raise ValidationError("权重必须是非负数。", "Weights must be non-negative numbers.")
    w = {k: float(v) for k, v in w.items() if k not in dropped and v > 0}
    total = sum(w.values())
    if total <= 0:
        raise ValidationError("至少需要一个大于 0 的权重。", "At least one weight must be above 0.")
    return {k: v / total for k, v in w.items()}


def _pct(values: pd.Series) -> np.ndarray:
    """Percentile in (0, 1]; missing values get the middle (0.5) so they neither help nor hurt."""
    return values.rank(pct=True, method="average").fillna(0.5).to_numpy()


def _row_pct(matrix: np.ndarray) -> np.ndarray:
    """Percentile of each value within its row (one posterior draw): (ordinal rank + 1) / n."""
    order = np.argsort(matrix, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(matrix.shape[1]), matrix.shape), axis=1)
    return (ranks + 1.0) / matrix.shape[1]


def beta_prior(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Beta(a, b) prior of a share across units by the method of moments (beta-binomial).

    Falls back to Jeffreys (0.5, 0.5) when there is too little data or no excess variation.
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    keep = n > 0
    if keep.sum() < 5 or n[keep].sum() <= 0:
        return 0.5, 0.5
    m = k[keep].sum() / n[keep].sum()
    if m <= 0 or m >= 1:
        return 0.5, 0.5
    p = k[keep] / n[keep]
    w = n[keep] / n[keep].sum()
    between = float((w * (p - m) ** 2).sum() - m * (1 - m) * (w / n[keep]).sum())
    if between <= 1e-9:
        return 0.5, 0.5
    strength = max(m * (1 - m) / between - 1.0, 1.0)
    return m * strength, (1 - m) * strength


def _draw_share(
    rng: np.random.Generator, k: np.ndarray, n: np.ndarray, size: int, prior: tuple[float, float]
) -> np.ndarray:
    """Posterior beta draws of a share (shrunk towards the district); NaN where no denominator."""
    a, b = prior
    draws = rng.beta(k + a, np.maximum(n - k, 0) + b, (size, len(k)))
    draws[:, n <= 0] = np.nan
    return draws


def rank_compounds(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    weights: dict[str, float] | None = None,
    top: int = TOP_N,
    min_tickets: int = MIN_TICKETS,
    n_draws: int = N_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """Rank every compound with at least `min_tickets` valid tickets in `window` (rank 1 = worst).

    Returns one row per ranked compound, sorted by rank, with `RECORD_COLUMNS` and more (type,
    households, community, subdistrict, property_company, exposure, raw_rate, households_imputed).
    `rank_low`/`rank_high` is the 90% rank interval, `p_top` the probability of being in the top
    `top`. df.attrs carries window, weights, dispersion, alpha, rate_basis, dropped components, excluded.
    """
    comps = compute_components(con, window)
    w = _check_weights(weights, comps.dropped)
    f = comps.frame
    eligible = f[f["tickets"] >= min_tickets].copy().reset_index(drop=True)
    excluded = int(len(f) - len(eligible))
    if eligible.empty:
        raise NotFound(
            f"窗口内没有小区达到最少 {min_tickets} 件有效工单，无法排名。请放宽窗口或降低门槛。",
            f"No compound has at least {min_tickets} valid tickets in the window; widen it or lower the minimum.",
        )
    n = len(eligible)
    score = np.zeros(n)
    for name, weight in w.items():
        score += weight * _pct(eligible[name])
    eligible["score"] = 100.0 * score

    # posterior simulation, in chunks to bound memory at city scale
    rng = np.random.default_rng(seed)
    rank_draws = np.empty((n_draws, n), dtype=np.int32)
    shape = eligible["post_shape"].to_numpy()
    rate = eligible["post_rate"].to_numpy()
    exposure = eligible["exposure"].to_numpy()
    chunk = max(1, min(n_draws, 2_000_000 // max(n, 1)))
    for lo in range(0, n_draws, chunk):
        size = min(chunk, n_draws - lo)
        theta = rng.gamma(shape, 1.0 / rate, (size, n))
        s = np.zeros((size, n))
        for name, weight in w.items():
            if name == "shrunk_rate":
                s += weight * _row_pct(theta)
            elif name == "volume":
                s += weight * _row_pct(theta * exposure)
            elif name in SHARE_INPUTS:
                k, m = (eligible[c].to_numpy(float) for c in SHARE_INPUTS[name])
                draws = _draw_share(rng, k, m, size, comps.share_priors[name])
                pct = _row_pct(np.nan_to_num(draws, nan=-1.0))
                pct[:, m <= 0] = 0.5
                s += weight * pct
            else:  # trend: held at its point value
                s += weight * _pct(eligible[name])[None, :]
        order = np.argsort(-s, axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, n + 1), order.shape), axis=1)
        rank_draws[lo : lo + size] = ranks
    # one row per compound, contiguous: the quantiles below read each compound's draws
    by_compound = np.ascontiguousarray(rank_draws.T)
    eligible["rank_low"] = np.floor(np.quantile(by_compound, RANK_INTERVAL[0], axis=1)).astype(int)
    eligible["rank_high"] = np.ceil(np.quantile(by_compound, RANK_INTERVAL[1], axis=1)).astype(int)
    eligible["rank_median"] = np.median(by_compound, axis=1)
    eligible["p_top"] = (by_compound <= top).mean(axis=1)

    eligible = eligible.sort_values(["score", "tickets", "compound_id"], ascending=[False, False, True])
    eligible["rank"] = np.arange(1, n + 1)
    per_100 = comps.rate_basis == "households"
    eligible["rate_per_100_households"] = np.where(
        eligible["rate_basis"] == "per_compound", np.nan, eligible["raw_rate"]
    ) if per_100 else np.nan  # fmt: skip
    peer_median = eligible.groupby("peer_group")["shrunk_rate"].transform("median")
    eligible["peer_median_rate"] = peer_median
    eligible["peer_ratio"] = eligible["shrunk_rate"] / peer_median
    eligible["peer_size"] = eligible.groupby("peer_group")["compound_id"].transform("count")
    eligible["in_top"] = eligible["rank"] <= top
    cols = list(RECORD_COLUMNS) + [
        "in_top", "peer_size", "type", "households", "community", "subdistrict", "property_company",
        "exposure", "raw_rate", "prior_rate", "households_imputed", "n_caller", "n_resolved", "n_satisfied",
    ]  # fmt: skip
    out = eligible[cols].reset_index(drop=True)
    out.attrs.update(
        window=(str(comps.window[0]), str(comps.window[1])),
        n_months=comps.n_months,
        weights=w,
        top=top,
        min_tickets=min_tickets,
        n_draws=n_draws,
        seed=seed,
        dispersion=comps.dispersion,
        alpha=comps.alpha,
        rate_basis=comps.rate_basis,
        dropped_components=comps.dropped,
        excluded=excluded,
    )
    return out


def stability(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    weights: dict[str, float] | None = None,
    top: int = TOP_N,
    min_tickets: int = MIN_TICKETS,
    n: int = 200,
    jitter: float = 0.2,
    seed: int = 0,
) -> dict[str, Any]:
    """How much the top `top` moves when every non-zero weight is multiplied by U(1-jitter, 1+jitter).

    Returns {mean_overlap, min_overlap, max_overlap (compounds shared with the unperturbed top),
    n, jitter, top, always_in (compounds in the top under every perturbation), in_top_share
    ({compound_id: share of perturbations in which it is in the top}, for every compound ever in it)}.
    """
    comps = compute_components(con, window)
    w = _check_weights(weights, comps.dropped)
    f = comps.frame[comps.frame["tickets"] >= min_tickets].reset_index(drop=True)
    if f.empty:
        raise NotFound("窗口内没有可排名的小区。", "No compound can rank in this window.")
    names = list(w)
    pct = np.column_stack([_pct(f[c]) for c in names])
    base = np.array([w[c] for c in names])
    top = min(top, len(f))
    # ties in score go to more tickets, then the smaller compound_id: put the compounds in that
    # order once, and a stable sort by score alone keeps it
    tie_order = np.lexsort((f["compound_id"].to_numpy(), -f["tickets"].to_numpy()))
    pct = pct[tie_order]
    # all perturbations at once: one row of weights per perturbation (the same random stream as
    # drawing them one by one), scores summed term by term so equal rows give equal scores
    rng = np.random.default_rng(seed)
    weights = np.vstack([base, base * rng.uniform(1 - jitter, 1 + jitter, (n, len(base)))])
    weights = weights / weights.sum(axis=1, keepdims=True)
    scores = np.zeros((len(weights), len(f)))
    for j in range(len(names)):
        scores += weights[:, j, None] * pct[None, :, j]
    tops = tie_order[np.argsort(-scores, axis=1, kind="stable")[:, :top]]
    base_top = tops[0]
    chosen = tops[1:]
    counts = np.bincount(chosen.ravel(), minlength=len(f)).astype(float)
    in_base = np.zeros(len(f), dtype=bool)
    in_base[base_top] = True
    overlaps = in_base[chosen].sum(axis=1)
    share = counts / n
    ids = f["compound_id"].to_numpy()
    return {
        "mean_overlap": float(np.mean(overlaps)),
        "min_overlap": int(np.min(overlaps)),
        "max_overlap": int(np.max(overlaps)),
        "n": n,
        "jitter": jitter,
        "top": top,
        "always_in": int((share == 1.0).sum()),
        "in_top_share": {str(ids[i]): float(share[i]) for i in np.argsort(-share) if share[i] > 0},
    }


# --------------------------------------------------------------------------- funnel plot


@dataclass
class FunnelData:
    """Points (one per compound) and control-limit curves for a funnel plot of rate vs expected count.

    Limits come from an additive random-effects model on the ratio scale (Spiegelhalter 2005):
    ratio = observed/expected, limits 1 ± z * sqrt(1/expected + tau2), tau2 estimated by
    DerSimonian-Laird from winsorised z-scores, so real between-compound differences do not flag
    every large compound. `tau2 = 0` means plain Poisson limits.
    """

    points: pd.DataFrame
    curve: pd.DataFrame
    district_rate: float
    tau2: float
    rate_basis: str


def funnel_data(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    min_tickets: int = 1,
    winsor: float = 0.1,
) -> FunnelData:
    comps = compute_components(con, window)
    f = comps.frame[(comps.frame["tickets"] >= min_tickets) & (comps.frame["exposure"] > 0)].copy()
    district = f["tickets"].sum() / f["exposure"].sum()
    f["expected"] = district * f["exposure"]
    f["ratio"] = f["tickets"] / f["expected"]
    z = (f["ratio"] - 1.0) * np.sqrt(f["expected"])
    lo, hi = z.quantile([winsor, 1 - winsor])
    zw = z.clip(lo, hi)
    w = f["expected"]
    k = len(f)
    tau2 = (
        max(0.0, ((zw**2).sum() - (k - 1)) / max(w.sum() - (w**2).sum() / w.sum(), 1e-12)) if k > 2 else 0.0
    )
    f["rate"] = f["ratio"] * district
    sd = np.sqrt(1.0 / f["expected"] + tau2)
    f["z_adjusted"] = (f["ratio"] - 1.0) / sd
    f["flag"] = np.select(
        [f["z_adjusted"] > FUNNEL_Z["99.8"], f["z_adjusted"] > FUNNEL_Z["95"],
         f["z_adjusted"] < -FUNNEL_Z["99.8"], f["z_adjusted"] < -FUNNEL_Z["95"]],
        ["高于99.8%上限", "高于95%上限", "低于99.8%下限", "低于95%下限"],
        "正常范围",
    )  # fmt: skip
    grid = np.geomspace(max(f["expected"].min(), 0.5), f["expected"].max() * 1.05, 100) if k else np.array([])
    curve = pd.DataFrame({"expected": grid})
    for name, zv in FUNNEL_Z.items():
        half = zv * np.sqrt(1.0 / grid + tau2)
        curve[f"ratio_low_{name}"] = np.maximum(0.0, 1 - half)
        curve[f"ratio_high_{name}"] = 1 + half
        curve[f"rate_low_{name}"] = curve[f"ratio_low_{name}"] * district
        curve[f"rate_high_{name}"] = curve[f"ratio_high_{name}"] * district
    cols = ["compound_id", "name", "tickets", "exposure", "expected", "ratio", "rate", "z_adjusted", "flag"]
    return FunnelData(f[cols].reset_index(drop=True), curve, float(district), float(tau2), comps.rate_basis)


# --------------------------------------------------------------------------- snapshots


def save_snapshot(
    con: duckdb.DuckDBPyConnection,
    ranking_df: pd.DataFrame,
    window_start: dt.date | str,
    window_end: dt.date | str,
    params: Mapping[str, Any],
    user: str | None = None,
    note: str | None = None,
) -> int:
    """Store a ranking (all its rows) as a snapshot; returns the new snapshot_id. One transaction."""
    component_cols = [c for c in RECORD_COLUMNS if c not in {"rank", "compound_id", "score", "tickets",
                      "rate_per_100_households", "rank_low", "rank_high", "p_top"}]  # fmt: skip
    rows = ranking_df.reset_index(drop=True)
    with db.transaction(con) as cur:
        snapshot_id = db.next_id(cur, "seq_snapshot")
        cur.execute(
            "INSERT INTO ranking_snapshots VALUES (?, now(), ?, ?, ?, ?, ?)",
            [
                snapshot_id,
                window_start,
                window_end,
                json.dumps(_plain(dict(params)), ensure_ascii=False),
                user,
                note,
            ],
        )
        frame = pd.DataFrame(
            {
                "snapshot_id": snapshot_id,
                "rank": rows["rank"].astype(int),
                "compound_id": rows["compound_id"].astype(str),
                "score": rows["score"].astype(float),
                "tickets": rows["tickets"].astype(int),
                "rate_per_100_households": pd.to_numeric(
                    rows.get("rate_per_100_households"), errors="coerce"
                ),
                "rank_low": rows.get("rank_low"),
                "rank_high": rows.get("rank_high"),
                "p_top": rows.get("p_top"),
                "components": [
                    json.dumps(
                        _plain({c: r[c] for c in component_cols if c in rows.columns}), ensure_ascii=False
                    )
                    for _, r in rows.iterrows()
                ],
            }
        )
        cur.register("_snapshot_rows", frame)
        cur.execute("INSERT INTO ranking_rows BY NAME SELECT * FROM _snapshot_rows")
        cur.unregister("_snapshot_rows")
        db.audit(cur, user, "ranking.snapshot", {"snapshot_id": snapshot_id, "rows": len(frame)})
    return snapshot_id


def load_snapshot(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> pd.DataFrame:
    """Rows of a snapshot sorted by rank, components expanded; attrs carry the snapshot's metadata."""
    meta = db.query_df(con, "SELECT * FROM ranking_snapshots WHERE snapshot_id = ?", [snapshot_id])
    if meta.empty:
        raise NotFound(f"找不到排名快照 {snapshot_id}。", f"Ranking snapshot {snapshot_id} does not exist.")
    rows = db.query_df(
        con,
        """SELECT r.*, c.name FROM ranking_rows r LEFT JOIN compounds c USING (compound_id)
           WHERE snapshot_id = ? ORDER BY rank""",
        [snapshot_id],
    )
    comps = pd.DataFrame([json.loads(c) if c else {} for c in rows.pop("components")], index=rows.index)
    out = pd.concat([rows, comps.drop(columns=[c for c in comps.columns if c in rows.columns])], axis=1)
    m = meta.iloc[0]
    out.attrs.update(
        snapshot_id=int(snapshot_id),
        created_at=str(m["created_at"]),
        window=(str(m["window_start"].date() if hasattr(m["window_start"], "date") else m["window_start"]),
                str(m["window_end"].date() if hasattr(m["window_end"], "date") else m["window_end"])),
        params=json.loads(m["params"]) if m["params"] else {},
        user=m["user"],
        note=m["note"],
    )  # fmt: skip
    return out


def list_snapshots(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return db.query_df(
        con,
        """SELECT s.snapshot_id, s.created_at, s.window_start, s.window_end, s."user", s.note, s.params,
                  count(r.compound_id) AS rows
           FROM ranking_snapshots s LEFT JOIN ranking_rows r USING (snapshot_id)
           GROUP BY ALL ORDER BY s.snapshot_id DESC""",
    )


def rank_history(con: duckdb.DuckDBPyConnection, compound_id: str) -> pd.DataFrame:
    """The compound's rank in every snapshot (oldest first)."""
    return db.query_df(
        con,
        """SELECT s.snapshot_id, s.created_at, s.window_start, s.window_end, r.rank, r.score, r.tickets,
                  r.rank_low, r.rank_high, r.p_top
           FROM ranking_rows r JOIN ranking_snapshots s USING (snapshot_id)
           WHERE r.compound_id = ? ORDER BY s.created_at, s.snapshot_id""",
        [compound_id],
    )


# --------------------------------------------------------------------------- output


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars -> Python, NaN/inf -> None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT or (not isinstance(value, str | bool | int | float | type(None)) and pd.isna(value)):
        return None
    if isinstance(value, dt.date | pd.Timestamp):
        return str(value)
    return value


def rank_records(df: pd.DataFrame, fmt: str = "json", top: int | None = None) -> str:
    """The ranking as JSON (a list of objects, null for missing) or CSV (UTF-8 with BOM for Excel)."""
    cols = [c for c in RECORD_COLUMNS if c in df.columns]
    rows = df[cols] if top is None else df[cols].head(top)
    if fmt == "json":
        return json.dumps([_plain(r) for r in rows.to_dict(orient="records")], ensure_ascii=False)
    if fmt == "csv":
        # the app's downloads and this share one formula neutraliser; the BOM stays, as U+FEFF
        return exports.to_csv_bytes(rows).decode("utf-8")
    raise ValidationError(
        f"不支持的输出格式：{fmt}（可用 json、csv）", f"Unknown format {fmt} (use json or csv)"
    )


# --------------------------------------------------------------------------- league tables

GROUP_LEAGUES = {
    "property_company": "property_company",
    "community": "community",
    "subdistrict": "subdistrict",
}
LEAGUE_TAIL = 0.10  # top / bottom 10% of the league


def period_window(period: str) -> tuple[dt.date, dt.date]:
    """'2023Q3' -> (2023-07-01, 2023-09-30); '2023H1' -> (2023-01-01, 2023-06-30); 'YYYY-MM:YYYY-MM' too."""
    text = str(period).strip().upper()
    if len(text) == 6 and text[4] in "QH" and text[:4].isdigit() and text[5].isdigit():
        year, kind, k = int(text[:4]), text[4], int(text[5])
        if (kind == "Q" and 1 <= k <= 4) or (kind == "H" and 1 <= k <= 2):
            months = 3 if kind == "Q" else 6
            first = pd.Period(f"{year}-{(k - 1) * months + 1:02d}", freq="M")
            return first.start_time.date(), (first + months - 1).end_time.date()
    if ":" in text or len(text) == 7:
        return parse_window(text)
    raise ValidationError(
        f"期间格式应为 2023Q3、2023H1 或 2023-01:2023-12，收到：{period}",
        f"A period must look like 2023Q3, 2023H1 or 2023-01:2023-12; got: {period}",
    )


def group_league(
    con: duckdb.DuckDBPyConnection,
    by: str = "property_company",
    window: tuple[dt.date, dt.date] | None = None,
    n_draws: int = N_DRAWS,
    seed: int = 0,
    tail: float = LEAGUE_TAIL,
) -> pd.DataFrame:
    """League table of property companies, communities or subdistricts by the same method.

    Valid tickets per 100 households per month of the compounds each group holds, shrunk towards
    the all-group mean (Poisson-Gamma, prior by moments, the same within-compound dispersion as
    the compound ranking), with a 90% interval of the rate, a 90% rank interval and the
    probability of being in the worst / best `tail` share. Rank 1 = most complaints. Groups with
    no households on record rank by tickets per compound-month instead (rate_basis).
    """
    if by not in GROUP_LEAGUES:
        raise ValidationError(f"不支持的排名对象：{by}", f"Unsupported league: {by}")
    comps = compute_components(con, window)
    f = comps.frame[comps.frame[by].notna()]
    if f.empty:
        raise NotFound("没有可排名的对象（名录中缺少该字段）。", f"Nothing to rank: no compound has a {by}.")
    g = f.groupby(by).agg(
        compounds=("compound_id", "size"),
        households=("exposure_households", "sum"),
        tickets=("tickets", "sum"),
        exposure=("exposure", "sum"),
        repeats=("repeats", "sum"),
        n_caller=("n_caller", "sum"),
    )
    g = g[g["exposure"] > 0]
    y, e = g["tickets"].to_numpy(float), g["exposure"].to_numpy(float)
    m = y.sum() / e.sum()
    c = comps.dispersion
    # a group's total over its compounds: relative noise shrinks with the number of compounds
    phi = 1.0 + c * y / np.maximum(g["compounds"].to_numpy(float), 1.0)
    expected = m * e
    alpha_inv = ((y - expected) ** 2 - phi * expected).sum() / max((expected**2).sum(), 1e-12)
    alpha = 1.0 / max(alpha_inv, MIN_ALPHA_INV)
    shape, rate = alpha + y / phi, alpha / m + e / phi
    g["raw_rate"] = y / e
    g["shrunk_rate"] = shape / rate
    g["rate_low"] = stats.gamma.ppf(0.05, shape, scale=1 / rate)
    g["rate_high"] = stats.gamma.ppf(0.95, shape, scale=1 / rate)
    rng = np.random.default_rng(seed)
    draws = rng.gamma(shape, 1 / rate, (n_draws, len(g)))
    order = np.argsort(-draws, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, len(g) + 1), order.shape), axis=1)
    k = max(1, int(math.ceil(tail * len(g))))
    g["rank_low"] = np.floor(np.quantile(ranks, RANK_INTERVAL[0], axis=0)).astype(int)
    g["rank_high"] = np.ceil(np.quantile(ranks, RANK_INTERVAL[1], axis=0)).astype(int)
    g["p_worst"] = (ranks <= k).mean(axis=0)
    g["p_best"] = (ranks > len(g) - k).mean(axis=0)
    g["repeat_share"] = g["repeats"] / g["n_caller"].where(g["n_caller"] > 0)
    g = g.sort_values(["shrunk_rate", "tickets"], ascending=[False, False]).reset_index()
    g["rank"] = np.arange(1, len(g) + 1)
    g["tail"] = np.where(
        g["rank"] <= k, "后10%（投诉最多）", np.where(g["rank"] > len(g) - k, "前10%（投诉最少）", "")
    )
    g["rate_basis"] = comps.rate_basis
    if comps.rate_basis != "households":
        g["households"] = np.nan
    g = g.rename(columns={by: "key"})
    g.attrs.update(by=by, window=(str(comps.window[0]), str(comps.window[1])), alpha=alpha, tail=tail)
    cols = ["rank", "key", "compounds", "households", "tickets", "raw_rate", "shrunk_rate", "rate_low",
            "rate_high", "rank_low", "rank_high", "p_worst", "p_best", "tail", "repeat_share", "rate_basis"]  # fmt: skip
    return g[cols]


def company_league(
    con: duckdb.DuckDBPyConnection, quarter: str | None = None, n_draws: int = N_DRAWS, seed: int = 0
) -> pd.DataFrame:
    """Quarterly red/black list of property companies (quarter '2023Q3'; default the latest complete).

    Adds the district's own evaluation list (红榜/黑榜) of that quarter when property_evaluations has it.
    """
    if quarter is None:
        last = latest_complete_month(con)
        while last.month % 3:
            last -= 1
        quarter = f"{last.year}Q{last.month // 3}"
    out = group_league(con, "property_company", period_window(quarter), n_draws, seed)
    evals = db.query_df(
        con, "SELECT company AS key, score AS evaluation_score, list AS evaluation_list FROM property_evaluations "
        "WHERE quarter = ?", [quarter.upper()],
    )  # fmt: skip
    out = out.merge(evals, on="key", how="left")
    out.attrs["period"] = quarter
    return out


def community_league(
    con: duckdb.DuckDBPyConnection, half: str | None = None, n_draws: int = N_DRAWS, seed: int = 0
) -> pd.DataFrame:
    """Half-yearly community assessment (half '2023H1'; default the latest complete half-year)."""
    if half is None:
        last = latest_complete_month(con)
        while last.month % 6:
            last -= 1
        half = f"{last.year}H{last.month // 6}"
    out = group_league(con, "community", period_window(half), n_draws, seed)
    out.attrs["period"] = half
    return out


@dataclass
class StarsVsRate:
    """Party-branch stars against the compounds' complaint rate in the same half-year.

    table: per star level, compounds, mean and median shrunk rate with a 95% t-interval of the mean.
    spearman: rank correlation of stars and shrunk rate over compounds, with a 95% interval by the
    Fisher z transform (se = 1.06 / sqrt(n - 3), Fieller et al.). Negative = more stars, fewer complaints.
    """

    table: pd.DataFrame
    spearman: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    period: str


def stars_vs_rate(con: duckdb.DuckDBPyConnection, period: str | None = None) -> StarsVsRate:
    if period is None:
        period = db.query_one(con, "SELECT max(period) FROM compound_ratings")
        if period is None:
            raise NotFound("还没有党支部星级评定数据。", "There are no star ratings yet.")
    comps = compute_components(con, period_window(period))
    stars = db.query_df(con, "SELECT compound_id, stars FROM compound_ratings WHERE period = ?", [period])
    f = comps.frame.merge(stars, on="compound_id", how="inner")
    table = f.groupby("stars")["shrunk_rate"].agg(["size", "mean", "median", "std"]).reset_index()
    table = table.rename(columns={"size": "compounds", "mean": "mean_rate", "median": "median_rate"})
    half = (
        stats.t.ppf(0.975, np.maximum(table["compounds"] - 1, 1)) * table["std"] / np.sqrt(table["compounds"])
    )
    table["mean_low"], table["mean_high"] = table["mean_rate"] - half, table["mean_rate"] + half
    n = len(f)
    rho = lo = hi = None
    if n >= 5 and f["stars"].nunique() > 1:
        rho = float(stats.spearmanr(f["stars"], f["shrunk_rate"]).statistic)
        se = 1.06 / math.sqrt(n - 3)
        z = math.atanh(max(min(rho, 0.999999), -0.999999))
        lo, hi = math.tanh(z - 1.959964 * se), math.tanh(z + 1.959964 * se)
    return StarsVsRate(table.drop(columns="std"), rho, lo, hi, n, str(period))
