"""The ranking's default windows: whole months ending with the latest complete month of the store."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics import calendar
from analytics.config import WINDOW_MONTHS
from analytics.errors import NotFound
from analytics.store import db


def latest_complete_month(con: duckdb.DuckDBPyConnection) -> pd.Period:
    """The latest complete month of the tickets in the store (analytics.calendar.complete_month)."""
    newest = db.query_one(con, "SELECT max(created_at) FROM tickets")
    if newest is None:
        raise NotFound(
            "库中还没有工单，请先导入工单。", "There are no tickets in the store yet; ingest some first."
        )
    return calendar.complete_month(newest)


def default_window(con: duckdb.DuckDBPyConnection, months: int = WINDOW_MONTHS) -> tuple[dt.date, dt.date]:
    """The `months` months ending with the latest complete month."""
    return calendar.trailing_window(latest_complete_month(con), months)
