"""专班跟踪 page: the ledger by role and scope, one compound's series, logging an action."""

from __future__ import annotations

import json
import shutil

import pytest

from analytics.services import effects
from analytics.store import db, results
from tests.fixtures.apptest import (  # noqa: F401
    errors_of,
    login,
    new_app,
    open_as,
    table_with,
)
from tests.fixtures.district import ACTION_COST, HEADS, LEADERS, TOP, build_district


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return build_district(tmp_path_factory.mktemp("taskforces"))


def open_page(app, username: str):
    return open_as(app, username, "pages/taskforces.py")


def ledger_rows(at) -> int:
    return len(table_with(at, "专班编号"))


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize(
    "username, rows",
    [
        ("leader1", TOP),
        ("analyst1", TOP),
        ("admin1", TOP),
        ("tf1", HEADS.count("tf1")),
    ],
)
def test_ledger_rows_by_role(app, username, rows):
    at = open_page(app, username)
    assert errors_of(at) == []
    assert ledger_rows(at) == rows
    assert metric(at, "专班数") == str(rows)


def test_a_head_sees_only_their_compounds(app, district):
    at = open_page(app, "tf1")
    shown = set(table_with(at, "专班编号")["小区编号"])
    assert shown == set(district.head_scope)
    # the compound picker offers nothing else either, and there is no leader filter
    assert len(at.selectbox(key="tf_pick").options) == len(district.head_scope)
    with pytest.raises(KeyError):
        at.selectbox(key="tf_leader")


def test_leader_filter(app):
    at = open_page(app, "leader1")
    at.selectbox(key="tf_leader").select("王区长").run()
    assert errors_of(at) == []
    assert ledger_rows(at) == LEADERS.count("王区长")


def test_series_has_start_marker_and_counterfactual_band(app):
    at = open_page(app, "leader1")
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in fig["data"]] == ["反事实 95% 区间", "反事实（无专班）", "实际"]
    assert [s["x0"] for s in fig["layout"]["shapes"] if s.get("name") == "start"] == ["2023-03-01T00:00:00"]


def test_action_form_only_for_those_who_may_log(app):
    at = open_page(app, "leader1")
    assert not at.get("form")
    at = open_page(new_app(), "tf1")
    assert at.text_area(key="tf_log_text") is not None


def test_head_logs_an_action(district, tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    shutil.copy(district.path, path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    at = open_page(new_app(), "tf1")
    # the first task force already has the fixture's one logged action
    assert len(table_with(at, "工作内容")) == 1
    at.text_area(key="tf_log_text").input("约谈物业公司，整改垃圾清运")
    at.number_input(key="tf_log_cost").set_value(500.0)
    at.get("form_submit_button")[0].click()
    at.run()
    assert errors_of(at) == []
    assert "工作记录已保存。" in [s.value for s in at.success]
    assert len(table_with(at, "工作内容")) == 2
    con = db.connect(path)
    try:
        row = con.execute(
            'SELECT action, cost, "user" FROM taskforce_actions ORDER BY action_id DESC LIMIT 1'
        ).fetchone()
        # the write rebuilt the stored effects both pages read, so the next viewer reads them
        stored = results.stored_rows(con, effects.STORED_NAME)
        version = results.row_version(con, effects.STORED_CODE)
        cost = effects.stored_effects(con).cost["total_cost"]
        unchanged = results.stored_rows(con, effects.STORED_NAME) == stored
    finally:
        con.close()
    assert row == ("约谈物业公司，整改垃圾清运", 500.0, "tf1")
    assert sorted(r["args"] for r in stored) == sorted(
        [effects.stored_args(), effects.stored_args(by_category=False)]
    )
    assert {r["version"] for r in stored} == {version}
    assert cost == ACTION_COST + 500.0 and unchanged
