"""Reading uploads: encodings, delimiters, workbooks, and files that are not tables."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import FileRejected
from analytics.ingest.readers import read_table, sniff

ROWS = [
    ["工单编号", "受理时间", "诉求内容"],
    ["A001", "2023-07-01 08:30", "小区楼道灯坏了，物业不管"],
    ["A002", "2023/7/2 9:15", "噪音扰民，晚上施工"],
]


def _write_csv(path: Path, encoding: str, delimiter: str = ",", rows=ROWS) -> Path:
    text = "\r\n".join(delimiter.join(r) for r in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def _write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    with pd.ExcelWriter(path, engine="xlsxwriter") as xl:
        for name, rows in sheets.items():
            pd.DataFrame(rows[1:], columns=rows[0]).to_excel(xl, sheet_name=name, index=False)
    return path


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected_encoding"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ",", "utf-8-sig"),
        ("gbk", ",", "gb18030"),
        ("gb18030", ";", "gb18030"),
        ("utf-8", "\t", "utf-8"),
        ("gbk", "\t", "gb18030"),
        ("utf-16", "\t", "utf-16"),
    ],
)
def test_csv_encodings_and_delimiters_read_the_same(tmp_path, encoding, delimiter, expected_encoding):
    path = _write_csv(tmp_path / "t.csv", encoding, delimiter)
    table = read_table(path)
    assert table.encoding == expected_encoding
    assert table.headers == ROWS[0]
    assert table.frame.values.tolist() == ROWS[1:]
    assert sniff(path)["delimiter"] == delimiter


def test_quoted_cells_with_newlines_and_bom_in_header(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        '\ufeff工单编号,"\u200b受理时间 ",诉求内容\nA1,2023-07-01,"第一行\n第二行, 含逗号"\n',
        encoding="utf-8",
    )
    table = read_table(path)
    assert table.headers == ["工单编号", "受理时间", "诉求内容"]
    assert table.frame.iloc[0, 2] == "第一行\n第二行, 含逗号"


def test_title_row_above_header_is_skipped_and_short_rows_padded(tmp_path):
    rows = [["2023年7月工单明细"], *ROWS, ["A003"]]
    table = read_table(_write_csv(tmp_path / "t.csv", "utf-8", ",", rows))
    assert table.headers == ROWS[0]
    assert table.frame.values.tolist()[-1] == ["A003", "", ""]


def test_xlsx_sheet_chooser_default_first_sheet_with_data(tmp_path):
    path = _write_xlsx(tmp_path / "t.xlsx", {"说明": [["空"]], "工单": ROWS})
    # a sheet with only a header counts as data; pick the named one explicitly too
    assert read_table(path, sheet="工单").frame.values.tolist() == ROWS[1:]
    assert sniff(path)["sheets"] == ["说明", "工单"]
    with pytest.raises(FileRejected, match="没有名为"):
        read_table(path, sheet="不存在")


def test_xlsx_numbers_and_dates_become_text(tmp_path):
    path = _write_xlsx(
        tmp_path / "n.xlsx",
        {"S": [["工单编号", "受理时间", "户数"], [24, pd.Timestamp("2023-07-01 08:30"), 12.5]]},
    )
    table = read_table(path, max_rows=5)
    assert table.frame.values.tolist() == [["24", "2023-07-01 08:30:00", "12.5"]]


def test_real_teddy_xlsx_counts_only_rows_with_data(real_data):
    table = read_table(real_data / "teddy2020c-sample" / "附件2_示例数据.xlsx")
    assert len(table.frame) == 495
    assert table.headers == ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "一级分类"]


def _zip_bytes(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            # A fixed timestamp keeps the bytes, and so the test ids, identical on every worker.
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def _truncated_xlsx(tmp_path: Path) -> bytes:
    data = _write_xlsx(tmp_path / "full.xlsx", {"S": ROWS}).read_bytes()
    return data[: len(data) // 2]


NOT_TABLES = [
    ("empty.csv", b"", "空文件"),
    ("blank.csv", b"\r\n  \r\n", "空文件"),
    ("junk.csv", bytes(range(256)) * 8, "二进制"),
    ("picture.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
    ("report.xlsx", b"%PDF-1.4 ...", "PDF"),
    ("other.xlsx", _zip_bytes({"notes.txt": "hello"}), "不是 Excel"),
    ("word.xlsx", _zip_bytes({"word/document.xml": "<w/>"}), "Word"),
    ("nohead.csv", b"123,2023-07-01,5\n124,2023-07-02,6\n", "没有表头"),
    ("commas.csv", b",,,\n,,,\n", "没有任何数据"),
]


@pytest.mark.parametrize(("name", "content", "message"), NOT_TABLES, ids=[c[0] for c in NOT_TABLES])
def test_files_that_are_not_tables_are_rejected(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=message) as info:
        read_table(path)
    assert info.value.en  # both languages


def test_truncated_xlsx_is_rejected(tmp_path):
    path = tmp_path / "cut.xlsx"
    path.write_bytes(_truncated_xlsx(tmp_path))
    with pytest.raises(FileRejected, match="损坏或不完整"):
        read_table(path)


# ---------------------------------------------------------------- quotes that never close

HEADER_LINE = "工单编号,受理时间,诉求内容,诉求类型,诉求地址\n"


def _lines(start: int, stop: int) -> str:
    return "".join(
        f"T{i},2023-07-{1 + i % 28:02d} 08:30:00,楼道灯坏了,物业,翠华苑\n" for i in range(start, stop)
    )


def _open(i: int, text: str = "没有闭合的引号") -> str:
    return f'T{i},2023-07-01 08:30:00,"{text},物业,翠华苑\n'


# (case, file text, the line that opens the quote, the lines it swallows)
UNCLOSED = [
    (
        "never closed: 1,000 rows to the end",
        HEADER_LINE + _lines(0, 1) + _open(1) + _lines(2, 1002),
        3,
        "1,000",
    ),
    (
        "closed by a quoted cell 499 rows on",
        HEADER_LINE
        + _lines(0, 1)
        + _open(1)
        + _lines(2, 500)
        + 'T500,2023-07-01,"有, 引号",物业,翠华苑\n'
        + _lines(501, 600),
        3,
        "499",
    ),
    (
        "swallows just the next row",
        HEADER_LINE + _lines(0, 5) + _open(5) + 'T6,2023-07-06,"x",物业,翠华苑\n' + _lines(7, 20),
        7,
        "1",
    ),
    (
        "after a real multi-line cell",
        HEADER_LINE + 'T0,2023-07-01,"第一行\n第二行",物业,翠华苑\n' + _open(1) + _lines(2, 50),
        4,
        "48",
    ),
    (
        "in the first column",
        HEADER_LINE + _lines(0, 3) + '"T3,2023-07-01,没有闭合,物业,翠华苑\n' + _lines(4, 40),
        5,
        "36",
    ),
    (
        "with CRLF line ends",
        (HEADER_LINE + _lines(0, 2) + _open(2) + _lines(3, 30)).replace("\n", "\r\n"),
        4,
        "27",
    ),
]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize(("case", "text", "line", "swallowed"), UNCLOSED, ids=[c[0] for c in UNCLOSED])
def test_unclosed_quote_refuses_the_file_naming_its_line(tmp_path, encoding, case, text, line, swallowed):
    from analytics.ingest.readers.table import file_kind

    path = tmp_path / "q.csv"
    path.write_bytes(text.encode(encoding))
    for read in (read_table, file_kind):  # the registry/preview reader, and ingestion's check
        with pytest.raises(FileRejected) as err:
            read(path)
        assert f"第 {line} 行" in err.value.zh and f"line {line} " in err.value.en
        assert f"其后 {swallowed} 行" in err.value.zh and "引号" in err.value.zh
        assert "quote" in err.value.en and f"the {swallowed} lines" in err.value.en


def test_unclosed_quote_near_the_top_is_caught_by_the_preview_too(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(HEADER_LINE + _open(0) + _lines(1, 500), encoding="utf-8")
    with pytest.raises(FileRejected, match="第 2 行"):
        read_table(path, max_rows=5)


# real cells over several lines, as exports hold them: they load untouched
MULTILINE = [
    (
        "content over three lines",
        'T0,2023-07-01,"第一行，有逗号, 还有\n第二行\n第三行",物业,翠华苑\n',
        "第一行，有逗号, 还有\n第二行\n第三行",
    ),
    (
        "CRLF inside the cell",
        'T0,2023-07-01,"第一行\r\n第二行, 含逗号\r\n第三行",物业,翠华苑\n',
        "第一行\r\n第二行, 含逗号\r\n第三行",
    ),
    (
        "quotes inside the cell",
        'T0,2023-07-01,"他说""灯坏了""\n第二行\n\n第四行",物业,翠华苑\n',
        '他说"灯坏了"\n第二行\n\n第四行',
    ),
    (
        "a list with commas",
        'T0,2023-07-01,"1, 灯坏了, 没人修\n2, 门禁坏了\n3, 电梯",物业,翠华苑\n',
        "1, 灯坏了, 没人修\n2, 门禁坏了\n3, 电梯",
    ),
]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize(("case", "row", "cell"), MULTILINE, ids=[c[0] for c in MULTILINE])
def test_quoted_multiline_cells_still_load(tmp_path, encoding, case, row, cell):
    from analytics.ingest.readers.table import file_kind

    path = tmp_path / "m.csv"
    path.write_bytes((HEADER_LINE + _lines(1, 4) + row + _lines(4, 30)).encode(encoding))
    file_kind(path)  # ingestion's check passes
    table = read_table(path)
    assert len(table.frame) == 30
    assert table.frame.loc[table.frame["工单编号"] == "T0", "诉求内容"].iloc[0] == cell


# ---------------------------------------------------------------- which sheet was read


def test_sheet_report_names_the_sheet_read_and_the_others(tmp_path):
    from analytics.ingest.readers.table import sheet_report

    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as xl:
        xl.book.add_worksheet("封面")  # empty: skipped by default
        pd.DataFrame(ROWS[1:], columns=ROWS[0]).to_excel(xl, sheet_name="工单", index=False)
        pd.DataFrame({"合计": [2]}).to_excel(xl, sheet_name="汇总", index=False)
    assert sheet_report(path) == ("工单", ["封面", "汇总"])
    assert read_table(path).sheet == "工单"
    assert sheet_report(path, "汇总") == ("汇总", ["封面", "工单"])
    assert sheet_report(_write_csv(tmp_path / "t.csv", "utf-8")) == (None, [])
