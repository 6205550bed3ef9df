"""数据上传 end to end through the page: template, upload, preview, map, check, import, undo; the
rejected rows sent back and uploaded again; the review queues; the registry searched, edited and
imported; clear messages for unusable files."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.reports import exports
from analytics.store import db
from tests.fixtures.apptest import (
    PHONE,
    REVIEW_ADDRESSES,
    TICKET_HEADERS,
    TICKETS_REVIEW,
    TICKETS_STORED,
    build_fixture_store,
    copy_store,
    errors_of,
    login,
    new_app,
)
from tests.fixtures.page_text import problems, store_values

PAGE = "pages/upload.py"
NEW_ROWS = 40  # rows of the uploaded file: 38 good, 2 without a ticket number
ROW_HEADER, REASON_HEADER = "原文件行号", "拒收原因"


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


def query(path, sql: str, params=None) -> pd.DataFrame:
    con = db.connect(path)
    try:
        return db.query_df(con, sql, params)
    finally:
        con.close()


def tickets_in(path) -> int:
    return int(query(path, "SELECT count(*) AS n FROM tickets")["n"].iloc[0])


def open_upload(username: str = "analyst1") -> AppTest:
    at = new_app()
    login(at, username)
    return at.switch_page(PAGE).run()


def picker(at: AppTest, key: str = "up_file"):
    """The file picker `key`, whatever generation it is in (a new one after each import)."""
    return next(u for u in at.get("file_uploader") if u.key == key or u.key.startswith(f"{key}_"))


def upload(at: AppTest, name: str, content: bytes, slot: str = "up_file") -> AppTest:
    return picker(at, slot).set_value((name, content, "application/octet-stream")).run()


def selectbox_by_label(at: AppTest, label_start: str):
    return next(s for s in at.selectbox if s.label.startswith(label_start))


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page that has these columns."""
    return next(df.value for df in at.dataframe if set(columns) <= set(df.value.columns))


def has_frame_with(at: AppTest, *columns: str) -> bool:
    return any(set(columns) <= set(df.value.columns) for df in at.dataframe)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> list[str]:
    return [e.value for kind in ("info", "success", "warning", "caption") for e in at.get(kind)]


