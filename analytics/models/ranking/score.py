"""The former composite score: weights, percentiles, posterior draws, rank intervals, P(top N).

The ranking ranks by the posterior of analytics.models.ranking.posterior; this composite is kept
as the baseline the accuracy benchmark (benchmarks/ranking_accuracy.py) measures it against, and for
the league tables' draws and interval. Each component becomes a percentile among the compounds
that can rank and the score is their weighted mean; posterior draws of the rate and the shares give each compound a rank interval and
the probability of being in the top `top`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analytics.config import TOP_N
from analytics.errors import NotFound, ValidationError
from analytics.models.ranking.components import SHARE_INPUTS, Components
from analytics.models.ranking.records import RECORD_COLUMNS

N_DRAWS = 400  # see point 4 of the package docstring (analytics.models.ranking)
RANK_INTERVAL = (0.05, 0.95)  # 90% rank interval
MIN_TICKETS = 10  # the composite ranked only compounds with at least this many tickets in the window
DEFAULT_WEIGHTS: dict[str, float] = {
    "shrunk_rate": 0.5,
    "volume": 0.2,
    "repeat_share": 0.1,
    "unresolved_share": 0.1,
    "dissatisfaction": 0.1,
    "trend": 0.0,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)


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


def _draw_share(
    rng: np.random.Generator, k: np.ndarray, n: np.ndarray, size: int, prior: tuple[float, float]
) -> np.ndarray:
    """Posterior beta draws of a share (shrunk towards the district); NaN where no denominator."""
    a, b = prior
    draws = rng.beta(k + a, np.maximum(n - k, 0) + b, (size, len(k)))
    draws[:, n <= 0] = np.nan
    return draws


def rank_components(
    comps: Components,
    weights: dict[str, float] | None = None,
    top: int = TOP_N,
    min_tickets: int = MIN_TICKETS,
    n_draws: int = N_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """Rank every compound with at least `min_tickets` valid tickets in the window of `comps` (rank 1 = worst).

    Returns one row per ranked compound, sorted by rank, with `RECORD_COLUMNS` and more (type,
    households, community, subdistrict, property_company, exposure, raw_rate, households_imputed).
    `rank_low`/`rank_high` is the 90% rank interval, `p_top` the probability of being in the top
    `top`. df.attrs carries window, weights, dispersion, alpha, rate_basis, dropped components, excluded.
    """
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
    cols = [c for c in RECORD_COLUMNS if c in eligible.columns] + [
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
