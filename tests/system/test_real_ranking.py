"""Rank Baltimore 311 neighbourhoods (real public data) as if they were compounds.

Households are unknown there, so rates fall back to tickets per neighbourhood-month with a flag.
Tickets are loaded directly with SQL here; the batch interface has its own tests.
"""

from __future__ import annotations

import json

import pytest

from analytics import calendar
from analytics.metrics import trends
from analytics.metrics.rates import service_rates
from analytics.reports.ranking_export import rank_records
from analytics.services import ranking
from analytics.store import db

SAMPLE = "baltimore311-sample/311_sample.csv"
WINDOW = "2014-01:2018-12"


@pytest.fixture(scope="module")
def baltimore(real_data, tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("baltimore") / "hotline.duckdb")
    path = str(real_data / SAMPLE)
    con.execute(
        "CREATE TEMP TABLE raw AS SELECT * FROM read_csv(?, header = true, all_varchar = true)", [path]
    )
    con.execute(
        """INSERT INTO compounds (compound_id, name, type)
           SELECT DISTINCT Neighborhood, Neighborhood, NULL FROM raw WHERE Neighborhood IS NOT NULL"""
    )
    con.execute(
        """INSERT INTO tickets (ticket_id, created_at, closed_at, due_at, category, compound_id, status,
                               handling_unit, is_valid, batch_id)
           SELECT ServiceRequestNum,
                  strptime(CreatedDate, '%m/%d/%Y %I:%M:%S %p'),
                  try_strptime(CloseDate, '%m/%d/%Y %I:%M:%S %p'),
                  try_strptime(DueDate, '%m/%d/%Y %I:%M:%S %p'),
                  SRType, Neighborhood, SRStatus, Agency, TRUE, 1
           FROM raw QUALIFY row_number() OVER (PARTITION BY ServiceRequestNum ORDER BY SRRecordID) = 1"""
    )
    yield con
    con.close()


def test_neighbourhoods_rank_on_volume_without_households(baltimore):
    df = ranking.rank_compounds(baltimore, window=calendar.parse_window(WINDOW), top=20, n_draws=300)
    counts = db.query_df(
        baltimore,
        "SELECT compound_id, count(*) AS n FROM tickets WHERE created_at < '2019-01-01' AND compound_id IS NOT NULL "
        "GROUP BY 1 ORDER BY n DESC, compound_id LIMIT 5",
    )
    assert (df["rate_basis"] == "per_compound").all()
    assert df["rate_per_100_households"].isna().all()
    assert df.attrs["rate_basis"] == "per_compound"
    # no caller, resolution or satisfaction data in this export: those components are dropped
    assert set(df.attrs["dropped_components"]) >= {"repeat_share", "unresolved_share", "dissatisfaction"}
    top20 = set(df.loc[df["listed"], "compound_id"])
    assert set(counts["compound_id"]) <= top20  # the busiest neighbourhoods rank near the top
    inside = (df["rank_low"] <= df["rank"]) & (df["rank"] <= df["rank_high"])
    assert inside.mean() > 0.9 and (df["rank_high"] - df["rank_low"]).median() > 5  # few tickets: wide
    rows = json.loads(rank_records(df, "json", top=20))
    assert len(rows) == 20 and rows[0]["rate_per_100_households"] is None


def test_trends_and_service_rates_on_real_tickets(baltimore):
    monthly = trends.yoy_mom(trends.monthly_counts(baltimore, "district", "2014-01", "2018-12"))
    assert len(monthly) == 60 and monthly["tickets"].sum() > 9000
    assert monthly["yoy_pct"].notna().sum() == 48
    rates = service_rates(baltimore, "2018-01-01", "2018-12-31").iloc[0]
    assert 0 < rates["on_time_rate"] < 1 and rates["median_days_to_close"] >= 0
    assert rates["satisfaction_rate"] != rates["satisfaction_rate"]  # NaN: no survey in the export
