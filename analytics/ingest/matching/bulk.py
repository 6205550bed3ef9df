"""Matching an upload: explicit compound values by id, name or alias, and each distinct address
once, through the cache `address_matches` (read beside the parsing, written in the upload's
transaction for the addresses it keeps).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd

from analytics.ingest.matching.index import Registry, load_registry
from analytics.ingest.matching.normalise import parse_address
from analytics.ingest.matching.score import RESULT_COLUMNS, score_addresses
from analytics.store.db import query_df, transaction

SCORE_CHUNK = 50_000  # addresses scored at a time by match_addresses (bounds memory)


def _distinct(values: Iterable[object]) -> list[str]:
    """Sorted distinct non-blank values, stripped (hashing first: a million tickets carry far
    fewer distinct addresses)."""
    series = pd.Series(
        values if isinstance(values, pd.Series | np.ndarray | list) else list(values), dtype=object
    )
    unique = pd.unique(series.dropna())
    return sorted({(v if isinstance(v, str) else str(v)).strip() for v in unique} - {""})


def lookup_compounds(con: duckdb.DuckDBPyConnection, values: Iterable[str]) -> pd.DataFrame:
    """Explicit compound values -> compound_id by id, then exact name / alias, then the same
    name after normalisation (full-width, spaces, 小区 dropped).

    A name shared by two compounds is ambiguous and left unmatched.
    """
    distinct = _distinct(values)
    out = pd.DataFrame({"value": distinct})
    if out.empty:
        return out.assign(compound_id=None, match_score=None, match_method=None)
    ids = set(query_df(con, "SELECT compound_id FROM compounds")["compound_id"])
    names = query_df(
        con,
        """
        SELECT compound_id, name, 'name' AS kind FROM compounds
        UNION ALL
        SELECT compound_id, alias AS name, 'alias' AS kind FROM compound_aliases
        """,
    ).drop_duplicates(["name", "compound_id"])
    names["norm"] = [parse_address(n).core for n in names["name"]]
    by: dict[str, dict[str, tuple[str, str]]] = {"name": {}, "norm": {}}
    for column in by:
        counts = names.groupby(column)["compound_id"].nunique()
        unique = names[names[column].map(counts) == 1]
        by[column] = dict(
            zip(unique[column], zip(unique["compound_id"], unique["kind"], strict=True), strict=True)
        )
    rows = []
    for value in distinct:
        if value in ids:
            rows.append((value, value, 1.0, "id"))
        elif value in by["name"]:
            cid, kind = by["name"][value]
            rows.append((value, cid, 1.0, kind))
        elif (norm := parse_address(value).core) in by["norm"]:
            cid, kind = by["norm"][norm]
            rows.append((value, cid, 1.0, kind))
        else:
            rows.append((value, None, None, None))
    return pd.DataFrame(rows, columns=["value", "compound_id", "match_score", "match_method"])


def _public(rows: pd.DataFrame) -> pd.DataFrame:
    """Only auto / confirmed matches give a compound to tickets."""
    taken = rows["status"].isin(["auto", "confirmed"])
    return pd.DataFrame(
        {
            "address": rows["address"].to_numpy(),
            "compound_id": rows["compound_id"].where(taken, None).to_numpy(),
            "match_score": rows["match_score"].where(taken, None).to_numpy(),
            "match_method": rows["match_method"].where(taken, None).to_numpy(),
        }
    )


def _store_matches(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, replace: bool = False) -> None:
    if rows.empty:
        return
    with transaction(con) as cur:
        _insert_matches(cur, rows, replace)


def _insert_matches(cur: duckdb.DuckDBPyConnection, rows: pd.DataFrame, replace: bool = False) -> None:
    """Write match rows to address_matches on a cursor inside the caller's transaction."""
    if rows.empty:
        return
    conflict = (
        """DO UPDATE SET compound_id = excluded.compound_id, match_score = excluded.match_score,
        match_method = excluded.match_method, status = excluded.status,
        candidates = excluded.candidates"""
        if replace
        else "DO NOTHING"
    )
    cur.register("new_matches", rows[RESULT_COLUMNS])
    try:
        cur.execute(
            f"""
            INSERT INTO address_matches (address, compound_id, match_score, match_method, status, candidates)
            SELECT address, compound_id, match_score, match_method, status, candidates FROM new_matches
            ON CONFLICT (address) {conflict}
            """  # noqa: S608 - fixed text, no values
        )
    finally:
        cur.unregister("new_matches")


def _score_in_chunks(registry: Registry, addresses: list[str]) -> pd.DataFrame:
    """score_addresses over slices of SCORE_CHUNK addresses, so memory stays bounded when an
    export carries a distinct address per ticket (building and room numbers)."""
    if not addresses:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    parts = [
        score_addresses(registry, addresses[i : i + SCORE_CHUNK])
        for i in range(0, len(addresses), SCORE_CHUNK)
    ]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def match_addresses(con: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> pd.DataFrame:
    """Distinct addresses -> compound. Cached addresses are answered from address_matches; new
    ones are scored and cached (status auto / review / unmatched).

    Returns address, compound_id, match_score, match_method; compound_id is None unless the
    match was accepted automatically or confirmed by an analyst.
    """
    prepared = prepare_matches(con, addresses)
    _store_matches(con, prepared[prepared["fresh"].astype(bool)])
    return public_matches(prepared)


def prepare_matches(con: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> pd.DataFrame:
    """match_addresses without writing: RESULT_COLUMNS for each distinct address, from the cache
    or freshly scored (column `fresh`), sorted by address. Reads the store only, so an upload
    can run it beside other work and cache only the addresses it keeps (`remember_matches`)."""
    distinct = _distinct(addresses)
    if not distinct:
        return pd.DataFrame(columns=[*RESULT_COLUMNS, "fresh"])
    wanted = pd.DataFrame({"address": distinct})  # noqa: F841 - read by DuckDB's replacement scan
    cur = con.cursor()
    cur.register("wanted_addresses", wanted)
    cached = cur.execute(
        """
        SELECT m.address, m.compound_id, m.match_score, m.match_method, m.status, m.candidates
        FROM address_matches m JOIN wanted_addresses w USING (address)
        """
    ).df()
    cur.unregister("wanted_addresses")
    cur.close()
    known = set(cached["address"])
    new = [a for a in distinct if a not in known] if known else distinct  # still sorted
    fresh = _score_in_chunks(load_registry(con), new) if new else pd.DataFrame(columns=RESULT_COLUMNS)
    if cached.empty:
        return fresh.assign(fresh=True)
    parts = [cached.assign(fresh=False)] + ([fresh.assign(fresh=True)] if len(fresh) else [])
    return pd.concat(parts, ignore_index=True).sort_values("address").reset_index(drop=True)


def remember_matches(cur: duckdb.DuckDBPyConnection, prepared: pd.DataFrame) -> None:
    """Cache the freshly scored rows of a prepare_matches answer in address_matches, inside the
    caller's write transaction (`cur`)."""
    _insert_matches(cur, prepared[prepared["fresh"].astype(bool)])


def public_matches(prepared: pd.DataFrame) -> pd.DataFrame:
    """address, compound_id, match_score, match_method of a prepare_matches answer (a compound
    only where the match was accepted automatically or confirmed)."""
    return _public(prepared).reset_index(drop=True)
