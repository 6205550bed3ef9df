"""Old-style .xls workbooks (still what some hotline systems export) ingest like .xlsx ones."""

from __future__ import annotations

import xlwt

from analytics.ingest import pipeline as ingest
from analytics.store import db

HEADERS = ["工单编号", "受理时间", "诉求内容", "诉求地址"]
ROWS = [
    ["X001", "2023-07-01 08:30:00", "楼道灯不亮", "翠华苑3号楼"],
    ["X002", "2023/7/2 9:15", "电梯经常停运", "金雀山花园"],
    ["", "2023-07-03 10:00:00", "没有编号的工单", "翠华苑"],
]


def write_xls(path, sheets: dict[str, list[list[str]]]) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    book.save(str(path))


def test_xls_ingests_with_reasons_kept(store, tmp_path):
    path = tmp_path / "工单.xls"
    write_xls(path, {"工单": [HEADERS, *ROWS]})
    result = ingest.ingest_file(store, path)
    assert (result.rows_read, result.inserted, result.rejected) == (3, 2, 1)
    assert db.query_one(store, "SELECT content FROM tickets WHERE ticket_id = 'X002'") == "电梯经常停运"
    assert db.query_one(store, "SELECT reason FROM rejected_rows") == "缺少工单编号"


def test_xls_sheet_chooser(store, tmp_path):
    path = tmp_path / "两表.xls"
    write_xls(path, {"说明": [["本文件由系统导出"]], "明细": [HEADERS, *ROWS[:2]]})
    preview = ingest.preview_file(path, sheet="明细")
    assert preview.sheets == ["说明", "明细"]
    assert ingest.ingest_file(store, path, sheet="明细").inserted == 2
