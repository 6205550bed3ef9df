"""重点小区排名 page: the ranking matches analytics, the rank chart names every compound with the
interval the ranking computes, a picked compound opens its profile, the page reads like a report,
weights, snapshots and task-force creation."""

from __future__ import annotations

import json
import shutil

import pytest

from analytics.models.ranking.score import RANK_INTERVAL
from analytics.reports.text import text
from analytics.services import ranking
from analytics.store import db
from tests.fixtures.apptest import (
    errors_of,
    new_app,
    open_as,
    table_with,
)
from tests.fixtures.page_text import problems, store_values
from ui.i18n import LANG_KEY

CHART_ROWS = 80  # the rank chart draws the first 80 compounds


@pytest.fixture(scope="module")
def expected(district):
    con = db.connect(district.path)
    try:
        return ranking.rank_compounds(con, ranking.default_window(con))
    finally:
        con.close()


def open_page(app, username: str):
    return open_as(app, username, "pages/ranking.py")


@pytest.mark.parametrize("username", ["leader1", "analyst1", "admin1"])
def test_ranking_renders_for_roles_that_may_see_it(app, username):
    at = open_page(app, username)
    assert errors_of(at) == []
    assert at.title[0].value == "重点小区排名"


def test_the_list_leads_with_what_a_leader_needs(app, expected):
    at = open_page(app, "leader1")
    table = table_with(at, "未来12个月预计工单")
    listed = expected[expected["listed"]]
    top = min(65, len(expected))  # the simulated district may have fewer compounds than the list
    assert len(table) == len(listed) == top
    assert list(table["小区编号"]) == list(listed["compound_id"])
    assert list(table["排名"]) == list(listed["rank"])
    assert list(table["未来12个月预计工单"].head(3)) == list(listed["expected_tickets"].head(3).round())
    first = listed.iloc[0]
    assert table["名次把握"].iloc[0] == (
        f"有 90% 把握排在第 {first['rank_low']} 至 {first['rank_high']} 位"
        if first["rank_low"] != first["rank_high"]
        else f"有 90% 把握排在第 {first['rank_low']} 位"
    )
    # shares as percentages with one decimal, the chance of making the list as a bar of 0-100%
    assert list(table["重复来电占比（%）"].head(3)) == list((listed["repeat_share"].head(3) * 100).round(1))
    p_top = next(df for df in at.dataframe if "未来12个月预计工单" in df.value.columns)
    config = json.loads(p_top.proto.columns)[f"进入前{top}名概率（%）"]
    assert config["type_config"]["type"] == "progress" and config["type_config"]["max_value"] == 100
    # the definition of "worst" in one sentence, and what the chances of the list add up to
    assert text("rk_preset_volume") in [i.value for i in at.info]
    note = next(c.value for c in at.caption if c.value.startswith(f"名单是进入前 {top} 名概率最高的"))
    assert f"合计 {listed['p_top'].sum():.1f}" in note
    # every compound is in the full table, each rank inside its own interval
    every = [df.value for df in at.dataframe if "名次把握" in df.value.columns][-1]
    assert len(every) == len(expected)
    ends = every["名次把握"].str.extract(r"第 (\d+)(?: 至 (\d+))? 位").astype(float)
    ends[1] = ends[1].fillna(ends[0])
    assert ((ends[0] <= every["排名"]) & (every["排名"] <= ends[1])).all()
    # the rank chart draws error bars
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["data"][0]["error_x"]["symmetric"] is False


def test_the_rank_chart_names_every_compound_and_says_the_interval_the_table_says(app, expected):
    at = open_page(app, "leader1")
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    rows = min(CHART_ROWS, len(expected))
    names = fig["data"][0]["y"]
    drawn = expected.sort_values("rank", kind="stable").head(rows)
    assert names == [f"{r}. {n}" for r, n in zip(drawn["rank"], drawn["name"], strict=True)]
    assert fig["layout"]["yaxis"]["dtick"] == 1 and fig["layout"]["height"] >= 22 * rows
    # what the ranking computes (a 90% interval) is what the title and the table say
    level = round((RANK_INTERVAL[1] - RANK_INTERVAL[0]) * 100)
    assert f"{level}% 区间" in fig["layout"]["title"]["text"]
    table = table_with(at, "名次把握")
    assert table["名次把握"].str.startswith(f"有 {level}% 把握").all()
    shown = [fig["layout"]["title"]["text"], *(s.proto.help for s in at.subheader)]
    assert not any("95%" in s for s in shown)


