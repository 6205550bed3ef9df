"""Header synonyms, mappings, saved profiles and the value rules uploads go through."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics.errors import FileRejected, NotFound, ValidationError
from analytics.ingest import columns, mapping_profiles


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # Chinese export headers
        ("工单编号", "ticket_id"),
        ("受理编号", "ticket_id"),
        ("受理时间", "created_at"),
        ("来电时间", "created_at"),
        ("诉求内容", "content"),
        ("留言详情", "content"),
        ("留言主题", "title"),
        ("一级分类", "category"),
        ("事发地址", "address"),
        ("小区名称", "compound"),
        ("联系电话", "caller_phone"),
        ("办结时间", "closed_at"),
        ("回访满意度", "satisfaction"),
        ("是否解决", "resolved"),
        ("办理状态", "status"),
        ("承办单位", "handling_unit"),
        ("是否有效", "is_valid"),
        ("不合理诉求", "is_invalid"),
        # English open-data headers, any case / separators
        ("Unique Key", "ticket_id"),
        ("unique_key", "ticket_id"),
        ("UNIQUE KEY", "ticket_id"),
        ("service_request_id", "ticket_id"),
        ("Created Date", "created_at"),
        ("CreatedDate", "created_at"),
        ("requested_datetime", "created_at"),
        ("Complaint Type", "category"),
        ("Incident Address", "address"),
        ("Closed Date", "closed_at"),
        ("Due Date", "due_at"),
        # invisible characters and stray spaces from Excel
        ("\ufeff工单编号", "ticket_id"),
        ("受理\u200b时间", "created_at"),
        (" 诉求内容 ", "content"),
        ("\u200bUnique Key\u2060", "ticket_id"),
    ],
)
def test_header_synonyms(header, field):
    assert columns.suggest_mapping([header, "其他列"]) == {field: header}


@pytest.mark.parametrize("header", ["来电人", "联系人", "姓名", "客户姓名"])
def test_caller_name_headers_are_recognised_only_to_be_dropped(header):
    assert columns.caller_name_headers(["工单编号", header]) == [header]
    assert header not in columns.suggest_mapping(["工单编号", header]).values()


@pytest.mark.parametrize(
    ("header", "personal"),
    [
        # callers' names under any header the district's systems use
        ("联系人姓名", True),
        ("投诉人姓名", True),
        ("市民姓名", True),
        ("来电人名称", True),
        ("反映人姓名", True),
        ("举报人姓名", True),
        ("诉求人姓名", True),
        ("当事人姓名", True),
        ("申请人姓名", True),
        ("报修人姓名", True),
        ("求助人名字", True),
        ("来电人称呼", True),
        ("客户名称", True),
        ("投诉人", True),
        ("联系人 姓名", True),
        ("联系人（姓名）", True),
        ("\ufeff来电人_姓名 ", True),
        ("投诉人\u200b姓名", True),
        ("Caller Name", True),
        ("contact_name", True),
        ("ＣＯＮＴＡＣＴ　ＮＡＭＥ", True),
        # names of places, units and kinds of things; and the phone, time and text columns
        ("小区名称", False),
        ("物业公司名称", False),
        ("承办单位名称", False),
        ("诉求类型名称", False),
        ("投诉对象名称", False),
        ("申请单位名称", False),
        ("诉求名称", False),
        ("名称", False),
        ("来电内容", False),
        ("来电时间", False),
        ("联系电话", False),
        ("联系人电话", False),
        ("联系方式", False),
        ("反映问题", False),
        ("诉求内容", False),
        ("专班组长", False),
        ("包保领导", False),
        ("Street Name", False),
        ("Agency Name", False),
    ],
)
def test_personal_name_headers(header, personal):
    assert columns.is_caller_name_header(header) is personal
    assert columns.caller_name_headers(["工单编号", header, "受理时间"]) == ([header] if personal else [])


def test_a_mapping_onto_a_name_column_is_refused():
    headers = ["工单编号", "受理时间", "投诉人姓名", "诉求内容"]
    with pytest.raises(FileRejected, match="投诉人姓名"):
        columns.resolve_mapping(headers, {"content": "投诉人姓名"})
    assert columns.resolve_mapping(headers) == {
        "ticket_id": "工单编号",
        "created_at": "受理时间",
        "content": "诉求内容",
    }


def test_a_profile_naming_a_name_column_is_not_saved(store):
    with pytest.raises(ValidationError, match="市民姓名"):
        mapping_profiles.save_profile(
            store, "带姓名", {"ticket_id": "工单编号", "title": "市民姓名"}, user="ana"
        )
    assert mapping_profiles.list_profiles(store).empty


def test_earlier_synonym_wins_and_a_header_serves_one_field():
    assert columns.suggest_mapping(["编号", "工单编号", "受理时间"]) == {
        "ticket_id": "工单编号",
        "created_at": "受理时间",
    }


@pytest.mark.parametrize("kind", sorted(columns.FIELD_TABLES))
def test_every_synonym_of_every_import_maps_onto_its_field(kind):
    table = columns.FIELD_TABLES[kind]
    for f in table:
        for synonym in f.synonyms:
            assert columns.match_headers([synonym, "其他列"], table) == {f.name: synonym}


@pytest.mark.parametrize(
    ("table", "headers", "expected"),
    [
        # the registry import: its own spellings, required-field marks, full-width forms
        (columns.COMPOUND_FIELDS, ["小区ID", "小区名", "俗称", "社区名称", "竣工年份", "居民户数", "新老小区"],
         {"compound_id": "小区ID", "name": "小区名", "aliases": "俗称", "community": "社区名称",
          "built_year": "竣工年份", "households": "居民户数", "is_old": "新老小区"}),
        (columns.COMPOUND_FIELDS, ["小区编号*", "＊小区名称", "ＬＯＮ", "纬度："],
         {"compound_id": "小区编号*", "name": "＊小区名称", "lon": "ＬＯＮ", "lat": "纬度："}),
        (columns.RATING_FIELDS, ["编号", "半年度", "党支部星级"],
         {"compound_id": "编号", "period": "半年度", "stars": "党支部星级"}),
        (columns.EVALUATION_FIELDS, ["企业名称", "考核季度", "考核得分", "榜单"],
         {"company": "企业名称", "quarter": "考核季度", "score": "考核得分", "list": "榜单"}),
        # the task-force import
        (columns.TASKFORCE_FIELDS, ["小区名称", "包保领导", "专班组长", "进驻日期", "撤出日期"],
         {"compound_name": "小区名称", "leader": "包保领导", "head": "专班组长", "start_date": "进驻日期",
          "end_date": "撤出日期"}),
        (columns.TASKFORCE_FIELDS, ["小区代码", "包联领导", "进驻时间", "排名窗口"],
         {"compound_id": "小区代码", "leader": "包联领导", "start_date": "进驻时间", "selection_window": "排名窗口"}),
        # words other tables know are not task-force headers
        (columns.TASKFORCE_FIELDS, ["编号", "领导", "开始日期"], {}),
    ],
)  # fmt: skip
def test_registry_and_taskforce_field_tables(table, headers, expected):
    assert columns.match_headers(headers, table) == expected


def test_match_headers_merges_a_mapping_and_skips_what_it_cannot_use():
    headers = ["代码", "名字", "小区名称"]
    mapping = {
        "compound_id": "代码",
        "name": " 名字",
        "aliases": "不存在的列",
        "nonsense": "代码",
        "type": None,
    }
    assert columns.match_headers(headers, columns.COMPOUND_FIELDS, mapping) == {
        "compound_id": "代码",
        "name": "名字",
    }
    # '' or None leaves a field unmapped on purpose
    assert columns.match_headers(["小区编号", "小区名称"], columns.COMPOUND_FIELDS, {"name": ""}) == {
        "compound_id": "小区编号"
    }


def test_explicit_mapping_merges_over_suggestion():
    headers = ["留言编号", "留言时间", "留言主题", "一级分类"]
    merged = columns.resolve_mapping(
        headers, {"ticket_id": "留言编号", "created_at": " 留言时间", "category": None}
    )
    assert merged == {"ticket_id": "留言编号", "created_at": "留言时间", "title": "留言主题"}


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"ticket_id": "不存在的列"}, "不存在的列"),
        ({"no_such_field": "留言编号"}, "no_such_field"),
    ],
)
def test_mapping_naming_missing_header_or_field_is_rejected(mapping, message):
    with pytest.raises(FileRejected, match=message):
        columns.resolve_mapping(["留言编号", "留言时间"], mapping)


def test_missing_required_field_message_names_field_and_lists_headers():
    headers = ["留言编号", "留言详情"]
    mapping = columns.resolve_mapping(headers)
    with pytest.raises(FileRejected) as info:
        columns.require_fields(headers, mapping, file_name="x.csv")
    assert (
        "工单编号" in info.value.zh and "受理时间" in info.value.zh and "留言编号、留言详情" in info.value.zh
    )
    assert "ticket_id" in info.value.en and "created_at" in info.value.en


def test_profiles_save_load_list_replace(store):
    mapping_profiles.save_profile(store, "泰迪杯", {"ticket_id": "留言编号"}, user="ana")
    mapping_profiles.save_profile(
        store, "泰迪杯", {"ticket_id": "留言编号", "created_at": "留言时间"}, user="ana"
    )
    assert mapping_profiles.load_profile(store, "泰迪杯") == {
        "ticket_id": "留言编号",
        "created_at": "留言时间",
    }
    assert mapping_profiles.list_profiles(store)["name"].tolist() == ["泰迪杯"]
    with pytest.raises(NotFound):
        mapping_profiles.load_profile(store, "无")
    with pytest.raises(ValidationError):
        mapping_profiles.save_profile(store, "坏", {"nonsense": "x"})


T = dt.datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-07-01 08:30:00", T(2023, 7, 1, 8, 30)),
        ("2023-07-01 08:30", T(2023, 7, 1, 8, 30)),
        ("2023/7/1 8:30", T(2023, 7, 1, 8, 30)),
        ("2023/07/01", T(2023, 7, 1)),
        ("2023年7月1日", T(2023, 7, 1)),
        ("2023年7月1日 8时30分", T(2023, 7, 1, 8, 30)),
        ("2023年7月1日8时30分", T(2023, 7, 1, 8, 30)),
        ("2023年07月01日 08:30", T(2023, 7, 1, 8, 30)),
        ("45108.35", T(2023, 7, 1, 8, 24)),  # Excel serial
        ("45108", T(2023, 7, 1)),
        ("07/01/2023 08:30:00 AM", T(2023, 7, 1, 8, 30)),
        ("07/01/2023 08:30:00 PM", T(2023, 7, 1, 20, 30)),
        ("07/01/2023 12:00:00 AM", T(2023, 7, 1, 0, 0)),
        ("2023-07-01T08:30:00", T(2023, 7, 1, 8, 30)),
        ("2023-07-01T08:30:00+08:00", T(2023, 7, 1, 8, 30)),
        ("2023-07-01T08:30:00Z", T(2023, 7, 1, 8, 30)),
        ("2023-07-01 08:30:00.250", T(2023, 7, 1, 8, 30, 0, 250000)),
        ("２０２３－０７－０１　０８：３０", T(2023, 7, 1, 8, 30)),  # full-width
        ("\t2023-07-01 08:30\n", T(2023, 7, 1, 8, 30)),
        ("2023.07.01", T(2023, 7, 1)),
        ("20230701", T(2023, 7, 1)),
        ("昨天下午", None),
        ("", None),
        (None, None),
    ],
)
def test_date_formats(text, expected):
    got = columns.parse_datetimes([text])[0]
    assert (None if pd.isna(got) else got.to_pydatetime()) == expected


@pytest.mark.parametrize(
    ("text", "label", "satisfied"),
    [
        ("满意", "满意", True),
        ("非常满意", "满意", True),
        ("基本满意", "基本满意", True),
        ("不满意", "不满意", False),
        ("很不满意", "不满意", False),
        (" 不满意\n", "不满意", False),
        ("是", "满意", True),
        ("否", "不满意", False),
        ("未回访", "未回访", None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_satisfaction(text, label, satisfied):
    row = columns.parse_satisfaction([text]).iloc[0]
    assert (None if pd.isna(row["label"]) else row["label"]) == label
    assert (None if pd.isna(row["satisfied"]) else bool(row["satisfied"])) == satisfied


@pytest.mark.parametrize(
    ("text", "expected"),
    [("是", True), ("已解决", True), ("1", True), ("TRUE", True), ("１", True),
     ("否", False), ("未解决", False), ("0", False), ("false", False),
     ("", None), ("不清楚", None)],
)  # fmt: skip
def test_flags(text, expected):
    got = columns.parse_flags([text])[0]
    assert (None if pd.isna(got) else bool(got)) == expected


# cells where cleaning, masking, both or neither change something
SCREEN_CELLS = [
    None, "", "   ", "\u3000", "翠华苑3号楼", "电话13812345678请回电", "电话１３８１２３４５６７８",
    "电话一三八一二三四五六七八", "138 1234 5678", "(0539)8123456", "身份证37130219900101123X",
    " 前后空格 ", "两个  空格", "换\n行", "_x000D_回车", "ＡＢＣ全角", "\u202e倒序\u202c", "A\u00a0B",
    "编号2023070112", "1234567", "123456", "001", "已办结", "满意",
]  # fmt: skip


@pytest.mark.parametrize("text", [True, False], ids=["text", "code"])
def test_one_screen_cleans_and_masks_as_the_two_steps_would(text):
    """An upload screens a masked field once for what cleaning or masking may change
    (pipeline.clean._cleaned_sql); every cell comes out as cleaning and then masking it gives."""
    import duckdb

    from analytics import privacy
    from analytics.ingest.pipeline.clean import _cleaned_sql

    field = "content" if text else "status"
    con = duckdb.connect()
    con.register("cells", pd.DataFrame({"c0": ["T1"] * len(SCREEN_CELLS), "c1": SCREEN_CELLS}))
    con.execute("CREATE TABLE raw AS SELECT row_number() OVER () AS rn, c0, c1 FROM cells")
    sql, _ = _cleaned_sql(["工单编号", "x"], {"ticket_id": "工单编号", field: "x"}, lossy=False)
    got = [r[0] for r in con.execute(f"SELECT {field} FROM ({sql}) ORDER BY rn").fetchall()]
    cleaned = columns.sql_text("c1") if text else columns.sql_code("c1")
    expected = [
        r[0]
        for r in con.execute(
            f"SELECT {privacy.sql_mask_personal('v')} FROM (SELECT rn, {cleaned} AS v FROM raw) ORDER BY rn"
        ).fetchall()
    ]
    assert got == expected
    assert sum(g != c for g, c in zip(got, SCREEN_CELLS, strict=True)) >= 10  # the cells do change