def test_upload_map_check_import_undo(store_path) -> None:
    at = open_upload()
    assert not errors_of(at), errors_of(at)
    # the system exports 留言编号 instead of a known header: the analyst maps it by hand
    headers = ["留言编号", *TICKET_HEADERS[1:]]
    upload(at, "export.csv", upload_csv(headers))
    assert not at.exception, at.exception
    assert any("GB18030" in c.value.upper() for c in at.caption), [c.value for c in at.caption]
    preview = frame_with(at, *[h for h in headers if h != "来电号码"])
    assert len(preview) == 20
    assert PHONE not in preview.astype(str).to_string()  # the preview masks phone numbers
    ticket_box = selectbox_by_label(at, "工单编号")
    assert ticket_box.value is None  # 留言编号 is not a known header
    assert selectbox_by_label(at, "受理时间").value == "受理时间"
    assert "缺少必填字段：工单编号" in at.warning[0].value
    assert at.button(key="up_validate").disabled

    ticket_box.set_value("留言编号").run()
    assert not at.warning
    # mapped now, the ticket numbers show as the file has them
    assert frame_with(at, "留言编号")["留言编号"].iloc[0] == "N0000"
    at.button(key="up_validate").click().run()
    assert not errors_of(at), errors_of(at)
    dry = metrics(at)
    assert (dry["读取行数"], dry["新增"], dry["拒收"]) == (str(NEW_ROWS), str(NEW_ROWS - 2), "2")
    assert f"读取 {NEW_ROWS} 行 = 新增 {NEW_ROWS - 2} + 更新 0 + 重复 0 + 拒收 2" in " ".join(texts(at))
    # the check lists the rows it will reject, by their row in the file, before anything is written
    will = frame_with(at, ROW_HEADER, REASON_HEADER, "留言编号")
    assert will[ROW_HEADER].tolist() == [NEW_ROWS, NEW_ROWS + 1]  # the header is row 1
    assert set(will[REASON_HEADER]) == {"缺少工单编号"}
    assert tickets_in(store_path) == TICKETS_STORED

    at.button(key="up_commit").click().run()
    assert not errors_of(at), errors_of(at)
    assert at.success[0].value.startswith(f"导入完成：读取 {NEW_ROWS} 行，新增 {NEW_ROWS - 2}")
    assert tickets_in(store_path) == TICKETS_STORED + NEW_ROWS - 2
    # the new state at once: an empty picker, no stale prompt, the rejected rows to fix
    assert picker(at).value is None
    assert not [s for s in texts(at) if "请先校验" in s or "映射已更改" in s]
    rejected = frame_with(at, ROW_HEADER, REASON_HEADER, "留言编号")
    assert len(rejected) == 2 and set(rejected[REASON_HEADER]) == {"缺少工单编号"}
    batches = frame_with(at, "批次", "状态")
    newest = batches.iloc[0]
    assert (newest["类型"], newest["状态"], newest["新增"]) == ("工单", "已导入", str(NEW_ROWS - 2))

    # undo: the box offers the new batch first and needs the confirmation
    batch_pick = next(s for s in at.selectbox if s.label == "撤销哪个批次")
    assert batch_pick.value == int(newest["批次"])
    assert at.button(key="up_undo").disabled
    at.checkbox(key=f"up_undo_confirm_{batch_pick.value}").check().run()
    at.button(key="up_undo").click().run()
    assert not errors_of(at), errors_of(at)
    assert f"批次 {newest['批次']} 已撤销。" in [s.value for s in at.success]
    assert tickets_in(store_path) == TICKETS_STORED
    # shown at once: the table says undone, the box no longer offers it, the report is gone
    assert frame_with(at, "批次", "状态").iloc[0]["状态"] == "已撤销"
    assert int(newest["批次"]) not in next(s for s in at.selectbox if s.label == "撤销哪个批次").options
    assert not [s for s in at.success if s.value.startswith("导入完成")]


def test_mapping_profile_saved_and_reused(store_path) -> None:
    at = open_upload()
    headers = ["留言编号", *TICKET_HEADERS[1:]]
    upload(at, "export.csv", upload_csv(headers))
    selectbox_by_label(at, "工单编号").set_value("留言编号").run()
    at.text_input(key="up_profile_name").input("留言板导出").run()
    at.button(key="up_profile_save").click().run()
    assert "映射方案“留言板导出”已保存。" in [s.value for s in at.success]

    fresh = open_upload()
    upload(fresh, "again.csv", upload_csv(headers))
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
    upload(at, name, content)
    assert not at.exception, at.exception
    assert len(at.error) == 1 and message_part in at.error[0].value
    assert tickets_in(store_path) == TICKETS_STORED


def open_in_english() -> AppTest:
    at = new_app()
    login(at, "analyst1")
    at.sidebar.toggle(key="ui_lang_en").set_value(True).run()
    return at.switch_page(PAGE).run()


def test_english_messages_for_a_rejected_file(store_path) -> None:
    at = open_in_english()
    upload(at, "empty.csv", b"")
    assert len(at.error) == 1
    assert at.error[0].value.isascii() or "empty" in at.error[0].value.lower()


def test_rejected_rows_speak_english_in_english(store_path) -> None:
    at = open_in_english()
    upload(at, "export.csv", upload_csv(TICKET_HEADERS))
    at.button(key="up_validate").click().run()
    assert not errors_of(at), errors_of(at)
    will = frame_with(at, "Row in file", "Reason rejected", "工单编号")  # the file's own headers stay
    assert set(will["Reason rejected"]) == {"No ticket number"}
    reasons = frame_with(at, "Reason rejected", "Rows")
    assert reasons.values.tolist() == [["No ticket number", 2]]


# --------------------------------------------------------------- personal data, ids and times

