"""Reporting periods: what each compares with, and the overview's numbers over a period on a
hand-built store (one ticket a day, so every count is a number of days)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from analytics.errors import ValidationError
from analytics.metrics import periods, trends
from analytics.store import db

D = dt.date


@pytest.mark.parametrize(
    "period, start, end, partial, previous, last_year",
    [
        # a whole month: the month before, the same month a year before
        (periods.month("2024-06"), D(2024, 6, 1), D(2024, 6, 30), False,
         (D(2024, 5, 1), D(2024, 5, 31)), (D(2023, 6, 1), D(2023, 6, 30))),
        # a month cut by the data: the same days of the month before and of last year
        (periods.month("2024-06", "2024-06-15 18:00"), D(2024, 6, 1), D(2024, 6, 15), True,
         (D(2024, 5, 1), D(2024, 5, 15)), (D(2023, 6, 1), D(2023, 6, 15))),
        # 29 February: the month before is January, last year's February ends on the 28th
        (periods.month("2024-02"), D(2024, 2, 1), D(2024, 2, 29), False,
         (D(2024, 1, 1), D(2024, 1, 31)), (D(2023, 2, 1), D(2023, 2, 28))),
        (periods.month("2024-03"), D(2024, 3, 1), D(2024, 3, 31), False,
         (D(2024, 2, 1), D(2024, 2, 29)), (D(2023, 3, 1), D(2023, 3, 31))),
        # a quarter, whole and cut at a month's end
        (periods.quarter(2024, 1), D(2024, 1, 1), D(2024, 3, 31), False,
         (D(2023, 10, 1), D(2023, 12, 31)), (D(2023, 1, 1), D(2023, 3, 31))),
        (periods.quarter(2024, 2, "2024-05-31"), D(2024, 4, 1), D(2024, 5, 31), True,
         (D(2024, 1, 1), D(2024, 2, 29)), (D(2023, 4, 1), D(2023, 5, 31))),
        # the year to date: no 环比
        (periods.year_to_date(2024, "2024-06-15"), D(2024, 1, 1), D(2024, 6, 15), True,
         None, (D(2023, 1, 1), D(2023, 6, 15))),
        (periods.year_to_date(2023, "2024-06-15"), D(2023, 1, 1), D(2023, 12, 31), False,
         None, (D(2022, 1, 1), D(2022, 12, 31))),
        # any days: as many days before; whole months: as many months before
        (periods.custom("2024-03-05", "2024-04-10"), D(2024, 3, 5), D(2024, 4, 10), False,
         (D(2024, 1, 28), D(2024, 3, 4)), (D(2023, 3, 5), D(2023, 4, 10))),
        (periods.custom("2024-01-01", "2024-02-29"), D(2024, 1, 1), D(2024, 2, 29), False,
         (D(2023, 11, 1), D(2023, 12, 31)), (D(2023, 1, 1), D(2023, 2, 28))),
    ],
)  # fmt: skip
def test_each_period_says_what_it_compares_with(period, start, end, partial, previous, last_year):
    assert (period.start, period.end, period.partial) == (start, end, partial)
    before = period.previous()
    assert (before.start, before.end) == previous if previous else before is None
    assert (period.last_year().start, period.last_year().end) == last_year


def test_a_period_after_the_data_or_backwards_is_refused():
    with pytest.raises(ValidationError):
        periods.month("2024-07", "2024-06-15")
    with pytest.raises(ValidationError):
        periods.custom("2024-05-02", "2024-05-01")


# one valid ticket a day from 2023-01-01 to 2024-06-15, compound C1; every tenth day an invalid
# one more (C2) and every seventh day one without a compound
FIRST, LAST = D(2023, 1, 1), D(2024, 6, 15)


@pytest.fixture(scope="module")
def daily(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("periods") / "hotline.duckdb")
    con.execute(
        "INSERT INTO compounds (compound_id, name, community, subdistrict, households) VALUES "
        "('C1', '锦绣花园', '甲社区', '兰山街道', 200), ('C2', '阳光家园', '乙社区', '柳青街道', 300)"
    )
    rows = []
    for day in pd.date_range(FIRST, LAST, freq="D"):
        at = day + pd.Timedelta(hours=9)
        rows.append((f"A{day:%Y%m%d}", at, "C1", True))
        if day.day % 10 == 0:
            rows.append((f"B{day:%Y%m%d}", at, "C2", False))
        if day.toordinal() % 7 == 0:
            rows.append((f"N{day:%Y%m%d}", at, None, True))
    frame = pd.DataFrame(rows, columns=["ticket_id", "created_at", "compound_id", "is_valid"])  # noqa: F841
    con.execute(
        "INSERT INTO tickets (ticket_id, created_at, compound_id, is_valid, batch_id) "
        "SELECT ticket_id, created_at, compound_id, is_valid, 1 FROM frame"
    )
    yield con
    con.close()


def count(store, first: dt.date, last: dt.date) -> int:
    lo, hi = pd.Timestamp(first), pd.Timestamp(last) + pd.Timedelta(days=1)
    return int(
        store.execute(
            "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?", [lo, hi]
        ).fetchone()[0]
    )


def test_a_quarter_is_the_sum_of_its_months(daily):
    quarter = trends.period_kpis(daily, periods.quarter(2024, 1))
    months = [trends.period_kpis(daily, periods.month(f"2024-{m:02d}"))["tickets"] for m in (1, 2, 3)]
    assert quarter["tickets"] == sum(months) == count(daily, D(2024, 1, 1), D(2024, 3, 31))
    assert quarter["previous_tickets"] == count(daily, D(2023, 10, 1), D(2023, 12, 31))
    assert quarter["last_year_tickets"] == count(daily, D(2023, 1, 1), D(2023, 3, 31))
    assert math.isclose(quarter["yoy_pct"], (quarter["tickets"] / quarter["last_year_tickets"] - 1) * 100)


def test_a_month_cut_by_the_data_is_compared_over_the_same_days(daily):
    k = trends.period_kpis(daily, periods.month("2024-06", LAST))
    assert (k["start"], k["end"], k["partial"]) == ("2024-06-01", "2024-06-15", True)
    assert k["tickets"] == count(daily, D(2024, 6, 1), D(2024, 6, 15))
    assert k["previous_tickets"] == count(daily, D(2024, 5, 1), D(2024, 5, 15))
    assert k["last_year_tickets"] == count(daily, D(2023, 6, 1), D(2023, 6, 15))
    # fifteen days against fifteen days: about level, not a collapse against a whole month
    assert abs(k["mom_pct"]) < 15 and abs(k["yoy_pct"]) < 15


def test_year_to_date_has_no_month_on_month(daily):
    k = trends.period_kpis(daily, periods.year_to_date(2024, LAST))
    assert k["previous_tickets"] is None and k["mom_pct"] is None
    assert k["tickets"] == count(daily, D(2024, 1, 1), LAST)
    assert k["last_year_tickets"] == count(daily, D(2023, 1, 1), D(2023, 6, 15))


def test_any_days_and_the_monthly_headline_agree(daily):
    days = trends.period_kpis(daily, periods.custom("2024-03-05", "2024-04-10"))
    assert days["tickets"] == count(daily, D(2024, 3, 5), D(2024, 4, 10))
    assert days["previous_tickets"] == count(daily, D(2024, 1, 28), D(2024, 3, 4))
    assert days["valid_tickets"] < days["tickets"]
    month = trends.district_kpis(daily, "2024-04")
    same = trends.period_kpis(daily, periods.custom("2024-04-01", "2024-04-30"))
    assert (month["tickets"], month["prev_month_tickets"], month["last_year_tickets"]) == (
        same["tickets"], same["previous_tickets"], same["last_year_tickets"],
    )  # fmt: skip


@pytest.mark.parametrize(
    "period, shift",
    [
        # 正月初一: 2023-01-22, 2024-02-10
        (periods.month("2024-02"), True),
        (periods.month("2024-01"), True),
        (periods.quarter(2024, 1), False),  # both festivals fall in the first quarter
        (periods.custom("2024-02-01", "2024-02-20"), True),
        (periods.month("2024-03"), False),
    ],
)
def test_a_spring_festival_in_one_year_only_is_flagged(daily, period, shift):
    k = trends.period_kpis(daily, period)
    assert k["festival_shift"] is shift
    if shift and period.end >= D(2024, 2, 29):
        jf, jf_before = (
            count(daily, D(2024, 1, 1), D(2024, 2, 29)),
            count(daily, D(2023, 1, 1), D(2023, 2, 28)),
        )
        assert math.isclose(k["janfeb_yoy_pct"], (jf / jf_before - 1) * 100)


def test_movers_and_compound_totals_follow_the_period(daily):
    quarter = periods.quarter(2024, 1)
    totals = trends.compound_totals(daily, quarter).set_index("compound_id")["tickets"]
    assert totals["C1"] == 91 and totals["C2"] == 8  # 91 days; the 10th, 20th (and 30th) of each month
    movers = trends.movers(daily, quarter).set_index("compound_id")
    assert movers.loc["C1", "tickets"] == 91 and movers.loc["C1", "last_year"] == 90
    assert movers.loc["C1", "direction"] == "rise"
    # one month through the monthly wrapper is the same as the month as a period
    pd.testing.assert_frame_equal(
        trends.top_bottom(daily, "2024-02"), trends.movers(daily, periods.month("2024-02"))
    )
