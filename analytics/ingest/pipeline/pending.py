"""Rows that wait for the content matcher: kept rows to which neither their compound value nor
their address gives a compound, and which have a title or content that may name one
(analytics.ingest.matching.content: 来电人反映翠华苑3号楼漏水 with no address).

In the staging table FINAL_ROWS these rows have `pending` set, no compound and no address (the
dated resolution of FINAL_ROWS must leave them alone); FINAL_PENDING keeps what deciding them
needs (rn, ticket_id, created_at, address, text). The content matcher (Python) reads their
distinct texts on the side thread (`side_content`), while the main thread resolves the other
rows' dates and the write transaction inserts the rows (DuckDB, which lets go of the GIL).

`settle` then decides them as a single pass would have: the compound the text names when the
content matcher accepts it (match_method 'content', its score), then the compound valid at the
ticket's date (registry.changes.resolve_dated, which may also fill one from the address). Both
steps are functions of the row alone, so deciding these rows after the others changes no answer.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics.ingest.matching.content import match_content
from analytics.ingest.matching.index import Registry, load_registry
from analytics.ingest.pipeline.timing import phase
from analytics.ingest.registry import changes
from analytics.store import db

# rn, ticket_id, created_at, address and text (TEXT_SQL) of the pending rows of FINAL_ROWS
FINAL_PENDING = "final_pending"
# title and content joined as the content matcher reads them (a clause break between them)
TEXT_SQL = "concat_ws('。', p.title, p.content)"
# a kept row waits for the content when nothing gave it a compound and it has text (`v` and `a`:
# its rows of by_value and by_address, as `final._final` joins them)
PENDING_SQL = (
    "v.compound_id IS NULL AND a.compound_id IS NULL AND (p.title IS NOT NULL OR p.content IS NOT NULL)"
)
# texts matched at a time (bounds the content matcher's memory; it scores a call's snippets at
# once, so one call for an upload's usual 200,000 texts)
CONTENT_CHUNK = 500_000
CONTENT_FOUND_TYPES = {"text": "string", "compound_id": "string", "match_score": "float64"}
# what `settle` gives the pending rows that end with a compound, a score or a method
SETTLED_TYPES = {
    "ticket_id": "string",
    "compound_id": "string",
    "match_score": "float64",
    "match_method": "string",
}


@phase("match_content")
def side_content(cur: duckdb.DuckDBPyConnection, alias: str) -> pd.DataFrame:
    """text, compound_id, match_score of the distinct texts of the pending rows (FINAL_PENDING
    of the staging database `alias`) whose mention the content matcher accepts (status 'auto'),
    each text matched once; none without a registry. `cur` is a cursor of its own (closed here)."""
    try:
        if not db.query_one(cur, "SELECT count(*) FROM compounds"):
            return content_frame(None)
        texts = cur.execute(f"SELECT DISTINCT text FROM {alias}.{FINAL_PENDING}").fetchnumpy()["text"]  # noqa: S608
        if not len(texts):
            return content_frame(None)
        reg = load_registry(cur)
        # in slices: each text is matched on its own, and the matcher's memory stays bounded
        found = [_accepted(reg, texts[i : i + CONTENT_CHUNK]) for i in range(0, len(texts), CONTENT_CHUNK)]
        return content_frame(pd.concat(found, ignore_index=True))
    finally:
        cur.close()


def _accepted(reg: Registry, texts: np.ndarray) -> pd.DataFrame:
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


def content_frame(found: pd.DataFrame | None) -> pd.DataFrame:
    """`found` (text, compound_id, match_score) with its column types; empty when None."""
    if found is None:
        found = pd.DataFrame({c: [] for c in CONTENT_FOUND_TYPES})
    return found.astype(CONTENT_FOUND_TYPES)


def settle(stg: duckdb.DuckDBPyConnection, found: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Decide the pending rows with the content matcher's answers (`found`, `side_content`),
    then move each to the compound valid at its date. Returns (ticket_id, compound_id,
    match_score, match_method of the pending rows that end with any of the three; the number of
    pending rows left without a compound).

    FINAL_ROWS is not changed: the write transaction, which has read the staging tables before,
    would not see the change (it takes these rows from the returned frame)."""
    decided = "pending_decided"
    stg.register("content_found", content_frame(found))
    try:
        stg.execute(
            f"""CREATE TABLE {decided} AS
                SELECT w.ticket_id, c.compound_id, c.match_score,
                       CASE WHEN c.compound_id IS NOT NULL THEN 'content' END AS match_method,
                       w.created_at, w.address
                FROM {FINAL_PENDING} w LEFT JOIN content_found c ON c.text = w.text"""  # noqa: S608 - constants
        )
    finally:
        stg.unregister("content_found")
    try:
        changes.resolve_dated(stg, decided)
        settled = stg.execute(
            f"""SELECT ticket_id, compound_id, match_score, match_method FROM {decided}
                WHERE compound_id IS NOT NULL OR match_score IS NOT NULL OR match_method IS NOT NULL"""  # noqa: S608
        ).df()
        unmatched = int(
            stg.execute(f"SELECT count(*) FROM {decided} WHERE compound_id IS NULL").fetchone()[0]  # noqa: S608
        )
    finally:
        stg.execute(f"DROP TABLE IF EXISTS {decided}")
        stg.execute(f"DROP TABLE IF EXISTS {FINAL_PENDING}")
    return settled.astype(SETTLED_TYPES), unmatched
