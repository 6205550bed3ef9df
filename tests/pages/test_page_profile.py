"""小区档案: search within scope, ?compound=ID (refused outside scope), the numbers of the fixture."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.fixtures.apptest import (
    PHONE,
    TASKFORCE_COMPOUND,
    build_fixture_store,
    errors_of,
    login,
    new_app,
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
    frames = [df.value for df in at.dataframe]
    ledger = next(v for v in frames if "leader" in v.columns)
    assert ledger["leader"].tolist() == ["王区长"]
    history = next(v for v in frames if "rank" in v.columns and "snapshot_id" in v.columns)
    assert history["rank"].tolist() == [1]  # most tickets per household of the five
    assert "近 180 天热点问题" in [s.value for s in at.subheader]


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
