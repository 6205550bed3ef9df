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
            zf.writestr(name, text)
    return buf.getvalue()


def _truncated_xlsx(tmp_path: Path) -> bytes:
    data = _write_xlsx(tmp_path / "full.xlsx", {"S": ROWS}).read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "空文件"),
        ("blank.csv", b"\r\n  \r\n", "空文件"),
        ("junk.csv", bytes(range(256)) * 8, "二进制"),
        ("picture.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
        ("report.xlsx", b"%PDF-1.4 ...", "PDF"),
        ("other.xlsx", _zip_bytes({"notes.txt": "hello"}), "不是 Excel"),
        ("word.xlsx", _zip_bytes({"word/document.xml": "<w/>"}), "Word"),
        ("nohead.csv", b"123,2023-07-01,5\n124,2023-07-02,6\n", "没有表头"),
        ("commas.csv", b",,,\n,,,\n", "没有任何数据"),
    ],
)
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
