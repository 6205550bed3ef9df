"""How current the store is: the newest ticket and the newest ticket import, for the line every
page shows ("data up to ... · last import ...")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from analytics.store import db


@dataclass(frozen=True)
class DataAsOf:
    latest_ticket: date | None  # the day of the newest stored ticket
    batch_id: int | None  # the newest ticket import still in force (not undone)
    loaded_at: datetime | None
    demo: bool  # the demo district: its tickets were made up, not imported


def data_as_of(con: duckdb.DuckDBPyConnection) -> DataAsOf:
    newest = db.query_one(con, "SELECT max(created_at) FROM tickets")
    batch = (
        db.cursor(con)
        .execute(
            "SELECT batch_id, loaded_at FROM ingest_batches WHERE kind IN ('tickets', 'demo') "
            "AND status = 'committed' ORDER BY loaded_at DESC, batch_id DESC LIMIT 1"
        )
        .fetchone()
    )
    return DataAsOf(
        latest_ticket=None if newest is None or pd.isna(newest) else pd.Timestamp(newest).date(),
        batch_id=None if batch is None else int(batch[0]),
        loaded_at=None if batch is None else pd.Timestamp(batch[1]).to_pydatetime(),
        demo=db.is_demo(con),
    )
