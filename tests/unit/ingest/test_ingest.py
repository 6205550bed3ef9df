"""Ticket uploads end to end on real DuckDB files: counts, dedup, updates, undo, privacy."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import FileRejected, NotFound, ValidationError
from analytics.ingest import pipeline as ingest
from analytics.store import db
from benchmarks.gen_tickets import make_compounds, make_tickets, write_csv

pytestmark = pytest.mark.backends

HEADERS = [
    "工单编号",
    "受理时间",
    "来电号码",
    "来电人",
    "诉求内容",
    "诉求地址",
    "小区",
    "诉求类型",
    "办结时间",
    "满意度",
    "工单状态",
]
ROWS = [
    ["A001", "2023-07-01 08:30:00", "13812345678", "张三", "楼道灯坏了，请联系13812345678", "沂蒙路1号青松苑3号楼", "", "物业管理", "2023-07-03 10:00", "满意", "已办结"],
    ["A002", "2023/7/2 9:15", "139 8765 4321", "李四", "夜间施工\t噪音扰民\n严重", "解放路8号翡翠家园", "", "噪音扰民", "", "", "办理中"],
    ["A003", "2023年7月3日 8时30分", "+86 15011112222", "王五", "停水三天", "", "LS0001", "供水", "", "未回访", "退回重办"],
]  # fmt: skip
PHONES = ("13812345678", "98765432", "15011112222")


def _csv(path: Path, rows=ROWS, headers=HEADERS, encoding="utf-8", sep=",") -> Path:
    pd.DataFrame(rows, columns=headers).to_csv(path, index=False, encoding=encoding, sep=sep)
    return path


@pytest.fixture
def registry(store):
    comp = make_compounds(30)
    comp.loc[0, "name"], comp.loc[1, "name"] = "青松苑", "翡翠家园"
    with db.transaction(store) as cur:
        cur.register("c", comp)
        cur.execute(
            "INSERT INTO compounds (compound_id, name, subdistrict) SELECT compound_id, name, subdistrict FROM c"
        )
    return store


def _tickets(con) -> pd.DataFrame:
    return db.query_df(con, "SELECT * EXCLUDE (batch_id, updated_batch_id) FROM tickets ORDER BY ticket_id")


def _balanced(r: ingest.IngestResult) -> bool:
    j = r.as_json()
    return (
        r.rows_read == r.inserted + r.updated + r.duplicates + r.rejected
        and j["rows_read"] == j["inserted"] + j["duplicates"] + j["rejected"]
    )


def test_ingest_values_are_parsed_and_compounds_assigned(registry, tmp_path):
    r = ingest.ingest_file(registry, _csv(tmp_path / "t.csv"), user="ana")
    assert (r.rows_read, r.inserted, r.rejected, r.unmatched) == (3, 3, 0, 0)
    assert set(r.as_json()) == {
        "file",
        "rows_read",
        "inserted",
        "duplicates",
        "rejected",
        "unmatched",
        "batch_id",
    }
    t = _tickets(registry).set_index("ticket_id")
    assert t.loc["A002", "created_at"] == pd.Timestamp("2023-07-02 09:15")
    assert t.loc["A003", "created_at"] == pd.Timestamp("2023-07-03 08:30")
    assert t.loc["A002", "content"] == "夜间施工 噪音扰民 严重"
    assert t.loc["A001", "content"] == "楼道灯坏了，请联系********"  # no digit of it kept
    assert t.loc["A001", "compound_id"] == "LS0001"  # by address
    assert (t.loc["A003", "compound_id"], t.loc["A003", "match_method"], t.loc["A003", "match_score"]) == (
        "LS0001",
        "id",
        1.0,
    )
    assert t.loc["A002", "compound_id"] == "LS0002"
    assert t["satisfied"].tolist()[0] is True and pd.isna(t.loc["A003", "satisfied"])
    assert t["reopened"].tolist() == [False, False, True]
    assert t["category_source"].tolist() == ["given"] * 3
    assert t["caller_hash"].str.len().tolist() == [64] * 3


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [
        ("utf-8-sig", ","),
        ("gbk", ","),
        ("gb18030", ","),
        ("utf-8", "\t"),
        ("gbk", "\t"),
        ("utf-8", ";"),
        ("utf-16", "\t"),
    ],
)
def test_encodings_and_delimiters_give_identical_stores(tmp_path, monkeypatch, encoding, sep):
    monkeypatch.setenv("HOTLINE_CALLER_KEY", "ab" * 32)  # one caller key for both stores
    stores = []
    for enc, s in (("utf-8", ","), (encoding, sep)):
        con = db.connect(tmp_path / f"{enc}{ord(s)}.duckdb")
        with db.transaction(con) as cur:  # same salt, so caller hashes are comparable
            db.set_setting(cur, "caller_salt", "fixed")
        r = ingest.ingest_file(con, _csv(tmp_path / f"{enc}{ord(s)}.csv", encoding=enc, sep=s))
        assert r.inserted == 3
        stores.append(_tickets(con))
        con.close()
    pd.testing.assert_frame_equal(stores[0], stores[1])


def test_xlsx_and_csv_give_identical_stores(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_CALLER_KEY", "ab" * 32)  # one caller key for both stores
    frames = []
    for suffix in ("csv", "xlsx"):
        con = db.connect(tmp_path / f"{suffix}.duckdb")
        with db.transaction(con) as cur:
            db.set_setting(cur, "caller_salt", "fixed")
        path = tmp_path / f"t.{suffix}"
        df = pd.DataFrame(ROWS, columns=HEADERS)
        df.to_csv(path, index=False) if suffix == "csv" else df.to_excel(path, index=False)
        r = ingest.ingest_file(con, path)
        assert (r.inserted, r.sheet) == (3, "Sheet1" if suffix == "xlsx" else None)
        frames.append(_tickets(con))
        con.close()
    pd.testing.assert_frame_equal(frames[0], frames[1])


BAD_ROWS = [
    (["", "2023-07-01 08:00"], "缺少工单编号"),
    (["B2", ""], "缺少受理时间"),
    (["B3", "上周三"], "受理时间无法识别"),
    (["B4", "1999-12-31 23:00"], "受理时间超出合理范围"),
    (["B5", "2099-01-01 00:00"], "受理时间超出合理范围"),
    (["B6", "2023-07-05 08:00", "2023-07-01 08:00"], "办结时间早于受理时间"),
]


def test_validation_reasons_and_rejected_rows_keep_row_numbers(store, tmp_path):
    rows = [["OK1", "2023-07-01 08:00", ""]] + [(r + [""])[:3] for r, _ in BAD_ROWS]
    path = _csv(tmp_path / "bad.csv", rows, ["工单编号", "受理时间", "办结时间"])
    r = ingest.ingest_file(store, path)
    assert (r.rows_read, r.inserted, r.rejected) == (7, 1, 6)
    rejected = ingest.rejected_rows(store, r.batch_id)
    assert rejected["reason"].tolist() == [why for _, why in BAD_ROWS]
    assert rejected["row_number"].tolist() == [2, 3, 4, 5, 6, 7]
    assert json.loads(rejected["raw"].iloc[2]) == {"工单编号": "B3", "受理时间": "上周三", "办结时间": None}
    assert r.reasons == {"缺少工单编号": 1, "缺少受理时间": 1, "受理时间无法识别": 1, "受理时间超出合理范围": 2,
                         "办结时间早于受理时间": 1}  # fmt: skip


def test_ingest_twice_second_run_is_all_duplicates(store, tmp_path):
    path = write_csv(make_tickets(300, make_compounds(50)), tmp_path / "t.csv")
    first = ingest.ingest_file(store, path)
    second = ingest.ingest_file(store, path)
    assert (first.inserted, first.duplicates) == (300, 0)
    assert (second.inserted, second.updated, second.duplicates) == (0, 0, 300)
    assert second.as_json()["duplicates"] == 300 and _balanced(first) and _balanced(second)
    assert db.query_one(store, "SELECT count(*) FROM tickets") == 300


def test_overlapping_export_inserts_only_new_rows(store, tmp_path):
    df = make_tickets(200, make_compounds(50))
    ingest.ingest_file(store, write_csv(df.iloc[:120], tmp_path / "a.csv"))
    r = ingest.ingest_file(store, write_csv(df.iloc[80:], tmp_path / "b.csv"))
    assert (r.rows_read, r.inserted, r.duplicates, r.updated) == (120, 80, 40, 0)
    assert db.query_one(store, "SELECT count(*) FROM tickets") == 200


def test_same_ticket_twice_in_one_file_keeps_the_last(store, tmp_path):
    rows = [ROWS[0], ROWS[1], [*ROWS[0][:8], "2023-07-02 12:00", "不满意", "已办结"]]
    r = ingest.ingest_file(store, _csv(tmp_path / "d.csv", rows))
    assert (r.rows_read, r.inserted, r.duplicates) == (3, 2, 1)
    assert db.query_one(store, "SELECT satisfaction FROM tickets WHERE ticket_id = 'A001'") == "不满意"


def test_changed_version_updates_and_undo_restores(store, tmp_path):
    first = ingest.ingest_file(store, _csv(tmp_path / "v1.csv"))
    before = _tickets(store)
    later = [list(r) for r in ROWS]
    later[1][8:11] = ["2023-07-04 18:00", "不满意", "已办结"]  # A002 now closed and rated
    second = ingest.ingest_file(store, _csv(tmp_path / "v2.csv", later))
    assert (second.inserted, second.updated, second.duplicates) == (0, 1, 2)
    assert second.as_json()["duplicates"] == 3
    row = db.query_df(
        store, "SELECT satisfied, closed_at, updated_batch_id FROM tickets WHERE ticket_id = 'A002'"
    )
    assert row.iloc[0].tolist() == [False, pd.Timestamp("2023-07-04 18:00"), second.batch_id]
    assert (
        db.query_one(
            store, "SELECT count(*) FROM ticket_history WHERE replaced_by_batch = ?", [second.batch_id]
        )
        == 1
    )
    # the first batch cannot be undone while a later one changed its tickets
    with pytest.raises(ValidationError, match=str(second.batch_id)):
        ingest.undo_batch(store, first.batch_id)
    assert ingest.undo_batch(store, second.batch_id, user="ana") == {
        "batch_id": second.batch_id, "removed": 0, "restored": 1}  # fmt: skip
    pd.testing.assert_frame_equal(_tickets(store), before)
    assert db.query_one(store, "SELECT count(*) FROM ticket_history") == 0
    assert ingest.batches(store).set_index("batch_id").loc[second.batch_id, "status"] == "undone"
    with pytest.raises(ValidationError):
        ingest.undo_batch(store, second.batch_id)


def test_undo_of_pure_insert_batch_removes_it(store, tmp_path):
    ingest.ingest_file(store, _csv(tmp_path / "a.csv", ROWS[:1]))
    r = ingest.ingest_file(store, _csv(tmp_path / "b.csv"))
    assert r.inserted == 2
    assert ingest.undo_batch(store, r.batch_id)["removed"] == 2
    assert db.query_df(store, "SELECT ticket_id FROM tickets")["ticket_id"].tolist() == ["A001"]
    with pytest.raises(NotFound):
        ingest.undo_batch(store, 999)
    # the undone file can be loaded again
    assert ingest.ingest_file(store, _csv(tmp_path / "b.csv")).inserted == 2


def _zip_of_text(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "空文件"),
        (lambda p: p.write_bytes(bytes(range(256)) * 20), "二进制"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100), "PNG"),
        (lambda p: _csv(p, [r[2:] for r in ROWS], HEADERS[2:]), "缺少必需的列"),
        (lambda p: _csv(p, [], HEADERS), "没有数据行"),
        (lambda p: _zip_of_text(p.with_suffix(".xlsx")).rename(p), "不是 Excel"),
    ],
)
def test_failing_files_are_rejected_and_change_nothing(store, tmp_path, make, message):
    ingest.ingest_file(store, _csv(tmp_path / "seed.csv"))
    before = db.table_counts(store)
    path = tmp_path / "upload.csv"
    make(path)
    with pytest.raises(FileRejected, match=message) as info:
        ingest.ingest_file(store, path)
    assert db.table_counts(store) == before
    if message == "缺少必需的列":  # names the fields and lists the headers found
        assert "工单编号" in info.value.zh and "诉求内容" in info.value.zh


def test_mapping_naming_absent_header_is_rejected(store, tmp_path):
    with pytest.raises(FileRejected, match="留言编号"):
        ingest.ingest_file(store, _csv(tmp_path / "t.csv"), mapping={"ticket_id": "留言编号"})


def test_phone_numbers_and_names_never_stored(store, tmp_path):
    rows = [*ROWS, ["", "2023-07-01", "13812345678", "张三", "缺编号的行", "", "", "", "", "", ""]]
    r = ingest.ingest_file(store, _csv(tmp_path / "t.csv", rows), user="ana")
    assert r.rejected == 1
    texts = []
    for table in db.table_counts(store):
        df = db.query_df(store, f'SELECT * FROM "{table}"')
        texts += [str(v) for v in df.to_numpy().ravel().tolist()]
    blob = "\n".join(texts)
    for secret in (*PHONES, "8765 4321", "张三", "李四", "王五"):
        assert secret not in blob
    raw = json.loads(ingest.rejected_rows(store, r.batch_id)["raw"].iloc[0])
    assert raw["来电号码"] == "********" and "来电人" not in raw


def test_dry_run_reports_counts_and_writes_nothing(store, tmp_path):
    ingest.ingest_file(store, _csv(tmp_path / "a.csv", ROWS[:2]))
    before = db.table_counts(store)
    later = [list(r) for r in ROWS]
    later[0][9] = "不满意"
    r = ingest.ingest_file(store, _csv(tmp_path / "b.csv", [*later, ["", "x"] + [""] * 9]), dry_run=True)
    assert (r.rows_read, r.inserted, r.updated, r.duplicates, r.rejected, r.batch_id) == (4, 1, 1, 1, 1, None)
    assert db.table_counts(store) == before


def test_preview_suggests_mapping_and_drops_names(tmp_path):
    p = ingest.preview_file(_csv(tmp_path / "t.csv"), n=2)
    assert p.mapping["ticket_id"] == "工单编号" and p.missing_required == []
    assert "来电人" in p.dropped_headers and "来电人" not in p.rows.columns and len(p.rows) == 2
    q = ingest.preview_file(_csv(tmp_path / "u.csv", [r[2:] for r in ROWS], HEADERS[2:]))
    assert q.missing_required == ["ticket_id", "created_at"]


def test_batches_history_and_progress(store, tmp_path):
    seen = []
    r = ingest.ingest_file(store, _csv(tmp_path / "t.csv"), user="ana", file_name="七月.csv",
                           progress=lambda f, m: seen.append(f))  # fmt: skip
    b = ingest.batches(store).iloc[0]
    assert (b["file_name"], b["user"], b["rows_read"], b["inserted"], b["status"]) == (
        "七月.csv",
        "ana",
        3,
        3,
        "committed",
    )
    assert json.loads(b["mapping"])["ticket_id"] == "工单编号" and len(b["sha256"]) == 64
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert db.query_one(store, "SELECT count(*) FROM audit_log WHERE action = 'tickets.ingest'") == 1
    assert r.batch_id == b["batch_id"]


NAME_HEADERS = ["联系人姓名", "投诉人姓名", "市民姓名", "来电人名称"]
NAMES = ["赵一鸣", "钱二丫", "孙三娘", "李四海"]


def _named_rows() -> list[list[str]]:
    """Two kept tickets and one rejected (no ticket number), each with four callers' names."""
    return [
        ["N1", "2023-07-01 08:30:00", "幺三八幺二三四五六七八", "小区名称一", "路灯不亮", *NAMES],
        ["N2", "2023-07-02 08:30:00", "138 1234 5678", "小区名称二", "噪音", *NAMES],
        ["", "2023-07-03 08:30:00", "一三八 1234 五六七八", "小区名称三", "漏水", *NAMES],
    ]


