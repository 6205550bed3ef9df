"""A simulated district with a known truth, for tests and benchmarks.

Every compound has a persistent complaint rate per household (what a ranking should find), and on
top of it: district seasonality (heating in winter, summer complaints), transient half-year shocks
(a burst pipe, a dispute with the property company: real, but gone after six months), extra-Poisson
month-to-month noise, and compound-level propensities for repeat calls, unresolved and
unsatisfied tickets. Optionally a treatment `effect` (e.g. -0.3 = 30% fewer tickets) applies to
the `treated` compounds from month `start` on.

`simulate_district(con, ...)` writes compounds, communities, subdistricts, star ratings,
property-company evaluations and tickets straight into the store and returns a `SimTruth` with the
true rates. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analytics.store import db
from analytics.synthetic.rates import (
    SIM_DISSATISFACTION_BETA,
    SIM_MONTH_NOISE_SHAPE,
    SIM_OLD_RATE,
    SIM_REPEAT_BETA,
    SIM_SHOCK_PROB,
    SIM_SHOCK_RANGE,
    SIM_TYPE_RATE,
    SIM_UNRESOLVED_BETA,
    half_year_shocks,
    kind_multiplier,
    month_noise,
    propensity,
)
from analytics.synthetic.ratings import sim_evaluations, sim_ratings
from analytics.synthetic.registry import sim_compounds
from analytics.synthetic.seasons import SIM_SEASONAL, normalised
from analytics.synthetic.tickets import TICKETS_PER_YEAR, VALID_SHARE, sim_ticket_frame

COMPOUND_CHUNK = 1500  # compounds per insert, to bound memory at city scale


@dataclass
class SimTruth:
    """What the simulation knows and an estimator has to recover.

    `compounds` has one row per compound: compound_id, households, type, is_old,
    rate_per_100 (long-run expected *valid* tickets per 100 households per month, averaged over
    seasons and shocks), expected_monthly (= rate_per_100 x households / 100), repeat_share,
    unresolved_share, dissatisfaction (the per-ticket probabilities), treated.
    `shocks` lists each compound half-year with a transient shock and its multiplier.
    """

    compounds: pd.DataFrame
    shocks: pd.DataFrame
    months: list[str]
    seasonal: tuple[float, ...]
    n_tickets: int
    effect: float | None = None
    treated: list[str] = field(default_factory=list)
    start: str | None = None

    def true_components(self) -> pd.DataFrame:
        """The true values of the ranking components, indexed by compound_id."""
        c = self.compounds.set_index("compound_id")
        return pd.DataFrame(
            {
                "shrunk_rate": c["rate_per_100"],
                "volume": c["expected_monthly"],
                "repeat_share": c["repeat_share"],
                "unresolved_share": c["unresolved_share"],
                "dissatisfaction": c["dissatisfaction"],
                "trend": 0.0,
            }
        )

    def true_scores(
        self, weights: Mapping[str, float] | None = None, compound_ids: Sequence[str] | None = None
    ) -> pd.Series:
        """The ranking score computed on the true components (percentiles within `compound_ids`)."""
        from analytics.models.ranking.score import DEFAULT_WEIGHTS

        w = dict(weights or DEFAULT_WEIGHTS)
        comp = self.true_components()
        if compound_ids is not None:
            comp = comp.loc[list(compound_ids)]
        total = sum(w.values())
        score = pd.Series(0.0, index=comp.index)
        for name, weight in w.items():
            if weight and name in comp and comp[name].nunique() > 1:
                score += weight / total * comp[name].rank(pct=True)
        return score

    def true_ranks(
        self, weights: Mapping[str, float] | None = None, compound_ids: Sequence[str] | None = None
    ) -> pd.Series:
        return self.true_scores(weights, compound_ids).rank(ascending=False, method="first").astype(int)

    def true_top(
        self,
        n: int = 65,
        weights: Mapping[str, float] | None = None,
        compound_ids: Sequence[str] | None = None,
    ) -> set[str]:
        ranks = self.true_ranks(weights, compound_ids)
        return set(ranks[ranks <= n].index)


def _month_list(months: tuple[str, str]) -> list[pd.Period]:
    first, last = (pd.Period(m, freq="M") for m in months)
    if last < first:
        raise ValueError(f"months must be increasing: {months}")
    return list(pd.period_range(first, last, freq="M"))


def _parse_month(value: str | dt.date | None) -> pd.Period | None:
    if value is None:
        return None
    return pd.Period(value, freq="M")


def simulate_district(
    con: duckdb.DuckDBPyConnection,
    n_compounds: int = 1105,
    months: tuple[str, str] = ("2022-01", "2024-06"),
    seed: int = 0,
    effect: float | None = None,
    treated: Sequence[str] | None = None,
    start: str | dt.date | None = None,
    tickets_per_year: float = TICKETS_PER_YEAR,
    shock_prob: float = SIM_SHOCK_PROB,
    shock_range: tuple[float, float] = SIM_SHOCK_RANGE,
    seasonal: Sequence[float] = SIM_SEASONAL,
    month_noise_shape: float | None = SIM_MONTH_NOISE_SHAPE,
    with_text: bool = True,
    surges: Mapping[str, float] | None = None,
    surge_month: str | None = None,
) -> SimTruth:
    """Write a simulated district into `con` and return its truth.

    - `tickets_per_year`: expected tickets a year over the whole district (350k for Lanshan).
    - `effect`, `treated`, `start`: multiply the treated compounds' rates by (1 + effect) from
      month `start` ('YYYY-MM' or a date) to the end.
    - `shock_prob=0` and `month_noise_shape=None` give pure Poisson data around the seasonal rate
      (a null district for surge false-alarm checks).
    - `surges`: {compound_id: multiplier} planted in `surge_month` only (surge detection tests).
    - `with_text=False` skips building ticket text (faster benchmarks of counts only).
    """
    rng = np.random.default_rng(seed)
    periods = _month_list(months)
    comp = sim_compounds(rng, n_compounds)
    n = len(comp)
    # persistent rate per 100 households per month (before valid share)
    kind = kind_multiplier(comp["type"], comp["is_old"], SIM_TYPE_RATE, SIM_OLD_RATE)
    persistent = kind * propensity(rng, n)
    season = normalised(seasonal)
    month_of_year = np.array([p.month for p in periods])
    # half-year shocks: index of calendar half-year per month
    half_keys = sorted({(p.year, 1 if p.month <= 6 else 2) for p in periods})
    half_idx = np.array([half_keys.index((p.year, 1 if p.month <= 6 else 2)) for p in periods])
    shocked, shock_mult = half_year_shocks(rng, n, len(half_keys), shock_prob, shock_range)
    mean_shock = 1.0 + shock_prob * (np.mean(shock_range) - 1.0)
    # scale so the district total matches tickets_per_year on average
    households = comp["households"].to_numpy(float)
    raw_total = float((persistent * households / 100.0).sum()) * mean_shock
    scale = tickets_per_year / 12.0 / raw_total
    base_rate = persistent * scale  # tickets per 100 households per month, all tickets
    lam = (base_rate * households / 100.0)[:, None] * season[month_of_year - 1][None, :]
    lam = lam * shock_mult[:, half_idx]
    if month_noise_shape:
        lam = lam * month_noise(rng, month_noise_shape, lam.shape)
    treated_ids = list(treated or [])
    start_p = _parse_month(start)
    if effect is not None and treated_ids:
        if start_p is None:
            raise ValueError("start is required with effect")
        rows = comp["compound_id"].isin(treated_ids).to_numpy()
        cols = np.array([p >= start_p for p in periods])
        lam[np.ix_(rows, cols)] *= 1.0 + effect
    if surges:
        col = periods.index(pd.Period(surge_month, freq="M"))
        for cid, mult in surges.items():
            lam[comp.index[comp["compound_id"] == cid][0], col] *= mult
    counts = rng.poisson(lam)

    repeat_p = rng.beta(*SIM_REPEAT_BETA, n)
    unresolved_p = rng.beta(*SIM_UNRESOLVED_BETA, n)
    dissat_p = rng.beta(*SIM_DISSATISFACTION_BETA, n)

    batch_id = _start_batch(con, seed)
    end_ts = (periods[-1] + 1).to_timestamp()
    n_tickets = 0
    for lo in range(0, n, COMPOUND_CHUNK):
        hi = min(n, lo + COMPOUND_CHUNK)
        frame = sim_ticket_frame(
            rng, comp.iloc[lo:hi], counts[lo:hi], periods, repeat_p[lo:hi], unresolved_p[lo:hi],
            dissat_p[lo:hi], n_tickets, seed, end_ts, batch_id, with_text,
        )  # fmt: skip
        _insert(con, "tickets", frame)
        n_tickets += len(frame)
    _write_registry(con, comp, rng, base_rate, periods)
    with db.transaction(con) as cur:
        cur.execute(
            "UPDATE ingest_batches SET rows_read = ?, inserted = ? WHERE batch_id = ?",
            [n_tickets, n_tickets, batch_id],
        )

    truth_rate = base_rate * mean_shock * VALID_SHARE
    truth = comp[["compound_id", "households", "type", "is_old", "community", "property_company"]].copy()
    truth["rate_per_100"] = truth_rate
    truth["expected_monthly"] = truth_rate * households / 100.0
    truth["repeat_share"] = repeat_p
    truth["unresolved_share"] = unresolved_p
    truth["dissatisfaction"] = dissat_p
    truth["treated"] = truth["compound_id"].isin(treated_ids)
    si, sh = np.nonzero(shocked)
    shocks = pd.DataFrame(
        {
            "compound_id": comp["compound_id"].to_numpy()[si],
            "half": [f"{half_keys[h][0]}H{half_keys[h][1]}" for h in sh],
            "multiplier": shock_mult[si, sh],
        }
    )
    return SimTruth(
        compounds=truth,
        shocks=shocks,
        months=[str(p) for p in periods],
        seasonal=tuple(season),
        n_tickets=n_tickets,
        effect=effect,
        treated=treated_ids,
        start=str(start_p) if start_p is not None else None,
    )


def _start_batch(con: duckdb.DuckDBPyConnection, seed: int) -> int:
    with db.transaction(con) as cur:
        batch_id = db.next_id(cur, "seq_batch")
        cur.execute(
            "INSERT INTO ingest_batches (batch_id, kind, file_name, loaded_at) VALUES (?, 'demo', ?, now())",
            [batch_id, f"simulated district seed={seed}"],
        )
    return batch_id


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Append a DataFrame by column name (table names here are fixed literals)."""
    with db.transaction(con) as cur:
        cur.register("_sim_frame", frame)
        cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _sim_frame")  # noqa: S608 - fixed names
        cur.unregister("_sim_frame")


def _write_registry(
    con: duckdb.DuckDBPyConnection,
    comp: pd.DataFrame,
    rng: np.random.Generator,
    base_rate: np.ndarray,
    periods: list[pd.Period],
) -> None:
    communities = comp[["community", "subdistrict"]].drop_duplicates("community")
    subs = pd.DataFrame({"subdistrict": sorted(comp["subdistrict"].unique())})
    ratings = sim_ratings(rng, comp, base_rate, periods)
    evaluations = sim_evaluations(rng, comp, periods)
    _insert(con, "subdistricts", subs)
    _insert(con, "communities", communities)
    _insert(con, "compounds", comp)
    aliases = pd.DataFrame({"alias": comp["name"], "compound_id": comp["compound_id"], "source": "demo"})
    _insert(con, "compound_aliases", aliases)
    _insert(con, "compound_ratings", ratings)
    if evaluations is not None:
        _insert(con, "property_evaluations", evaluations)
