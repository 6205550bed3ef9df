"""Seasonality and the calendar: month-of-year curves, day weights, Spring Festival, hours.

Fewer calls on weekends and holidays, and a Spring Festival dip (the eve plus the seven-day
holiday, taken from the `holidays` package's China calendar) shape the demo's days; hours follow
a day-time curve. Simulated districts and panels use one month-of-year curve each, normalised to
mean 1 (`normalised`). Per-category seasonality (heating in winter, water and power in summer)
is in analytics.synthetic.categories.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd

WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 0.97, 0.8, 0.75)  # Mon..Sun
HOLIDAY_WEIGHT = 0.75
SPRING_FESTIVAL_WEIGHT = 0.35  # eve + 7 holiday days: people are away or visiting family
HOUR_WEIGHT = (1, 0.5, 0.3, 0.3, 0.3, 0.6, 2, 5, 9, 10, 10, 9, 7, 7, 9, 10, 10, 9, 8, 7, 6, 5, 3, 2)

# simulated districts, month-of-year multipliers (Jan..Dec): heating Nov-Mar, summer Jul-Aug
SIM_SEASONAL = (1.25, 1.05, 1.0, 0.9, 0.88, 0.95, 1.12, 1.15, 0.92, 0.9, 1.1, 1.28)
# in-memory panels: summer water/power peak, Spring Festival dip (Feb), heating season
PANEL_SEASON = np.array([1.10, 0.80, 0.95, 1.00, 1.05, 1.15, 1.30, 1.25, 1.05, 0.95, 1.00, 1.15])


def normalised(curve) -> np.ndarray:
    """Month-of-year multipliers (last axis) scaled to mean 1."""
    curve = np.asarray(curve, dtype=float)
    return curve / curve.mean(axis=-1, keepdims=True)


def add_months(first: dt.date, k: int) -> dt.date:
    """The first day of the month `k` months after `first`'s month."""
    n = first.year * 12 + first.month - 1 + k
    return dt.date(n // 12, n % 12 + 1, 1)


def day_calendar(start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per day: month index, day weight (weekday x holidays, Spring Festival dip)."""
    days = pd.date_range(start, end, freq="D")
    cn = holidays.China(years=range(start.year, end.year + 1), language="en_US")
    weight = np.array([WEEKDAY_WEIGHT[d.weekday()] for d in days])
    is_holiday = np.array([d.date() in cn for d in days])
    weight[is_holiday] = np.minimum(weight[is_holiday], HOLIDAY_WEIGHT)
    festival_firsts = sorted(
        {
            min(d for d, name in cn.items() if d.year == year and "Spring Festival" in name)
            for year in range(start.year, end.year + 1)
        }
    )
    for first in festival_firsts:  # the eve plus the seven-day holiday
        span = (days >= pd.Timestamp(first) - pd.Timedelta(days=1)) & (
            days <= pd.Timestamp(first) + pd.Timedelta(days=6)
        )
        weight[span] = SPRING_FESTIVAL_WEIGHT
    month = (days.year - start.year) * 12 + days.month - 1
    return pd.DataFrame({"day": days, "month": month, "weight": weight})


def days_in_months(rng: np.random.Generator, cal: pd.DataFrame, month: np.ndarray) -> np.ndarray:
    """A day (row of `cal`) within each ticket's month, in proportion to the day weights."""
    total = len(month)
    cum_w = np.concatenate([[0.0], np.cumsum(cal["weight"].to_numpy())])
    first_day = cal.groupby("month").head(1).index.to_numpy()
    last_day = np.append(first_day[1:], len(cal))
    lo, hi = cum_w[first_day[month]], cum_w[last_day[month]]
    day = np.searchsorted(cum_w, lo + rng.random(total) * (hi - lo), side="right") - 1
    return np.clip(day, first_day[month], last_day[month] - 1)


def hours(rng: np.random.Generator, total: int) -> np.ndarray:
    """An hour of the day per ticket, by HOUR_WEIGHT."""
    hour_cum = np.cumsum(HOUR_WEIGHT) / np.sum(HOUR_WEIGHT)
    return np.searchsorted(hour_cum, rng.random(total), side="right")
