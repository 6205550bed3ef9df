"""Months and windows: one reading of a window's text, one rule for a complete month."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics import calendar
from analytics.errors import ValidationError

D = dt.date


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-01:2023-12", (D(2023, 1, 1), D(2023, 12, 31))),
        ("2024-02:2024-02", (D(2024, 2, 1), D(2024, 2, 29))),  # leap February
        ("2023-07", (D(2023, 7, 1), D(2023, 7, 31))),  # one month
        (" 2022-11 : 2023-04 ", (D(2022, 11, 1), D(2023, 4, 30))),
        ("2022年7月:2022年12月", (D(2022, 7, 1), D(2022, 12, 31))),
        ("2024-01 至 2024-02", (D(2024, 1, 1), D(2024, 2, 29))),
        ("2024-01 到 2024-03", (D(2024, 1, 1), D(2024, 3, 31))),
        ("2023-1 to 2023-6", (D(2023, 1, 1), D(2023, 6, 30))),
        ("2023/01：2023/12", (D(2023, 1, 1), D(2023, 12, 31))),
        ("2023.7~2023.9", (D(2023, 7, 1), D(2023, 9, 30))),
        ("2023-07～2023-08", (D(2023, 7, 1), D(2023, 8, 31))),
    ],
)
def test_parse_window(text, expected):
    assert calendar.parse_window(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2023-12:2023-01",  # ends before it starts
        "2022-13:2023-01",  # no month 13
        "2023-01:2023-02:2023-03",
        "2023-01至2023-02",  # 至 needs spaces around it, as it always has
        "last year",
        "下半年",
        "",
    ],
)
def test_parse_window_rejects(text):
    with pytest.raises(ValidationError):
        calendar.parse_window(text)


@pytest.mark.parametrize(
    "period, expected",
    [
        ("2023Q3", (D(2023, 7, 1), D(2023, 9, 30))),
        ("2023h1", (D(2023, 1, 1), D(2023, 6, 30))),
        ("2023H2", (D(2023, 7, 1), D(2023, 12, 31))),
        ("2023-02:2023-03", (D(2023, 2, 1), D(2023, 3, 31))),
    ],
)
def test_period_window(period, expected):
    assert calendar.period_window(period) == expected


@pytest.mark.parametrize(
    "newest, month",
    [
        ("2024-06-30 23:59", "2024-06"),  # the data reach the month's last day
        ("2024-06-30 00:00", "2024-06"),
        ("2024-06-29 23:59", "2024-05"),  # one day short: the month before
        ("2024-02-29 10:00", "2024-02"),  # leap February
        ("2023-02-28 10:00", "2023-02"),
        ("2024-07-01 08:00", "2024-06"),
        (D(2023, 3, 31), "2023-03"),  # an as-of date
        (D(2023, 4, 15), "2023-03"),
    ],
)
def test_complete_month(newest, month):
    assert calendar.complete_month(newest) == pd.Period(month, "M")


@pytest.mark.parametrize(
    "oldest, month",
    [
        ("2022-01-01 00:01", "2022-01"),  # the data start on the month's first day
        ("2022-01-02 00:00", "2022-02"),  # one day late: the month after
        ("2022-12-03 10:00", "2023-01"),
    ],
)
def test_first_complete_month(oldest, month):
    assert calendar.first_complete_month(oldest) == pd.Period(month, "M")


@pytest.mark.parametrize(
    "day, n, expected",
    [
        (D(2023, 3, 17), 0, D(2023, 3, 1)),
        (D(2023, 3, 17), 1, D(2023, 4, 1)),
        (D(2023, 12, 31), 1, D(2024, 1, 1)),
        (D(2023, 1, 31), -1, D(2022, 12, 1)),
        (D(2023, 5, 1), -12, D(2022, 5, 1)),
    ],
)
def test_add_months_gives_a_month_start(day, n, expected):
    assert calendar.add_months(day, n) == expected
    assert calendar.month_start(day) == calendar.add_months(day, 0)


@pytest.mark.parametrize(
    "start, end, lo, hi",
    [
        ("2024-05", "2024-05", "2024-05-01", "2024-06-01"),  # a month is the whole month
        ("2024-05-10", "2024-05-20", "2024-05-10", "2024-05-21"),  # an end date is its whole day
        (None, "2024-12", None, "2025-01-01"),
        ("2024-01", None, "2024-01-01", None),
    ],
)
def test_bounds(start, end, lo, hi):
    expected = tuple(None if b is None else pd.Timestamp(b) for b in (lo, hi))
    assert calendar.bounds(start, end) == expected


@pytest.mark.parametrize("value", ["2024-13", "下个月", "2024-05-40"])
def test_parse_month_rejects(value):
    with pytest.raises(ValidationError):
        calendar.parse_month(value)
