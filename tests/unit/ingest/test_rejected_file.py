"""Rejected rows come back as the analyst can use them: in the file's own columns and order, by
the row Excel shows, ticket ids and times as they were, phone numbers masked, and a fixed copy
uploads cleanly; the check lists them before anything is written."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from analytics.ingest import pipeline as ingest
from analytics.ingest.pipeline.clean import DUPLICATE_IN_FILE, REJECT_RULES
from analytics.ingest.pipeline.rejected import REASON_COLUMN, ROW_COLUMN
from analytics.reports import exports
from analytics.reports.text import value_text
from analytics.store import db

pytestmark = pytest.mark.backends

HEADERS = ["工单编号", "受理时间", "诉求内容", "来电号码", "诉求地址", "来电人"]
ROWS = [
    ["A1", "2023-07-01 08:30:00", "电梯坏了", "13812345678", "沂蒙路1号", "张三"],
    ["LS2307123", "上周三", "楼道堆物，电话13912345678", "13912345678", "沂蒙路2号", "李四"],  # bad time
    ["", "2023-07-02 09:00:00", "没有编号", "0539-8888888", "沂蒙路3号", "王五"],  # no ticket id
    ["A4", "2023-07-03 10:00:00", "停水", "", "沂蒙路4号", ""],
]


def write_csv(path, rows, headers=HEADERS, title_rows=0, blank_every=0, encoding="utf-8"):
    """A CSV with `title_rows` lines above the header and an empty line after every
    `blank_every` data rows, as some exports have."""
    buffer = io.StringIO()
    w = csv.writer(buffer, lineterminator="\n")
    for i in range(title_rows):
        w.writerow([f"2023年7月工单明细（第{i + 1}页）"])
    w.writerow(headers)
    for i, row in enumerate(rows, 1):
        w.writerow(row)
        if blank_every and i % blank_every == 0:
            buffer.write("\n")
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path, rows, headers=HEADERS, title_rows=0, blank_every=0):
    lines: list[list[str]] = [
        [f"2023年7月工单明细（第{i + 1}页）"] + [""] * (len(headers) - 1) for i in range(title_rows)
    ]
    lines.append(headers)
    for i, row in enumerate(rows, 1):
        lines.append(row)
        if blank_every and i % blank_every == 0:
            lines.append([""] * len(headers))
    with pd.ExcelWriter(path, engine="xlsxwriter") as xl:
        pd.DataFrame(lines).to_excel(xl, index=False, header=False, sheet_name="工单")
    return path


def excel_rows(rows, title_rows=0, blank_every=0) -> dict[str, int]:
    """ticket id (or content) -> the row Excel shows it on."""
    at, out = title_rows + 1, {}
    for i, row in enumerate(rows, 1):
        at += 1
        out[row[0] or row[2]] = at
        if blank_every and i % blank_every == 0:
            at += 1
    return out


@pytest.mark.parametrize("kind", ["csv", "gbk-csv", "xlsx"])
@pytest.mark.parametrize(("title_rows", "blank_every"), [(0, 0), (2, 0), (0, 1), (1, 2)])
def test_rejected_rows_carry_the_row_excel_shows(store, tmp_path, kind, title_rows, blank_every):
    if kind == "xlsx":
        path = write_xlsx(tmp_path / "t.xlsx", ROWS, title_rows=title_rows, blank_every=blank_every)
    else:
        encoding = "gbk" if kind == "gbk-csv" else "utf-8"
        path = write_csv(
            tmp_path / "t.csv", ROWS, title_rows=title_rows, blank_every=blank_every, encoding=encoding
        )
    expected = excel_rows(ROWS, title_rows, blank_every)
    dry = ingest.ingest_file(store, path, dry_run=True)
    listed = dry.rejected_table()
    assert listed[ROW_COLUMN].tolist() == [expected["LS2307123"], expected["没有编号"]]
    result = ingest.ingest_file(store, path)
    stored = ingest.rejected_table(store, result.batch_id)
    assert stored[ROW_COLUMN].tolist() == listed[ROW_COLUMN].tolist()


def test_rejected_rows_in_the_files_own_columns(store, tmp_path):
    result = ingest.ingest_file(store, write_csv(tmp_path / "t.csv", ROWS))
    table = ingest.rejected_table(store, result.batch_id)
    # the file's columns in its order, callers' names left out; the reason and row in front
    assert list(table.columns) == [
        ROW_COLUMN,
        REASON_COLUMN,
        "工单编号",
        "受理时间",
        "诉求内容",
        "来电号码",
        "诉求地址",
    ]
    assert table[REASON_COLUMN].tolist() == ["受理时间无法识别", "缺少工单编号"]
    first, second = table.iloc[0], table.iloc[1]
    # the id shaped like a local phone number after its letters and the time stay as they were
    assert (first["工单编号"], first["受理时间"]) == ("LS2307123", "上周三")
    assert first["诉求内容"] == "楼道堆物，电话********" and first["来电号码"] == "********"
    assert (second["工单编号"], second["来电号码"]) == ("", "********")  # blank stays blank
    assert "张三" not in table.to_string() and "13912345678" not in table.to_string()
    # the stored JSON the batch interface reads says the same
    raw = ingest.rejected_rows(store, result.batch_id)
    assert raw["raw"].iloc[0].startswith('{"工单编号": "LS2307123", "受理时间": "上周三"')


def test_the_check_lists_what_it_will_reject_and_writes_nothing(store, tmp_path):
    dry = ingest.ingest_file(store, write_csv(tmp_path / "t.csv", ROWS), dry_run=True)
    assert dry.rejected == 2 and len(dry.rejected_table()) == 2
    assert db.query_one(store, "SELECT count(*) FROM rejected_rows") == 0
    assert db.query_one(store, "SELECT count(*) FROM tickets") == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_file_sent_back_fixed_uploads_cleanly(store, tmp_path, fmt):
    first = ingest.ingest_file(store, write_csv(tmp_path / "t.csv", ROWS))
    table = ingest.rejected_table(store, first.batch_id)
    # as the page offers it: the reason and row number headed in Chinese, then fixed by hand
    sent = table.rename(columns={ROW_COLUMN: "原文件行号", REASON_COLUMN: "拒收原因"})
    sent.loc[0, "受理时间"] = "2023-07-05 14:00:00"
    sent.loc[1, "工单编号"] = "A3"
    path = tmp_path / f"fixed.{fmt}"
    path.write_bytes(exports.to_csv_bytes(sent) if fmt == "csv" else exports.to_xlsx_bytes({"拒收": sent}))
    again = ingest.ingest_file(store, path)
    assert (again.rows_read, again.inserted, again.rejected) == (2, 2, 0)
    stored = db.query_df(
        store,
        "SELECT ticket_id, created_at, caller_hash FROM tickets WHERE ticket_id IN ('LS2307123', 'A3') ORDER BY 1",
    )
    assert stored["created_at"].astype(str).tolist() == ["2023-07-02 09:00:00", "2023-07-05 14:00:00"]
    # a masked phone cell is no caller: the two re-sent rows are not made one repeat caller
    assert stored["caller_hash"].isna().all()


@pytest.mark.parametrize("reason", [why for why, _ in REJECT_RULES] + [DUPLICATE_IN_FILE])
def test_every_reason_a_row_is_rejected_for_reads_in_english_too(reason):
    english = value_text(reason, "en")
    assert english != reason and english.isascii()