def test_names_under_any_name_header_are_never_stored(store, tmp_path):
    headers = ["工单编号", "受理时间", "联系电话", "小区名称", "诉求内容", *NAME_HEADERS]
    path = _csv(tmp_path / "names.csv", _named_rows(), headers)
    preview = ingest.preview_file(path)
    assert preview.dropped_headers == NAME_HEADERS
    assert not set(NAME_HEADERS) & set(preview.rows.columns)
    assert not any(n in preview.rows.to_string() for n in NAMES)
    r = ingest.ingest_file(store, path, user="ana")
    assert (r.inserted, r.rejected, r.dropped_personal_columns) == (2, 1, NAME_HEADERS)
    assert r.mapping["compound"] == "小区名称"  # a place's name is not a person's
    blob = "\n".join(
        str(v)
        for table in db.table_counts(store)
        for v in db.query_df(store, f'SELECT * FROM "{table}"').to_numpy().ravel().tolist()  # noqa: S608
    )
    for secret in (*NAMES, *NAME_HEADERS, "幺三八幺二三四五六七八", "一三八 1234 五六七八", "138 1234 5678"):
        assert secret not in blob
    raw = json.loads(ingest.rejected_rows(store, r.batch_id)["raw"].iloc[0])
    # a phone cell is masked whole, however it is spelt
    assert raw == {"工单编号": None, "受理时间": "2023-07-03 08:30:00", "联系电话": "********",
                   "小区名称": "小区名称三", "诉求内容": "漏水"}  # fmt: skip