PERSONAL_HEADERS = ["工单编号", "受理时间", "诉求内容", "联系电话", "投诉人姓名", "市民姓名"]
PERSONAL_ROWS = [
    # kept rows, and one rejected (its time unreadable) that keeps its ticket number. LS2307123
    # is shaped like a local phone number after its letters: an id, shown as it is
    ["T2023070100012", "2023-07-01 08:30:00", "电梯坏了，回电 138 1234 5678，身份证370302199001011234",
     "一三八一二三四五六七八", "周五郎", "吴六妹"],
    ["LS2307123", "2023-07-02 09:15:00", "噪音扰民", "", "", ""],
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


def test_ids_and_times_show_as_they_are_but_names_and_numbers_never(store_path) -> None:
    at = open_upload()
    upload(at, "personal.csv", personal_csv())
    assert not errors_of(at), errors_of(at)
    preview = frame_with(at, "工单编号", "受理时间", "诉求内容")
    assert not {"投诉人姓名", "市民姓名"} & set(preview.columns)
    assert preview["工单编号"].tolist() == ["T2023070100012", "LS2307123", "202307010001"]
    assert preview["受理时间"].tolist() == ["2023-07-01 08:30:00", "2023-07-02 09:15:00", "下午三点"]
    assert preview["诉求内容"].iloc[0] == "电梯坏了，回电 ********，身份证********"
    assert preview["联系电话"].tolist() == ["********", "", "********"]
    assert [s for s in (*SECRETS, *PEOPLE) if s in cells(at)] == []
    # the name columns are said to be dropped, and cannot be mapped onto a field
    assert any("投诉人姓名" in i.value and "市民姓名" in i.value and "个人信息" in i.value for i in at.info)
    assert "投诉人姓名" not in selectbox_by_label(at, "诉求内容").options

    at.button(key="up_validate").click().run()
    assert not errors_of(at), errors_of(at)
    assert metrics(at)["拒收"] == "1"
    will = frame_with(at, ROW_HEADER, REASON_HEADER, "工单编号")
    assert will.iloc[0][[ROW_HEADER, REASON_HEADER, "工单编号", "受理时间"]].tolist() == [
        4, "受理时间无法识别", "202307010001", "下午三点"
    ]  # fmt: skip

    at.button(key="up_commit").click().run()
    assert not errors_of(at), errors_of(at)
    rejected = frame_with(at, ROW_HEADER, REASON_HEADER, "工单编号")
    assert list(rejected.columns) == [
        ROW_HEADER,
        REASON_HEADER,
        "工单编号",
        "受理时间",
        "诉求内容",
        "联系电话",
    ]
    row = rejected.iloc[0]
    assert (row["工单编号"], row["受理时间"]) == ("202307010001", "下午三点")
    assert (row["诉求内容"], row["联系电话"]) == ("楼道堆物，电话********", "********")
    assert [s for s in (*SECRETS, *PEOPLE) if s in cells(at)] == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rejected_rows_fixed_and_uploaded_again_are_accepted(store_path, fmt) -> None:
    at = open_upload()
    upload(at, "personal.csv", personal_csv())
    at.button(key="up_validate").click().run()
    at.button(key="up_commit").click().run()
    shown = frame_with(at, ROW_HEADER, REASON_HEADER, "工单编号")
    # what the page's download buttons hand out: the shown table through the export writers
    fixed = shown.copy()
    fixed.loc[0, "受理时间"] = "2023-07-03 15:00:00"  # the analyst fixes the unreadable time
    data = exports.to_csv_bytes(fixed) if fmt == "csv" else exports.to_xlsx_bytes({"rejected": fixed})
    assert data.startswith(b"\xef\xbb\xbf") or fmt == "xlsx"  # UTF-8 with a BOM: Excel reads it

    upload(at, f"fixed.{fmt}", data)
    assert not errors_of(at), errors_of(at)
    at.button(key="up_validate").click().run()
    assert not errors_of(at), errors_of(at)
    assert (metrics(at)["新增"], metrics(at)["拒收"]) == ("1", "0")
    at.button(key="up_commit").click().run()
    assert not errors_of(at), errors_of(at)
    stored = query(store_path, "SELECT created_at, caller_hash FROM tickets WHERE ticket_id = '202307010001'")
    assert str(stored["created_at"].iloc[0]) == "2023-07-03 15:00:00"
    # the masked phone is no phone: it must not make every re-sent row one repeat caller
    assert stored["caller_hash"].isna().all()


def test_template_and_field_guide(store_path, tmp_path) -> None:
    at = open_upload()
    assert "下载工单上传模板（Excel）" in [b.label for b in at.get("download_button")]
    guide = frame_with(at, "字段", "模板表头", "可识别的表头写法", "是否必填", "格式", "示例")
    row = guide.set_index("模板表头").loc["工单编号"]
    assert (row["字段"], row["是否必填"]) == ("工单编号", "必填") and "受理编号" in row["可识别的表头写法"]
    assert set(guide["是否必填"]) == {"必填", "选填"}
    # the template the button hands out goes through the page like any file: nothing rejected
    upload(at, "template.xlsx", exports.ticket_template_xlsx("zh"))
    assert not at.warning  # every required field recognised
    at.button(key="up_validate").click().run()
    assert not errors_of(at), errors_of(at)
    assert (metrics(at)["读取行数"], metrics(at)["新增"], metrics(at)["拒收"]) == ("1", "1", "0")


# --------------------------------------------------------------- review queues


def test_address_review_counts_and_moves_tickets(store_path) -> None:
    at = open_upload()
    shown = metrics(at)
    assert (shown["待审核地址"], shown["待定工单"]) == (str(len(REVIEW_ADDRESSES)), str(TICKETS_REVIEW))
    boxes = [s for s in at.selectbox if s.key and s.key.startswith("up_addr_")]
    # the address settling most tickets first, each saying how many
    assert [b.label for b in boxes] == [f"{a}（涉及 {n} 件工单）" for a, _, n in REVIEW_ADDRESSES]
    for box, (_, compound, _) in zip(boxes, REVIEW_ADDRESSES, strict=True):
        assert f"（{compound}）" in box.options[1]
        box.set_value(compound)
    at.form_submit_button[0].click().run()
    assert not errors_of(at), errors_of(at)
    done = f"已确认 2 个地址（含同类地址），{TICKETS_REVIEW} 件工单归入所选小区；排除 0 个。"
    assert done in [s.value for s in at.success]
    assert not [s for s in at.selectbox if s.key and s.key.startswith("up_addr_")]  # queue done
    assert "没有待审核的地址。" in [s.value for s in at.success]
    assert (metrics(at)["待审核地址"], metrics(at)["待定工单"]) == ("0", "0")
    moved = query(
        store_path,
        "SELECT compound_id, count(*) AS n FROM tickets WHERE address IN ('锦秀花园东门', '翠湖名院5号楼') GROUP BY 1",
    )
    assert dict(zip(moved["compound_id"], moved["n"], strict=True)) == {"C001": 4, "C003": 2}


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
    row = query(store_path, "SELECT category, category_source FROM tickets WHERE ticket_id = 'T00000'")
    assert row.iloc[0].tolist() == ["供暖", "given"]
    left = [s.label.split("：")[0] for s in at.selectbox if s.key and s.key.startswith("up_cat_")]
    assert left == ["T00001", "T00002"]  # the corrected ticket left the queue


def test_a_category_scheme_is_loaded_and_a_bad_one_changes_nothing(store_path) -> None:
    at = open_upload()
    bad = "工单编号,一级分类\nT1,供暖\n".encode()  # a ticket export, not a scheme
    upload(at, "export.csv", bad, slot="up_scheme_file")
    at.button(key="up_scheme_load").click().run()
    assert errors_of(at) and "二级分类" in " ".join(errors_of(at))
    assert query(store_path, "SELECT count(*) AS n FROM category_scheme")["n"].iloc[0] == 0
    good = "一级分类,二级分类,三级分类\n城乡建设,供暖,暖气不热\n城乡建设,供暖,管道漏水\n环境保护,噪音,施工噪音\n".encode(
        "gbk"
    )
    upload(at, "scheme.csv", good, slot="up_scheme_file")
    at.button(key="up_scheme_load").click().run()
    assert not errors_of(at), errors_of(at)
    assert "已载入 3 行分类体系（2 个一级分类），请重新训练模型使其生效。" in [s.value for s in at.success]
    assert any("已载入分类体系：3 行，2 个一级分类" in c.value for c in at.caption)


# --------------------------------------------------------------- the registry


def edit_form(at: AppTest, compound_id: str) -> dict:
    return {
        "name": at.text_input(key=f"up_reg_name_{compound_id}"),
        "households": at.text_input(key=f"up_reg_households_{compound_id}"),
        "type": at.selectbox(key=f"up_reg_type_{compound_id}"),
        "company": at.text_input(key=f"up_reg_company_{compound_id}"),
        "aliases": at.text_input(key=f"up_reg_aliases_{compound_id}"),
    }


def save(at: AppTest) -> AppTest:
    return next(b for b in at.form_submit_button if b.label == "保存修改").click().run()


def test_registry_search_edit_audit_and_history(store_path) -> None:
    at = open_upload()
    registry = frame_with(at, "小区编号", "小区名称", "别名", "所属社区", "户数", "物业公司")
    assert len(registry) == 5 and registry.set_index("小区编号").loc["C001", "户数"] == "400"
    at.text_input(key="up_reg_search").input("沂河社区").run()  # by community
    assert sorted(frame_with(at, "小区编号", "户数")["小区编号"]) == ["C003", "C004", "C005"]
    # a row picked in the table is the compound the form edits
    at.session_state["up_reg_table_df"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert at.selectbox(key="up_reg_pick").value == "C004"
    at.text_input(key="up_reg_search").input("锦绣花园小区").run()  # by alias
    assert frame_with(at, "小区编号", "户数")["小区编号"].tolist() == ["C001"]
    assert at.selectbox(key="up_reg_pick").value == "C001"

    form = edit_form(at, "C001")
    form["households"].input("450")
    form["company"].input("华信物业")
    form["aliases"].input("锦绣花园小区；锦绣东区")
    save(at)
    assert not errors_of(at), errors_of(at)
    assert any(
        s.value.startswith("已保存“锦绣花园”的修改") and "户数：400 → 450" in s.value for s in at.success
    )
    stored = query(
        store_path, "SELECT households, property_company FROM compounds WHERE compound_id = 'C001'"
    )
    assert stored.iloc[0].tolist() == [450, "华信物业"]
    aliases = query(
        store_path, "SELECT alias FROM compound_aliases WHERE compound_id = 'C001' ORDER BY alias"
    )
    assert aliases["alias"].tolist() == ["锦绣东区", "锦绣花园小区"]
    audit = query(store_path, "SELECT \"user\", detail FROM audit_log WHERE action = 'registry.edit'")
    assert audit["user"].tolist() == ["analyst1"] and '"households": [400, 450]' in audit["detail"].iloc[0]
    history = frame_with(at, "版本", "时间", "操作人", "方式", "改动")
    newest = history.iloc[0]
    assert (newest["操作人"], newest["方式"]) == ("analyst1", "页面修改")
    assert "户数：400 → 450" in newest["改动"] and "物业公司：安居物业 → 华信物业" in newest["改动"]
    assert history.iloc[-1]["方式"].startswith("名录文件导入")  # the fixture's registry import


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("households", "-5", "户数应为"),
        ("households", "很多", "户数应为"),
        ("name", "  ", "小区名称不能为空"),
        ("aliases", "阳光家园", "已是另一个小区“阳光家园”（C002）"),  # another compound's name
        ("aliases", "翠湖名苑小区", "已是另一个小区“翠湖名苑”（C003）"),  # another compound's alias
    ],
)
def test_bad_registry_edits_are_refused_and_change_nothing(store_path, field, value, message) -> None:
    before = query(store_path, "SELECT * FROM compounds ORDER BY compound_id")
    versions = query(store_path, "SELECT count(*) AS n FROM registry_versions")["n"].iloc[0]
    at = open_upload()
    form = edit_form(at, "C001")
    form["company"].input("华信物业")  # a good change beside the bad one is not saved either
    form[field].input(value)
    save(at)
    assert not at.exception, at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    assert query(store_path, "SELECT * FROM compounds ORDER BY compound_id").equals(before)
    assert query(store_path, "SELECT count(*) AS n FROM registry_versions")["n"].iloc[0] == versions
    assert (
        query(store_path, "SELECT count(*) AS n FROM audit_log WHERE action = 'registry.edit'")["n"].iloc[0]
        == 0
    )


