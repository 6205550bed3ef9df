"""The monthly briefing: tables, the Excel workbook and the printable page agree with the store."""

from __future__ import annotations

import io
import shutil

import openpyxl
import pandas as pd
import pytest

from analytics import config
from analytics.errors import NotFound
from analytics.reports import briefing
from analytics.store import db
from tests.fixtures.district import TOP, build_district

MONTH = "2024-06"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return build_district(tmp_path_factory.mktemp("briefing"))


@pytest.fixture
def con(district):
    con = db.connect(district.path)
    yield con
    con.close()


def count(con, sql: str, month: str = MONTH) -> int:
    m = pd.Period(month, "M")
    return int(db.query_one(con, sql, [m.start_time, (m + 1).start_time]))


def month_total(con, month: str = MONTH) -> int:
    return count(con, "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?", month)


def summary_value(tables, label: str):
    frame = tables[briefing.SECTION_SUMMARY]
    return frame.loc[frame["指标"] == label, "数值"].iloc[0]


def test_tables_have_every_section_and_the_month_total(con):
    tables = briefing.briefing_tables(con, MONTH)
    assert tuple(tables) == briefing.SECTIONS
    total = month_total(con)
    assert summary_value(tables, "受理工单总量（件）") == total
    subs = tables[briefing.SECTION_SUBDISTRICTS]
    assert subs["街道"].iloc[-1] == "合计"
    assert subs["工单量"].iloc[-1] == total
    # every simulated ticket is matched to a compound, so the subdistricts add up to the total
    assert subs["工单量"].iloc[:-1].sum() == total


def test_top_ten_is_the_busiest_compounds(con):
    top = briefing.briefing_tables(con, MONTH)[briefing.SECTION_TOP]
    busiest = count(
        con,
        "SELECT max(n) FROM (SELECT count(*) AS n FROM tickets WHERE created_at >= ? AND created_at < ? "
        "AND compound_id IS NOT NULL GROUP BY compound_id)",
    )
    assert len(top) == config.LIST_N
    assert top["工单量"].iloc[0] == busiest
    assert top["工单量"].is_monotonic_decreasing
    assert list(top["排名"]) == list(range(1, config.LIST_N + 1))


def test_task_force_progress_lists_every_task_force(con):
    progress = briefing.briefing_tables(con, MONTH)[briefing.SECTION_TASKFORCES]
    assert len(progress) == TOP
    assert set(progress["满足撤出条件"]) <= {"是", "否"}


def test_task_forces_that_start_later_are_not_in_an_earlier_briefing(con):
    # the fixture's task forces start 2023-03
    assert briefing.briefing_tables(con, "2023-02")[briefing.SECTION_TASKFORCES].empty
    assert len(briefing.briefing_tables(con, "2023-03")[briefing.SECTION_TASKFORCES]) == TOP


def test_xlsx_opens_with_title_sheets_and_totals(con):
    book = openpyxl.load_workbook(io.BytesIO(briefing.briefing_xlsx(con, MONTH)))
    assert book.sheetnames == [briefing.section_title(s) for s in briefing.SECTIONS]
    assert book.sheetnames[0] == "总体情况"
    sheet = book[briefing.section_title(briefing.SECTION_SUMMARY)]
    assert "2024年6月" in sheet["A1"].value
    assert [c.value for c in sheet[2]] == ["指标", "数值", "说明"]
    assert sheet["A3"].value == "受理工单总量（件）"
    assert sheet["B3"].value == month_total(con)
    subs = book[briefing.section_title(briefing.SECTION_SUBDISTRICTS)]
    last = subs.max_row
    assert subs.cell(last, 1).value == "合计" and subs.cell(last, 2).value == month_total(con)
    assert len(list(book[briefing.section_title(briefing.SECTION_TASKFORCES)].iter_rows(min_row=3))) == TOP


def test_html_is_printable_with_month_and_total(con):
    page = briefing.briefing_html(con, MONTH)
    assert page.startswith("<!DOCTYPE html>")
    assert "2024年6月" in page
    assert f"共受理工单 {month_total(con):,} 件" in page
    assert "<script" not in page.lower()
    for section in briefing.SECTIONS:
        assert briefing.section_title(section) in page


def test_formula_like_names_are_neutralised(district, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(district.path, path)
    con = db.connect(path)
    try:
        top = briefing.briefing_tables(con, MONTH)[briefing.SECTION_TOP]
        with db.transaction(con) as cur:
            cur.execute(
                "UPDATE compounds SET name = ? WHERE compound_id = ?",
                ['=HYPERLINK("x")', top["小区编号"].iloc[0]],
            )
        book = openpyxl.load_workbook(io.BytesIO(briefing.briefing_xlsx(con, MONTH)))
        page = briefing.briefing_html(con, MONTH)
    finally:
        con.close()
    assert book[briefing.section_title(briefing.SECTION_TOP)]["C3"].value == '\'=HYPERLINK("x")'
    assert "=HYPERLINK(&quot;x&quot;)" in page


def test_empty_store_says_what_to_do(store):
    with pytest.raises(NotFound, match="请先导入工单"):
        briefing.briefing_tables(store, MONTH)


def test_compound_month_covers_every_compound(con):
    frame = briefing.compound_month(con, MONTH)
    assert len(frame) == db.query_one(con, "SELECT count(*) FROM compounds")
    matched = count(
        con,
        "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ? AND compound_id IS NOT NULL",
    )
    assert frame["tickets"].sum() == matched
