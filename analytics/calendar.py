"""Months and windows: the text forms of a window, quarters and half-years, complete months.

A window is a pair of dates (first day, last day), both inclusive, covering whole months. A month
is complete when the data reach its last day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from analytics.errors import ValidationError


def parse_window(text: str) -> tuple[dt.date, dt.date]:
    """'2023-01:2023-12' -> (2023-01-01, 2023-12-31), inclusive months; '2023-05' is one month."""
    parts = [p.strip() for p in str(text).split(":")]
    try:
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2:
            raise ValueError(text)
        first, last = (pd.Period(p, freq="M") for p in parts)
        if not all(len(p) == 7 and p[4] == "-" for p in parts):
            raise ValueError(text)
    except (ValueError, TypeError):
        raise ValidationError(
            f"时间窗口格式应为 YYYY-MM:YYYY-MM（例如 2023-01:2023-12），收到：{text}",
            f"The window must look like YYYY-MM:YYYY-MM (e.g. 2023-01:2023-12); got: {text}",
        ) from None
    if last < first:
        raise ValidationError(
            f"时间窗口的结束月份早于开始月份：{text}", f"The window ends before it starts: {text}"
        )
    return first.start_time.date(), last.end_time.date()


def period_window(period: str) -> tuple[dt.date, dt.date]:
    """'2023Q3' -> (2023-07-01, 2023-09-30); '2023H1' -> (2023-01-01, 2023-06-30); 'YYYY-MM:YYYY-MM' too."""
    text = str(period).strip().upper()
    if len(text) == 6 and text[4] in "QH" and text[:4].isdigit() and text[5].isdigit():
        year, kind, k = int(text[:4]), text[4], int(text[5])
        if (kind == "Q" and 1 <= k <= 4) or (kind == "H" and 1 <= k <= 2):
            months = 3 if kind == "Q" else 6
            first = pd.Period(f"{year}-{(k - 1) * months + 1:02d}", freq="M")
            return first.start_time.date(), (first + months - 1).end_time.date()
    if ":" in text or len(text) == 7:
        return parse_window(text)
    raise ValidationError(
        f"期间格式应为 2023Q3、2023H1 或 2023-01:2023-12，收到：{period}",
        f"A period must look like 2023Q3, 2023H1 or 2023-01:2023-12; got: {period}",
    )


def complete_month(newest: Any) -> pd.Period:
    """The month of `newest` (the newest ticket's time) if it falls on the month's last day, else the month before."""
    newest = pd.Timestamp(newest)
    month = newest.to_period("M")
    return month if newest.day == month.days_in_month else month - 1


def trailing_window(last: pd.Period, months: int) -> tuple[dt.date, dt.date]:
    """The `months` months ending with the month `last`."""
    return (last - (months - 1)).start_time.date(), last.end_time.date()


def window_bounds(window: tuple[dt.date, dt.date]) -> tuple[pd.Timestamp, pd.Timestamp, list[pd.Period]]:
    """(start, exclusive stop, the months the window touches)."""
    start, end = (pd.Timestamp(w) for w in window)
    stop = pd.Timestamp(end.date()) + pd.Timedelta(days=1)  # exclusive
    months = list(pd.period_range(start.to_period("M"), end.to_period("M"), freq="M"))
    return start, stop, months