def test_registry_upload_reports_changes(store_path) -> None:
    at = open_upload()
    content = (
        "小区编号,小区名称,所属社区,所属街道,户数\n"
        "C001,锦绣花园,银河社区,兰山街道,450\n"  # households changed 400 -> 450
        "C006,新建小区,银河社区,兰山街道,300\n"  # new
        ",无编号小区,银河社区,兰山街道,100\n"  # rejected: no id
    ).encode()
    upload(at, "registry.csv", content, slot="up_reg_file")
    at.button(key="up_reg_import").click().run()
    assert not errors_of(at), errors_of(at)
    shown = metrics(at)
    assert (shown["新增"], shown["更新"], shown["拒收"]) == ("1", "1", "1")
    changes = frame_with(at, "小区编号", "字段", "原值", "新值")
    assert changes.values.tolist() == [["C001", "户数", "400", "450"]]
    rejected = frame_with(at, ROW_HEADER, REASON_HEADER, "小区名称")
    assert rejected.iloc[0][[ROW_HEADER, REASON_HEADER, "小区名称"]].tolist() == [
        4,
        "缺少小区编号",
        "无编号小区",
    ]
    assert picker(at, "up_reg_file").value is None  # the imported file is not offered again
    versions = query(store_path, "SELECT compound_id, source FROM registry_versions WHERE batch_id IS NOT NULL "
                     "AND compound_id IN ('C001', 'C006') ORDER BY compound_id, version")  # fmt: skip
    assert versions.values.tolist()[-2:] == [["C001", "import"], ["C006", "import"]]


