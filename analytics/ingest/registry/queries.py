"""The registry as the pages read it: every compound with its aliases and latest rating, search,
one compound in detail, and the subdistrict -> community -> compound tree."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from analytics.errors import NotFound
from analytics.store import db

_COMPOUNDS_SQL = """
WITH latest AS (
    SELECT compound_id, arg_max(stars, period) AS stars, max(period) AS stars_period
    FROM compound_ratings GROUP BY compound_id
), al AS (
    SELECT compound_id, string_agg(alias, '；' ORDER BY alias) AS aliases
    FROM compound_aliases GROUP BY compound_id
)
SELECT c.compound_id, c.name, coalesce(al.aliases, '') AS aliases, c.community,
       coalesce(c.subdistrict, cm.subdistrict) AS subdistrict, c.type, c.is_old, c.built_year,
       c.households, c.property_company, c.lat, c.lon, latest.stars, latest.stars_period
FROM compounds c
LEFT JOIN al USING (compound_id)
LEFT JOIN latest USING (compound_id)
LEFT JOIN communities cm ON cm.community = c.community
"""


def compounds_df(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every compound with its aliases ('；'-joined) and latest star rating, ordered by id."""
    return db.query_df(con, _COMPOUNDS_SQL + " ORDER BY c.compound_id")


def search_compounds(
    con: duckdb.DuckDBPyConnection, text: str, scope: list[str] | None = None, limit: int = 20
) -> pd.DataFrame:
    """Compounds whose id, name or an alias contains `text`, best first.

    `scope` limits the result to those compound ids (a task-force head's compounds); an empty
    scope finds nothing. Blank text lists compounds (within scope) by id.
    """
    needle = (text or "").strip()
    sql = f"""
    WITH base AS ({_COMPOUNDS_SQL}),
    hits AS (
        SELECT b.*,
            CASE
                WHEN lower(b.compound_id) = lower($1) THEN 0
                WHEN b.name = $1 THEN 1
                WHEN EXISTS (SELECT 1 FROM compound_aliases a WHERE a.compound_id = b.compound_id AND a.alias = $1) THEN 2
                WHEN starts_with(b.name, $1) OR starts_with(lower(b.compound_id), lower($1)) THEN 3
                WHEN contains(b.name, $1) OR contains(lower(b.compound_id), lower($1)) THEN 4
                WHEN EXISTS (SELECT 1 FROM compound_aliases a WHERE a.compound_id = b.compound_id AND contains(a.alias, $1)) THEN 5
                ELSE NULL
            END AS match_rank
        FROM base b
        WHERE $3::VARCHAR[] IS NULL OR list_contains($3::VARCHAR[], b.compound_id)
    )
    SELECT * EXCLUDE (match_rank) FROM hits
    WHERE $1 = '' OR match_rank IS NOT NULL
    ORDER BY match_rank NULLS LAST, compound_id
    LIMIT $2
    """  # noqa: S608 - the inner query is a constant
    return db.query_df(con, sql, [needle, int(limit), None if scope is None else [str(s) for s in scope]])


def compound_detail(con: duckdb.DuckDBPyConnection, compound_id: str) -> dict[str, Any]:
    """One compound: its fields, aliases (with source), star ratings, its company's evaluations
    and its task forces."""
    base = db.query_df(con, _COMPOUNDS_SQL + " WHERE c.compound_id = ?", [compound_id])
    if base.empty:
        raise NotFound(f"小区编号“{compound_id}”不存在。", f"Compound {compound_id!r} does not exist.")
    detail = {
        k: (None if v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v)
        for k, v in base.iloc[0].items()
    }
    detail["alias_list"] = db.query_df(
        con, "SELECT alias, source FROM compound_aliases WHERE compound_id = ? ORDER BY alias", [compound_id]
    ).to_dict("records")
    detail["ratings"] = db.query_df(
        con, "SELECT period, stars FROM compound_ratings WHERE compound_id = ? ORDER BY period", [compound_id]
    ).to_dict("records")
    detail["property_evaluations"] = db.query_df(
        con,
        "SELECT quarter, score, list FROM property_evaluations WHERE company = ? ORDER BY quarter",
        [detail["property_company"]],
    ).to_dict("records")
    detail["task_forces"] = db.query_df(
        con,
        "SELECT taskforce_id, leader, head, start_date, end_date, status FROM task_forces "
        "WHERE compound_id = ? ORDER BY start_date",
        [compound_id],
    ).to_dict("records")
    return detail


def tree(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """subdistrict -> community -> compound, one row per compound."""
    return db.query_df(
        con,
        """
        SELECT coalesce(c.subdistrict, cm.subdistrict) AS subdistrict, c.community, c.compound_id, c.name,
               c.households
        FROM compounds c LEFT JOIN communities cm ON cm.community = c.community
        ORDER BY subdistrict NULLS LAST, c.community NULLS LAST, c.compound_id
        """,
    )
