"""Months and windows: the text forms of a month and a window, quarters and half-years, complete
months, month arithmetic.

A window is a pair of dates (first day, last day), both inclusive, covering whole months. A month
is complete when the data cover it from its first day to its last (`complete_month`,
`first_complete_month`): every figure that speaks of whole months (the ranking window, the
overview's default month, the task-force exit rule, the effects panel) uses this one rule.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from analytics.errors import ValidationError

# between the two months of a window: 2023-01:2023-06, 2023-01：2023-06, 2023-01~2023-06,
# 2023-01 to 2023-06, 2023-01 至 2023-06, 2023-01 到 2023-06
WINDOW_SEPARATOR = re.compile(r"\s*[:：~～]\s*|\s+(?:to|至|到)\s+")
# one month: 2023-01, 2023-1, 2023/1, 2023.1, 2023年1月
MONTH_PATTERN = re.compile(r"^\s*(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*月?\s*$")


def _month_of_text(text: str) -> pd.Period | None:
    m = MONTH_PATTERN.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")


def parse_window(text: str) -> tuple[dt.date, dt.date]:
    """'2023-01:2023-12' -> (2023-01-01, 2023-12-31), inclusive months; '2023-05' is one month.

    Months may also be written 2023-1, 2023/1, 2023.1 or 2023年1月, and the separator ：, ~, ～,
    ' to ', ' 至 ' or ' 到 '.
    """
    parts = WINDOW_SEPARATOR.split(str(text).strip())
    if len(parts) == 1:
        parts = parts * 2
    months = [_month_of_text(p) for p in parts] if len(parts) == 2 else [None]
    if any(m is None for m in months):
        raise ValidationError(
            f"时间窗口格式应为 YYYY-MM:YYYY-MM（例如 2023-01:2023-12），收到：{text}",
            f"The window must look like YYYY-MM:YYYY-MM (e.g. 2023-01:2023-12); got: {text}",
        )
    first, last = months
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


def parse_month(value: str | dt.date | pd.Timestamp | pd.Period) -> pd.Period:
    """The month of 'YYYY-MM', a date, a timestamp or a period."""
    try:
        return pd.Period(value, freq="M")
    except (ValueError, TypeError):
        raise ValidationError(
            f"月份格式应为 YYYY-MM，收到：{value}", f"A month must look like YYYY-MM; got: {value}"
        ) from None


def bounds(start: Any, end: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """(inclusive start, exclusive stop) of [start, end]; 'YYYY-MM' means the whole month, a date
    its whole day; None leaves that side open."""
    lo = hi = None
    if start is not None:
        lo = (
            parse_month(start).start_time
            if isinstance(start, str) and len(start) == 7
            else pd.Timestamp(start)
        )
    if end is not None:
        if isinstance(end, str) and len(end) == 7:
            hi = (parse_month(end) + 1).start_time
        else:
            hi = pd.Timestamp(pd.Timestamp(end).date()) + pd.Timedelta(days=1)
    return lo, hi


def complete_month(newest: Any) -> pd.Period:
    """The last complete month: the month of `newest` (the newest ticket's time or an as-of date)
    if it falls on the month's last day, else the month before."""
    newest = pd.Timestamp(newest)
    month = newest.to_period("M")
    return month if newest.day == month.days_in_month else month - 1


def first_complete_month(oldest: Any) -> pd.Period:
    """The first complete month: the month of `oldest` (the oldest ticket's time) if it falls on
    the month's first day, else the month after."""
    oldest = pd.Timestamp(oldest)
    month = oldest.to_period("M")
    return month if oldest.day == 1 else month + 1


def trailing_window(last: pd.Period, months: int) -> tuple[dt.date, dt.date]:
    """The `months` months ending with the month `last`."""
    return (last - (months - 1)).start_time.date(), last.end_time.date()


def window_bounds(window: tuple[dt.date, dt.date]) -> tuple[pd.Timestamp, pd.Timestamp, list[pd.Period]]:
    """(start, exclusive stop, the months the window touches)."""
    start, end = (pd.Timestamp(w) for w in window)
    stop = pd.Timestamp(end.date()) + pd.Timedelta(days=1)  # exclusive
    months = list(pd.period_range(start.to_period("M"), end.to_period("M"), freq="M"))
    return start, stop, months


def month_start(day: dt.date) -> dt.date:
    """The first day of the month of `day`."""
    return dt.date(day.year, day.month, 1)


def add_months(day: dt.date, n: int) -> dt.date:
    """The first day of the month `n` months after the month of `day` (before it when n < 0)."""
    k = day.year * 12 + day.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)