def test_cli_says_which_columns_were_dropped_as_personal_data(tmp_path):
    headers = ["工单编号", "受理时间", "联系电话", "小区名称", "诉求内容", *NAME_HEADERS]
    path = _csv(tmp_path / "names.csv", _named_rows(), headers)
    root = Path(__file__).resolve().parents[3]
    run = subprocess.run(
        [sys.executable, "-m", "analytics", "--db", str(tmp_path / "s.duckdb"), "tickets", "ingest", str(path)],
        cwd=root, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["inserted"] == 2
    [line] = run.stderr.strip().splitlines()
    assert "个人信息" in line and "personal" in line and all(h in line for h in NAME_HEADERS)
    assert not any(n in run.stdout + run.stderr for n in NAMES)


def test_mapping_a_field_onto_a_name_column_is_refused(store, tmp_path):
    headers = ["工单编号", "受理时间", "联系电话", "小区名称", "诉求内容", *NAME_HEADERS]
    path = _csv(tmp_path / "names.csv", _named_rows(), headers)
    before = db.table_counts(store)
    with pytest.raises(FileRejected, match="市民姓名"):
        ingest.ingest_file(store, path, mapping={"title": "市民姓名"})
    assert db.table_counts(store) == before


# ---------------------------------------------------------------- matching through name-part keys
#
# An upload matches each address through its key (matching.bulk.stage_matches): SQL replaces
# the building tail by a canonical one. Both checks below hold that against the matcher itself.

KEY_CASES = [
    "翠华苑3号楼2单元401室",
    "兰山区翠华苑３号楼２单元",  # full-width digits in the tail
    "翠华苑十3号楼",  # a numeral before the number: not cut
    "沂蒙路88号翠华苑3号楼",  # a road number stays in the head
    "沂蒙路3号楼2单元",  # a number right after a road word
    "柳青街道3号楼",  # the name part is only a subdistrict: the tail is kept
    "兰山街道5栋",
    "苑3号楼",  # too short a head
    "3号楼",
    "翠华苑1号楼",  # already the key
    "阳光花园5栋银雀山街道",  # the subdistrict after the tail
    "翠华苑3号楼B座",
    "翠华苑A3号楼",
    "翠华苑3-2-401室",
    "翠华苑二期3号楼1单元",
    "翠华苑3号楼2单元401室'",
    "翠华苑 3号楼",
    "",
    "号楼",
]


def _hard_store(store, seed: int, community_suffix: str = ""):
    """A store holding a hard_addresses registry (subdistricts, communities, aliases) and that
    world's addresses, each also with building tails."""
    from analytics.synthetic.hard_addresses import alias_rows, hard_world

    registry, cases = hard_world("A", seed, n_compounds=120)
    registry["community"] = registry["community"] + community_suffix
    with db.transaction(store) as cur:
        cur.register("reg", registry.drop(columns=["aliases"]))
        cur.register("al", alias_rows(registry))
        cur.execute("INSERT INTO subdistricts SELECT DISTINCT subdistrict FROM reg")
        cur.execute("INSERT INTO communities SELECT DISTINCT community, subdistrict FROM reg")
        cur.execute(
            "INSERT INTO compounds (compound_id, name, community, subdistrict) "
            "SELECT compound_id, name, community, subdistrict FROM reg"
        )
        cur.execute(
            "INSERT INTO compound_aliases (alias, compound_id) SELECT DISTINCT alias, compound_id FROM al"
        )
    tails = ["3号楼2单元401室", "12栋", "5号楼", "A座", "7号楼东门", "2单元", "３号楼"]
    addresses = list(cases["address"])
    addresses += [a + tails[i % len(tails)] for i, a in enumerate(cases["address"])]
    addresses += [f"{registry.loc[i % len(registry), 'community']}{i % 9 + 1}号楼" for i in range(60)]
    addresses += [f"{registry.loc[i % len(registry), 'subdistrict']}{i % 9 + 1}号楼1单元" for i in range(60)]
    return addresses + KEY_CASES


@pytest.mark.parametrize("seed", [100, 101])
def test_an_address_key_has_the_name_part_of_its_address(store, seed):
    """Where the key is cut (and its name part does not keep the tail), name_part of the key is
    name_part of the address: generated exports, the hard addresses of analytics.synthetic and
    hand-written cases."""
    from analytics.ingest.matching import bulk
    from analytics.ingest.matching.index import load_registry
    from analytics.ingest.matching.normalise import name_part

    addresses = _hard_store(store, seed)
    addresses += make_tickets(3000, make_compounds(200), seed=seed, realistic=True)["诉求地址"].tolist()
    addresses += make_tickets(1000, make_compounds(200), seed=seed, addresses=500)["诉求地址"].tolist()
    reg = load_registry(store)
    assert bulk._tail_safe(reg.admin)
    store.register("frame", pd.DataFrame({"address": addresses}))
    keys = store.execute(f"SELECT {bulk.match_key_sql('address')} FROM frame").fetchall()
    cut = [(a, k) for a, (k,) in zip(addresses, keys, strict=True) if k != a]
    held = set(bulk._keeps_tail(reg, [k for _, k in cut]))
    checked = [(a, k) for a, k in cut if k not in held]
    assert len(checked) > len(addresses) / 2  # most addresses do share a key
    for address, key in checked:
        assert name_part(key, reg.admin) == name_part(address, reg.admin), (address, key)
    assert "柳青街道1号楼" in held or "兰山街道1栋" in held  # a name part that is only a subdistrict


@pytest.mark.parametrize(("seed", "community_suffix"), [(102, ""), (103, "东楼")])
def test_staged_matches_equal_matching_each_address(store, seed, community_suffix):
    """stage_matches answers exactly what prepare_matches answers for each address, also when a
    community name ends like a tail (no tail is cut then) and with some addresses cached."""
    from analytics.ingest.matching import bulk

    addresses = _hard_store(store, seed, community_suffix)
    addresses += make_tickets(2000, make_compounds(), seed=seed, realistic=True)["诉求地址"].tolist()
    assert bulk._tail_safe(bulk.load_registry(store).admin) == (community_suffix == "")
    bulk.match_addresses(store, addresses[::50])  # a cache to be read
    expected = bulk.prepare_matches(store, addresses).set_index("address").sort_index()
    cur = store.cursor()
    cur.register("frame", pd.DataFrame({"address": addresses + ["  " + addresses[0], None]}))
    bulk.stage_matches(cur, "SELECT address FROM frame", "staged")
    got = cur.execute("SELECT * FROM staged").df().set_index("address").sort_index()
    assert got.index.tolist() == expected.index.tolist()
    assert got["fresh"].tolist() == expected["fresh"].astype(bool).tolist()
    for col in ("compound_id", "match_method", "status", "candidates"):
        assert got[col].fillna("").tolist() == expected[col].fillna("").tolist(), col
    assert got["match_score"].fillna(-1).tolist() == pytest.approx(
        expected["match_score"].fillna(-1).tolist()
    )


def test_a_compound_named_only_in_the_content_is_found(registry, tmp_path):
    """No address, or one that names no compound: the content decides, and words like 小区 alone
    name nothing."""
    rows = [
        ["C001", "2023-07-01 08:30:00", "", "", "来电人反映兰山区青松苑3号楼2单元楼道灯坏了", "", "", "", "", "", ""],
        ["C002", "2023-07-01 09:30:00", "", "", "翡翠家园东门垃圾没人清运，请处理", "兰山区人民医院", "", "", "", "", ""],
        ["C003", "2023-07-01 10:30:00", "", "", "小区停水未提前通知", "", "", "", "", "", ""],
        ["C004", "2023-07-01 11:30:00", "", "", "我们小区物业不作为", "", "", "", "", "", ""],
    ]  # fmt: skip
    r = ingest.ingest_file(registry, _csv(tmp_path / "content.csv", rows=rows), user="ana")
    assert _balanced(r) and r.inserted == 4 and r.unmatched == 2
    got = _tickets(registry).set_index("ticket_id")
    names = dict(db.query_df(registry, "SELECT compound_id, name FROM compounds").values)
    assert [names.get(c) for c in got.loc[["C001", "C002"], "compound_id"]] == ["青松苑", "翡翠家园"]
    assert set(got.loc[["C001", "C002"], "match_method"]) == {"content"}
    assert got.loc[["C003", "C004"], "compound_id"].isna().all()


def test_an_upload_caches_the_addresses_waiting_for_an_analyst_and_not_the_accepted(registry, tmp_path):
    """Addresses matched automatically are answered again from their key on the next upload, so
    the cache (address_matches) holds only what the analyst may still decide; the review queue
    lists those, and a second upload of the same addresses gives the same compounds."""
    from analytics.ingest.matching import review

    def rows(prefix: str) -> list[list[str]]:
        addresses = ["青松苑3号楼2单元401室", "兰山区青松苑5号楼", "完全不同的地方88号", "完全不同的地方88号"]
        return [
            [f"{prefix}{i}", "2023-07-01 08:30:00", "", "", "诉求", a, "", "", "", "", ""]
            for i, a in enumerate(addresses)
        ]

    first = ingest.ingest_file(registry, _csv(tmp_path / "a.csv", rows=rows("A")), user="ana")
    assert _balanced(first) and first.inserted == 4 and first.unmatched == 2
    cached = db.query_df(registry, "SELECT address, status FROM address_matches")
    assert cached.to_dict("records") == [{"address": "完全不同的地方88号", "status": "unmatched"}]
    queue = review.review_queue(registry, include_unmatched=True)
    assert queue[["address", "tickets"]].to_dict("records") == [
        {"address": "完全不同的地方88号", "tickets": 2}
    ]

    second = ingest.ingest_file(registry, _csv(tmp_path / "b.csv", rows=rows("B")), user="ana")
    assert _balanced(second) and second.inserted == 4 and second.unmatched == 2
    got = _tickets(registry)
    by_address = got.groupby("address")["compound_id"].agg(lambda s: set(s.dropna()))
    qingsong = db.query_one(registry, "SELECT compound_id FROM compounds WHERE name = '青松苑'")
    assert by_address["青松苑3号楼2单元401室"] == by_address["兰山区青松苑5号楼"] == {qingsong}
    assert by_address["完全不同的地方88号"] == set()
    assert db.query_one(registry, "SELECT count(*) FROM address_matches") == 1


def test_the_address_only_a_rejected_row_carries_is_not_cached(registry, tmp_path):
    """A rejected row is not stored, so its address waits for no analyst: only the kept rows'
    unmatched addresses reach the cache and the review queue."""
    rows = [
        ["R001", "2023-07-01 08:30:00", "", "", "诉求", "完全不同的地方88号", "", "", "", "", ""],
        ["R002", "不是时间", "", "", "诉求", "另一个没有的地方9号", "", "", "", "", ""],
        ["R003", "2023-07-01 09:30:00", "", "", "诉求", "青松苑3号楼", "", "", "", "", ""],
    ]  # fmt: skip
    r = ingest.ingest_file(registry, _csv(tmp_path / "r.csv", rows=rows), user="ana")
    assert _balanced(r) and r.inserted == 2 and r.rejected == 1
    cached = db.query_df(registry, "SELECT address FROM address_matches")
    assert cached["address"].tolist() == ["完全不同的地方88号"]


def test_an_explicit_compound_or_an_address_keeps_its_compound_over_the_content(registry, tmp_path):
    """Only rows left without a compound by their value and address are matched on the text; a
    rejected row's text gives nothing to a kept row with other text."""
    rows = [
        ["D001", "2023-07-01 08:30:00", "", "", "翡翠家园东门垃圾没人清运", "青松苑3号楼", "", "", "", "", ""],
        ["D002", "2023-07-01 09:30:00", "", "", "翡翠家园东门垃圾没人清运", "", "LS0001", "", "", "", ""],
        ["D003", "2023-07-01 10:30:00", "", "", "翡翠家园东门垃圾没人清运", "", "", "", "", "", ""],
        ["D004", "不是时间", "", "", "青松苑5号楼漏水", "", "", "", "", "", ""],
    ]  # fmt: skip
    r = ingest.ingest_file(registry, _csv(tmp_path / "d.csv", rows=rows), user="ana")
    assert _balanced(r) and r.inserted == 3 and r.rejected == 1 and r.unmatched == 0
    got = _tickets(registry).set_index("ticket_id")
    names = dict(db.query_df(registry, "SELECT compound_id, name FROM compounds").values)
    assert [names[c] for c in got.loc[["D001", "D003"], "compound_id"]] == ["青松苑", "翡翠家园"]
    assert got.loc["D002", "compound_id"] == "LS0001"
    assert got.loc[["D001", "D002", "D003"], "match_method"].tolist()[2] == "content"
    assert "content" not in got.loc[["D001", "D002"], "match_method"].tolist()


# ---------------------------------------------------------------- compounds named in the text
#
# The content matcher works on a batch's distinct clauses and snippets at once, beside the insert;
# rows it decides are written once it answers (pipeline.pending). Neither may change an answer.


def _content_texts(store, seed: int) -> list[str]:
    """Texts for the content matcher over a hard_addresses registry stored in `store`: the
    world's content cases, its addresses in complaints, subdistrict and community names in
    other clauses than the address, and values that are not plain text."""
    from analytics.synthetic.hard_addresses import hard_world

    addresses = _hard_store(store, seed)
    registry, cases = hard_world("A", seed, n_compounds=120)
    content = cases[cases["title"] != ""]
    texts: list = (content["title"] + "。" + content["content"]).tolist()
    texts += [f"{a}漏水，请处理" for a in addresses[:150]]
    texts += [
        f"{sub}，{com}：{a}楼道灯坏了"
        for sub, com, a in zip(
            registry["subdistrict"], registry["community"], addresses[150:250], strict=False
        )
    ]
    return texts + [None, float("nan"), "", "。。", "小区停水", "翠华苑\n3号楼漏水", 123]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [104, 105])
