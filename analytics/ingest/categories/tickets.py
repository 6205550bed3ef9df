"""The categories of stored tickets: predicted where missing (each distinct text once), the
review queue of unsure predictions, and analysts' corrections.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import privacy
from analytics.errors import NotFound, ValidationError
from analytics.ingest.categories.predict import predicted_columns
from analytics.ingest.categories.store import load_model
from analytics.store.db import audit, query_df, query_one, transaction

LOW_CONFIDENCE = 0.5


# whitespace the hasher drops anyway: texts that differ only here get the same prediction
_NORMALISE_SQL = "regexp_replace(coalesce({col}, ''), '[\\t\\n\\x0b\\x0c\\r \u00a0\u3000]+', '', 'g')"


def predict_missing(
    con: duckdb.DuckDBPyConnection, batch_id: int | None = None, user: str | None = None
) -> int:
    """Fill category (category_source 'predicted', category_confidence) for tickets without one,
    optionally only those of one batch. Returns the number of tickets filled.

    Exports repeat the same texts many times, so each distinct text (whitespace removed, which
    the features ignore) is predicted once and the result joined back inside DuckDB; the rows
    are addressed by rowid, so nothing but the distinct texts and their predictions crosses
    into Python. One transaction: the tickets read are exactly the tickets written.
    """
    model = load_model(con)
    title, content = _NORMALISE_SQL.format(col="title"), _NORMALISE_SQL.format(col="content")
    with transaction(con) as cur:
        cur.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _predict_todo AS
            SELECT rowid AS row_id, {title} AS title, {content} AS content FROM tickets
            WHERE (category IS NULL OR trim(category) = '') AND (? IS NULL OR batch_id = ?)
            """,  # noqa: S608 - fixed SQL fragments
            [batch_id, batch_id],
        )
        n = int(cur.execute("SELECT count(*) FROM _predict_todo").fetchone()[0])
        if n == 0:
            cur.execute("DROP TABLE _predict_todo")
            return 0
        texts = cur.execute("SELECT DISTINCT title, content FROM _predict_todo").fetch_arrow_table()
        category, confidence = predicted_columns(model, texts["title"], texts["content"])
        cur.register(
            "_predicted_texts",
            texts.append_column("category", category).append_column("confidence", confidence),
        )
        cur.execute(
            """
            UPDATE tickets SET category = p.category, category_source = 'predicted',
                category_confidence = p.confidence
            FROM (SELECT d.row_id, t.category, t.confidence
                  FROM _predict_todo d JOIN _predicted_texts t USING (title, content)) p
            WHERE tickets.rowid = p.row_id
            """
        )
        cur.unregister("_predicted_texts")
        cur.execute("DROP TABLE _predict_todo")
        audit(
            cur,
            user,
            "predict_categories",
            {"tickets": n, "distinct_texts": texts.num_rows, "batch_id": batch_id},
        )
    return n


def review_queue(
    con: duckdb.DuckDBPyConnection, threshold: float = LOW_CONFIDENCE, limit: int = 200
) -> pd.DataFrame:
    """Predicted categories the model was least sure of, least sure first (text masked)."""
    return query_df(
        con,
        f"""
        SELECT ticket_id, created_at, {privacy.sql_mask_personal("title")} AS title,
               {privacy.sql_mask_personal("content")} AS content, category, category_confidence
        FROM tickets
        WHERE category_source = 'predicted' AND category_confidence < ?
        ORDER BY category_confidence, ticket_id
        LIMIT ?
        """,  # noqa: S608 - the masking expression is built from constants
        [float(threshold), int(limit)],
    )


def set_ticket_category(
    con: duckdb.DuckDBPyConnection, ticket_id: str, category: str, user: str | None = None
) -> None:
    """An analyst's correction: the ticket's category becomes `category` (source 'given')."""
    category = str(category).strip()
    if not category:
        raise ValidationError("分类不能为空。", "The category must not be empty.")
    if not query_one(con, "SELECT count(*) FROM tickets WHERE ticket_id = ?", [ticket_id]):
        raise NotFound(f"工单 {ticket_id} 不存在。", f"Ticket {ticket_id} does not exist.")
    with transaction(con) as cur:
        old = cur.execute(
            "SELECT category, category_source FROM tickets WHERE ticket_id = ?", [ticket_id]
        ).fetchone()
        cur.execute(
            "UPDATE tickets SET category = ?, category_source = 'given', category_confidence = NULL WHERE ticket_id = ?",
            [category, ticket_id],
        )
        audit(
            cur, user, "set_ticket_category", {"ticket_id": ticket_id, "category": category, "was": list(old)}
        )
