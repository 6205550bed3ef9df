"""Hostile and broken uploads: every one ends in a clear bilingual message or a correct load.

Each case goes through the real `ingest.ingest_file` on a real DuckDB file; the store's table
counts afterwards differ from before by exactly what was legitimately written (nothing, for a
refused file). A subset also goes through the batch interface in one process per group.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import python_calamine

from analytics.errors import FileRejected
from analytics.ingest import pipeline as ingest
from analytics.ingest.pipeline.clean import DUPLICATE_IN_FILE
from analytics.ingest.registry import compounds
from analytics.reports import exports
from analytics.services.taskforces import file_import
from analytics.store import db
from tests.fixtures import ROOT
from tests.fixtures.apptest import (
    build_fixture_store,
    copy_store,
    errors_of,
    login,
    new_app,
)

HEADERS = ["工单编号", "受理时间", "诉求内容", "小区"]
FORMULAS = ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)")
SQL = "'; DROP TABLE tickets; --"
CJK = re.compile(r"[\u4e00-\u9fff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _row(tid: str, day: int = 1, content: str = "楼道灯坏了", compound: str = "") -> list[str]:
    return [tid, f"2023-07-{day:02d} 08:30:00", content, compound]


def _csv_bytes(rows: list[list[str]], headers: list[str] = HEADERS, encoding: str = "utf-8") -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _xlsx(path: Path, rows: list[list[str]], headers: list[str] = HEADERS) -> Path:
    pd.DataFrame(rows, columns=headers).to_excel(path, index=False, engine="xlsxwriter")
    return path


# ---------------------------------------------------------------- file builders


def empty(d: Path) -> Path:
    return _write(d / "empty.csv", b"")


def header_only(d: Path) -> Path:
    return _write(d / "header_only.csv", _csv_bytes([]))


def binary_junk(d: Path) -> Path:
    return _write(d / "junk.csv", bytes(range(256)) * 40)


def png_as_csv(d: Path) -> Path:
    return _write(d / "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP archive from (name, raw deflate stream, declared CRC, declared size) members,
    written by hand so a test can declare whatever it likes."""
    out, central = bytearray(), bytearray()
    for name, raw, crc, size in members:
        offset, encoded = len(out), name.encode()
        out += struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(raw), size, len(encoded), 0
        )
        out += encoded + raw
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(raw), size, len(encoded),
            0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        central += encoded
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0
    )
    return bytes(out + central + end)


def _small(name: str, text: bytes) -> tuple[str, bytes, int, int]:
    return name, _deflate(text), zlib.crc32(text), len(text)


WORKBOOK_PARTS = [_small("[Content_Types].xml", b"<Types/>"), _small("xl/workbook.xml", b"<workbook/>")]


def zip_bomb(d: Path) -> Path:
    """A 3 MB file whose sheet inflates to 3 GiB of zeros, named like a workbook.

    After a full flush deflate starts afresh, so one compressed MiB of zeros repeated 3,072 times
    is a valid stream of 3 GiB: the bomb is built without ever holding or inflating it."""
    mib = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    n = 3 * 1024
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(mib, crc)
    raw = block * n + c.flush()
    return _write(d / "bomb.xlsx", _zip([*WORKBOOK_PARTS, ("xl/worksheets/sheet1.xml", raw, crc, n << 20)]))


