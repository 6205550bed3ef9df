"""Trends on a hand-built store: counts, 同比/环比, Spring Festival, service rates, movers."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from analytics.errors import ValidationError
from analytics.metrics import rates, trends

# (month, compound or None, category, count, valid)
COUNTS = [
    ("2023-01", "C1", "供暖", 4, True),
    ("2023-01", "C2", "物业管理", 2, True),
    ("2023-02", "C1", "供暖", 2, True),
    ("2023-03", "C2", "物业管理", 1, True),
    ("2024-01", "C1", "供暖", 1, True),
    ("2024-02", "C1", "供暖", 6, True),
    ("2024-02", "C2", "物业管理", 3, True),
    ("2024-02", "C2", "物业管理", 1, False),  # invalid
    ("2024-02", None, "其他", 2, True),  # not matched to a compound
]


@pytest.fixture
def hand(store):
    store.execute(
        "INSERT INTO compounds (compound_id, name, community, subdistrict, households) VALUES "
        "('C1', '锦绣花园', '甲社区', '兰山街道', 200), ('C2', '阳光家园', '乙社区', '柳青街道', 300)"
    )
    k = 0
    for month, comp, cat, n, valid in COUNTS:
        for i in range(n):
            k += 1
            at = pd.Period(month, "M").start_time + pd.Timedelta(days=i, hours=9)
            store.execute(
                "INSERT INTO tickets (ticket_id, created_at, compound_id, category, is_valid, batch_id) "
                "VALUES (?, ?, ?, ?, ?, 1)",
                [f"T{k:03d}", at, comp, cat, valid],
            )
    return store


@pytest.mark.parametrize(
    "level, key, month, tickets, valid",
    [
        ("district", "全区", "2024-02", 12, 11),
        ("district", "全区", "2023-06", 0, 0),  # zero-filled gap
        ("compound", "C2", "2024-02", 4, 3),
        ("community", "甲社区", "2023-01", 4, 4),
        ("subdistrict", "柳青街道", "2023-03", 1, 1),
        ("category", "其他", "2024-02", 2, 2),
        ("category", "供暖", "2023-03", 0, 0),
    ],
)
def test_monthly_counts(hand, level, key, month, tickets, valid):
    df = trends.monthly_counts(hand, level)
    row = df[(df["key"] == key) & (df["month"] == pd.Timestamp(month + "-01"))].iloc[0]
    assert (row["tickets"], row["valid_tickets"]) == (tickets, valid)


def test_rates_per_100_households_use_valid_tickets(hand):
    df = trends.monthly_counts(hand, "compound", start="2024-02", end="2024-02").set_index("key")
    assert math.isclose(df.loc["C2", "rate_per_100_households"], 3 * 100 / 300)
    assert df.loc["C2", "name"] == "阳光家园"
    district = trends.monthly_counts(hand, "district", start="2024-02", end="2024-02").iloc[0]
    assert math.isclose(district["rate_per_100_households"], 11 * 100 / 500)


def test_compound_filter(hand):
    df = trends.monthly_counts(hand, "district", compound_ids=["C1"])
    assert df["tickets"].sum() == 4 + 2 + 1 + 6


def test_yoy_mom_and_spring_festival(hand):
    df = trends.yoy_mom(trends.monthly_counts(hand, "district")).set_index("month")
    feb = df.loc[pd.Timestamp("2024-02-01")]
    jan = df.loc[pd.Timestamp("2024-01-01")]
    assert math.isclose(feb["yoy_pct"], (12 - 2) * 100 / 2)
    assert math.isclose(feb["mom_pct"], (12 - 1) * 100 / 1)
    assert math.isclose(jan["yoy_pct"], (1 - 6) * 100 / 6)
    # the festival moved from January (2023-01-22) to February (2024-02-10): compare Jan+Feb
    assert feb["spring_festival"] and not jan["spring_festival"] and feb["festival_shift"]
    assert math.isclose(feb["janfeb_yoy_pct"], (13 - 8) * 100 / 8)
    assert pd.isna(df.loc[pd.Timestamp("2023-02-01"), "yoy_pct"])  # no base year


@pytest.mark.parametrize(
    "year, festival",
    [
        (2022, dt.date(2022, 2, 1)),
        (2023, dt.date(2023, 1, 22)),
        (2024, dt.date(2024, 2, 10)),
        (2025, dt.date(2025, 1, 29)),
    ],
)
def test_spring_festival_dates(year, festival):
    assert trends.spring_festival(year) == festival


def test_district_kpis(hand):
    k = trends.district_kpis(hand, "2024-02")
    assert (k["tickets"], k["valid_tickets"], k["last_year_tickets"], k["prev_month_tickets"]) == (
        12,
        11,
        2,
        1,
    )
    assert math.isclose(k["yoy_pct"], 500.0) and k["spring_festival"] and k["festival_shift"]
    assert math.isclose(k["janfeb_yoy_pct"], (13 - 8) * 100 / 8)
    assert k["satisfaction_rate"] is None or (
        isinstance(k["satisfaction_rate"], float) and math.isnan(k["satisfaction_rate"])
    )
    assert k["taskforce"] is None


def test_kpis_follow_task_force_compounds(hand):
    hand.execute(
        "INSERT INTO task_forces (taskforce_id, compound_id, start_date) VALUES (1, 'C1', DATE '2023-06-01')"
    )
    tf = trends.district_kpis(hand, "2024-02")["taskforce"]
    assert tf == {"compounds": 1, "tickets": 6, "last_year_tickets": 2, "yoy_pct": 200.0}


def test_top_bottom_arrows(hand):
    df = trends.top_bottom(hand, "2024-01", n=5)
    assert list(df["arrow"]) == ["↓", "↓"] and list(df["compound_id"]) == ["C1", "C2"]  # -3, then -2
    assert list(df["change"]) == [-3, -2]
    df = trends.top_bottom(hand, "2024-02", n=1)
    assert list(df["direction"]) == ["rise"] and df.iloc[0]["compound_id"] == "C1"


def test_category_mix_shares_sum_to_one(hand):
    df = trends.category_mix(hand, "2024-02", "2024-02", level="subdistrict")
    assert np.allclose(df.groupby("key")["share"].sum(), 1.0)
    whole = trends.category_mix(hand, "2024-02", "2024-02")
    assert math.isclose(whole.set_index("category").loc["供暖", "share"], 6 / 12)


@pytest.mark.parametrize("level", ["city", "", "compound; DROP TABLE tickets"])
def test_unknown_level_is_refused(hand, level):
    with pytest.raises(ValidationError):
        trends.monthly_counts(hand, level)


def test_service_rates_denominators(store):
    store.execute("INSERT INTO compounds (compound_id, name) VALUES ('C1', 'x')")
    t = pd.Timestamp("2024-03-01")
    d = pd.Timedelta(days=1)
    # (closed, due, resolved, satisfied, status, valid)
    rows = [
        (t + d, t + 2 * d, True, True, "已办结", True),  # on time
        (t + 5 * d, t + 2 * d, False, False, "已办结", True),  # late
        (None, t + 2 * d, None, None, "办理中", True),  # open and past due -> late
        (None, None, None, None, "待受理", True),  # not responded
        (t + d, t + 2 * d, True, None, "已办结", False),  # invalid: ignored
    ]
    for i, (closed, due, res, sat, status, valid) in enumerate(rows):
        store.execute(
            "INSERT INTO tickets (ticket_id, created_at, closed_at, due_at, resolved, satisfied, status, is_valid,"
            " compound_id, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'C1', 1)",
            [f"S{i}", t, closed, due, res, sat, status, valid],
        )
    store.execute("INSERT INTO tickets (ticket_id, created_at, batch_id) VALUES ('later', '2024-03-20', 1)")
    r = rates.service_rates(store, "2024-03-01", "2024-03-01").iloc[0]
    assert r["tickets"] == 4
    assert math.isclose(r["response_rate"], 3 / 4)
    assert math.isclose(r["resolution_rate"], 1 / 2)
    assert math.isclose(r["satisfaction_rate"], 1 / 2)
    assert math.isclose(r["on_time_rate"], 1 / 3)
    assert math.isclose(r["median_days_to_close"], 3.0)
    assert r["resolution_rate_low"] < 0.5 < r["resolution_rate_high"]


def test_seasonal_index_and_decomposition_need_enough_data():
    months = pd.date_range("2021-01-01", periods=36, freq="MS")
    pattern = np.array([1.3, 1.1, 1.0, 0.9, 0.85, 0.9, 1.1, 1.15, 0.9, 0.85, 1.0, 1.25])
    series = pd.Series(100 * np.tile(pattern, 3), index=months)
    idx = trends.seasonal_index(series).frame.set_index("month_of_year")
    assert idx.loc[12, "index"] > 1.15 and idx.loc[5, "index"] < 0.9 and idx.loc[1, "heating"]
    assert math.isclose(idx["index"].mean(), 1.0)
    assert trends.seasonal_index(series[:11]).frame is None
    assert trends.decompose(series).frame is not None
    short = trends.decompose(series[:20])
    assert short.frame is None and "24" in short.reason[0]
    thin = trends.decompose(series / 10)
    assert thin.frame is None and "月均" in thin.reason[0]
