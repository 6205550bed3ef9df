"""Addresses waiting for an analyst and the analyst's decisions: confirming a match (which also
adds an alias), rejecting one, and re-matching the unmatched after the registry changed.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from analytics import privacy
from analytics.errors import NotFound, ValidationError
from analytics.ingest.matching.bulk import _store_matches
from analytics.ingest.matching.index import load_registry
from analytics.ingest.matching.normalise import MIN_STEM, TYPED_GENERICS, parse_address
from analytics.ingest.matching.score import score_addresses
from analytics.store.db import audit, query_df, query_one, transaction


def review_queue(
    con: duckdb.DuckDBPyConnection, limit: int = 100, include_unmatched: bool = False
) -> pd.DataFrame:
    """Addresses waiting for an analyst, the ones that settle most tickets first.

    Columns: address, tickets (the tickets confirming it would move), match_score, status,
    candidates (list of {compound_id, name, score}, best first).
    """
    statuses = ["review", "unmatched"] if include_unmatched else ["review"]
    # masked as shown; stored addresses are masked already (ingest, migration 004), so the
    # address still names its row for confirm_match / reject_match
    frame = query_df(
        con,
        f"""
        SELECT {privacy.sql_mask_personal("address")} AS address, tickets, match_score, status, candidates
        FROM (
            SELECT m.address, count(t.ticket_id) AS tickets, m.match_score, m.status, m.candidates
            FROM address_matches m LEFT JOIN tickets t ON trim(t.address) = m.address
            WHERE list_contains(?, m.status)
            GROUP BY ALL
            ORDER BY tickets DESC, m.match_score DESC NULLS LAST, m.address
            LIMIT ?
        )
        ORDER BY tickets DESC, match_score DESC NULLS LAST, address
        """,  # noqa: S608 - the masking expression is built from constants
        [statuses, int(limit)],
    )
    frame["tickets"] = frame["tickets"].astype("int64")
    frame["candidates"] = [json.loads(c) if c else [] for c in frame["candidates"]]
    return frame


def review_totals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The whole review queue at a glance: {"addresses": waiting, "tickets": the tickets those
    addresses would settle (each confirmed address moves every ticket it carries)}."""
    row = (
        con.cursor()
        .execute(
            """
        SELECT count(DISTINCT m.address), count(t.ticket_id)
        FROM address_matches m LEFT JOIN tickets t ON trim(t.address) = m.address
        WHERE m.status = 'review'
        """
        )
        .fetchone()
    )
    return {"addresses": int(row[0] or 0), "tickets": int(row[1] or 0)}


def _alias_for(address: str) -> str:
    """The name part of a confirmed address, so other addresses of the same place match too."""
    parsed = parse_address(address)
    if len(parsed.stem) >= MIN_STEM and parsed.core not in TYPED_GENERICS:
        return parsed.core
    return address


def confirm_match(
    con: duckdb.DuckDBPyConnection, address: str, compound_id: str, user: str | None = None
) -> int:
    """An analyst says `address` is `compound_id`: remember it (address_matches confirmed, plus an
    alias with source 'confirmed') and move every ticket with that address to the compound.
    Returns the number of tickets updated."""
    address = str(address).strip()
    if not address:
        raise ValidationError("地址不能为空。", "The address must not be empty.")
    if query_one(con, "SELECT count(*) FROM compounds WHERE compound_id = ?", [compound_id]) == 0:
        raise NotFound(
            f"小区编号 {compound_id} 不存在，请先在小区名册中添加。",
            f"Compound {compound_id} does not exist; add it to the registry first.",
        )
    alias = _alias_for(address)
    with transaction(con) as cur:
        cur.execute(
            """
            INSERT INTO address_matches (address, compound_id, match_score, match_method, status,
                                         candidates, reviewed_by, reviewed_at)
            VALUES (?, ?, 1.0, 'confirmed', 'confirmed', '[]', ?, now())
            ON CONFLICT (address) DO UPDATE SET compound_id = excluded.compound_id, match_score = 1.0,
                match_method = 'confirmed', status = 'confirmed', reviewed_by = excluded.reviewed_by,
                reviewed_at = excluded.reviewed_at
            """,
            [address, compound_id, user],
        )
        cur.execute(
            "INSERT INTO compound_aliases (alias, compound_id, source) VALUES (?, ?, 'confirmed') "
            "ON CONFLICT DO NOTHING",
            [alias, compound_id],
        )
        n = cur.execute(
            """
            UPDATE tickets SET compound_id = ?, match_score = 1.0, match_method = 'confirmed'
            WHERE trim(address) = ?
            """,
            [compound_id, address],
        ).fetchone()[0]
        audit(
            cur,
            user,
            "confirm_match",
            {"address": address, "compound_id": compound_id, "alias": alias, "tickets": n},
        )
    return int(n)


def reject_match(con: duckdb.DuckDBPyConnection, address: str, user: str | None = None) -> int:
    """An analyst says `address` is none of the candidates: it stays unmatched (and tickets that
    had been matched to a compound automatically lose it). Returns tickets changed."""
    address = str(address).strip()
    if query_one(con, "SELECT count(*) FROM address_matches WHERE address = ?", [address]) == 0:
        raise NotFound(f"地址“{address}”不在匹配记录中。", f"The address '{address}' has no match record.")
    with transaction(con) as cur:
        cur.execute(
            """
            UPDATE address_matches SET compound_id = NULL, match_method = NULL, status = 'rejected',
                reviewed_by = ?, reviewed_at = now()
            WHERE address = ?
            """,
            [user, address],
        )
        n = cur.execute(
            """
            UPDATE tickets SET compound_id = NULL, match_score = NULL, match_method = NULL
            WHERE trim(address) = ? AND compound_id IS NOT NULL
              AND coalesce(match_method, '') NOT IN ('id', 'name', 'alias')
            """,
            [address],
        ).fetchone()[0]
        audit(cur, user, "reject_match", {"address": address, "tickets": n})
    return int(n)


def rematch_unmatched(con: duckdb.DuckDBPyConnection, user: str | None = None) -> int:
    """Re-run matching for the addresses of tickets without a compound (after the registry or
    its aliases changed). Confirmed and rejected addresses keep the analyst's decision.
    Returns the number of tickets that gained a compound."""
    todo = query_df(
        con,
        """
        SELECT DISTINCT trim(t.address) AS address
        FROM tickets t LEFT JOIN address_matches m ON m.address = trim(t.address)
        WHERE t.compound_id IS NULL AND t.address IS NOT NULL AND trim(t.address) <> ''
          AND coalesce(m.status, '') NOT IN ('confirmed', 'rejected')
        """,
    )["address"].tolist()
    if not todo:
        return 0
    fresh = score_addresses(load_registry(con), todo)
    _store_matches(con, fresh, replace=True)
    taken = fresh[fresh["status"] == "auto"][["address", "compound_id", "match_score", "match_method"]]
    if taken.empty:
        return 0
    with transaction(con) as cur:
        cur.register("rematched", taken)
        n = cur.execute(
            """
            UPDATE tickets SET compound_id = r.compound_id, match_score = r.match_score,
                match_method = r.match_method
            FROM rematched r
            WHERE trim(tickets.address) = r.address AND tickets.compound_id IS NULL
            """
        ).fetchone()[0]
        cur.unregister("rematched")
        audit(cur, user, "rematch_unmatched", {"addresses": len(todo), "tickets": n})
    return int(n)