def lying_zip(d: Path) -> Path:
    """A workbook whose sheet declares 1 KiB (with that prefix's CRC) but inflates to 64 MiB:
    declared sizes alone would pass it, so the stream itself must be bounded."""
    body = b"<row/>" * ((64 << 20) // 6)
    member = ("xl/worksheets/sheet1.xml", _deflate(body), zlib.crc32(body[:1024]), 1024)
    return _write(d / "lying.xlsx", _zip([*WORKBOOK_PARTS, member]))


def truncated_xlsx(d: Path) -> Path:
    full = _xlsx(d / "full.xlsx", [_row(f"T{i}") for i in range(500)])
    data = full.read_bytes()
    return _write(d / "truncated.xlsx", data[: len(data) // 2])


def gbk_named_utf8(d: Path) -> Path:
    return _write(d / "tickets.utf8.csv", _csv_bytes([_row("G1", content="噪音扰民严重")], encoding="gbk"))


def bom_then_gbk(d: Path) -> Path:
    data = b"\xef\xbb\xbf" + _csv_bytes([_row("B1", content="停水三天"), _row("B2")], encoding="gbk")
    return _write(d / "bom_gbk.csv", data)


def mixed_lines(d: Path) -> Path:
    """UTF-8 lines, one GBK line, and one line of bytes neither encoding can read."""
    data = (
        _csv_bytes([_row("M1", content="楼道灯坏了")])
        + _csv_bytes([_row("M2", content="噪音扰民")], encoding="gbk").split(b"\n", 1)[1]
        + b"M3,2023-07-03 08:30:00,bad \xff\xfe\x81 bytes,\n"
        + "M4,2023-07-04 08:30:00,停水,\n".encode()
    )
    return _write(d / "mixed.csv", data)


def mixed_after_first_mib(d: Path) -> Path:
    """UTF-8 for the first 1.5 MB (the part encoding detection samples), then a GBK line."""
    head = [_row(f"U{i:05d}", content="楼道灯坏了，物业不管" * 4) for i in range(12_000)]
    data = _csv_bytes(head) + "L1,2023-07-05 08:30:00,供暖不达标,\n".encode("gbk")
    return _write(d / "mixed_late.csv", data)


def huge_cell(d: Path) -> Path:
    return _write(d / "huge_cell.csv", _csv_bytes([_row("H1", content="长" * ((10 << 20) // 3)), _row("H2")]))


def wide(d: Path) -> Path:
    headers = HEADERS + [f"x{i}" for i in range(100_000)]
    return _write(d / "wide.csv", _csv_bytes([_row("W1") + ["v"] * 100_000], headers=headers))


def duplicate_headers(d: Path) -> Path:
    headers = ["工单编号", "受理时间", "诉求内容", "诉求内容", "工单编号"]
    return _write(
        d / "dup_headers.csv", _csv_bytes([["D1", "2023-07-01 08:30", "first", "second", "Z9"]], headers)
    )


def invisible_headers(d: Path) -> Path:
    headers = ["\ufeff\u200b工单编号", "受理\u00a0时间", "诉求\u200b内容\u2060", "\u00a0小区 "]
    return _write(d / "invisible.csv", _csv_bytes([_row("V1")], headers))


def formulas(d: Path) -> Path:
    headers = [*HEADERS, "诉求地址", "工单标题", "诉求类型", "承办单位", "工单状态"]
    rows = [[f"F{i}", "2023-07-01 08:30:00", *[f] * 7] for i, f in enumerate(FORMULAS)]
    rows.append([FORMULAS[0], "2023-07-01 08:30:00", "a", "", "b", "c", "d", "e", "f"])
    return _write(d / "formulas.csv", _csv_bytes(rows, headers))


def sql_text(d: Path) -> Path:
    headers = [*HEADERS, SQL]
    row = [SQL, "2023-07-01 08:30:00", SQL, SQL, SQL]
    return _write(d / f"{SQL}.csv", _csv_bytes([row], headers))


def far_dates(d: Path) -> Path:
    rows = [
        ["Y1", "1900-01-01 00:00:00", "a", ""],
        ["Y2", "2099-12-31 23:59:59", "b", ""],
        ["Y3", "1900/1/1", "c", ""],
        ["Y4", "2023-07-01 08:30", "d", ""],
    ]
    return _write(d / "far_dates.csv", _csv_bytes(rows))


def unknown_compounds(d: Path) -> Path:
    rows = [_row("K1", compound="NOPE-999"), _row("K2", compound="LS0001"), _row("K3", compound=SQL)]
    return _write(d / "unknown_compounds.csv", _csv_bytes(rows))


def same_id_twice(d: Path) -> Path:
    rows = [_row("S1", 1, "first version"), _row("S2", 2), _row("S1", 3, "second version")]
    return _write(d / "same_id.csv", _csv_bytes(rows))


def unterminated_quote(d: Path) -> Path:
    data = _csv_bytes([_row("Q1")]) + b'Q2,2023-07-02 08:30:00,"never closed,\nQ3,2023-07-03 08:30:00,x,\n'
    return _write(d / "quote.csv", data)


def stray_quote_gbk(d: Path) -> Path:
    """A GBK export where one cell (line 12) opens a quote that a quoted cell on line 302 closes."""
    rows = [_row(f"P{i}") for i in range(400)]
    rows[300][2] = "含逗号, 所以带引号"  # the writer quotes it: this closes the stray quote
    text = _csv_bytes(rows, encoding="gbk").split(b"\n")
    text[11] = text[11].replace("楼道灯坏了".encode("gbk"), '"楼道灯坏了'.encode("gbk"))  # the stray one
    return _write(d / "stray_quote.csv", b"\n".join(text))


def multiline_cells(d: Path) -> Path:
    """Quoted cells over two and three lines, one with commas, as real exports hold them."""
    rows = [
        _row("L1", content="第一行\n第二行"),
        _row("L2", content="一、灯坏了, 没人修\n二、门禁坏了\n三、电梯"),
    ]
    return _write(d / "multiline.csv", _csv_bytes([*rows, _row("L3")], encoding="gbk"))


def only_title_rows(d: Path) -> Path:
    return _write(d / "numbers.csv", b"1,2,3\n4,5,6\n")


# ---------------------------------------------------------------- expectations


@dataclass
class Refused:
    zh: str
    en: str
    max_seconds: float = 10.0


@dataclass
class Loaded:
    rows_read: int
    inserted: int
    duplicates: int
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    stored: dict[str, str] = field(default_factory=dict)  # ticket_id -> content
    unmatched: int | None = None


CASES: list[tuple[str, Callable[[Path], Path], Refused | Loaded]] = [
    # not a table at all
    ("empty", empty, Refused("空文件", "empty")),
    ("header only", header_only, Refused("只有表头", "no data rows")),
    ("binary junk", binary_junk, Refused("二进制", "binary")),
    ("png renamed csv", png_as_csv, Refused("PNG", "image")),
    ("numbers, no header", only_title_rows, Refused("没有表头", "no header")),
    ("100,000 columns", wide, Refused("超过上限", "columns", max_seconds=15)),
    # broken or malicious workbooks: refused from what they declare, in well under a second
    ("zip bomb", zip_bomb, Refused("压缩炸弹", "zip bomb", max_seconds=2)),
    ("zip with lying sizes", lying_zip, Refused("损坏", "damaged", max_seconds=5)),
    ("truncated xlsx", truncated_xlsx, Refused("不完整", "incomplete")),
    # encodings
    ("gbk named utf8", gbk_named_utf8, Loaded(1, 1, 0, 0, stored={"G1": "噪音扰民严重"})),
    ("utf8 bom then gbk", bom_then_gbk, Loaded(2, 2, 0, 0, stored={"B1": "停水三天", "B2": "楼道灯坏了"})),
    (
        "mixed lines",
        mixed_lines,
        Loaded(
            4,
            3,
            0,
            1,
            {"含无法解码的字符（文件中混有其他编码）": 1},
            {"M1": "楼道灯坏了", "M2": "噪音扰民", "M4": "停水"},
        ),
    ),
    ("gbk after first MiB", mixed_after_first_mib, Loaded(12_001, 12_001, 0, 0, stored={"L1": "供暖不达标"})),
    # sizes and shapes
    (
        "10 MB cell",
        huge_cell,
        Loaded(2, 1, 0, 1, {"单元格超过 32767 个字符（Excel 上限），疑似文件损坏": 1}, {"H2": "楼道灯坏了"}),
    ),
    ("duplicate headers", duplicate_headers, Loaded(1, 1, 0, 0, stored={"D1": "first"})),
    ("invisible header characters", invisible_headers, Loaded(1, 1, 0, 0, stored={"V1": "楼道灯坏了"})),
    # a stray quote would merge the rows after it into one cell: refused, naming its line
    ("unterminated quote", unterminated_quote, Refused("第 3 行", "line 3")),
    ("stray quote closed 290 lines on, gbk", stray_quote_gbk, Refused("第 12 行", "the 290 lines")),
    (
        "quoted multi-line cells",
        multiline_cells,
        # every row kept, each cell whole (stored text has its white space collapsed to one space)
        Loaded(3, 3, 0, 0, stored={"L1": "第一行 第二行", "L2": "一、灯坏了, 没人修 二、门禁坏了 三、电梯"}),
    ),
    # hostile text stored verbatim
    ("formula injection", formulas, Loaded(5, 5, 0, 0, stored={f"F{i}": f for i, f in enumerate(FORMULAS)})),
    ("sql in every field", sql_text, Loaded(1, 1, 0, 0, stored={SQL: SQL})),
    # rows judged one by one
    ("dates 1900 and 2099", far_dates, Loaded(4, 1, 0, 3, {"受理时间超出合理范围": 3}, {"Y4": "d"})),
    ("unknown compound ids", unknown_compounds, Loaded(3, 3, 0, 0, unmatched=2)),
    (
        "same id twice, last wins",
        same_id_twice,
        Loaded(3, 2, 1, 0, stored={"S1": "second version", "S2": "楼道灯坏了"}),
    ),
]
IDS = [c[0] for c in CASES]


@pytest.fixture
def district(store):
    """A store with a small registry (LS0001..LS0003) and its caller salt already made, so the
    only rows an upload adds are its own."""
    with db.transaction(store) as cur:
        cur.execute(
            "INSERT INTO compounds (compound_id, name, subdistrict) VALUES "
            "('LS0001', '青松苑', '兰山街道'), ('LS0002', '翡翠家园', '兰山街道'), ('LS0003', '金雀山花园', '金雀山街道')"
        )
    db.caller_salt(store)
    return store


@pytest.mark.parametrize(("name", "build", "expect"), CASES, ids=IDS)
def test_hostile_file_through_ingest(district, tmp_path, name, build, expect):
    path = build(tmp_path)
    before = db.table_counts(district)
    started = time.perf_counter()
    if isinstance(expect, Refused):
        with pytest.raises(FileRejected) as err:
            ingest.ingest_file(district, path, user="ana")
        assert time.perf_counter() - started < expect.max_seconds
        assert expect.zh in err.value.zh and CJK.search(err.value.zh)
        assert expect.en.lower() in err.value.en.lower()
        assert db.table_counts(district) == before, "a refused file must leave the store unchanged"
        return
    result = ingest.ingest_file(district, path, user="ana")
    line = result.as_json()
    assert (line["rows_read"], line["inserted"], line["duplicates"], line["rejected"]) == (
        expect.rows_read,
        expect.inserted,
        expect.duplicates,
        expect.rejected,
    )
    assert line["rows_read"] == line["inserted"] + line["duplicates"] + line["rejected"]
    assert result.reasons == expect.reasons
    if expect.unmatched is not None:
        assert line["unmatched"] == expect.unmatched
    stored = dict(db.query_df(district, "SELECT ticket_id, content FROM tickets").values)
    for tid, content in expect.stored.items():
        assert stored[tid] == content
    after = db.table_counts(district)
    changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    # the matcher remembers each distinct address it was asked about
    assert 0 <= changed.pop("address_matches", 0) <= expect.rows_read
    expected = {
        "tickets": expect.inserted,
        "ingest_batches": 1,
        "audit_log": 1,
        "rejected_rows": expect.rejected,
    }
    assert changed == {t: n for t, n in expected.items() if n}
    # a rejected row keeps what the analyst needs to fix it, but never megabytes of one cell
    raw = db.query_df(district, "SELECT max(length(raw)) AS n FROM rejected_rows")["n"].iloc[0]
    assert pd.isna(raw) or raw < 50_000


def test_sql_text_left_every_table_in_place(district, tmp_path):
    tables = set(db.table_counts(district))
    ingest.ingest_file(district, sql_text(tmp_path))
    assert set(db.table_counts(district)) == tables
    batch = ingest.batches(district).iloc[0]
    assert batch["file_name"] == f"{SQL}.csv"
    row = db.query_df(district, "SELECT ticket_id, content, compound_id FROM tickets").iloc[0]
    assert (row["ticket_id"], row["content"]) == (SQL, SQL)


def test_undecodable_row_is_kept_for_review_not_lost(district, tmp_path):
    result = ingest.ingest_file(district, mixed_lines(tmp_path))
    bad = ingest.rejected_rows(district, result.batch_id)
    assert list(bad["row_number"]) == [3]
    assert "M3" in bad["raw"].iloc[0] and "\ufffd" in bad["raw"].iloc[0]
    assert ingest.batches(district).iloc[0]["encoding"] == "utf8_or_gb18030"


def test_duplicate_in_file_is_counted_and_documented(district, tmp_path):
    result = ingest.ingest_file(district, same_id_twice(tmp_path))
    assert result.duplicates == 1 and result.rejected == 0
    assert DUPLICATE_IN_FILE == "文件内重复（保留最后一条）"
    created = db.query_one(district, "SELECT created_at FROM tickets WHERE ticket_id = 'S1'")
    assert str(created).startswith("2023-07-03")


# ---------------------------------------------------------------- exports stay inert


def _xlsx_cells(data: bytes) -> list[str]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    cells: list[str] = []
    for name in book.sheet_names:
        for row in book.get_sheet_by_name(name).to_python():
            cells += [c for c in row if isinstance(c, str)]
    return cells


def _no_formula_xml(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return not any(
            b"<f>" in zf.read(n) or b"<f " in zf.read(n) for n in zf.namelist() if n.endswith(".xml")
        )


def _inert(cells: list[str]) -> bool:
    return not any(c.startswith(FORMULA_START) for c in cells)


def test_formula_injection_is_neutralised_in_every_export(district, tmp_path):
    ingest.ingest_file(district, formulas(tmp_path))
    tickets = db.query_df(district, "SELECT * EXCLUDE (caller_hash) FROM tickets")
    # the store keeps the text verbatim: neutralising is the exporter's job
    assert set(FORMULAS) <= set(tickets["content"])

    out = tmp_path / "export.csv"
    assert exports.export_tickets(district, out) == 5
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [c for r in rows for c in r]
    assert _inert(cells) and "'" + FORMULAS[0] in cells

    via_bytes = list(csv.reader(io.StringIO(exports.to_csv_bytes(tickets).decode("utf-8-sig"))))
    assert _inert([c for r in via_bytes for c in r])
    # a hostile header is neutralised too
    hostile_header = tickets.rename(columns={"content": FORMULAS[0]})
    assert _inert(next(csv.reader(io.StringIO(exports.to_csv_bytes(hostile_header).decode("utf-8-sig")))))

    book = exports.to_xlsx_bytes({FORMULAS[0]: tickets, "ok": hostile_header})
    assert _inert(_xlsx_cells(book)) and _no_formula_xml(book)


def test_briefing_workbook_is_inert(district, tmp_path):
    briefing = pytest.importorskip("analytics.reports.briefing")
    with db.transaction(district) as cur:
        cur.execute(
            "UPDATE compounds SET name = ?, community = ?, subdistrict = ? WHERE compound_id = 'LS0001'",
            [FORMULAS[0], FORMULAS[1], FORMULAS[3]],
        )
    rows = [_row(f"R{i}", 1 + i % 28, FORMULAS[i % 4], "LS0001") for i in range(30)]
    ingest.ingest_file(district, _write(tmp_path / "r.csv", _csv_bytes(rows)))
    book = briefing.briefing_xlsx(district, "2023-07")
    cells = _xlsx_cells(book)
    assert any(FORMULAS[0] in c for c in cells), "the hostile compound name should appear (neutralised)"
    assert _inert(cells) and _no_formula_xml(book)


# ---------------------------------------------------------------- registry and task forces


def test_registry_rejects_negative_households_and_keeps_sql_text(store, tmp_path):
    headers = ["小区编号", "小区名称", "所属社区", "所属街道", "户数"]
    rows = [
        ["C1", "青松苑", "青松社区", "兰山街道", "-40"],
        ["C2", SQL, SQL, "兰山街道", "300"],
        ["C3", "翡翠家园", "青松社区", "兰山街道", "0"],
    ]
    path = _write(tmp_path / "registry.csv", _csv_bytes(rows, headers))
    before = db.table_counts(store)
    result = compounds.import_compounds(store, path)
    assert (result.rows_read, result.added, result.rejected) == (3, 1, 2)
    reasons = list(result.rejected_rows["reason"])
    assert all("户数应为正整数" in r for r in reasons)
    assert db.query_one(store, "SELECT name FROM compounds WHERE compound_id = 'C2'") == SQL
    after = db.table_counts(store)
    assert after["compounds"] - before["compounds"] == 1
    assert after["rejected_rows"] - before["rejected_rows"] == 2


def test_taskforce_list_with_unknown_compound_and_far_dates(district, tmp_path):
    headers = ["小区编号", "包保领导", "进驻日期"]
    rows = [
        ["LS0001", "王区长", "2023-01-01"],
        ["NOPE", "李区长", "2023-01-01"],
        ["LS0002", SQL, "1900-01-01"],
    ]
    path = _write(tmp_path / "tf.csv", _csv_bytes(rows, headers))
    window = (dt.date(2022, 7, 1), dt.date(2022, 12, 31))
    result = file_import.import_taskforces(district, path, selection_window=window)
    assert (result["rows_read"], result["inserted"], result["rejected"]) == (3, 1, 2)
    assert "不在小区名录中" in result["reasons"][0]["reason"]
    assert "超出合理范围" in result["reasons"][1]["reason"]


# ---------------------------------------------------------------- the batch interface


def _cli(db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", "--db", str(db_path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


REFUSED_VIA_CLI = [
    empty, header_only, binary_junk, png_as_csv, zip_bomb, truncated_xlsx, wide, unterminated_quote, stray_quote_gbk,
]  # fmt: skip
LOADED_VIA_CLI = [
    mixed_lines, huge_cell, formulas, sql_text, far_dates, same_id_twice, bom_then_gbk, multiline_cells,
]  # fmt: skip


def test_batch_interface_refuses_each_file_with_one_bilingual_line(store_path, tmp_path):
    paths = [build(tmp_path) for build in REFUSED_VIA_CLI]
    con = db.connect(store_path)
    before = db.table_counts(con)
    con.close()
    done = _cli(store_path, "tickets", "ingest", *map(str, paths))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == len(paths)
    for path, line in zip(paths, lines, strict=True):
        assert line.startswith(str(path))
        assert CJK.search(line) and re.search(r"\b(file|is|not|has|cannot|would)\b", line, re.I), line
    con = db.connect(store_path)
    assert db.table_counts(con) == before
    con.close()


def test_batch_interface_loads_odd_files_with_balanced_counts(store_path, tmp_path):
    paths = [build(tmp_path) for build in LOADED_VIA_CLI]
    done = _cli(store_path, "tickets", "ingest", *map(str, paths))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = [json.loads(x) for x in done.stdout.strip().splitlines()]
    assert [x["file"] for x in lines] == [p.name for p in paths]
    for x in lines:
        assert x["rows_read"] == x["inserted"] + x["duplicates"] + x["rejected"]
    con = db.connect(store_path)
    assert db.query_one(con, "SELECT count(*) FROM tickets") == sum(x["inserted"] for x in lines)
    con.close()


def test_batch_interface_registry_with_negative_households(store_path, tmp_path):
    headers = ["小区编号", "小区名称", "所属街道", "户数"]
    path = _write(
        tmp_path / "reg.csv",
        _csv_bytes([["C1", "青松苑", "兰山街道", "-5"], ["C2", "翡翠家园", "兰山街道", "80"]], headers),
    )
    done = _cli(store_path, "compounds", "import", str(path))
    assert done.returncode == 0 and "Traceback" not in done.stderr
    line = json.loads(done.stdout)
    assert line["rejected"] == 1 and line["rows_read"] == 2
    bomb = _cli(store_path, "compounds", "import", str(zip_bomb(tmp_path)))
    assert bomb.returncode == 2 and "Traceback" not in bomb.stderr
    assert CJK.search(bomb.stderr) and "zip bomb" in bomb.stderr


# ---------------------------------------------------------------- the upload page


@pytest.fixture(scope="module")
def page_fixture(tmp_path_factory):
    return build_fixture_store(tmp_path_factory.mktemp("hostile_page"))


@pytest.fixture
def page_store(page_fixture, tmp_path, monkeypatch):
    path = copy_store(page_fixture, tmp_path / "page")
    monkeypatch.setenv("HOTLINE_DB", str(path))
    return path


def _upload_page(name: str, data: bytes):
    at = new_app()
    login(at, "analyst1")
    at.switch_page("pages/upload.py").run()
    return at.file_uploader(key="up_file").set_value((name, data, "application/octet-stream")).run()


def _stored_tickets(path: Path) -> int:
    con = db.connect(path)
    try:
        return int(db.query_one(con, "SELECT count(*) FROM tickets"))
    finally:
        con.close()


def test_upload_page_says_which_sheet_it_reads(page_store, tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as xl:
        xl.book.add_worksheet("封面")  # empty: the first sheet with data is read
        pd.DataFrame([_row("W1"), _row("W2")], columns=HEADERS).to_excel(xl, sheet_name="工单", index=False)
        pd.DataFrame({"合计": [2]}).to_excel(xl, sheet_name="汇总", index=False)
    at = _upload_page("book.xlsx", path.read_bytes())
    assert not errors_of(at) and not at.exception, errors_of(at)
    notes = [c.value for c in at.caption if "工作表" in c.value]
    assert notes and "「工单」" in notes[0] and "封面" in notes[0] and "汇总" in notes[0], notes
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.label == "工作表")).value == "工单"


def test_upload_page_refuses_an_unclosed_quote_naming_its_line(page_store, tmp_path):
    before = _stored_tickets(page_store)
    at = _upload_page("quote.csv", unterminated_quote(tmp_path).read_bytes())
    assert not at.exception
    assert any("第 3 行" in e and "引号" in e for e in errors_of(at)), errors_of(at)
    assert not [b for b in at.button if b.key == "up_validate"]  # nothing to validate or import
    assert _stored_tickets(page_store) == before