def test_registry_upload_reports_a_split_in_plain_words(store_path) -> None:
    at = open_upload()
    content = (
        "小区编号,小区名称,所属社区,所属街道,户数,前身,生效日期\n"
        "C101,锦绣花园东区,银河社区,兰山街道,200,C001,2024-01\n"
        "C102,锦绣花园西区,银河社区,兰山街道,200,C001,2024-01\n"
    ).encode()
    upload(at, "registry.csv", content, slot="up_reg_file")
    at.button(key="up_reg_import").click().run()
    assert not errors_of(at), errors_of(at)
    said = " ".join(i.value for i in at.info).replace("\\-", "-")  # Markdown-escaped as shown
    assert "自 2024-01-01 起" in said and "拆分为锦绣花园东区（C101）、锦绣花园西区（C102）" in said


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_reads_like_a_report_after_import_edit_and_undo(store_path, lang) -> None:
    """The page-text rules (tests/fixtures/page_text.py) on the states a check does not reach:
    an import's report and rejected rows, an edited compound's history, an undone batch."""
    at = open_upload() if lang == "zh" else open_in_english()
    upload(at, "personal.csv", personal_csv())
    at.button(key="up_validate").click().run()
    at.button(key="up_commit").click().run()
    form = edit_form(at, "C001")
    form["households"].input("450")
    form["aliases"].input("锦绣花园小区；锦绣东区")
    next(b for b in at.form_submit_button if b.label in ("保存修改", "Save changes")).click().run()
    # the files' own headers and cells are data: the fixture's batch (TICKET_HEADERS) and this one
    data = [
        *store_values(store_path),
        *(c for row in PERSONAL_ROWS for c in row),
        *PERSONAL_HEADERS,
        *TICKET_HEADERS,
    ]
    assert problems(at, lang, data) == []
    undo_box = next(s for s in at.selectbox if s.key and s.key.startswith("up_undo_pick_"))
    at.checkbox(key=f"up_undo_confirm_{undo_box.value}").check().run()
    at.button(key="up_undo").click().run()
    assert not errors_of(at), errors_of(at)
    assert problems(at, lang, data) == []
