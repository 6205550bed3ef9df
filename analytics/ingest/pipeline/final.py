"""The side work's answers joined back: the compound of each kept row (from its compound value,
its address, or else a compound named in its title or content), upload labels mapped onto the
taxonomy, predicted categories. What is decided is materialised once, narrow, as the staging
table FINAL_ROWS (rn, created_at, address, the caller's keyed hash, category and compound); the
view `final` puts it beside the kept rows of `parsed` (one copy of the rows, not two).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.ingest.matching.bulk import remember_staged, strip_sql
from analytics.ingest.matching.content import match_content
from analytics.ingest.matching.index import Registry, load_registry
from analytics.ingest.pipeline.clean import DUPLICATE_IN_FILE
from analytics.ingest.pipeline.side import PREPARED
from analytics.store import db

# the decided columns of each kept row (see the module docstring); `final` is a view over it
FINAL_ROWS = "final_rows"

try:  # the category module may not be present in every build of the store
    from analytics.ingest.categories import taxonomy
except ImportError:  # pragma: no cover - depends on the installation
    taxonomy = None  # type: ignore[assignment]


def _by_value(stg: duckdb.DuckDBPyConnection, looked: pd.DataFrame) -> None:
    """Table by_value: the compound of each explicit compound value the matcher recognised
    (`looked`, side._side_matching's first answer)."""
    stg.register("looked", looked)
    try:
        stg.execute(
            "CREATE TABLE by_value AS SELECT value, compound_id, CAST(match_score AS DOUBLE) AS match_score, "
            "match_method FROM looked WHERE compound_id IS NOT NULL"
        )
    finally:
        stg.unregister("looked")


def _compounds(
    stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection, matches: pd.DataFrame | None
) -> None:
    """Table by_address: the compound of the addresses of kept rows; the fresh matches of those
    addresses that wait for an analyst are cached (matching.bulk.remember_staged). `matches` is
    what the matcher scored beside the parsing (None: nothing to match); the answer of each
    address is in the staging table PREPARED (side._side_matching)."""
    if matches is None:
        stg.execute(
            "CREATE TABLE by_address (address VARCHAR, compound_id VARCHAR, match_score DOUBLE, match_method VARCHAR)"
        )
    else:
        _by_address(stg, con)


def _by_address(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> None:
    """Table by_address from the staging table PREPARED: its fresh rows for the kept rows'
    addresses that wait for an analyst cached in address_matches (in a transaction of their
    own), and the accepted ones (auto / confirmed) kept."""
    if stg.execute("SELECT count(*) FROM parsed WHERE reason IS NOT NULL").fetchone()[0]:
        # some rows are rejected: keep the matches of the kept rows' addresses only
        stg.execute(
            f"""DELETE FROM {PREPARED} WHERE address NOT IN (
                SELECT DISTINCT {strip_sql("address")} FROM parsed WHERE reason IS NULL AND address IS NOT NULL
                AND (compound_value IS NULL OR compound_value NOT IN (SELECT value FROM by_value)))"""  # noqa: S608
        )
    alias = stg.execute("SELECT current_database()").fetchone()[0]
    with db.transaction(con) as cur:
        remember_staged(cur, f"{alias}.{PREPARED}")
    stg.execute(
        f"""CREATE TABLE by_address AS SELECT address, compound_id, match_score, match_method
            FROM {PREPARED} WHERE status IN ('auto', 'confirmed') AND compound_id IS NOT NULL"""  # noqa: S608
    )
    stg.execute(f"DROP TABLE {PREPARED}")  # its candidates lists are large, and cached now


def _final(
    stg: duckdb.DuckDBPyConnection,
    con: duckdb.DuckDBPyConnection,
    predicted: pa.Table,
    found: pd.DataFrame | None = None,
) -> int:
    """The table FINAL_ROWS and the view `final` with the predicted categories and the compounds
    found in the text (`found`, `_content_found`); returns the number of rows predicted."""
    stg.register("predicted", predicted)
    stg.register("content_found", _content_frame(found))
    try:
        _category_map_and_final(stg, con)
    finally:
        stg.unregister("predicted")
        stg.unregister("content_found")
    return int(
        stg.execute(f"SELECT count(*) FROM {FINAL_ROWS} WHERE category_source = 'predicted'").fetchone()[0]  # noqa: S608
    )


def _category_map_and_final(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> None:
    """Table category_map (upload labels -> taxonomy), the table FINAL_ROWS of what is decided for
    each row to store (materialised once: the counts, the classification against the store and
    the insert all read it, and its joins are the costly part) and the view `final` of the rows
    to store."""
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
        f"""
        CREATE TABLE {FINAL_ROWS} AS
        SELECT p.rn, p.created_at, p.address,
               CASE WHEN p.category_raw IS NOT NULL THEN coalesce(cm.category, p.category_raw)
                    ELSE pr.category END AS category,
               CASE WHEN p.category_raw IS NOT NULL THEN 'given'
                    WHEN pr.category IS NOT NULL THEN 'predicted' END AS category_source,
               CASE WHEN p.category_raw IS NULL THEN pr.confidence END AS category_confidence,
               coalesce(v.compound_id, a.compound_id, c.compound_id) AS compound_id,
               CASE WHEN v.compound_id IS NOT NULL THEN v.match_score
                    WHEN a.compound_id IS NOT NULL THEN a.match_score ELSE c.match_score END AS match_score,
               CASE WHEN v.compound_id IS NOT NULL THEN v.match_method
                    WHEN a.compound_id IS NOT NULL THEN a.match_method
                    WHEN c.compound_id IS NOT NULL THEN 'content' END AS match_method,
               h.caller_hash
        FROM parsed p
        LEFT JOIN caller_hashes h ON h.phone = p.caller_phone
        LEFT JOIN by_value v ON v.value = p.compound_value
        LEFT JOIN by_address a ON a.address = p.address
        LEFT JOIN category_map cm ON cm.raw = p.category_raw
        LEFT JOIN predicted pr ON pr.title = coalesce(p.title, '') AND pr.content = coalesce(p.content, '')
        LEFT JOIN content_found c
          ON c.text = CASE WHEN v.compound_id IS NULL AND a.compound_id IS NULL THEN concat_ws('。', p.title, p.content) END
        WHERE p.reason IS NULL
        """  # noqa: S608 - a constant table name
    )
    # the view names its tables by catalog: the write transaction reads it from the store's cursor
    alias = stg.execute("SELECT current_database()").fetchone()[0]
    stg.execute(
        f"""
        CREATE VIEW final AS
        SELECT p.ticket_id, p.created_at, p.closed_at, p.due_at, p.title, p.content, f.category,
               p.category_raw, f.category_source, f.category_confidence, p.address, f.compound_id,
               f.match_score, f.match_method, f.caller_hash, p.satisfaction, p.satisfied, p.resolved,
               p.status, p.handling_unit, p.is_valid, p.reopened
        FROM {alias}.{FINAL_ROWS} f JOIN {alias}.parsed p ON p.rn = f.rn
        """  # noqa: S608 - a generated catalog name and a constant
    )


# title and content joined as the content matcher reads them (a clause break between them)
TEXT_SQL = "concat_ws('。', title, content)"
CONTENT_CHUNK = 50_000  # texts matched at a time (bounds the content matcher's memory)
CONTENT_FOUND_TYPES = {"text": "string", "compound_id": "string", "match_score": "float64"}


def _content_texts(stg: duckdb.DuckDBPyConnection) -> list[str]:
    """The distinct texts (TEXT_SQL) of the kept rows that get no compound from their compound
    value (by_value) nor from their address (by_address): the rows `final` would leave without
    a compound."""
    return [
        r[0]
        for r in stg.execute(
            """SELECT DISTINCT concat_ws('。', p.title, p.content) AS text FROM parsed p
               WHERE p.reason IS NULL AND (p.title IS NOT NULL OR p.content IS NOT NULL)
                 AND NOT coalesce(p.compound_value IN (SELECT value FROM by_value), FALSE)
                 AND NOT coalesce(p.address IN (SELECT address FROM by_address), FALSE)"""
        ).fetchall()
    ]


def _content_found(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Texts of rows still without a compound that name one (analytics.ingest.matching.content:
    来电人反映翠华苑3号楼漏水 with no address): each distinct text (`_content_texts`) matched once;
    those whose mention is accepted (status 'auto') give text, compound_id, match_score, which
    `_final` gives their rows (match_method 'content'). Run after `_compounds` (it reads by_value
    and by_address) and after the prediction (both are Python: beside each other, each would wait
    for the other's GIL)."""
    if not db.query_one(con, "SELECT count(*) FROM compounds"):
        return _content_frame(None)
    texts = _content_texts(stg)
    if not texts:
        return _content_frame(None)
    reg = load_registry(con)
    # in slices: each text is matched on its own, and the matcher's memory stays bounded
    accepted = [_accepted(reg, texts[i : i + CONTENT_CHUNK]) for i in range(0, len(texts), CONTENT_CHUNK)]
    return _content_frame(pd.concat(accepted, ignore_index=True))


def _accepted(reg: Registry, texts: list[str]) -> pd.DataFrame:
    """text, compound_id, match_score of the texts whose mention the content matcher accepts."""
    found = match_content(reg, texts)
    taken = found["status"].eq("auto").to_numpy()
    return pd.DataFrame(
        {
            "text": np.asarray(texts, dtype=object)[taken],
            "compound_id": found["compound_id"].to_numpy(dtype=object)[taken],
            "match_score": found["match_score"].to_numpy(dtype=float)[taken],
        }
    )


def _content_frame(found: pd.DataFrame | None) -> pd.DataFrame:
    """`found` (text, compound_id, match_score) with its column types; empty when None."""
    if found is None:
        found = pd.DataFrame({c: [] for c in CONTENT_FOUND_TYPES})
    return found.astype(CONTENT_FOUND_TYPES)


# columns no step reads once the rows are counted (the view `final` reads neither)
SPENT_COLUMNS = {
    "parsed": ("damaged", "oversized", "created_text", "compound_value", "caller_phone", "reason"),
    FINAL_ROWS: ("created_at", "address"),
}


def _drop_spent(stg: duckdb.DuckDBPyConnection) -> None:
    """Free the columns of SPENT_COLUMNS before the write (the insert is where memory peaks)."""
    for table, cols in SPENT_COLUMNS.items():
        for col in cols:
            stg.execute(f"ALTER TABLE {table} DROP COLUMN {col}")


def _counts(stg: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], int, int]:
    reasons = dict(
        stg.execute("SELECT reason, count(*) FROM parsed WHERE reason IS NOT NULL GROUP BY 1").fetchall()
    )
    in_file_dups = int(reasons.pop(DUPLICATE_IN_FILE, 0))
    unmatched = int(
        stg.execute(f"SELECT count(*) FROM {FINAL_ROWS} WHERE compound_id IS NULL").fetchone()[0]  # noqa: S608
    )
    return {k: int(v) for k, v in reasons.items()}, in_file_dups, unmatched
