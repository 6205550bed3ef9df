"""Reporting periods: a month, a quarter, the year to date or any range of days, each with the two
periods a report compares it with.

- 环比 (`previous`): the period of the same length just before. A whole month or quarter is
  compared with the whole month or quarter before; a range of whole months with as many months
  before; any other range with as many days before. The year to date has none: offices compare
  a running total only with the same dates a year earlier.
- 同比 (`last_year`): the same dates one year earlier (29 February becomes the 28th).

A period is cut at the last day of the data (`data_end`), and then it is `partial`: its
comparisons cover the same span of days from their own start, so a half-finished month is
never set against a whole one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd

from analytics.errors import ValidationError

KINDS = ("month", "quarter", "ytd", "custom")


def _date(value: object) -> dt.date:
    return pd.Timestamp(value).date()


def _month_start(day: dt.date) -> bool:
    return day.day == 1


def _month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def _shift_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months`; a month's last day stays the last day of its month."""
    moved = pd.Timestamp(day) + pd.DateOffset(months=months)
    return (moved + pd.offsets.MonthEnd(0)).date() if _month_end(day) else moved.date()


@dataclass(frozen=True)
class Period:
    """`start`..`end` (both inclusive) of one `kind`; `full_end` is where the period would end had
    the data not stopped earlier."""

    kind: str
    start: dt.date
    end: dt.date
    full_end: dt.date

    @property
    def partial(self) -> bool:
        return self.end < self.full_end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """[lo, hi): midnight of the first day and of the day after the last."""
        return pd.Timestamp(self.start), pd.Timestamp(self.end) + pd.Timedelta(days=1)

    @property
    def whole_months(self) -> bool:
        return _month_start(self.start) and _month_end(self.end)

    @property
    def months(self) -> int:
        """The calendar months the period touches."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def last_month(self) -> pd.Period:
        """The month the period ends in."""
        return pd.Period(self.end, freq="M")

    def previous(self) -> Period | None:
        """The period of the same length just before (环比); None for the year to date."""
        if self.kind == "ytd":
            return None
        if self.kind in ("month", "quarter") or self.whole_months:
            # the month or quarter before, over the same dates when this one is cut short
            step = {"month": 1, "quarter": 3}.get(self.kind, self.months)
            start, end = _shift_months(self.start, -step), _shift_months(self.end, -step)
            full_end = self.start - dt.timedelta(days=1)
            return Period(self.kind, start, min(end, full_end), full_end)
        end = self.start - dt.timedelta(days=1)
        return Period(self.kind, end - dt.timedelta(days=self.days - 1), end, end)

    def last_year(self) -> Period:
        """The same dates a year earlier (同比)."""
        return Period(
            self.kind,
            _shift_months(self.start, -12),
            _shift_months(self.end, -12),
            _shift_months(self.full_end, -12),
        )

    def cut(self, data_end: object | None) -> Period:
        """The period ending no later than `data_end` (the last day with data)."""
        if data_end is None:
            return self
        last = _date(data_end)
        if last >= self.end:
            return self
        if last < self.start:
            raise ValidationError(
                f"所选期间（{self.start} 起）没有数据：数据截至 {last}。",
                f"There are no data in the chosen period (from {self.start}): the data end on {last}.",
            )
        return replace(self, end=last)


def month(value: object, data_end: object | None = None) -> Period:
    """The calendar month of `value` ('YYYY-MM', a date or a period)."""
    m = pd.Period(value, freq="M")
    return Period("month", m.start_time.date(), m.end_time.date(), m.end_time.date()).cut(data_end)


def quarter(year: int, q: int, data_end: object | None = None) -> Period:
    """Quarter `q` (1-4) of `year`."""
    if not 1 <= int(q) <= 4:
        raise ValidationError(f"季度应为 1-4，收到：{q}", f"A quarter is 1-4; got: {q}")
    p = pd.Period(year=int(year), quarter=int(q), freq="Q")
    return Period("quarter", p.start_time.date(), p.end_time.date(), p.end_time.date()).cut(data_end)


def year_to_date(year: int, data_end: object | None = None) -> Period:
    """1 January of `year` to the end of the data (or the whole year once it is over)."""
    first, last = dt.date(int(year), 1, 1), dt.date(int(year), 12, 31)
    return Period("ytd", first, last, last).cut(data_end)


def custom(start: object, end: object, data_end: object | None = None) -> Period:
    """Any range of days, both ends inclusive."""
    first, last = _date(start), _date(end)
    if last < first:
        raise ValidationError(
            f"结束日期 {last} 早于开始日期 {first}。",
            f"The end date {last} is before the start date {first}.",
        )
    return Period("custom", first, last, last).cut(data_end)


def quarter_of(value: object) -> tuple[int, int]:
    """(year, quarter) of a date or month."""
    p = pd.Period(value, freq="Q")
    return p.year, p.quarter
