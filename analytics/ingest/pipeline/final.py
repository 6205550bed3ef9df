"""The side work's answers joined back: the compound of each kept row, upload labels mapped onto
the taxonomy, predicted categories, all materialised once as the staging table `final`.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from analytics.ingest.matching.bulk import PY_WHITESPACE, remember_staged
from analytics.ingest.matching.content import match_content
from analytics.ingest.matching.index import load_registry
from analytics.ingest.pipeline.clean import DUPLICATE_IN_FILE
from analytics.ingest.pipeline.side import PREPARED
from analytics.store import db

try:  # the category module may not be present in every build of the store
    from analytics.ingest.categories import taxonomy
except ImportError:  # pragma: no cover - depends on the installation
    taxonomy = None  # type: ignore[assignment]


def _compounds(
    stg: duckdb.DuckDBPyConnection,
    con: duckdb.DuckDBPyConnection,
    looked: pd.DataFrame,
    matches: pd.DataFrame | None,
) -> None:
    """Tables by_value and by_address: the compound of explicit compound values and of the
    addresses of kept rows; the fresh matches of those addresses are cached (a check before an
    upload caches them too, so the upload does not score them again). `matches` is what the
    matcher scored beside the parsing (None: nothing to match); the answer of each address is in
    the staging table PREPARED (side._side_matching)."""
    stg.register("looked", looked)
    stg.execute(
        "CREATE TABLE by_value AS SELECT value, compound_id, CAST(match_score AS DOUBLE) AS match_score, "
        "match_method FROM looked WHERE compound_id IS NOT NULL"
    )
    stg.unregister("looked")
    if matches is None:
        stg.execute(
            "CREATE TABLE by_address (address VARCHAR, compound_id VARCHAR, match_score DOUBLE, match_method VARCHAR)"
        )
    else:
        _by_address(stg, con)


def _by_address(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> None:
    """Table by_address from the staging table PREPARED: its fresh rows for the kept rows'
    addresses cached in address_matches (in a transaction of their own), and the accepted ones
    (auto / confirmed) kept."""
    if stg.execute("SELECT count(*) FROM parsed WHERE reason IS NOT NULL").fetchone()[0]:
        # some rows are rejected: keep the matches of the kept rows' addresses only
        stg.execute(
            f"""DELETE FROM {PREPARED} WHERE address NOT IN (
                SELECT DISTINCT trim(address, ?) FROM parsed WHERE reason IS NULL AND address IS NOT NULL
                AND (compound_value IS NULL OR compound_value NOT IN (SELECT value FROM by_value)))""",  # noqa: S608
            [PY_WHITESPACE],
        )
    alias = stg.execute("SELECT current_database()").fetchone()[0]
    with db.transaction(con) as cur:
        remember_staged(cur, f"{alias}.{PREPARED}")
    stg.execute(
        f"""CREATE TABLE by_address AS SELECT address, compound_id, match_score, match_method
            FROM {PREPARED} WHERE status IN ('auto', 'confirmed') AND compound_id IS NOT NULL"""  # noqa: S608
    )
    stg.execute(f"DROP TABLE {PREPARED}")  # its candidates lists are large, and cached now


def _final(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection, predicted: pa.Table) -> int:
    """The table `final` with the predicted categories; returns the number of rows predicted."""
    stg.register("predicted", predicted)
    try:
        _category_map_and_final(stg, con)
    finally:
        stg.unregister("predicted")
    return int(stg.execute("SELECT count(*) FROM final WHERE category_source = 'predicted'").fetchone()[0])


def _category_map_and_final(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> None:
    """Table category_map (upload labels -> taxonomy) and the table `final` of the rows to store
    (materialised once: the counts, the classification against the store and the insert all read
    it, and its joins are the costly part)."""
    kept = "FROM parsed WHERE reason IS NULL"
    raws = stg.execute(f"SELECT DISTINCT category_raw {kept} AND category_raw IS NOT NULL").df()[
        "category_raw"
    ]  # noqa: S608
    if taxonomy is not None and hasattr(taxonomy, "map_category_series") and len(raws):
        mapped = pd.Series(taxonomy.map_category_series(con, raws.reset_index(drop=True)), dtype=object)
        cat = pd.DataFrame({"raw": raws.reset_index(drop=True), "category": mapped.reset_index(drop=True)})
    else:
        cat = pd.DataFrame({"raw": raws, "category": raws})
    stg.register("cat", cat.astype({"raw": "string", "category": "string"}))
    stg.execute("CREATE TABLE category_map AS SELECT raw, category FROM cat")
    stg.unregister("cat")

    stg.execute(
        """
        CREATE TABLE final AS
        SELECT p.ticket_id, p.created_at, p.closed_at, p.due_at, p.title, p.content,
               CASE WHEN p.category_raw IS NOT NULL THEN coalesce(cm.category, p.category_raw)
                    ELSE pr.category END AS category,
               p.category_raw,
               CASE WHEN p.category_raw IS NOT NULL THEN 'given'
                    WHEN pr.category IS NOT NULL THEN 'predicted' END AS category_source,
               CASE WHEN p.category_raw IS NULL THEN pr.confidence END AS category_confidence,
               p.address,
               coalesce(v.compound_id, a.compound_id) AS compound_id,
               CASE WHEN v.compound_id IS NOT NULL THEN v.match_score ELSE a.match_score END AS match_score,
               CASE WHEN v.compound_id IS NOT NULL THEN v.match_method ELSE a.match_method END AS match_method,
               p.caller_hash, p.satisfaction, p.satisfied, p.resolved, p.status, p.handling_unit,
               p.is_valid, p.reopened
        FROM parsed p
        LEFT JOIN by_value v ON v.value = p.compound_value
        LEFT JOIN by_address a ON a.address = p.address
        LEFT JOIN category_map cm ON cm.raw = p.category_raw
        LEFT JOIN predicted pr ON pr.title = coalesce(p.title, '') AND pr.content = coalesce(p.content, '')
        WHERE p.reason IS NULL
        """
    )


# title and content joined as the content matcher reads them (a clause break between them)
TEXT_SQL = "concat_ws('。', title, content)"


def _content_matches(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> int:
    """Rows of `final` still without a compound whose title or content names one
    (analytics.ingest.matching.content: 来电人反映翠华苑3号楼漏水 with no address): each distinct
    text matched once, accepted mentions give the compound (match_method 'content'). Returns the
    rows that gained a compound."""
    texts = stg.execute(
        f"SELECT DISTINCT {TEXT_SQL} AS text FROM final "  # noqa: S608 - fixed fragment
        "WHERE compound_id IS NULL AND (title IS NOT NULL OR content IS NOT NULL)"
    ).df()["text"]
    if texts.empty or not db.query_one(con, "SELECT count(*) FROM compounds"):
        return 0
    found = match_content(load_registry(con), texts.tolist())
    taken = found["status"].eq("auto").to_numpy()
    if not taken.any():
        return 0
    accepted = pd.DataFrame(
        {
            "text": texts.to_numpy()[taken],
            "compound_id": found["compound_id"].to_numpy()[taken],
            "match_score": found["match_score"].to_numpy(dtype=float)[taken],
        }
    )
    stg.register("content_found", accepted)
    try:
        return int(
            stg.execute(
                """UPDATE final SET compound_id = c.compound_id, match_score = c.match_score,
                       match_method = 'content'
                    FROM content_found c
                    WHERE final.compound_id IS NULL
                      AND concat_ws('。', final.title, final.content) = c.text"""
            ).fetchone()[0]
        )
    finally:
        stg.unregister("content_found")


def _counts(stg: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], int, int]:
    reasons = dict(
        stg.execute("SELECT reason, count(*) FROM parsed WHERE reason IS NOT NULL GROUP BY 1").fetchall()
    )
    in_file_dups = int(reasons.pop(DUPLICATE_IN_FILE, 0))
    unmatched = int(stg.execute("SELECT count(*) FROM final WHERE compound_id IS NULL").fetchone()[0])
    return {k: int(v) for k, v in reasons.items()}, in_file_dups, unmatched
