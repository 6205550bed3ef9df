"""Load the ranking model's inputs from the store, run it, keep its snapshots.

Every function here takes the connection, reads what analytics.models.ranking needs and calls it
(the method is described there). The counts come from analytics.metrics.source: the
compound-month summary when it is fresh and the window is whole months, otherwise the tickets.
The figures are the same either way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.config import REPEAT_DAYS, TOP_N
from analytics.errors import NotFound, ValidationError
from analytics.metrics import source
from analytics.models.ranking import posterior as model
from analytics.models.ranking.components import Components, build_components
from analytics.models.ranking.funnel import FunnelData, funnel
from analytics.models.ranking.leagues import (
    GROUP_LEAGUES,
    LEAGUE_TAIL,
    StarsVsRate,
    league_table,
    stars_table,
)
from analytics.models.ranking.records import RECORD_COLUMNS, plain
from analytics.models.ranking.score import N_DRAWS
from analytics.services import ranking_posterior
from analytics.services.ranking_windows import default_window, latest_complete_month
from analytics.store import db
from analytics.store import summary as summaries

# --------------------------------------------------------------------------- components

COMPONENTS_CACHE_SIZE = 8

_components_cache: OrderedDict[tuple[Any, ...], Components] = OrderedDict()
_components_lock = threading.Lock()


def compute_components(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    repeat_days: int = REPEAT_DAYS,
) -> Components:
    """Counts, exposure, posterior (shape, rate) and the raw components for every compound.

    The counts come from analytics.metrics.source (the summary or the tickets, which it chooses).
    The ranking page asks for the same window several times (ranking, funnel, stability), so the
    result is kept for the exact tickets and registry it came from: the key holds the tickets'
    fingerprint (analytics.store.summary) and a hash of the registry, so any write makes it miss.
    """
    window = window or default_window(con)
    start, stop, months = calendar.window_bounds(window)
    where = summaries.state(con)
    src = source.choose(con, start, stop, repeat_days=repeat_days, state=where)
    identity = ranking_posterior.cache_identity(con, where)
    key = None
    if identity is not None:
        key = (*identity, where.source, tuple(window), repeat_days)
        with _components_lock:
            if key in _components_cache:
                _components_cache.move_to_end(key)
                return _copy(_components_cache[key])
    # only the month of the first ticket is used below, so the summary's month will do
    first = source.first_valid(con, src, before=stop)
    if first is not None and pd.Timestamp(first) > start:
        # data start inside the window: count exposure only from the first month with data
        months = [m for m in months if m >= pd.Timestamp(first).to_period("M")]
    mid = months[len(months) // 2].start_time if len(months) >= 2 else stop
    comp = db.query_df(
        con,
        "SELECT compound_id, name, community, subdistrict, type, is_old, households, property_company FROM compounds",
    )
    if comp.empty:
        raise NotFound("小区名录为空，请先导入小区名录。", "The compound registry is empty; import it first.")
    agg = source.compound_stats(con, src, start, stop, mid, repeat_days)
    monthly = source.compound_months(con, src, start, stop)
    comps = build_components(comp, agg, monthly, window, months)
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


# --------------------------------------------------------------------------- the model's results


# the registry and component columns every ranking row carries beside the posterior's own
COMPONENT_COLUMNS = [
    "compound_id", "community", "subdistrict", "type", "households", "property_company", "volume",
    "shrunk_rate", "shrunk_rate_low", "shrunk_rate_high", "trend", "repeat_share", "unresolved_share",
    "dissatisfaction", "peer_group", "rate_basis",
]  # fmt: skip
PRESETS = model.PRESETS


def rank_compounds(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    weights: Mapping[str, float] | None = None,
    top: int = TOP_N,
    n_draws: int = model.N_DRAWS,
    seed: int = 0,
    preset: str = "volume",
) -> pd.DataFrame:
    """Rank every compound of the registry by the posterior of `preset` (analytics.models.ranking.posterior).

    One row per ranked compound (every compound; for `rate` those with households), the list of
    `top` first. Beside the posterior's columns (rank = median rank inside rank_low..rank_high,
    p_top, listed, expected_tickets, avoidable_tickets, rate_per_100_households, score) each row
    carries the registry and the window's components (shrunk shares, peer group) and the peer
    comparison of the posterior rates: `peer_median_rate` (the median of its peer group) and
    `peer_ratio`. df.attrs holds the model's info (preset, definition key, weights used, shares
    dropped and why, window).
    """
    window = window or default_window(con)
    frame, info = ranking_posterior.rank_posterior(con, window, preset, top, n_draws, seed, weights)
    comps = compute_components(con, window).frame
    out = frame.merge(comps[COMPONENT_COLUMNS], on="compound_id", how="left")
    groups = out.groupby("peer_group")["rate_per_100_households"]
    peers = groups.transform("median")
    out["peer_size"] = groups.transform("count").astype("Int64")
    out["peer_median_rate"] = peers
    out["peer_ratio"] = out["rate_per_100_households"] / peers.where(peers > 0)
    out.attrs.update(info)
    out.attrs["window"] = tuple(str(d) for d in window)
    out.attrs["rate_basis"] = (
        comps["rate_basis"].iloc[0] if (comps["rate_basis"] == "per_compound").all() else ("households")
    )
    out.attrs["dropped_components"] = list(info["dropped"])
    return out


def stability(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    weights: Mapping[str, float] | None = None,
    top: int = TOP_N,
    n: int = 200,
    jitter: float = 0.2,
    seed: int = 0,
    n_draws: int = model.N_DRAWS,
) -> dict[str, Any]:
    """How much the `volume` list moves when the share weights do, from the ranking's own draws."""
    draws = ranking_posterior.posterior(con, window or default_window(con), n_draws)
    return model.weight_stability(draws, weights, top, n, jitter, seed)