def test_content_matching_answers_each_text_as_if_alone(store, seed):
    """Every text of a batch gets what it gets when matched alone, whatever shares its batch;
    also when a text holds the character the batch's texts are joined by."""
    from analytics.ingest.matching.content import TEXT_END, match_content
    from analytics.ingest.matching.index import load_registry

    texts = _content_texts(store, seed)
    reg = load_registry(store)
    alone = [match_content(reg, [t]).assign(text_index=i) for i, t in enumerate(texts)]
    together = match_content(reg, texts)
    pd.testing.assert_frame_equal(together, pd.concat(alone, ignore_index=True))
    assert together["status"].eq("auto").sum() > len(texts) / 3  # the texts do name compounds
    odd = [*texts[:40], f"青松苑{TEXT_END}3号楼漏水", *texts[40:80]]
    expected = pd.concat([*alone[:40], match_content(reg, [odd[40]]), *alone[40:80]], ignore_index=True)
    pd.testing.assert_frame_equal(match_content(reg, odd), expected.assign(text_index=range(len(odd))))


def test_content_matching_answers_do_not_depend_on_the_batch_size(store):
    """A batch larger than the matcher's slice (SPLIT_CHUNK texts) gets the answers of smaller
    batches of the same texts."""
    from analytics.ingest.matching.content import SPLIT_CHUNK, match_content
    from analytics.ingest.matching.index import load_registry

    base = [t for t in _content_texts(store, 106) if isinstance(t, str)]
    texts = [f"{base[i % len(base)]}。{i % 13 + 1}号楼" for i in range(SPLIT_CHUNK + 2_000)]
    reg = load_registry(store)
    step = 7_000
    parts = [match_content(reg, texts[i : i + step]) for i in range(0, len(texts), step)]
    pd.testing.assert_frame_equal(
        match_content(reg, texts), pd.concat(parts, ignore_index=True).assign(text_index=range(len(texts)))
    )


