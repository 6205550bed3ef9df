"""The ranking's output rows: the columns every export and snapshot carries, and JSON-safe values."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

RECORD_COLUMNS = (
    "rank", "compound_id", "name", "score", "tickets", "rate_per_100_households", "rank_low", "rank_high",
    "rank_median", "p_top", "preset", "expected_tickets", "avoidable_tickets", "listed", "expected_rank", "volume", "shrunk_rate", "shrunk_rate_low", "shrunk_rate_high", "trend",
    "repeat_share", "unresolved_share", "dissatisfaction", "peer_group", "peer_median_rate", "peer_ratio",
    "rate_basis",
)  # fmt: skip


def plain(value: Any) -> Any:
    """JSON-safe: numpy scalars -> Python, NaN/inf -> None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT or (not isinstance(value, str | bool | int | float | type(None)) and pd.isna(value)):
        return None
    if isinstance(value, dt.date | pd.Timestamp):
        return str(value)
    return value