def test_another_definition_ranks_by_its_own_quantity(app, district):
    at = open_page(app, "leader1")
    at.radio(key="rk_preset").set_value("rate").run()
    assert errors_of(at) == []
    assert text("rk_preset_rate") in [i.value for i in at.info]
    con = db.connect(district.path)
    try:
        by_rate = ranking.rank_compounds(con, ranking.default_window(con), preset="rate")
    finally:
        con.close()
    table = table_with(at, "未来12个月预计工单")
    assert list(table["小区编号"]) == list(by_rate.loc[by_rate["listed"], "compound_id"])
    # the other definitions' lists are compared with this one
    assert any(m.value.startswith("换一种口径") for m in at.markdown)


@pytest.mark.parametrize("table_key, row", [("rk_table_df", 2), ("rk_peer_df", 1)], ids=["ranking", "peers"])
def test_a_compound_picked_in_a_table_opens_its_profile(app, expected, table_key, row):
    at = open_page(app, "leader1")
    at.session_state[table_key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert errors_of(at) == []
    assert at.title[0].value == "小区档案"
    assert at.query_params["compound"] == expected["compound_id"].iloc[row]
    assert at.selectbox(key="prof_pick").value == expected["compound_id"].iloc[row]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_ranking_reads_like_a_report(app, district, lang):
    at = open_page(app, "leader1")
    at.toggle(key=LANG_KEY).set_value(lang == "en").run()
    assert errors_of(at) == []
    assert problems(at, lang, store_values(district.path)) == []
    # a size band is worded, so no table masks it as if it were a phone number
    peers = table_with(at, "同类组" if lang == "zh" else "Peer group")
    assert not peers.iloc[:, 2].str.contains(r"\*").any()


def test_changing_the_weights_changes_the_sentence(app):
    at = open_page(app, "leader1")
    usable = [s for s in at.slider if s.key.startswith("rk_w_") and not s.proto.disabled]
    assert usable, "the simulated district's shares differ between compounds"
    for slider in usable:
        slider.set_value(0)
    at.get("form_submit_button")[0].click()
    at.run()
    assert errors_of(at) == []
    assert text("rk_weights_none") in [c.value for c in at.caption]
    # with no share adding weight, the list is the compounds with the most expected tickets
    table = table_with(at, "未来12个月预计工单")
    assert table["未来12个月预计工单"].iloc[0] == table["未来12个月预计工单"].max()
    assert any(m.value == text("rk_stability_no_signal") for m in at.markdown)


def test_leader_cannot_save_snapshots(app):
    at = open_page(app, "leader1")
    assert not at.text_input  # the snapshot note is for analysts and admins only


def test_analyst_saves_a_snapshot(district, tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    shutil.copy(district.path, path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    at = open_page(new_app(), "analyst1")
    at.text_input(key="rk_note").input("2024年度排名")
    next(b for b in at.get("form_submit_button") if b.proto.label == "保存快照").click()
    at.run()
    assert errors_of(at) == []
    con = db.connect(path)
    try:
        newest = ranking.list_snapshots(con).iloc[0]
    finally:
        con.close()
    assert newest["note"] == "2024年度排名"
    assert f"排名快照 {newest['snapshot_id']} 已保存。" in [s.value for s in at.success]


def test_analyst_creates_task_forces_from_a_snapshot(district, tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    shutil.copy(district.path, path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    at = open_page(new_app(), "analyst1")
    sid = at.selectbox(key="rk_snapshot").value
    # what a person types into the editor: a leader for the first two rows, a head for the first
    at.session_state[f"rk_assign_{sid}"] = {
        "edited_rows": {0: {"leader": "赵书记", "head": "tf9"}, 1: {"leader": "赵书记"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="rk_create").click()
    at.run()
    assert errors_of(at) == []
    con = db.connect(path)
    try:
        rows = db.query_df(
            con, "SELECT leader, head FROM task_forces WHERE leader = '赵书记' ORDER BY head NULLS LAST"
        )
    finally:
        con.close()
    assert rows.values.tolist() == [["赵书记", "tf9"], ["赵书记", None]]
