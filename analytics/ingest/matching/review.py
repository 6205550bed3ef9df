"""Addresses waiting for an analyst and the analyst's decisions: confirming a match (which also
adds an alias), rejecting one, and re-matching the unmatched after the registry changed.

Look-alikes: addresses the matcher cannot tell apart (the same parse: name core, phase,
subdistrict and community; e.g. 翠华苑3号楼 and 兰山区翠华苑5号楼2单元) form one group in the
queue, and one decision settles the whole group (`settle`). The new alias then re-scores the rest
of the queue, so addresses it now matches with confidence leave the queue too; the queue says how
many tickets each decision settles (`settles`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics import privacy
from analytics.errors import NotFound, ValidationError
from analytics.ingest.matching.bulk import _store_matches
from analytics.ingest.matching.index import load_registry
from analytics.ingest.matching.normalise import MIN_STEM, TYPED_GENERICS, parse_address
from analytics.ingest.matching.score import score_addresses
from analytics.store.db import audit, merge, query_df, query_one, transaction


def review_queue(
    con: duckdb.DuckDBPyConnection, limit: int = 100, include_unmatched: bool = False, per_group: bool = False
) -> pd.DataFrame:
    """Addresses waiting for an analyst, the groups that settle most tickets first.

    Columns: address, tickets (the tickets confirming it would move), match_score, status,
    candidates (list of {compound_id, name, score}, best first), group (the look-alike group:
    addresses with the same parse), similar (the other waiting addresses of its group) and
    settles (the tickets of the whole group: what one decision on it settles). Ordered by
    settles, then tickets; `limit` counts addresses, or groups with `per_group` (then one row per
    group: the address of the group with the most tickets).
    """
    frame = _waiting(con, include_unmatched)
    if frame.empty:
        return frame.assign(group=pd.Series(dtype="int64"), similar=0, settles=0).head(0)
    admin = load_registry(con).admin
    keys = [parse_address(a, admin) for a in frame["address"]]
    frame["group"] = pd.factorize(pd.Series(keys, dtype=object))[0].astype("int64")
    by_group = frame.groupby("group")
    frame["similar"] = by_group["address"].transform("size").astype("int64") - 1
    frame["settles"] = by_group["tickets"].transform("sum").astype("int64")
    frame = frame.sort_values(
        ["settles", "group", "tickets", "match_score", "address"],
        ascending=[False, True, False, False, True],
        na_position="last",
        kind="stable",
    )
    if per_group:
        frame = frame.drop_duplicates("group")
    return frame.head(int(limit)).reset_index(drop=True)


def _waiting(con: duckdb.DuckDBPyConnection, include_unmatched: bool) -> pd.DataFrame:
    """Every waiting address with its tickets (address, tickets, match_score, status, candidates)."""
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
        )
        ORDER BY tickets DESC, match_score DESC NULLS LAST, address
        """,  # noqa: S608 - the masking expression is built from constants
        [statuses],
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
    Returns the number of tickets updated. (`settle` does the same for the address's look-alikes
    and re-scores the queue.)"""
    address = _checked(con, address, compound_id)
    with transaction(con) as cur:
        n = _confirm(cur, [address], compound_id, _alias_for(address), user)
    return n


@dataclass(frozen=True)
class Settled:
    """What one decision settled: the picked address's group and what the new alias re-matched."""

    addresses: int  # addresses of the group confirmed or rejected (the picked one included)
    tickets: int  # their tickets (now on the compound, or settled as no compound)
    rematched_addresses: int  # other waiting addresses the new alias now matches with confidence
    rematched_tickets: int


def settle(
    con: duckdb.DuckDBPyConnection, address: str, compound_id: str, user: str | None = None
) -> Settled:
    """confirm_match for `address` and every waiting address the matcher cannot tell from it (its
    look-alike group in `review_queue`), then the rest of the queue re-scored with the new alias:
    addresses it now matches automatically take their compound and leave the queue."""
    address = _checked(con, address, compound_id)
    group, rest = _group_of(con, address)
    with transaction(con) as cur:
        n = _confirm(cur, group, compound_id, _alias_for(address), user)
    again, moved = _rescore(con, rest, user)
    return Settled(len(group), n, again, moved)


def reject_group(con: duckdb.DuckDBPyConnection, address: str, user: str | None = None) -> Settled:
    """reject_match for `address` and every waiting address of its look-alike group (a road with
    house numbers, a crossing, the district alone: one decision that none of them is a compound)."""
    address = str(address).strip()
    if query_one(con, "SELECT count(*) FROM address_matches WHERE address = ?", [address]) == 0:
        raise NotFound(f"地址“{address}”不在匹配记录中。", f"The address '{address}' has no match record.")
    group, _ = _group_of(con, address)
    with transaction(con) as cur:
        _, carried = _reject(cur, group, user)
    return Settled(len(group), carried, 0, 0)


def _group_of(con: duckdb.DuckDBPyConnection, address: str) -> tuple[list[str], list[str]]:
    """(the waiting addresses the matcher reads as `address` does, `address` first; the other
    waiting addresses)."""
    waiting = _waiting(con, include_unmatched=True)["address"].tolist()
    admin = load_registry(con).admin
    key = parse_address(address, admin)
    group = [address, *(a for a in waiting if a != address and parse_address(a, admin) == key)]
    members = set(group)
    return group, [a for a in waiting if a not in members]


