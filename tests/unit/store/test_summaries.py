"""The compound-month summary: figures read from it equal the raw queries, and a stale summary
(after an ingest, an undo or an in-place edit) is never read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.ingest import pipeline as ingest
from analytics.ingest.categories.tickets import set_ticket_category
from analytics.metrics import rates, source, surges, trends
from analytics.services import ranking
from analytics.store import db
from analytics.store import summary as summaries
from analytics.synthetic.simulate import simulate_district
from tests.fixtures.apptest import copy_store_file

pytestmark = pytest.mark.backends

MONTH = "2024-05"
WINDOW = (dt.date(2023, 6, 1), dt.date(2024, 5, 31))


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated district small enough (< AUTO_REFRESH_MIN_TICKETS) that reads stay raw until
    the summary is built, with unmatched and uncategorised tickets and two task forces."""
    path = tmp_path_factory.mktemp("summaries") / "store.duckdb"
    con = db.connect(path)
    simulate_district(
        con, n_compounds=40, months=("2022-01", "2024-06"), tickets_per_year=6000, with_text=False
    )
    con.execute("UPDATE tickets SET compound_id = NULL WHERE hash(ticket_id) % 31 = 0")
    con.execute("UPDATE tickets SET category = NULL WHERE hash(ticket_id) % 37 = 1")
    con.execute(
        "INSERT INTO task_forces (taskforce_id, compound_id, start_date) "
        "SELECT row_number() OVER (), compound_id, DATE '2023-07-01' FROM compounds ORDER BY compound_id LIMIT 2"
    )
    n = db.query_one(con, "SELECT count(*) FROM tickets")
    assert n < summaries.AUTO_REFRESH_MIN_TICKETS
    con.close()
    return path


@pytest.fixture
def store_copy(small_store: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = db.connect(copy_store_file(small_store, tmp_path / "copy.duckdb"))
    yield con
    con.close()


READS = {
    "monthly_counts district": lambda c: trends.monthly_counts(c, "district"),
    "monthly_counts subdistrict": lambda c: trends.monthly_counts(c, "subdistrict"),
    "monthly_counts community 12 months": lambda c: trends.monthly_counts(c, "community", "2023-06", MONTH),
    "monthly_counts compound ids": lambda c: trends.monthly_counts(
        c, "compound", compound_ids=["C0003", "C0007"]
    ),
    "monthly_counts category": lambda c: trends.monthly_counts(c, "category", "2023-01", "2023-12"),
    "monthly_counts by dates (raw path)": lambda c: trends.monthly_counts(
        c, "district", "2023-01-15", "2023-03-10"
    ),
    "category_mix": lambda c: trends.category_mix(c, MONTH, MONTH),
    "category_mix subdistrict": lambda c: trends.category_mix(c, "2023-01", "2023-12", "subdistrict"),
    "district_kpis": lambda c: pd.DataFrame([trends.district_kpis(c, MONTH)]),
    "district_kpis february": lambda c: pd.DataFrame([trends.district_kpis(c, "2024-02")]),
    "top_bottom": lambda c: trends.top_bottom(c, MONTH, 5),
    "service_rates": lambda c: rates.service_rates(c, MONTH, MONTH),
    "service_rates by month": lambda c: rates.service_rates(c, group_by="month"),
    "service_rates by compound": lambda c: rates.service_rates(c, "2023-01", "2023-12", "compound"),
    "service_rates by category": lambda c: rates.service_rates(c, MONTH, MONTH, "category"),
    "service_rates by company": lambda c: rates.service_rates(c, MONTH, MONTH, "property_company"),
    "surge_table": lambda c: surges.surge_table(c, MONTH),
    "rank_compounds": lambda c: ranking.rank_compounds(c, WINDOW, n_draws=200),
    "rank_compounds mid-month window (raw path)": lambda c: ranking.rank_compounds(
        c, (dt.date(2023, 6, 10), dt.date(2024, 5, 20)), n_draws=50
    ),
    "funnel_data": lambda c: ranking.funnel_data(c, WINDOW).points,
    "stability": lambda c: pd.DataFrame([ranking.stability(c, WINDOW, top=10, n=50)]),
    "community_league": lambda c: ranking.community_league(c, "2023H2", n_draws=100),
}


@pytest.mark.parametrize("name", list(READS))
def test_summary_gives_the_raw_figures(store_copy, name):
    read = READS[name]
    assert source.choose(store_copy) is source.RAW  # small store, no summary yet
    raw = read(store_copy)
    summaries.refresh(store_copy)
    assert source.choose(store_copy) is source.SUMMARY
    pd.testing.assert_frame_equal(read(store_copy), raw)


def _csv(path: Path, ids: list[str], when: str) -> Path:
    lines = ["工单编号,受理时间,诉求内容,小区编号"] + [f"{i},{when},暖气不热,C0003" for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _may_tickets(con: duckdb.DuckDBPyConnection) -> int:
    df = trends.monthly_counts(con, "district", MONTH, MONTH)
    return int(df["tickets"].iloc[0])


def test_ingest_and_undo_make_the_summary_stale(store_copy, tmp_path):
    summaries.refresh(store_copy)
    before = _may_tickets(store_copy)
    result = ingest.ingest_file(
        store_copy, _csv(tmp_path / "new.csv", ["N1", "N2", "N3"], "2024-05-10 09:00")
    )
    assert result.inserted == 3
    assert not summaries.is_fresh(store_copy)
    assert summaries.state(store_copy, auto_refresh=False).source == "tickets"
    assert _may_tickets(store_copy) == before + 3  # the new tickets count, not the old summary
    summaries.refresh(store_copy)
    assert _may_tickets(store_copy) == before + 3
    ingest.undo_batch(store_copy, result.batch_id)
    assert not summaries.is_fresh(store_copy)
    assert _may_tickets(store_copy) == before


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE tickets SET category = '噪音扰民' WHERE ticket_id = (SELECT min(ticket_id) FROM tickets)",
        "UPDATE tickets SET compound_id = NULL WHERE ticket_id = (SELECT min(ticket_id) FROM tickets)",
        "UPDATE tickets SET is_valid = NOT is_valid WHERE ticket_id = (SELECT min(ticket_id) FROM tickets)",
        "DELETE FROM tickets WHERE ticket_id = (SELECT min(ticket_id) FROM tickets)",
    ],
)
def test_in_place_edits_make_the_summary_stale(store_copy, edit):
    summaries.refresh(store_copy)
    store_copy.execute(edit)
    assert not summaries.is_fresh(store_copy)


def test_an_analysts_category_fix_makes_the_summary_stale(store_copy):
    summaries.refresh(store_copy)
    ticket = db.query_one(store_copy, "SELECT min(ticket_id) FROM tickets WHERE category IS NOT NULL")
    set_ticket_category(store_copy, ticket, "其他")
    assert not summaries.is_fresh(store_copy)


def test_read_only_store_with_a_stale_summary_reads_raw(small_store, tmp_path):
    path = tmp_path / "ro.duckdb"
    path.write_bytes(small_store.read_bytes())
    con = db.connect(path)
    summaries.refresh(con)
    con.execute("UPDATE tickets SET category = '其他' WHERE ticket_id = (SELECT min(ticket_id) FROM tickets)")
    expected = trends.category_mix(con, "2022-01", "2022-01")
    con.close()
    ro = db.connect(path, read_only=True)
    try:
        assert source.choose(ro) is source.RAW
        pd.testing.assert_frame_equal(trends.category_mix(ro, "2022-01", "2022-01"), expected)
    finally:
        ro.close()
