"""Every measure gives the same figures over the raw tickets and over the compound-month summary,
for several windows, and the summary is read only when its figures are the raw ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from analytics import calendar, config
from analytics.errors import HotlineError
from analytics.metrics import rates, source, surges, trends
from analytics.services import ranking
from analytics.store import db
from analytics.store import summary as summaries
from analytics.synthetic.simulate import simulate_district


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, duckdb.DuckDBPyConnection]:
    """The same simulated district twice: 'raw' never summarised (small enough that a read does
    not build the summary), 'summary' with a fresh summary. Unmatched and uncategorised tickets
    and two task forces included."""
    folder = tmp_path_factory.mktemp("source")
    con = db.connect(folder / "raw.duckdb")
    simulate_district(
        con, n_compounds=40, months=("2022-01", "2024-06"), tickets_per_year=6000, with_text=False
    )
    con.execute("UPDATE tickets SET compound_id = NULL WHERE hash(ticket_id) % 31 = 0")
    con.execute("UPDATE tickets SET category = NULL WHERE hash(ticket_id) % 37 = 1")
    con.execute(
        "INSERT INTO task_forces (taskforce_id, compound_id, start_date) "
        "SELECT row_number() OVER (), compound_id, DATE '2023-07-01' FROM compounds ORDER BY compound_id LIMIT 2"
    )
    assert db.query_one(con, "SELECT count(*) FROM tickets") < summaries.AUTO_REFRESH_MIN_TICKETS
    con.close()
    Path(folder / "summary.duckdb").write_bytes(Path(folder / "raw.duckdb").read_bytes())
    out = {"raw": db.connect(folder / "raw.duckdb"), "summary": db.connect(folder / "summary.duckdb")}
    summaries.refresh(out["summary"])
    yield out
    for c in out.values():
        c.close()


# (first month, last month) of each window
WINDOWS = {
    "one month": ("2024-05", "2024-05"),
    "a February": ("2024-02", "2024-02"),
    "twelve months": ("2023-06", "2024-05"),
    "from the first month": ("2022-01", "2022-06"),
}


def _lo_hi(first: str, last: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return calendar.bounds(first, last)  # type: ignore[return-value]


def _chosen(con: duckdb.DuckDBPyConnection, first: str, last: str) -> tuple[Any, ...]:
    """(connection, the source the store offers for the window, its bounds)."""
    lo, hi = _lo_hi(first, last)
    return con, source.choose(con, lo, hi), lo, hi


# measure -> its figures for the window (first month, last month), read through the source the
# store offers
MEASURES: dict[str, Callable[[duckdb.DuckDBPyConnection, str, str], Any]] = {
    "ticket counts": lambda c, first, last: trends.monthly_counts(c, "subdistrict", first, last),
    "同比/环比": lambda c, first, last: trends.yoy_mom(trends.monthly_counts(c, "district", "2022-01", last)),
    "headline numbers": lambda c, first, last: pd.DataFrame([trends.district_kpis(c, last)]),
    "movers": lambda c, first, last: trends.top_bottom(c, last, 5),
    "category mix": lambda c, first, last: trends.category_mix(c, first, last, "community"),
    "service rates": lambda c, first, last: rates.service_rates(c, first, last),
    "service rates by company": lambda c, first, last: rates.service_rates(c, first, last, "property_company"),
    "service rates by month": lambda c, first, last: rates.service_rates(c, first, last, "month"),
    "service counts by category": lambda c, first, last: rates.service_counts(*_chosen(c, first, last), "category"),
    "compound months": lambda c, first, last: source.compound_months(*_chosen(c, first, last)).sort_values(
        ["compound_id", "month"]
    ),
    "compound stats": lambda c, first, last: source.compound_stats(
        *_chosen(c, first, last), calendar.parse_month(last).start_time
    ).sort_values("compound_id"),
    "first month with data": lambda c, first, last: pd.Timestamp(
        source.first_valid(c, source.choose(c, *_lo_hi(first, last)), _lo_hi(first, last)[1])
    ).to_period("M"),
    "ranking inputs": lambda c, first, last: ranking.compute_components(c, calendar.parse_window(f"{first}:{last}")).frame,
    "surge table": lambda c, first, last: surges.surge_table(c, last),
}  # fmt: skip


def _figures(read: Callable[..., Any], con: duckdb.DuckDBPyConnection, first: str, last: str) -> Any:
    """The measure's figures, or the error a user would see instead."""
    try:
        out = read(con, first, last)
    except HotlineError as exc:
        return (type(exc).__name__, exc.zh)
    return out.reset_index(drop=True) if isinstance(out, pd.DataFrame) else out


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("measure", list(MEASURES))
def test_a_measure_is_the_same_over_either_source(stores, measure, window):
    first, last = WINDOWS[window]
    lo, hi = _lo_hi(first, last)
    assert source.choose(stores["raw"], lo, hi) is source.RAW
    assert source.choose(stores["summary"], lo, hi) is source.SUMMARY
    raw = _figures(MEASURES[measure], stores["raw"], first, last)
    summary = _figures(MEASURES[measure], stores["summary"], first, last)
    if isinstance(raw, pd.DataFrame):
        pd.testing.assert_frame_equal(summary, raw)
    else:
        assert summary == raw


@pytest.mark.parametrize(
    "bounds, repeat_days, chosen",
    [
        ((), config.REPEAT_DAYS, "summary"),
        ((pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01")), config.REPEAT_DAYS, "summary"),
        ((pd.Timestamp("2024-05-01"), None), config.REPEAT_DAYS, "summary"),
        ((pd.Timestamp("2024-05-02"),), config.REPEAT_DAYS, "raw"),
        ((pd.Timestamp("2024-05-01 08:00"),), config.REPEAT_DAYS, "raw"),
        ((dt.date(2024, 5, 1), pd.Timestamp("2024-05-21")), config.REPEAT_DAYS, "raw"),
        ((pd.Timestamp("2024-05-01"),), 7, "raw"),
    ],
)
def test_the_summary_is_read_only_for_whole_months_and_its_own_repeat_window(
    stores, bounds, repeat_days, chosen
):
    picked = source.choose(stores["summary"], *bounds, repeat_days=repeat_days)
    assert picked is (source.SUMMARY if chosen == "summary" else source.RAW)