def _checked(con: duckdb.DuckDBPyConnection, address: str, compound_id: str) -> str:
    address = str(address).strip()
    if not address:
        raise ValidationError("地址不能为空。", "The address must not be empty.")
    if query_one(con, "SELECT count(*) FROM compounds WHERE compound_id = ?", [compound_id]) == 0:
        raise NotFound(
            f"小区编号 {compound_id} 不存在，请先在小区名册中添加。",
            f"Compound {compound_id} does not exist; add it to the registry first.",
        )
    return address


def _confirm(
    cur: duckdb.DuckDBPyConnection, addresses: list[str], compound_id: str, alias: str, user: str | None
) -> int:
    """Confirm `addresses` as `compound_id` inside the caller's transaction; the tickets moved."""
    confirmed = pd.DataFrame({"address": list(dict.fromkeys(addresses))})
    cur.register("confirmed_addresses", confirmed)
    merge(
        cur,
        "address_matches",
        [
            "address",
            "compound_id",
            "match_score",
            "match_method",
            "status",
            "candidates",
            "reviewed_by",
            "reviewed_at",
        ],
        ["address"],
        "SELECT address, ?, 1.0, 'confirmed', 'confirmed', '[]', ?, now() FROM confirmed_addresses",
        [compound_id, user],
    )
    cur.unregister("confirmed_addresses")
    merge(
        cur,
        "compound_aliases",
        ["alias", "compound_id", "source"],
        ["alias", "compound_id"],
        "VALUES (?, ?, 'confirmed')",
        [alias, compound_id],
        update=[],
    )
    n = cur.execute(
        """
        UPDATE tickets SET compound_id = ?, match_score = 1.0, match_method = 'confirmed'
        WHERE list_contains(?, trim(address))
        """,
        [compound_id, addresses],
    ).fetchone()[0]
    detail = {"address": addresses[0], "compound_id": compound_id, "alias": alias, "tickets": n}
    if len(addresses) > 1:
        detail["lookalikes"] = len(addresses) - 1
    audit(cur, user, "confirm_match", detail)
    return int(n)


def _rescore(con: duckdb.DuckDBPyConnection, addresses: list[str], user: str | None) -> tuple[int, int]:
    """Score waiting addresses again (the registry or its aliases changed); those now matched
    automatically take their compound. Returns (addresses now matched, tickets moved)."""
    if not addresses:
        return 0, 0
    fresh = score_addresses(load_registry(con), addresses)
    taken = fresh[fresh["status"] == "auto"]
    if taken.empty:
        return 0, 0
    _store_matches(con, taken, replace=True)
    return len(taken), _apply(con, taken, user, "rematch_after_review", {"addresses": len(taken)})


def _apply(
    con: duckdb.DuckDBPyConnection, taken: pd.DataFrame, user: str | None, action: str, detail: dict
) -> int:
    """Give the unmatched tickets at `taken`'s addresses their compound; audit it. Tickets moved."""
    with transaction(con) as cur:
        cur.register("rematched", taken[["address", "compound_id", "match_score", "match_method"]])
        n = cur.execute(
            """
            UPDATE tickets SET compound_id = r.compound_id, match_score = r.match_score,
                match_method = r.match_method
            FROM rematched r
            WHERE trim(tickets.address) = r.address AND tickets.compound_id IS NULL
            """
        ).fetchone()[0]
        cur.unregister("rematched")
        audit(cur, user, action, {**detail, "tickets": n})
    return int(n)


def reject_match(con: duckdb.DuckDBPyConnection, address: str, user: str | None = None) -> int:
    """An analyst says `address` is none of the candidates: it stays unmatched (and tickets that
    had been matched to a compound automatically lose it). Returns tickets changed."""
    address = str(address).strip()
    if query_one(con, "SELECT count(*) FROM address_matches WHERE address = ?", [address]) == 0:
        raise NotFound(f"地址“{address}”不在匹配记录中。", f"The address '{address}' has no match record.")
    with transaction(con) as cur:
        n, _ = _reject(cur, [address], user)
    return n


def _reject(cur: duckdb.DuckDBPyConnection, addresses: list[str], user: str | None) -> tuple[int, int]:
    """Reject `addresses` inside the caller's transaction: (tickets that lost an automatic
    compound, tickets carrying the addresses)."""
    cur.execute(
        """
        UPDATE address_matches SET compound_id = NULL, match_method = NULL, status = 'rejected',
            reviewed_by = ?, reviewed_at = now()
        WHERE list_contains(?, address)
        """,
        [user, addresses],
    )
    n = cur.execute(
        """
        UPDATE tickets SET compound_id = NULL, match_score = NULL, match_method = NULL
        WHERE list_contains(?, trim(address)) AND compound_id IS NOT NULL
          AND coalesce(match_method, '') NOT IN ('id', 'name', 'alias')
        """,
        [addresses],
    ).fetchone()[0]
    carried = cur.execute(
        "SELECT count(*) FROM tickets WHERE list_contains(?, trim(address))", [addresses]
    ).fetchone()[0]
    detail = {"address": addresses[0], "tickets": n}
    if len(addresses) > 1:
        detail["lookalikes"] = len(addresses) - 1
    audit(cur, user, "reject_match", detail)
    return int(n), int(carried)


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
    taken = fresh[fresh["status"] == "auto"]
    if taken.empty:
        return 0
    return _apply(con, taken, user, "rematch_unmatched", {"addresses": len(todo)})
