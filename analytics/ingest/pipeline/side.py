"""The work beside the main thread: matching the compound values and addresses of the parsed
rows, then predicting the category of each distinct text that arrives without one.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from analytics.ingest import matching
from analytics.ingest.matching.bulk import stage_matches
from analytics.ingest.pipeline.clean import PARSED_KEYS
from analytics.ingest.pipeline.timing import phase
from analytics.store import db

try:  # the category model may not be present in every build of the store
    from analytics.ingest.categories.predict import predicted_columns
    from analytics.ingest.categories.store import load_predictor
except ImportError:  # pragma: no cover - depends on the installation
    load_predictor = predicted_columns = None  # type: ignore[assignment]


# the staging table of each distinct address's match (matching.bulk.stage_matches)
PREPARED = "prepared"
# its rows that give their address a compound
ACCEPTED_SQL = "status IN ('auto', 'confirmed') AND compound_id IS NOT NULL"


def value_places_none(values: str) -> str:
    """The parsed rows (`compound_value`) whose compound value is not one of `values` (a table
    or view of the recognised values, column `value`): those their address may place."""
    return f"(compound_value IS NULL OR compound_value NOT IN (SELECT value FROM {values}))"  # noqa: S608


@phase("match")
def _side_matching(
    cur: duckdb.DuckDBPyConnection, alias: str, present: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The compounds of the explicit compound values, and the matches of the addresses of the
    parsed rows as the staging table PREPARED (matching.bulk.stage_matches; the second value
    is what the matcher scored, or None when there is nothing to match).

    This, `_side_prediction` and `pending.side_content` run one after the other on a thread
    beside the main thread's work (caller hashes, rejected rows, the address cache, the insert:
    DuckDB releases the GIL), so the matchers' Python and the featuriser's many short numpy
    calls get a core and the GIL without waiting (run beside each other, each would wait for the
    other's GIL at every call). All only read: the rows a rejection rule will drop are matched
    and predicted too, and `_compounds` / `_final` keep what the kept rows use. `cur` is a
    cursor of its own (a connection is not shared between threads)."""
    try:
        keys = PARSED_KEYS
        parsed = f"{alias}.parsed"
        # no registry yet: nothing can match, and the matcher need not be asked
        has_registry = bool(db.query_one(cur, "SELECT count(*) FROM compounds"))
        looked = None
        if has_registry and "compound" in present:
            values = cur.execute(
                f"SELECT DISTINCT compound_value FROM {parsed} WHERE compound_value IS NOT NULL"  # noqa: S608
            ).df()
            looked = matching.lookup_compounds(cur, values["compound_value"].tolist())
        looked = _frame(looked, ["value", "compound_id", "match_score", "match_method"])
        if not has_registry or "address" not in present:
            return looked, None
        taken = pd.DataFrame({"value": looked.loc[looked["compound_id"].notna(), "value"].astype(object)})
        cur.register("taken_values", taken)
        # the addresses stay in DuckDB: only their distinct name-part keys reach the matcher
        source = (
            f"SELECT {keys['address']} AS address FROM {parsed} WHERE {value_places_none('taken_values')}"  # noqa: S608
        )
        scored = stage_matches(cur, source, f"{alias}.{PREPARED}")
        cur.unregister("taken_values")
        return looked, scored
    finally:
        cur.close()


def _side_prediction(
    cur: duckdb.DuckDBPyConnection, alias: str, present: set[str], loading: Future[Any]
) -> pa.Table:
    """The predicted category and confidence of each distinct text of the cleaned rows that
    arrive without a category (see _side_matching); empty without a model or in a dry run.
    `loading` gives the model (load_predictor, or None)."""
    try:
        model = loading.result()
        if model is None:
            return PREDICTED_SCHEMA.empty_table()
        texts = _texts_to_predict(cur, f"{alias}.parsed", PARSED_KEYS)
        if not texts.num_rows:
            return PREDICTED_SCHEMA.empty_table()
        return _predict_texts(model, texts)
    finally:
        cur.close()


def _load_predictor(cur: duckdb.DuckDBPyConnection, enabled: bool) -> Any:
    """The category model ready to predict, or None (no model, or a dry run)."""
    try:
        return load_predictor(cur) if enabled and load_predictor is not None else None
    finally:
        cur.close()


def _texts_to_predict(cur: duckdb.DuckDBPyConnection, clean: str, keys: dict[str, str]) -> pa.Table:
    """The distinct (title, content) of rows without a category, each once, and only of rows
    that will take the prediction: a ticket already stored with a category keeps it (see
    _commit). (Should that ticket be removed by another writer before this upload commits, it
    is stored without a category, which `categories predict` fills.)"""
    return cur.execute(
        f"""SELECT DISTINCT title, content FROM (
                SELECT {keys["ticket_id"]} AS ticket_id, coalesce({keys["title"]}, '') AS title,
                       coalesce({keys["content"]}, '') AS content
                FROM {clean} WHERE {keys["category_raw"]} IS NULL) c
            WHERE NOT EXISTS (SELECT 1 FROM tickets t
                              WHERE t.ticket_id = c.ticket_id AND nullif(trim(t.category), '') IS NOT NULL)"""  # noqa: S608
    ).fetch_arrow_table()


def _predict_texts(model: Any, texts: pa.Table) -> pa.Table:
    """The distinct (title, content) pairs with their category and confidence."""
    category, confidence = predicted_columns(model, texts["title"], texts["content"])
    return texts.append_column("category", category).append_column("confidence", confidence)


PREDICTED_SCHEMA = pa.schema(
    [
        ("title", pa.string()),
        ("content", pa.string()),
        ("category", pa.string()),
        ("confidence", pa.float64()),
    ]
)


def _frame(df: pd.DataFrame | None, cols: list[str]) -> pd.DataFrame:
    """A matcher answer with exactly `cols` as text/number columns (empty answers included)."""
    df = pd.DataFrame(columns=cols) if df is None or df.empty else df.rename(columns={"value": cols[0]})[cols]
    return df.astype(
        {cols[0]: "string", "compound_id": "string", "match_score": "float64", "match_method": "string"}
    )
