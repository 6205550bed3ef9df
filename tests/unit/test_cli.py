"""The batch interface end to end, as analysts' scripts call it: real processes, real files."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli import build_parser
from tests.fixtures.apptest import REGISTRY_HEADERS
from tests.fixtures.cli import run, write_csv

REGISTRY_ROWS = [
    ["C001", "翠华苑", "翠华小区", "翠华社区", "柳青街道", "商开", "2008", "820", "鑫诚物业"],
    ["C002", "金雀山花园", "", "金雀社区", "金雀山街道", "还建", "1996", "410", "安居物业"],
    ["C003", "沂河家园", "", "沂河社区", "兰山街道", "家属院", "1988", "120", ""],
]
TICKET_HEADERS = [
    "工单编号",
    "受理时间",
    "诉求内容",
    "诉求类型",
    "诉求地址",
    "来电号码",
    "来电人",
    "办结时间",
    "满意度",
]


def ticket_rows(start: int, count: int) -> list[list[str]]:
    addresses = ["兰山区柳青街道翠华苑3号楼2单元", "金雀山花园东门", "沂河家园5号楼", "不知道哪里的某个地方"]
    return [
        [
            f"T{i:05d}",
            f"2023-{1 + i % 12:02d}-{1 + i % 27:02d} 08:30:00",
            "楼道灯坏了很久没人修，物业不管",
            "物业服务",
            addresses[i % len(addresses)],
            f"1380000{i:04d}",
            "张三",
            f"2023-{1 + i % 12:02d}-{1 + i % 27:02d} 17:00:00",
            "满意",
        ]
        for i in range(start, start + count)
    ]


@pytest.fixture
def district(tmp_path: Path) -> Path:
    db = tmp_path / "cli.duckdb"
    registry = write_csv(tmp_path / "小区名册.csv", REGISTRY_HEADERS, REGISTRY_ROWS)
    assert run(db, "init").returncode == 0
    result = run(db, "compounds", "import", str(registry))
    assert result.returncode == 0, result.stderr
    return db


def test_ingest_prints_one_json_per_file_with_balanced_counts(district, tmp_path):
    first = write_csv(tmp_path / "a.csv", TICKET_HEADERS, ticket_rows(0, 40))
    second = write_csv(tmp_path / "b.csv", TICKET_HEADERS, ticket_rows(20, 40), encoding="gbk")
    result = run(district, "tickets", "ingest", str(first), str(second), "--user", "analyst1")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(line) for line in lines] == [
        {
            "file",
            "rows_read",
            "inserted",
            "duplicates",
            "rejected",
            "unmatched",
            "batch_id",
            "sheet",
            "other_sheets",
        }
    ] * 2
    assert [(line["sheet"], line["other_sheets"]) for line in lines] == [(None, [])] * 2  # CSV files
    assert (lines[0]["inserted"], lines[1]["inserted"], lines[1]["duplicates"]) == (40, 20, 20)
    for line in lines:
        assert line["rows_read"] == line["inserted"] + line["duplicates"] + line["rejected"]
    # the address nobody can place is kept, unmatched
    assert lines[0]["unmatched"] == 10


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "空"),  # empty file
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, ""),  # a PNG renamed .csv
        ("编号,内容\n1,abc\n".encode(), "受理时间"),  # required field missing: named
    ],
)
def test_unusable_file_exits_2_with_one_line_and_changes_nothing(district, tmp_path, content, expected):
    good = write_csv(tmp_path / "good.csv", TICKET_HEADERS, ticket_rows(0, 5))
    assert run(district, "tickets", "ingest", str(good)).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    before = run(district, "tickets", "export").stdout
    result = run(district, "tickets", "ingest", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert expected in result.stderr
    assert run(district, "tickets", "export").stdout == before


def test_export_has_canonical_fields_and_no_caller_data(district, tmp_path):
    run(district, "tickets", "ingest", str(write_csv(tmp_path / "a.csv", TICKET_HEADERS, ticket_rows(0, 8))))
    result = run(district, "tickets", "export")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(result.stdout.lstrip("\ufeff").splitlines()))
    assert len(rows) == 8
    assert {"ticket_id", "created_at", "compound_id", "match_score", "category", "category_source"} <= set(
        rows[0]
    )
    assert rows[0]["category_source"] == "given"
    assert "13800000" not in result.stdout and "张三" not in result.stdout
    assert not any("caller" in column for column in rows[0])


def test_undo_restores_the_store(district, tmp_path):
    run(district, "tickets", "ingest", str(write_csv(tmp_path / "a.csv", TICKET_HEADERS, ticket_rows(0, 10))))
    before = run(district, "tickets", "export").stdout
    second = run(
        district, "tickets", "ingest", str(write_csv(tmp_path / "b.csv", TICKET_HEADERS, ticket_rows(5, 10)))
    )
    batch_id = json.loads(second.stdout)["batch_id"]
    assert run(district, "tickets", "undo", str(batch_id)).returncode == 0
    assert run(district, "tickets", "export").stdout == before
    again = run(district, "tickets", "undo", "999")
    assert again.returncode == 2 and "999" in again.stderr


def test_users_add_reads_password_from_stdin(district):
    result = run(district, "users", "add", "wang", "--role", "admin", stdin="a-long-passphrase\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["role"] == "admin"
    assert run(district, "users", "add", "li", "--role", "admin", stdin="\n").returncode == 2


def test_bad_mapping_file_is_a_clear_error(district, tmp_path):
    mapping = tmp_path / "map.json"
    mapping.write_text("{not json", encoding="utf-8")
    data = write_csv(tmp_path / "a.csv", TICKET_HEADERS, ticket_rows(0, 3))
    result = run(district, "tickets", "ingest", str(data), "--mapping", str(mapping))
    assert result.returncode == 2 and "JSON" in result.stderr


CATEGORY_TEXTS = {
    "供暖": ["暖气不热，家里温度只有十几度", "供暖管道漏水，暖气片冰凉", "集中供热温度不达标，老人受冻"],
    "停车": ["小区车位被外来车辆占用", "楼下乱停车堵住消防通道", "停车收费不合理，车位不够"],
    "噪音扰民": ["楼上装修噪音太大，晚上还在施工", "广场舞音响声音太吵", "夜间工地施工噪音扰民"],
}


def test_tickets_without_category_get_predicted_categories(district, tmp_path):
    labelled = []
    for k in range(90):
        category = list(CATEGORY_TEXTS)[k % 3]
        text = CATEGORY_TEXTS[category][k % 3 // 1 % 3] + f"，第{k}次反映，地址翠华苑{k % 9 + 1}号楼"
        labelled.append(
            [f"L{k:04d}", f"2023-05-{1 + k % 27:02d} 09:00:00", text, category, "翠华苑", "", "", "", ""]
        )
    assert (
        run(
            district, "tickets", "ingest", str(write_csv(tmp_path / "l.csv", TICKET_HEADERS, labelled))
        ).returncode
        == 0
    )
    trained = run(district, "categories", "train")
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)  # cross-validated scores as JSON
    unlabelled = [
        ["U1", "2023-06-01 10:00:00", "暖气片一点都不热，温度太低", "", "翠华苑", "", "", "", ""],
        ["U2", "2023-06-01 11:00:00", "外来车辆乱停车占用车位", "", "翠华苑", "", "", "", ""],
    ]
    result = run(
        district, "tickets", "ingest", str(write_csv(tmp_path / "u.csv", TICKET_HEADERS, unlabelled))
    )
    assert result.returncode == 0, result.stderr
    exported = run(district, "tickets", "export")
    rows = {r["ticket_id"]: r for r in csv.DictReader(exported.stdout.lstrip("\ufeff").splitlines())}
    assert (rows["U1"]["category"], rows["U1"]["category_source"]) == ("供暖", "predicted")
    assert (rows["U2"]["category"], rows["U2"]["category_source"]) == ("停车", "predicted")
    assert rows["L0000"]["category_source"] == "given"


# ---------------------------------------------------------------- spreadsheets stay inert

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
HOSTILE_NAMES = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1+1",
    '\r=HYPERLINK("http://x")',
    "\t@SUM(1)",
    "＝1+1",
    "＋cmd|' /C calc'!A0",
]


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _raw_formulas(text: str) -> list[str]:
    """Cells of a CSV a spreadsheet would run: text starting with a formula sign (numbers such
    as -0.5 are numbers to Excel too, and stay as they are)."""
    cells = [c for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")) for c in row]
    return [c for c in cells if c.startswith(FORMULA_START) and not _number(c)]


@pytest.fixture
def hostile_district(tmp_path: Path) -> Path:
    """A registry whose compound names are formulas, and 12+ tickets each (so every one ranks)
    whose texts are formulas too."""
    db = tmp_path / "hostile.duckdb"
    headers = ["小区编号", "小区名称", "所属社区", "所属街道", "小区类型", "户数"]
    rows = [[f"H{i}", name, "=社区", "@街道", "商开", str(300 + i)] for i, name in enumerate(HOSTILE_NAMES)]
    registry = write_csv(tmp_path / "名册.csv", headers, rows)
    assert run(db, "compounds", "import", str(registry)).returncode == 0
    tickets = [
        [f"T{i}-{k}", f"2023-{1 + k % 12:02d}-05 08:00:00", HOSTILE_NAMES[k % len(HOSTILE_NAMES)], f"H{i}"]
        for i in range(len(HOSTILE_NAMES))
        for k in range(12 + i)
    ]
    data = write_csv(tmp_path / "t.csv", ["工单编号", "受理时间", "诉求内容", "小区编号"], tickets)
    assert run(db, "tickets", "ingest", str(data)).returncode == 0
    return db


def test_rank_csv_holds_no_raw_formula(hostile_district):
    result = run(hostile_district, "rank", "--format", "csv", "--window", "2023-01:2023-12")
    assert result.returncode == 0, result.stderr
    assert _raw_formulas(result.stdout) == []
    rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"), newline="")))
    assert len(rows) == len(HOSTILE_NAMES)
    # the names are all there, each behind the apostrophe that makes Excel show it as text
    assert '\'=HYPERLINK("http://x","y")' in {r["name"] for r in rows}
    assert all(r["name"].startswith("'") for r in rows)


@pytest.mark.parametrize("to", ["stdout", "file"])
def test_ticket_export_csv_holds_no_raw_formula(hostile_district, tmp_path, to):
    if to == "stdout":
        text = run(hostile_district, "tickets", "export").stdout
    else:
        out = tmp_path / "export.csv"
        assert run(hostile_district, "tickets", "export", "--out", str(out)).returncode == 0
        text = out.read_text(encoding="utf-8-sig")
    assert _raw_formulas(text) == []
    contents = {r["content"] for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))}
    assert "'" + HOSTILE_NAMES[0] in contents


def test_ticket_export_parquet_keeps_text_verbatim(hostile_district, tmp_path):
    out = tmp_path / "export.parquet"
    assert (
        run(hostile_district, "tickets", "export", "--format", "parquet", "--out", str(out)).returncode == 0
    )
    assert HOSTILE_NAMES[0] in set(pd.read_parquet(out)["content"])  # data for programs: unchanged


# ---------------------------------------------------------------- a quote that never closes


def _quote_file(path: Path, encoding: str) -> Path:
    """One good row, a row whose content opens a quote it never closes, then 1,000 rows."""
    rows = ticket_rows(0, 1002)
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(TICKET_HEADERS)
    writer.writerows(rows)
    lines = text.getvalue().split("\n")
    lines[2] = lines[2].replace("楼道灯坏了", '"楼道灯坏了', 1)  # line 3 of the file
    path.write_bytes("\n".join(lines).encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_unclosed_quote_is_refused_naming_its_line_and_nothing_is_half_imported(district, tmp_path, encoding):
    good = write_csv(tmp_path / "good.csv", TICKET_HEADERS, ticket_rows(5000, 5))
    bad = _quote_file(tmp_path / "bad.csv", encoding)
    before = run(district, "tickets", "export").stdout
    result = run(district, "tickets", "ingest", str(bad), str(good))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith(f"{bad}: ")]  # one line for it
    assert "第 3 行" in line and "line 3 " in line
    assert "1,000" in line and "引号" in line and "quote" in line
    # the good file still loads; from the bad one, not a single row
    [loaded] = [json.loads(x) for x in result.stdout.splitlines()]
    assert (loaded["file"], loaded["inserted"]) == ("good.csv", 5)
    after = run(district, "tickets", "export").stdout
    assert len(after.splitlines()) == len(before.splitlines()) + 5
    assert "T00001" not in after and "T01001" not in after


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_quoted_content_over_three_lines_loads(district, tmp_path, encoding):
    rows = ticket_rows(0, 30)
    rows[10][2] = "第一行，灯坏了, 没人修\n第二行\n第三行"
    rows[20][2] = "一、门禁坏了\r\n二、电梯停运, 三天了"
    data = write_csv(tmp_path / "multi.csv", TICKET_HEADERS, rows, encoding=encoding)
    result = run(district, "tickets", "ingest", str(data))
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert (line["rows_read"], line["inserted"], line["rejected"]) == (30, 30, 0)


# ---------------------------------------------------------------- workbooks with several sheets


def _workbook(path: Path, sheets: dict[str, list[list[str]] | None], headers: list[str]) -> Path:
    with pd.ExcelWriter(path, engine="xlsxwriter") as xl:
        for name, rows in sheets.items():
            if rows is None:
                xl.book.add_worksheet(name)  # an empty cover sheet
            else:
                pd.DataFrame(rows, columns=headers).to_excel(xl, sheet_name=name, index=False)
    return path


def test_ingest_names_the_sheet_read_and_the_others(district, tmp_path):
    book = _workbook(
        tmp_path / "工单.xlsx",
        {"封面": None, "七月": ticket_rows(0, 6), "八月": ticket_rows(100, 4)},
        TICKET_HEADERS,
    )
    result = run(district, "tickets", "ingest", str(book))
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert (line["sheet"], line["other_sheets"], line["inserted"]) == ("七月", ["封面", "八月"], 6)
    [note] = [x for x in result.stderr.splitlines() if "八月" in x]
    assert note.startswith(str(book)) and "七月" in note and "--sheet" in note and "other sheets" in note

    chosen = run(district, "tickets", "ingest", str(book), "--sheet", "八月")
    assert (json.loads(chosen.stdout)["sheet"], json.loads(chosen.stdout)["other_sheets"]) == (
        "八月",
        ["封面", "七月"],
    )


def test_one_sheet_workbook_gets_no_note(district, tmp_path):
    book = _workbook(tmp_path / "one.xlsx", {"工单": ticket_rows(0, 3)}, TICKET_HEADERS)
    result = run(district, "tickets", "ingest", str(book))
    assert result.returncode == 0, result.stderr
    assert "other sheets" not in result.stderr and "工作表" not in result.stderr
    assert (json.loads(result.stdout)["sheet"], json.loads(result.stdout)["other_sheets"]) == ("工单", [])


def test_registry_import_names_the_sheet_read(tmp_path):
    db = tmp_path / "reg.duckdb"
    book = _workbook(
        tmp_path / "名册.xlsx",
        {"说明": None, "名册": REGISTRY_ROWS, "旧名册": REGISTRY_ROWS[:1]},
        REGISTRY_HEADERS,
    )
    result = run(db, "compounds", "import", str(book))
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert (line["sheet"], line["other_sheets"], line["added"]) == ("名册", ["说明", "旧名册"], 3)
    assert "旧名册" in result.stderr and len(result.stderr.splitlines()) == 1


# ---------------------------------------------------------------- every error is one line


def _labelled_rows(extra: list[tuple[str, str]], classes: int = 3) -> list[list[str]]:
    """90 varied labelled tickets in `classes` categories, plus (category, text) extras."""
    rows = []
    names = list(CATEGORY_TEXTS)[:classes]
    for k in range(90):
        category = names[k % classes]
        text = CATEGORY_TEXTS[category][k % 3] + f"，第{k}次反映，地址翠华苑{k % 9 + 1}号楼"
        rows.append([f"L{k:04d}", "2023-05-01 09:00:00", text, category, "翠华苑", "", "", "", ""])
    for j, (category, text) in enumerate(extra):
        rows.append([f"X{j:04d}", "2023-05-02 09:00:00", text, category, "翠华苑", "", "", "", ""])
    return rows


# an elevator category of six tickets that are two texts: too few distinct examples to learn it
THIN = [("电梯", "电梯困人")] * 4 + [("电梯", "电梯停运一周没人管")] * 2


def test_categories_train_leaves_out_a_class_too_small_for_the_folds_and_says_so(district, tmp_path):
    data = write_csv(tmp_path / "l.csv", TICKET_HEADERS, _labelled_rows(THIN))
    assert run(district, "tickets", "ingest", str(data)).returncode == 0
    result = run(district, "categories", "train")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["excluded_classes"] == ["电梯"] and "电梯" not in scores["classes"]
    [detail] = scores["excluded_detail"]
    assert detail["category"] == "电梯" and detail["tickets"] == 6 and "fold" in detail["reason"]
    [note] = result.stderr.strip().splitlines()
    assert "电梯（6）" in note and "left out" in note


def _empty_store(tmp_path: Path) -> Path:
    db = tmp_path / "empty.duckdb"
    assert run(db, "init").returncode == 0
    return db


def _one_class_left(tmp_path: Path) -> Path:
    db = _empty_store(tmp_path)
    data = write_csv(tmp_path / "l.csv", TICKET_HEADERS, _labelled_rows(THIN, classes=1))
    assert run(db, "tickets", "ingest", str(data)).returncode == 0
    return db


def _tickets_store(tmp_path: Path) -> Path:
    db = _empty_store(tmp_path)
    assert (
        run(
            db, "tickets", "ingest", str(write_csv(tmp_path / "t.csv", TICKET_HEADERS, ticket_rows(0, 50)))
        ).returncode
        == 0
    )
    return db


def _registry_store(tmp_path: Path) -> Path:
    db = _empty_store(tmp_path)
    reg = write_csv(tmp_path / "registry.csv", REGISTRY_HEADERS, REGISTRY_ROWS)
    assert run(db, "compounds", "import", str(reg)).returncode == 0
    return db


# (what is wrong, how the store is made, arguments: {tmp} is the test's folder, {dir} a folder
# there, {bad_json} a malformed mapping, {reg} a small registry CSV, {tf} a task-force list of C001;
# stdin; text the line must hold)
BAD_INPUTS = [
    ("compounds import: missing file", _empty_store, "compounds import {tmp}/nope.csv", None, "nope.csv"),
    ("compounds import: a directory", _empty_store, "compounds import {dir}", None, "dir"),
    (
        "compounds import: malformed mapping",
        _empty_store,
        "compounds import {reg} --mapping {bad_json}",
        None,
        "JSON",
    ),
    ("tickets ingest: missing file", _empty_store, "tickets ingest {tmp}/nope.csv", None, "nope.csv"),
    ("tickets ingest: a directory", _empty_store, "tickets ingest {dir}", None, "dir"),
    (
        "tickets ingest: malformed mapping",
        _empty_store,
        "tickets ingest {reg} --mapping {bad_json}",
        None,
        "JSON",
    ),
    (
        "tickets ingest: mapping is a directory",
        _empty_store,
        "tickets ingest {reg} --mapping {dir}",
        None,
        "mapping",
    ),
    (
        "tickets ingest: mapping not found",
        _empty_store,
        "tickets ingest {reg} --mapping {tmp}/no.json",
        None,
        "no.json",
    ),
    ("tickets ingest: unknown profile", _empty_store, "tickets ingest {reg} --profile 没有", None, "没有"),
    (
        "tickets export: unwritable /proc",
        _empty_store,
        "tickets export --out /proc/x.csv",
        None,
        "/proc/x.csv",
    ),
    (
        "tickets export: parquet to /proc",
        _empty_store,
        "tickets export --format parquet --out /proc/x.parquet",
        None,
        "/proc",
    ),
    ("tickets export: onto a directory", _empty_store, "tickets export --out {dir}", None, "directory"),
    ("tickets export: parquet without --out", _empty_store, "tickets export --format parquet", None, "--out"),
    ("tickets undo: no such batch", _empty_store, "tickets undo 999", None, "999"),
    ("tickets undo: not a number", _empty_store, "tickets undo x", None, "BATCH_ID"),
    ("categories train: empty store", _empty_store, "categories train", None, "50"),
    ("categories train: one class left", _one_class_left, "categories train", None, "电梯"),
    ("categories predict: no model", _empty_store, "categories predict", None, "categories train"),
    ("taskforces import: missing file", _empty_store, "taskforces import {tmp}/nope.csv", None, "nope.csv"),
    (
        "taskforces import: bad window",
        _empty_store,
        "taskforces import {reg} --selection-window 2023-13",
        None,
        "2023-13",
    ),
    (
        "taskforces import: malformed mapping",
        _empty_store,
        "taskforces import {reg} --mapping {bad_json}",
        None,
        "JSON",
    ),
    ("taskforces import: no window", _registry_store, "taskforces import {tf}", None, "--selection-window"),
    (
        "taskforces import: no such snapshot",
        _tickets_store,
        "taskforces import {tf} --snapshot 99",
        None,
        "99",
    ),
    ("rank: empty store", _empty_store, "rank", None, ""),
    ("rank: bad window", _tickets_store, "rank --window 2023-13:2023-01", None, "2023-13"),
    ("rank: window ends first", _tickets_store, "rank --window 2023-12:2023-01", None, "2023-12"),
    ("rank: window without tickets", _tickets_store, "rank --window 2030-01:2030-12", None, ""),
    ("rank: --top 0", _tickets_store, "rank --top 0", None, "--top"),
    ("rank: --top not a number", _tickets_store, "rank --top many", None, "many"),
    ("rank: --limit -1", _tickets_store, "rank --limit -1", None, "--limit"),
    ("rank: unknown format", _tickets_store, "rank --format xml", None, "xml"),
    ("effects: empty store", _empty_store, "effects", None, ""),
    ("users add: no password", _empty_store, "users add wang --role admin", "\n", ""),
    ("users add: unknown role", _empty_store, "users add wang --role boss", "long-enough-pass\n", "boss"),
    ("demo: negative seed", _empty_store, "demo --seed -1", None, "--seed"),
    ("no command at all", _empty_store, "", None, "COMMAND"),
    ("a group without its action", _empty_store, "tickets", None, "ACTION"),
    ("store is a directory", _empty_store, "--db {dir} init", None, "dir"),
]


@pytest.mark.parametrize(
    ("case", "make_store", "args", "stdin", "expected"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_one_bilingual_line_exit_2(tmp_path, case, make_store, args, stdin, expected):
    db = make_store(tmp_path)
    (tmp_path / "dir").mkdir()
    (tmp_path / "bad.json").write_text('{"ticket_id": ', encoding="utf-8")
    reg = write_csv(tmp_path / "reg.csv", REGISTRY_HEADERS, REGISTRY_ROWS)
    tf = write_csv(
        tmp_path / "tf.csv", ["小区编号", "包保领导", "进驻日期"], [["C001", "张三", "2023-07-01"]]
    )
    argv = args.format(
        tmp=tmp_path, dir=tmp_path / "dir", bad_json=tmp_path / "bad.json", reg=reg, tf=tf
    ).split()
    if argv[:1] == ["--db"]:
        db, argv = Path(argv[1]), argv[2:]
    result = run(db, *argv, stdin=stdin)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert re.search(r"[\u4e00-\u9fff]", lines[0]) and re.search(r" / .*[A-Za-z]{3}", lines[0]), lines[0]


def _leaf_commands() -> list[list[str]]:
    parser = build_parser()
    found: list[list[str]] = []

    def walk(p, prefix: list[str]) -> None:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found.append(prefix)
            return
        for name, child in subs[0].choices.items():
            walk(child, [*prefix, name])

    walk(parser, [])
    return found


# the least each command needs to get as far as opening the store
REQUIRED = {"compounds import": ["x.csv"], "tickets ingest": ["x.csv"], "tickets undo": ["1"],
            "taskforces import": ["x.csv"], "users add": ["wang", "--role", "admin"]}  # fmt: skip


@pytest.mark.parametrize("command", _leaf_commands(), ids=" ".join)
def test_every_command_on_a_store_that_cannot_be_opened_is_one_line(tmp_path, command):
    result = run(
        Path("/proc/no/store.duckdb"),
        *command,
        *REQUIRED.get(" ".join(command), []),
        stdin="long-enough-pass\n",
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def _stdout_closed() -> None:
    os.close(1)


@pytest.mark.parametrize(("debug", "traceback"), [("", False), ("1", True)])
def test_an_unforeseen_failure_is_one_line_unless_debugging(district, debug, traceback):
    """With its standard output closed, `tickets export` meets a state no code path expects."""
    env = {**os.environ, "HOTLINE_DEBUG": debug}
    result = run(district, "tickets", "export", preexec_fn=_stdout_closed, env=env)
    assert result.returncode == 2
    assert ("Traceback" in result.stderr) is traceback
    assert "unexpected error" in result.stderr and "意外错误" in result.stderr
    if not traceback:
        assert len(result.stderr.strip().splitlines()) == 1 and "HOTLINE_DEBUG=1" in result.stderr
