"""Repeat complaints: the same caller again, the same issue from anyone, reopened tickets.

Definitions (window N = `n_days`; "within" includes exactly N days):
- same caller (重复来电): the same caller_hash, compound and category as an earlier ticket created
  at most N days before. A missing category counts as its own category '未分类'.
- same issue (同一问题): the same compound and category as an earlier ticket (any caller) created
  at most N days before, whose text is similar: cosine of character 2-3-gram TF-IDF vectors of
  the content (the title when there is no content; titles are often just the category), with the compound's own name removed (else every ticket of a compound looks
  alike), at least `SIMILARITY` (0.5).
- reopened (重启): the ticket's reopened flag.

Only valid tickets with a compound count. "Earlier" follows the deterministic order
(created_at, ticket_id), so the flags never depend on the order rows arrive in, and every flag can
only switch on as N grows (counts never fall with N).

Hot issues (热点问题) link each ticket to its earlier same-caller ticket and its most similar
earlier same-issue ticket; connected tickets are one issue: one problem in one place.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from analytics import calendar, privacy
from analytics.config import OPEN_STATUSES, REPEAT_DAYS
from analytics.errors import ValidationError
from analytics.metrics.rates import add_rates
from analytics.store import db

WINDOWS = (7, 30, 90)
SIMILARITY = 0.5
NGRAMS = (2, 3)
# look-back cap (earlier tickets compared per ticket, same compound and category); beyond it a
# flood of identical complaints is flagged anyway
MAX_LOOKBACK = 200
HOT_ISSUE_DAYS = 180
UNCATEGORISED = "未分类"
REPEAT_GROUPS = {None: None, "compound": "compound_id", "category": "category", "community": "community",
                 "subdistrict": "subdistrict"}  # fmt: skip

# the text goes to pages (hot issues' sample_text): masked here too, whatever wrote the store
TICKETS_SQL = f"""
SELECT t.ticket_id, t.created_at, t.closed_at, t.status, t.compound_id, c.name, c.community, c.subdistrict,
       coalesce(t.category, ?) AS category, t.caller_hash, t.reopened,
       {privacy.sql_mask_personal("coalesce(nullif(trim(t.content), ''), t.title, '')")} AS text
FROM tickets t LEFT JOIN compounds c ON c.compound_id = t.compound_id
WHERE t.is_valid AND t.compound_id IS NOT NULL
  AND (CAST(? AS TIMESTAMP) IS NULL OR t.created_at >= ?)
  AND (CAST(? AS TIMESTAMP) IS NULL OR t.created_at < ?)
  AND (NOT ? OR list_contains(CAST(? AS VARCHAR[]), t.compound_id))