CHANGED_REGISTRY = [
    ["小区编号", "小区名称", "所属社区", "所属街道", "户数", "前身", "生效日期"],
    ["LS002", "阳光家园", "柳青社区", "柳青街道", "500", "", ""],
    ["LS003", "银雀小区", "柳青社区", "柳青街道", "500", "", ""],
    ["LS004", "沂河家园", "柳青社区", "柳青街道", "500", "", ""],
    ["LS005", "青松苑", "柳青社区", "柳青街道", "500", "", ""],
    ["LS021", "阳光新城", "柳青社区", "柳青街道", "500", "LS002", "2024-01"],  # a rename
    ["LS034", "银雀沂河苑", "柳青社区", "柳青街道", "500", "LS003；LS004", "2024-01"],  # a merge
]


def test_a_compound_named_in_the_text_is_the_one_valid_at_the_tickets_date(store, tmp_path):
    """Rows without an address take the compound their text names, moved by the registry's
    renames and merges to the one valid on the ticket's day, as rows matched by address are."""
    from analytics.ingest.registry import compounds

    pd.DataFrame(CHANGED_REGISTRY[1:], columns=CHANGED_REGISTRY[0]).to_csv(tmp_path / "reg.csv", index=False)
    compounds.import_compounds(store, tmp_path / "reg.csv", user="ana")
    rows = [
        ["E1", "2023-12-15 08:00:00", "阳光家园3号楼漏水"],
        ["E2", "2024-02-15 08:00:00", "阳光家园3号楼漏水"],
        ["E3", "2024-03-01 08:00:00", "来电人反映：银雀小区东门垃圾没人清运"],
        ["E4", "2024-02-01 08:00:00", "青松苑5号楼停电"],
        ["E5", "2024-02-01 08:00:00", "小区停水未提前通知"],
        ["E6", "2024-02-01 08:00:00", "阳光家园门口积水"],
    ]
    path = tmp_path / "e.csv"
    pd.DataFrame(rows, columns=["工单编号", "受理时间", "诉求内容"]).to_csv(path, index=False)
    r = ingest.ingest_file(store, path, user="ana")
    assert _balanced(r) and r.inserted == 6 and r.unmatched == 1
    got = _tickets(store).set_index("ticket_id")
    assert got["compound_id"].to_dict() == {
        "E1": "LS002", "E2": "LS021", "E3": "LS034", "E4": "LS005", "E5": None, "E6": "LS021"
    }  # fmt: skip
    assert got["match_method"].fillna("").to_dict() == {
        "E1": "content", "E2": "content", "E3": "content", "E4": "content", "E5": "", "E6": "content"
    }  # fmt: skip
    assert db.query_one(store, "SELECT unmatched FROM ingest_batches WHERE batch_id = ?", [r.batch_id]) == 1


