"""小区档案: search within scope, ?compound=ID (refused outside scope), the numbers of the fixture."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.fixtures.apptest import (
    PHONE,
    TASKFORCE_COMPOUND,
    build_fixture_store,
    errors_of,
    login,
    new_app,
    table_with,
)

PAGE = "pages/profile.py"


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return build_fixture_store(tmp_path_factory.mktemp("profile"))


def open_profile(fixture, monkeypatch, username: str, compound: str | None = None) -> AppTest:
    monkeypatch.setenv("HOTLINE_DB", str(fixture.path))
    at = new_app()
    login(at, username)
    if compound is not None:
        at.query_params["compound"] = compound
    return at.switch_page(PAGE).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize(
    ("username", "compound", "households", "tickets"),
    [
        ("analyst1", None, "400", "120"),  # no choice yet: the first compound, C001
        ("analyst1", "C003", "600", "50"),
        ("leader1", "C005", "800", "20"),
        ("tf1", "C002", "500", "80"),  # inside the head's scope
        ("admin1", "C004", "700", "30"),
    ],
)
def test_profile_numbers(fixture, monkeypatch, username, compound, households, tickets) -> None:
    at = open_profile(fixture, monkeypatch, username, compound)
    assert not errors_of(at), errors_of(at)
    shown = metrics(at)
    assert shown["户数"] == households
    assert shown["工单总数"] == tickets
    assert len(at.get("plotly_chart")) == 2  # monthly trend and category mix


def test_taskforce_and_rank_history(fixture, monkeypatch) -> None:
    at = open_profile(fixture, monkeypatch, "analyst1", TASKFORCE_COMPOUND)
    assert not errors_of(at), errors_of(at)
    ledger = table_with(at, "包保领导")
    assert ledger["包保领导"].tolist() == ["王区长"]
    assert ledger["进驻日期"].tolist() == [date(2024, 7, 1)]
    history = table_with(at, "排名区间（90%）")
    assert history["排名"].tolist() == [1]  # most tickets per household of the five
    assert history["排名窗口"].tolist() == ["2024-01 至 2024-12"]
    assert history["进入前列概率"].str.fullmatch(r"\d+\.\d%").all()
    assert "近 180 天热点问题" in [s.value for s in at.subheader]


# the profile's tables as a report reads: Chinese headers, 是/否, dates without a midnight time,
# no None/nan, no long decimals; the numbers are the ones the page is about
@pytest.mark.parametrize(
    ("header", "readable"),
    [
        ("重复诉求", lambda column: set(column) <= {"是", "否"}),
        ("同一来电人再次来电", lambda column: set(column) <= {"是", "否"}),
        ("仍未办结", lambda column: set(column) <= {"是", "否"}),
        ("满足撤出条件", lambda column: set(column) <= {"是", "否"}),
        (
            "办结时间",
            lambda column: column.str.fullmatch(r"—|\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all(),
        ),  # open: —
        ("持续天数", lambda column: pd.api.types.is_integer_dtype(column)),
        ("进驻前月均", lambda column: (column.round(1) == column).all()),
        ("评定期", lambda column: column.str.fullmatch(r"\d{4}年[上下]半年").all()),
    ],
)
def test_profile_tables_read_like_a_report(district, monkeypatch, header, readable) -> None:
    monkeypatch.setenv("HOTLINE_DB", str(district.path))
    at = new_app()
    login(at, "analyst1")
    at.query_params["compound"] = district.treated[0]
    at.switch_page(PAGE).run()
    assert not errors_of(at), errors_of(at)
    assert readable(table_with(at, header)[header])
    for df in at.dataframe:
        headers = [str(c) for c in df.value.columns]
        assert [h for h in headers if re.fullmatch(r"[a-z_]+", h)] == []
        cells = df.value.astype(str).to_numpy().ravel().tolist()
        assert [c for c in cells if c in ("None", "nan", "NaT", "<NA>")] == []
        assert [c for c in cells if re.search(r"\d\.\d{3,}", c)] == []


def test_ticket_totals_say_what_they_count(district, monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_DB", str(district.path))
    at = new_app()
    login(at, "leader1")
    at.query_params["compound"] = district.treated[0]
    at.switch_page(PAGE).run()
    total = next(m for m in at.metric if m.label == "工单总数")
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", total.value) and "有效工单" in total.proto.help
    assert any(re.match(r"共 \d{1,3}(,\d{3})* 条有效工单", c.value) for c in at.caption)


def test_no_phone_number_or_caller_hash_is_shown(fixture, monkeypatch) -> None:
    at = open_profile(fixture, monkeypatch, "analyst1", "C001")
    for df in at.dataframe:
        assert "caller_hash" not in df.value.columns
        text = df.value.astype(str).to_string()
        assert PHONE not in text
        assert PHONE[3:] not in text  # not even the digits after the visible prefix


def test_search_by_alias_and_name(fixture, monkeypatch) -> None:
    at = open_profile(fixture, monkeypatch, "analyst1")
    at.text_input(key="prof_query").input("阳光家园小区").run()  # an alias from the registry
    assert at.selectbox(key="prof_pick").options == ["阳光家园（C002）"]
    assert metrics(at)["工单总数"] == "80"
    assert at.query_params["compound"] == "C002"  # the page can be shared as a link


def test_taskforce_head_finds_only_own_compounds(fixture, monkeypatch) -> None:
    at = open_profile(fixture, monkeypatch, "tf1")
    assert at.selectbox(key="prof_pick").options == ["锦绣花园（C001）", "阳光家园（C002）"]
    at.text_input(key="prof_query").input("翠湖").run()  # C003 exists but is not theirs
    assert [i.value for i in at.info] == ["没有找到符合条件的小区。"]


@pytest.mark.parametrize(
    ("username", "compound", "message"),
    [
        ("tf1", "C003", "小区 C003 不在您负责的范围内，无法查看。"),
        ("tf1", "C005", "小区 C005 不在您负责的范围内，无法查看。"),
        ("analyst1", "ZZZ", "小区编号 ZZZ 不存在。"),
    ],
)
def test_query_parameter_refused(fixture, monkeypatch, username, compound, message) -> None:
    at = open_profile(fixture, monkeypatch, username, compound)
    assert [e.value for e in at.error] == [message]
    assert not at.exception
    assert not at.metric  # nothing of the compound leaked


@pytest.mark.parametrize("username", ["leader1", "tf1"])
def test_glossary_is_one_click_away(fixture, monkeypatch, username) -> None:
    at = open_profile(fixture, monkeypatch, username)
    assert [link.proto.label for link in at.main.get("page_link") if link.proto.page == "glossary"] == [
        "名词解释"
    ]