"""  # noqa: S608 - the masking expression is built from constants


def _check_days(n_days: int) -> int:
    if not isinstance(n_days, int | np.integer) or n_days < 0:
        raise ValidationError(
            f"重复窗口天数必须是非负整数：{n_days}",
            f"The repeat window must be a whole number of days: {n_days}",
        )
    return int(n_days)


def _load(con: duckdb.DuckDBPyConnection, lo: Any, hi: Any, compound_ids: list[str] | None) -> pd.DataFrame:
    ids = list(compound_ids or [])
    df = db.query_df(con, TICKETS_SQL, [UNCATEGORISED, lo, lo, hi, hi, bool(ids), ids])
    return df.sort_values(["created_at", "ticket_id"], kind="stable").reset_index(drop=True)


def _flag(df: pd.DataFrame, n_days: int, similarity: float) -> pd.DataFrame:
    """Add same_caller/same_issue flags, their earlier ticket, and issue_id to sorted tickets."""
    window = pd.Timedelta(days=n_days)
    n = len(df)
    df["same_caller"] = False
    df["same_caller_prev"] = None
    has_caller = df["caller_hash"].notna()
    if has_caller.any():
        sub = df[has_caller]
        grp = sub.groupby(["caller_hash", "compound_id", "category"], sort=False)
        prev_at = grp["created_at"].shift(1)
        prev_id = grp["ticket_id"].shift(1)
        hit = (sub["created_at"] - prev_at) <= window
        df.loc[hit[hit].index, "same_caller"] = True
        df.loc[hit[hit].index, "same_caller_prev"] = prev_id[hit]

    df["same_issue"] = False
    df["same_issue_prev"] = None
    df["similarity"] = np.nan
    texts = [
        t.replace(name, "") if isinstance(name, str) and name else t
        for t, name in zip(df["text"].fillna(""), df["name"], strict=True)
    ]
    has_text = np.array([bool(t.strip()) for t in texts])
    if n and has_text.any():
        vec = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, min_df=1, sublinear_tf=True)
        matrix = vec.fit_transform(texts).tocsr()
        # order by place and time so candidate pairs are neighbours
        order = np.lexsort((df["ticket_id"].to_numpy(), df["created_at"].to_numpy(), df["category"].to_numpy(),
                            df["compound_id"].to_numpy()))  # fmt: skip
        comp = df["compound_id"].to_numpy()[order]
        cat = df["category"].to_numpy()[order]
        at = df["created_at"].to_numpy()[order]
        text_ok = has_text[order]
        best_sim = np.zeros(n)
        best_prev = np.full(n, -1)
        ordered = matrix[order]
        # a ticket leaves `active` once the neighbour k places back is another group or too old:
        # every ticket further back is too
        active = np.arange(1, n)
        for k in range(1, min(MAX_LOOKBACK, n - 1) + 1):
            active = active[active >= k]
            prev = active - k
            pair = (
                (comp[active] == comp[prev]) & (cat[active] == cat[prev]) & (at[active] - at[prev] <= window)
            )
            active, prev = active[pair], prev[pair]
            if len(active) == 0:
                break
            both = text_ok[active] & text_ok[prev]
            cur, old = active[both], prev[both]
            if len(cur) == 0:
                continue
            sims = np.asarray(ordered[cur].multiply(ordered[old]).sum(axis=1)).ravel()
            better = sims > best_sim[cur] + 1e-12
            best_sim[cur[better]] = sims[better]
            best_prev[cur[better]] = old[better]
        hit = best_sim >= similarity
        rows = order[hit]
        df.loc[rows, "same_issue"] = True
        df.loc[rows, "similarity"] = best_sim[hit]
        df.loc[rows, "same_issue_prev"] = df["ticket_id"].to_numpy()[order[best_prev[hit]]]

    df["any_repeat"] = df["same_caller"] | df["same_issue"] | df["reopened"].fillna(False).astype(bool)
    # issues: connected tickets through either link
    pos = pd.Series(np.arange(n), index=df["ticket_id"])
    edges = [
        (df.index[df[flag]].to_numpy(), pos.loc[df.loc[df[flag], prev]].to_numpy())
        for flag, prev in (("same_caller", "same_caller_prev"), ("same_issue", "same_issue_prev"))
        if df[flag].any()
    ]
    if edges:
        a = np.concatenate([e[0] for e in edges])
        b = np.concatenate([e[1] for e in edges])
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
    else:
        labels = np.arange(n)
    # name each issue by its first ticket (df is sorted by created_at, ticket_id)
    first = pd.Series(df["ticket_id"].to_numpy()).groupby(labels).transform("first")
    df["issue_id"] = first.to_numpy()
    return df


def repeat_flags(
    con: duckdb.DuckDBPyConnection,
    n_days: int = REPEAT_DAYS,
    start: Any = None,
    end: Any = None,
    compound_ids: list[str] | None = None,
    similarity: float = SIMILARITY,
) -> pd.DataFrame:
    """One row per valid compound ticket created in [start, end] with its repeat flags.

    Earlier tickets up to `n_days` before `start` are looked at, so the first days of the period
    are judged like the rest. Columns: ticket_id, created_at, compound_id, name, category,
    caller_hash, same_caller, same_caller_prev, same_issue, same_issue_prev, similarity, reopened,
    any_repeat, issue_id; sorted by (created_at, ticket_id).
    """
    n_days = _check_days(n_days)
    lo, hi = calendar.bounds(start, end)
    df = _load(con, None if lo is None else lo - pd.Timedelta(days=n_days), hi, compound_ids)
    df = _flag(df, n_days, similarity)
    if lo is not None:
        df = df[df["created_at"] >= lo]
    cols = ["ticket_id", "created_at", "compound_id", "name", "community", "subdistrict", "category",
            "caller_hash", "same_caller", "same_caller_prev", "same_issue", "same_issue_prev", "similarity",
            "reopened", "any_repeat", "issue_id", "closed_at", "status", "text"]  # fmt: skip
    return df[cols].reset_index(drop=True)


def repeat_rate(
    con: duckdb.DuckDBPyConnection,
    n_days: int = REPEAT_DAYS,
    start: Any = None,
    end: Any = None,
    compound_ids: list[str] | None = None,
    group_by: str | None = None,
) -> pd.DataFrame:
    """Shares of repeat tickets (per group), with 95% Wilson intervals.

    Columns: key, tickets, same_caller, same_issue, reopened, any_repeat and for each of those
    `<name>_share`, `<name>_share_low`, `<name>_share_high` (denominator: the group's valid tickets).
    """
    if group_by not in REPEAT_GROUPS:
        raise ValidationError(f"不支持的分组：{group_by}", f"Unsupported group_by: {group_by}")
    flags = repeat_flags(con, n_days, start, end, compound_ids)
    flags["key"] = "全区" if group_by is None else flags[REPEAT_GROUPS[group_by]]
    flags["reopened"] = flags["reopened"].fillna(False).astype(bool)
    out = flags.groupby("key").agg(
        tickets=("ticket_id", "size"),
        same_caller=("same_caller", "sum"),
        same_issue=("same_issue", "sum"),
        reopened=("reopened", "sum"),
        any_repeat=("any_repeat", "sum"),
    )
    if out.empty and group_by is None:
        out = pd.DataFrame({"tickets": [0], "same_caller": [0], "same_issue": [0], "reopened": [0],
                            "any_repeat": [0]}, index=pd.Index(["全区"], name="key"))  # fmt: skip
    add_rates(
        out, {f"{c}_share": (c, "tickets") for c in ("same_caller", "same_issue", "reopened", "any_repeat")}
    )
    out.attrs["n_days"] = n_days
    return out.reset_index()


def hot_issues(
    con: duckdb.DuckDBPyConnection,
    n_days: int = REPEAT_DAYS,
    compound_ids: list[str] | None = None,
    min_tickets: int = 3,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """Hot issues: one problem in one place with at least `min_tickets` tickets.

    Default period: the `HOT_ISSUE_DAYS` days up to the newest ticket. Columns: issue_id,
    compound_id, name, community, category, tickets, callers, first_seen, last_seen, days_active,
    open_tickets, still_open (any ticket not closed), sample_text (the newest ticket's text),
    ticket_ids. Open issues first, then the most tickets, then the most recent.
    """
    if start is None and end is None:
        newest = db.query_one(con, "SELECT max(created_at) FROM tickets")
        if newest is not None:
            start = (pd.Timestamp(newest) - pd.Timedelta(days=HOT_ISSUE_DAYS)).normalize()
    flags = repeat_flags(con, n_days, start, end, compound_ids)
    is_open = flags["closed_at"].isna() | flags["status"].isin(OPEN_STATUSES)
    flags = flags.assign(is_open=is_open)
    grouped = flags.groupby("issue_id", sort=False)
    out = grouped.agg(
        compound_id=("compound_id", "first"),
        name=("name", "first"),
        community=("community", "first"),
        category=("category", "first"),
        tickets=("ticket_id", "size"),
        callers=("caller_hash", "nunique"),
        first_seen=("created_at", "min"),
        last_seen=("created_at", "max"),
        open_tickets=("is_open", "sum"),
        sample_text=("text", "last"),
        ticket_ids=("ticket_id", list),
    ).reset_index()
    out = out[out["tickets"] >= min_tickets]
    out["still_open"] = out["open_tickets"] > 0
    out["days_active"] = (out["last_seen"] - out["first_seen"]).dt.total_seconds() / 86400.0
    out = out.sort_values(
        ["still_open", "tickets", "last_seen", "issue_id"], ascending=[False, False, False, True]
    )
    cols = ["issue_id", "compound_id", "name", "community", "category", "tickets", "callers", "first_seen",
            "last_seen", "days_active", "open_tickets", "still_open", "sample_text", "ticket_ids"]  # fmt: skip
    return out[cols].reset_index(drop=True)
