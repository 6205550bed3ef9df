"""The batch interface end to end, as analysts' scripts call it: real processes, real files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.fixtures.apptest import REGISTRY_HEADERS
from tests.fixtures.cli import run, write_csv

ROOT = Path(__file__).resolve().parents[2]

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
        {"file", "rows_read", "inserted", "duplicates", "rejected", "unmatched", "batch_id"}
    ] * 2
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