def test_a_dry_run_counts_what_the_upload_stores(registry, tmp_path):
    """The check before an upload reports the rows the text places as the upload places them."""
    rows = [
        ["F001", "2023-07-01 08:30:00", "", "", "楼道灯坏了", "青松苑3号楼", "", "", "", "", ""],
        ["F002", "2023-07-01 09:30:00", "", "", "翡翠家园东门垃圾没人清运", "", "", "", "", "", ""],
        ["F003", "2023-07-01 10:30:00", "", "", "小区停水未提前通知", "不知道在哪里", "", "", "", "", ""],
        ["F004", "2023-07-01 11:30:00", "", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    path = _csv(tmp_path / "f.csv", rows=rows)
    before = db.table_counts(registry)
    check = ingest.ingest_file(registry, path, dry_run=True)
    # a check writes nothing, not even the addresses that would wait for an analyst
    assert db.table_counts(registry) == before
    done = ingest.ingest_file(registry, path, user="ana")
    assert (check.inserted, check.unmatched) == (done.inserted, done.unmatched) == (4, 2)
    assert db.query_one(registry, "SELECT count(*) FROM tickets WHERE compound_id IS NULL") == 2


def test_a_changed_ticket_takes_the_compound_its_new_text_names(registry, tmp_path):
    """A ticket sent again with other text is updated with the compound the new text names; an
    unchanged one keeps what it has; a new one in the same file is placed by its text too."""
    first = [
        ["G001", "2023-07-01 08:30:00", "", "", "楼道灯坏了", "", "", "", "", "", ""],
        ["G002", "2023-07-01 09:30:00", "", "", "青松苑门口积水", "", "", "", "", "", ""],
    ]  # fmt: skip
    ingest.ingest_file(registry, _csv(tmp_path / "g1.csv", rows=first), user="ana")
    second = [
        ["G001", "2023-07-01 08:30:00", "", "", "翡翠家园3号楼楼道灯坏了", "", "", "", "", "", ""],
        first[1],
        ["G003", "2023-07-02 08:30:00", "", "", "青松苑5号楼停电", "", "", "", "", "", ""],
    ]  # fmt: skip
    r = ingest.ingest_file(registry, _csv(tmp_path / "g2.csv", rows=second), user="ana")
    assert _balanced(r) and (r.inserted, r.updated, r.duplicates, r.unmatched) == (1, 1, 1, 0)
    got = _tickets(registry).set_index("ticket_id")
    names = dict(db.query_df(registry, "SELECT compound_id, name FROM compounds").values)
    assert {t: names.get(c) for t, c in got["compound_id"].items()} == {
        "G001": "翡翠家园", "G002": "青松苑", "G003": "青松苑"
    }  # fmt: skip
    assert set(got["match_method"]) == {"content"}