def posterior_draws(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    n_draws: int = model.N_DRAWS,
) -> model.Draws:
    """The posterior draws the ranking of `window` uses (with each share's signal test in share_tests)."""
    return ranking_posterior.posterior(con, window or default_window(con), n_draws)


def share_tests(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    n_draws: int = model.N_DRAWS,
) -> dict[str, dict[str, Any]]:
    """Per share (repeat, unresolved, dissatisfied) whether it differs between compounds and why:
    the page's weight sliders (the draws themselves stay here)."""
    return posterior_draws(con, window, n_draws).share_tests


def preset_overlap(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    weights: Mapping[str, float] | None = None,
    top: int = TOP_N,
    n_draws: int = model.N_DRAWS,
    base: str = "volume",
) -> pd.DataFrame:
    """Per preset: its list's length and how many of its compounds the `base` preset's list shares."""
    draws = posterior_draws(con, window, n_draws)
    lists = {}
    for preset in PRESETS:
        try:
            frame, _ = model.rank_draws(draws, preset, top, weights)
        except ValidationError:  # rate, when no compound has households
            continue
        lists[preset] = set(frame.loc[frame["listed"], "compound_id"])
    mine = lists.get(base, set())
    return pd.DataFrame(
        [{"preset": k, "listed": len(v), "shared": len(v & mine)} for k, v in lists.items()],
        columns=["preset", "listed", "shared"],
    )


def snapshot_params(info: Mapping[str, Any], top: int) -> dict[str, Any]:
    """What a snapshot records of the ranking it keeps: definition, weights, window and draws."""
    return {
        "model": "posterior",
        "preset": info["preset"],
        "weights": dict(info["weights"]),
        "weights_requested": {k: r["weight_requested"] for k, r in info["shares"].items()},
        "dropped": list(info["dropped"]),
        "top": int(top),
        "window": list(info.get("window_months", info["window"])),
        "n_months": info["n_months"],
        "n_draws": info["n_draws"],
        "seed": info["seed"],
    }


def funnel_data(
    con: duckdb.DuckDBPyConnection,
    window: tuple[dt.date, dt.date] | None = None,
    min_tickets: int = 1,
    winsor: float = 0.1,
) -> FunnelData:
    comps = compute_components(con, window)
    return funnel(comps, min_tickets, winsor)


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
                json.dumps(plain(dict(params)), ensure_ascii=False),
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
                        plain({c: r[c] for c in component_cols if c in rows.columns}), ensure_ascii=False
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
    if "listed" in out.columns:  # a posterior ranking: the list first, as it was shown
        listed = out["listed"].fillna(False).astype(bool)
        out = (
            out.assign(_listed=listed)
            .sort_values(["_listed", "rank", "expected_rank"], ascending=[False, True, True], kind="stable")
            .drop(columns="_listed")
            .reset_index(drop=True)
        )
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


# --------------------------------------------------------------------------- league tables


def group_league(
    con: duckdb.DuckDBPyConnection,
    by: str = "property_company",
    window: tuple[dt.date, dt.date] | None = None,
    n_draws: int = N_DRAWS,
    seed: int = 0,
    tail: float = LEAGUE_TAIL,
) -> pd.DataFrame:
    """League table of property companies, communities or subdistricts (see `league_table`)."""
    if by not in GROUP_LEAGUES:
        raise ValidationError(f"不支持的排名对象：{by}", f"Unsupported league: {by}")
    comps = compute_components(con, window)
    return league_table(comps, by, n_draws, seed, tail)


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
    out = group_league(con, "property_company", calendar.period_window(quarter), n_draws, seed)
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
    out = group_league(con, "community", calendar.period_window(half), n_draws, seed)
    out.attrs["period"] = half
    return out


def stars_vs_rate(con: duckdb.DuckDBPyConnection, period: str | None = None) -> StarsVsRate:
    if period is None:
        period = db.query_one(con, "SELECT max(period) FROM compound_ratings")
        if period is None:
            raise NotFound("还没有党支部星级评定数据。", "There are no star ratings yet.")
    comps = compute_components(con, calendar.period_window(period))
    stars = db.query_df(con, "SELECT compound_id, stars FROM compound_ratings WHERE period = ?", [period])
    return stars_table(comps, stars, period)
