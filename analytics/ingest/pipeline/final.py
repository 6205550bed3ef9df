"""The side work's answers joined back: the compound of each kept row (from its compound value
or its address; rows that get neither wait for the compound their text names, `pending`), upload
labels mapped onto the taxonomy, predicted categories. What is decided is materialised once,
narrow, as the staging table FINAL_ROWS (rn, created_at, address, category, compound, pending);
the view `final` puts it beside the kept rows of `parsed` and their caller's keyed hash
(`caller_hashes`, one row a caller): one copy of the rows, not two, and each hash held once.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from analytics.ingest.matching.bulk import WAITING_PARAMS, WAITING_ROWS, strip_sql
from analytics.ingest.pipeline.clean import DUPLICATE_IN_FILE
from analytics.ingest.pipeline.pending import FINAL_PENDING, PENDING_SQL, TEXT_SQL
from analytics.ingest.pipeline.side import ACCEPTED_SQL, PREPARED, value_places_none

# the decided columns of each kept row (see the module docstring); `final` is a view over it
FINAL_ROWS = "final_rows"
# the matches of the kept rows' addresses that wait for an analyst, to be cached (`_compounds`)
WAITING = "waiting"

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


def _by_address(stg: duckdb.DuckDBPyConnection, matches: pd.DataFrame | None) -> None:
    """View by_address: the compound of each address the matcher accepted (auto / confirmed),
    over the staging view PREPARED (side._side_matching; not a copy). `matches` is what the
    matcher scored beside the parsing (None: nothing was matched, and the view is empty)."""
    if matches is None:
        stg.execute(
            "CREATE VIEW by_address AS SELECT NULL::VARCHAR AS address, NULL::VARCHAR AS compound_id, "
            "NULL::DOUBLE AS match_score, NULL::VARCHAR AS match_method WHERE FALSE"
        )
    else:
        stg.execute(
            f"""CREATE VIEW by_address AS SELECT address, compound_id, match_score, match_method
                FROM {PREPARED} WHERE {ACCEPTED_SQL}"""  # noqa: S608
        )


def _compounds(
    stg: duckdb.DuckDBPyConnection, matches: pd.DataFrame | None, remember: bool = True
) -> str | None:
    """The staging table WAITING: the fresh matches of the kept rows' addresses that wait for an
    analyst, which the upload's own write transaction caches (write._commit, through
    matching.bulk.remember_staged), so an upload that fails caches nothing either. None when
    there is nothing to cache: no matches, or `remember` False (a dry run writes nothing).
    `matches`: as for `_by_address`."""
    if matches is None or not remember:
        return None
    kept = ""
    if stg.execute("SELECT count(*) FROM parsed WHERE reason IS NOT NULL").fetchone()[0]:
        # some rows are rejected: the addresses of the kept rows only
        kept = f"""AND address IN (
            SELECT DISTINCT {strip_sql("address")} FROM parsed WHERE reason IS NULL AND address IS NOT NULL
            AND {value_places_none("by_value")})"""  # noqa: S608
    stg.execute(
        f"CREATE TABLE {WAITING} AS SELECT * FROM {PREPARED} WHERE {WAITING_ROWS} {kept}",  # noqa: S608
        WAITING_PARAMS,
    )
    return WAITING


def _final(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection, predicted: pa.Table) -> int:
    """The tables FINAL_ROWS and FINAL_PENDING and the view `final` with the predicted
    categories; returns the number of rows predicted."""
    stg.register("predicted", predicted)
    try:
        _category_map_and_final(stg, con)
    finally:
        stg.unregister("predicted")
    return int(
        stg.execute(f"SELECT count(*) FROM {FINAL_ROWS} WHERE category_source = 'predicted'").fetchone()[0]  # noqa: S608
    )


def _category_map_and_final(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> None:
    """Table category_map (upload labels -> taxonomy), the table FINAL_ROWS of what is decided for
    each row to store (materialised once: the counts, the classification against the store and
    the insert all read it, and its joins are the costly part), the table FINAL_PENDING of its
    pending rows (pipeline.pending) and the view `final` of the rows to store."""
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

    # A pending row has no address here: the dated resolution of FINAL_ROWS must not fill its
    # compound from the address before its text is read (FINAL_PENDING keeps the address).
    # Every row is joined, the rejected too (deleted next): with `WHERE p.reason IS NULL` the
    # planner guesses a fifth of the rows are kept and hashes them, every column they carry,
    # instead of by_address (measured: 0.4 GB more and a third more time at a million rows).
    stg.execute(
        f"""
        CREATE TABLE {FINAL_ROWS} AS
        SELECT p.rn, p.created_at, CASE WHEN NOT ({PENDING_SQL}) THEN p.address END AS address,
               CASE WHEN p.category_raw IS NOT NULL THEN coalesce(cm.category, p.category_raw)
                    ELSE pr.category END AS category,
               CASE WHEN p.category_raw IS NOT NULL THEN 'given'
                    WHEN pr.category IS NOT NULL THEN 'predicted' END AS category_source,
               CASE WHEN p.category_raw IS NULL THEN pr.confidence END AS category_confidence,
               coalesce(v.compound_id, a.compound_id) AS compound_id,
               CASE WHEN v.compound_id IS NOT NULL THEN v.match_score ELSE a.match_score END AS match_score,
               CASE WHEN v.compound_id IS NOT NULL THEN v.match_method ELSE a.match_method END AS match_method,
               {PENDING_SQL} AS pending,
               p.reason IS NOT NULL AS rejected
        FROM parsed p
        LEFT JOIN by_value v ON v.value = p.compound_value
        LEFT JOIN by_address a ON a.address = p.address
        LEFT JOIN category_map cm ON cm.raw = p.category_raw
        LEFT JOIN predicted pr ON pr.title = coalesce(p.title, '') AND pr.content = coalesce(p.content, '')
        """  # noqa: S608 - a constant table name
    )
    stg.execute(f"DELETE FROM {FINAL_ROWS} WHERE rejected")  # noqa: S608 - a constant table name
    stg.execute(
        f"""CREATE TABLE {FINAL_PENDING} AS
            SELECT p.rn, p.ticket_id, p.created_at, p.address, {TEXT_SQL} AS text
            FROM {FINAL_ROWS} f JOIN parsed p ON p.rn = f.rn WHERE f.pending"""  # noqa: S608 - constants
    )
    # the view names its tables by catalog: the write transaction reads it from the store's cursor
    alias = stg.execute("SELECT current_database()").fetchone()[0]
    stg.execute(
        f"""
        CREATE VIEW final AS
        SELECT p.ticket_id, p.created_at, p.closed_at, p.due_at, p.title, p.content, f.category,
               p.category_raw, f.category_source, f.category_confidence, p.address, f.compound_id,
               f.match_score, f.match_method, h.caller_hash, p.satisfaction, p.satisfied, p.resolved,
               p.status, p.handling_unit, p.is_valid, p.reopened, f.pending
        FROM {alias}.{FINAL_ROWS} f JOIN {alias}.parsed p ON p.rn = f.rn
        LEFT JOIN {alias}.caller_hashes h ON h.phone = p.caller_phone
        """  # noqa: S608 - a generated catalog name and a constant
    )


# columns no step reads once the rows are counted (the view `final` reads none of them)
SPENT_COLUMNS = {
    "parsed": ("compound_value", "reason"),
    FINAL_ROWS: ("created_at", "address", "rejected"),
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
    # the pending rows are counted once they are settled (pipeline.pending.settle)
    unmatched = int(
        stg.execute(
            f"SELECT count(*) FROM {FINAL_ROWS} WHERE compound_id IS NULL AND NOT pending"  # noqa: S608
        ).fetchone()[0]
    )
    return {k: int(v) for k, v in reasons.items()}, in_file_dups, unmatched
