"""数据上传 end to end through the page: upload, preview, map, validate, import, undo; the review
queues; the registry; clear messages for unusable files."""

from __future__ import annotations

import csv
import io
import json

import pytest
from streamlit.testing.v1 import AppTest

from analytics.store import db
from tests.fixtures.apptest import (
    PHONE,
    REVIEW_ADDRESSES,
    TICKET_HEADERS,
    TICKETS_STORED,
    build_fixture_store,
    copy_store,
    errors_of,
    login,
    new_app,
)

PAGE = "pages/upload.py"
NEW_ROWS = 40  # rows of the uploaded file: 38 good, 2 without a ticket number


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return build_fixture_store(tmp_path_factory.mktemp("upload"))


@pytest.fixture
def store_path(fixture, tmp_path, monkeypatch):
    path = copy_store(fixture, tmp_path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    return path


def upload_csv(headers: list[str], encoding: str = "gb18030") -> bytes:
    """A hotline export as the district's system writes it (GB18030), with renamed headers."""
    buffer = io.StringIO()
    w = csv.writer(buffer)
    w.writerow(headers)
    for i in range(NEW_ROWS):
        ticket_id = "" if i >= NEW_ROWS - 2 else f"N{i:04d}"
        w.writerow(
            [
                ticket_id,
                f"2025-01-{i % 28 + 1:02d} 08:30",
                f"电梯故障，电话{PHONE}",
                "电梯",
                "锦绣花园3号楼",
                "锦绣花园",
                PHONE,
            ]
        )
    return buffer.getvalue().encode(encoding)


def tickets_in(path) -> int:
    con = db.connect(path)
    try:
        return int(db.query_one(con, "SELECT count(*) FROM tickets"))
    finally:
        con.close()


def open_upload(username: str = "analyst1") -> AppTest:
    at = new_app()
    login(at, username)
    return at.switch_page(PAGE).run()


def selectbox_by_label(at: AppTest, label_start: str):
    return next(s for s in at.selectbox if s.label.startswith(label_start))


def frame_with(at: AppTest, *columns: str):
    """The first table on the page that has these columns."""
    return next(df.value for df in at.dataframe if set(columns) <= set(df.value.columns))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_upload_map_validate_import_undo(store_path) -> None:
    at = open_upload()
    assert not errors_of(at), errors_of(at)
    # the system exports 留言编号 instead of a known header: the analyst maps it by hand
    headers = ["留言编号", *TICKET_HEADERS[1:]]
    at.file_uploader(key="up_file").set_value(("export.csv", upload_csv(headers), "text/csv")).run()
    assert not at.exception, at.exception
    assert any("GB18030" in c.value.upper() for c in at.caption), [c.value for c in at.caption]
    preview = frame_with(at, *headers)
    assert len(preview) == 20
    assert PHONE not in preview.astype(str).to_string()  # the preview masks phone numbers
    ticket_box = selectbox_by_label(at, "工单编号")
    assert ticket_box.value is None  # 留言编号 is not a known header
    assert selectbox_by_label(at, "受理时间").value == "受理时间"
    assert "缺少必填字段：ticket_id" in at.warning[0].value
    assert at.button(key="up_validate").disabled

    ticket_box.set_value("留言编号").run()
    assert not at.warning
    at.button(key="up_validate").click().run()
    assert not errors_of(at), errors_of(at)
    dry = metrics(at)
    assert (dry["读取行数"], dry["新增"], dry["拒收"]) == (str(NEW_ROWS), str(NEW_ROWS - 2), "2")
    assert tickets_in(store_path) == TICKETS_STORED  # validation writes nothing

    at.button(key="up_commit").click().run()
    assert not errors_of(at), errors_of(at)
    assert at.success[0].value.startswith(f"导入完成：读取 {NEW_ROWS} 行，新增 {NEW_ROWS - 2}")
    assert tickets_in(store_path) == TICKETS_STORED + NEW_ROWS - 2
    rejected = frame_with(at, "row_number", "reason")
    assert rejected["reason"].nunique() == 1 and len(rejected) == 2

    # batch history: the new batch is first; undo needs the confirmation box
    batch_pick = next(s for s in at.selectbox if s.label == "撤销哪个批次")
    assert batch_pick.value == max(int(o.split(" ")[0]) for o in batch_pick.options)
    assert at.button(key="up_undo").disabled
    at.checkbox(key="up_undo_confirm").check().run()
    at.button(key="up_undo").click().run()
    assert not errors_of(at), errors_of(at)
    assert any(s.value.startswith("批次") and "已撤销" in s.value for s in at.success)
    assert tickets_in(store_path) == TICKETS_STORED


def test_mapping_profile_saved_and_reused(store_path) -> None:
    at = open_upload()
    headers = ["留言编号", *TICKET_HEADERS[1:]]
    at.file_uploader(key="up_file").set_value(("export.csv", upload_csv(headers), "text/csv")).run()
    selectbox_by_label(at, "工单编号").set_value("留言编号").run()
    at.text_input(key="up_profile_name").input("留言板导出").run()
    at.button(key="up_profile_save").click().run()
    assert "映射方案“留言板导出”已保存。" in [s.value for s in at.success]

    fresh = open_upload()
    fresh.file_uploader(key="up_file").set_value(("again.csv", upload_csv(headers), "text/csv")).run()
    profile_box = next(s for s in fresh.selectbox if s.label == "使用已保存的字段映射方案")
    profile_box.set_value("留言板导出").run()
    assert selectbox_by_label(fresh, "工单编号").value == "留言编号"
    assert not fresh.warning


@pytest.mark.parametrize(
    ("name", "content", "message_part"),
    [
        ("empty.csv", b"", "空"),  # an empty file
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "不是"),  # not a table at all
    ],
)
def test_unusable_files_give_a_clear_message(
    store_path, name: str, content: bytes, message_part: str
) -> None:
    at = open_upload()
    at.file_uploader(key="up_file").set_value((name, content, "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and message_part in at.error[0].value
    assert tickets_in(store_path) == TICKETS_STORED


def test_address_review_moves_tickets(store_path) -> None:
    at = open_upload()
    boxes = {s.label: s for s in at.selectbox if s.key and s.key.startswith("up_addr_")}
    assert sorted(boxes) == sorted(f"{a}（{n}）" for a, _, n in REVIEW_ADDRESSES)
    for address, compound, count in REVIEW_ADDRESSES:
        box = boxes[f"{address}（{count}）"]
        assert box.options[1].endswith(f"（{compound}） · 0.50") or f"（{compound}）" in box.options[1]
        box.set_value(compound)
    at.form_submit_button[0].click().run()
    assert not errors_of(at), errors_of(at)
    assert "已确认 2 个地址，排除 0 个。" in [s.value for s in at.success]
    assert not [s for s in at.selectbox if s.key and s.key.startswith("up_addr_")]  # queue done
    assert "没有待审核的地址。" in [s.value for s in at.success]
    con = db.connect(store_path)
    try:
        moved = db.query_df(
            con,
            "SELECT compound_id, count(*) AS n FROM tickets WHERE address IN ('锦秀花园东门', '翠湖名院5号楼') GROUP BY 1",
        )
    finally:
        con.close()
    assert dict(zip(moved["compound_id"], moved["n"], strict=True)) == {"C001": 4, "C003": 2}


def test_registry_upload_reports_changes(store_path, tmp_path) -> None:
    at = open_upload()
    content = (
        "小区编号,小区名称,所属社区,所属街道,户数\n"
        "C001,锦绣花园,银河社区,兰山街道,450\n"  # households changed 400 -> 450
        "C006,新建小区,银河社区,兰山街道,300\n"  # new
        ",无编号小区,银河社区,兰山街道,100\n"  # rejected: no id
    ).encode()
    at.file_uploader(key="up_reg_file").set_value(("registry.csv", content, "text/csv")).run()
    at.button(key="up_reg_import").click().run()
    assert not errors_of(at), errors_of(at)
    shown = metrics(at)
    assert (shown["新增"], shown["更新"], shown["拒收"]) == ("1", "1", "1")
    changes = frame_with(at, "compound_id", "field", "old", "new")
    row = changes[changes["field"] == "households"].iloc[0]
    assert (row["compound_id"], str(row["old"]), str(row["new"])) == ("C001", "400", "450")


def test_english_messages_for_a_rejected_file(store_path) -> None:
    at = new_app()
    login(at, "analyst1")
    at.sidebar.toggle(key="ui_lang_en").set_value(True).run()
    at.switch_page(PAGE).run()
    at.file_uploader(key="up_file").set_value(("empty.csv", b"", "text/csv")).run()
    assert len(at.error) == 1
    assert at.error[0].value.isascii() or "empty" in at.error[0].value.lower()


def test_category_review_corrects_a_prediction(store_path) -> None:
    con = db.connect(store_path)
    try:  # three tickets whose category the model guessed with little confidence
        with db.transaction(con) as cur:
            cur.execute(
                "UPDATE tickets SET category_source = 'predicted', category_confidence = 0.2 "
                "WHERE ticket_id IN ('T00000', 'T00001', 'T00002')"
            )
    finally:
        con.close()
    at = open_upload()
    boxes = [s for s in at.selectbox if s.key and s.key.startswith("up_cat_")]
    assert [b.label.split("：")[0] for b in boxes] == ["T00000", "T00001", "T00002"]
    assert all(PHONE not in b.label for b in boxes)  # ticket text is masked here too
    boxes[0].set_value("供暖")
    next(b for b in at.form_submit_button if b.label == "提交分类审核").click().run()
    assert not errors_of(at), errors_of(at)
    assert "已更新 1 条工单的分类。" in [s.value for s in at.success]
    con = db.connect(store_path)
    try:
        row = db.query_df(con, "SELECT category, category_source FROM tickets WHERE ticket_id = 'T00000'")
    finally:
        con.close()
    assert row.iloc[0].tolist() == ["供暖", "given"]
    left = [s.label.split("：")[0] for s in at.selectbox if s.key and s.key.startswith("up_cat_")]
    assert left == ["T00001", "T00002"]  # the corrected ticket left the queue


PERSONAL_HEADERS = ["工单编号", "受理时间", "诉求内容", "联系电话", "投诉人姓名", "市民姓名"]
PERSONAL_ROWS = [
    # a kept row, and one rejected (its time unreadable) that keeps its ticket number
    ["T2023070100012", "2023-07-01 08:30:00", "电梯坏了，回电 138 1234 5678，身份证370302199001011234",
     "一三八一二三四五六七八", "周五郎", "吴六妹"],
    ["202307010001", "下午三点", "楼道堆物，电话0531-88888888", "13912345678", "郑七叔", "王八斗"],
]  # fmt: skip
SECRETS = ("138 1234 5678", "370302199001011234", "一三八一二三四五六七八", "0531-88888888", "13912345678")
PEOPLE = ("周五郎", "吴六妹", "郑七叔", "王八斗")


def personal_csv() -> bytes:
    buffer = io.StringIO()
    w = csv.writer(buffer)
    w.writerow(PERSONAL_HEADERS)
    w.writerows(PERSONAL_ROWS)
    return buffer.getvalue().encode("utf-8")


def cells(at: AppTest) -> str:
    return "\n".join(df.value.astype(str).to_csv() for df in at.dataframe)


def test_names_and_numbers_never_reach_the_page_but_ids_and_times_do(store_path) -> None:
    at = open_upload()
    at.file_uploader(key="up_file").set_value(("personal.csv", personal_csv(), "text/csv")).run()
    assert not errors_of(at), errors_of(at)
    preview = frame_with(at, "工单编号", "受理时间", "诉求内容")
    assert not {"投诉人姓名", "市民姓名"} & set(preview.columns)
    # ticket ids and times come through as they are; the numbers in the text do not
    assert preview["工单编号"].tolist() == ["T2023070100012", "202307010001"]
    assert preview["受理时间"].tolist() == ["2023-07-01 08:30:00", "下午三点"]
    assert preview["诉求内容"].iloc[0] == "电梯坏了，回电 ********，身份证********"
    assert [s for s in (*SECRETS, *PEOPLE) if s in cells(at)] == []
    # the name columns are said to be dropped, and cannot be mapped onto a field
    assert any("投诉人姓名" in i.value and "市民姓名" in i.value and "个人信息" in i.value for i in at.info)
    assert "投诉人姓名" not in selectbox_by_label(at, "诉求内容").options

    at.button(key="up_validate").click().run()
    assert not errors_of(at), errors_of(at)
    assert metrics(at)["拒收"] == "1"
    report = [i.value for i in at.info if "个人信息" in i.value]
    assert len(report) == 2 and "投诉人姓名" in report[1] and "市民姓名" in report[1]

    at.button(key="up_commit").click().run()
    assert not errors_of(at), errors_of(at)
    rejected = frame_with(at, "row_number", "reason", "raw")
    raw = json.loads(rejected["raw"].iloc[0])
    assert (raw["工单编号"], raw["受理时间"]) == ("202307010001", "下午三点")
    assert raw["诉求内容"] == "楼道堆物，电话********" and raw["联系电话"] == "********"
    assert not {"投诉人姓名", "市民姓名"} & set(raw)
    assert [s for s in (*SECRETS, *PEOPLE) if s in cells(at)] == []
