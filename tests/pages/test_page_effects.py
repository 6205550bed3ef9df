"""整治成效 page: for leaders the three numbers side by side with the caveat, in plain words with
a help line for each statistical term; for a task-force head only their own compounds, against
their counterfactuals, with their own actions and costs, and no district figure anywhere."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from google.protobuf import text_format
from streamlit.runtime.media_file_manager import MediaFileManager

from analytics.reports.effects_text import summary
from analytics.services import effects
from analytics.services.taskforces import records
from analytics.store import db
from tests.fixtures.apptest import (
    COMPOUNDS,
    build_fixture_store,
    errors_of,
    new_app,
    open_as,
    table_with,
)
from tests.fixtures.district import ACTION_COST, SELECTION, TOP

OTHER_COST = 7777.0  # logged by a task force outside tf1's scope
PAGE = "pages/effects.py"


@pytest.fixture(scope="module")
def expected(district):
    con = db.connect(district.path)
    try:
        return effects.estimate_effects(con)
    finally:
        con.close()


def copy_district(district, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "store.duckdb"
    shutil.copy(district.path, path)
    return path


@pytest.fixture(scope="module")
def costly(district, tmp_path_factory) -> Path:
    """The district where a task force outside tf1's scope also logged a cost."""
    path = copy_district(district, tmp_path_factory.mktemp("costly"))
    con = db.connect(path)
    try:
        others = records.ledger(
            con, compound_scope=[c for c in district.treated if c not in district.head_scope]
        )
        records.log_action(
            con, int(others["taskforce_id"].iloc[0]), "2023-05-02", "拆除违建", OTHER_COST, user="tf2"
        )
        effects.refresh_stored(con)
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The five-compound store: tf1's task force has too little history for the model."""
    return build_fixture_store(tmp_path_factory.mktemp("effects_small"))


@pytest.fixture
def downloads(monkeypatch) -> list[str]:
    """The name of every file a run offers for download."""
    seen: list[str] = []
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen.append(file_name or "")
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return seen


def open_page(app, username: str):
    return open_as(app, username, PAGE)


def open_on(path: Path, monkeypatch, username: str):
    monkeypatch.setenv("HOTLINE_DB", str(path))
    return open_as(new_app(), username, PAGE)


def numbers(values) -> list[float]:
    """Plotly sends numeric arrays as base64 ('bdata' with a dtype); plain lists otherwise."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def compound_names(path: Path) -> dict[str, str]:
    con = db.connect(path)
    try:
        return dict(db.query_df(con, "SELECT compound_id, name FROM compounds").itertuples(index=False))
    finally:
        con.close()


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def everything(at) -> str:
    """Every word and number the run drew: texts, labels, help lines, table cells, charts."""
    found: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "type", None) not in ("dataframe", "plotly_chart"):
            found.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)  # noqa: SLF001 - every element of the run, wherever it sits
    found += [df.value.to_csv() for df in at.dataframe]
    found += [json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("plotly_chart")]
    return "\n".join(found)


@pytest.mark.parametrize("username", ["leader1", "analyst1", "tf1", "admin1"])
def test_effects_renders_for_every_role(app, username):
    at = open_page(app, username)
    assert errors_of(at) == []
    assert at.title[0].value == "整治成效"


# --- leaders, analysts, admin: the whole district ---------------------------------------------


def test_naive_placebo_adjusted_net_shown_together_with_their_intervals(app, expected):
    at = open_page(app, "leader1")
    assert metric(at, "简单同比（官方口径）") == f"{expected.naive_change_pct:+.1f}%"
    placebo = expected.placebo_change_pct
    assert metric(at, "安慰剂：更早时段同规则") == ("数据不足" if placebo is None else f"{placebo:+.1f}%")
    assert metric(at, "调整后效应（专班小区）") == f"{expected.adjusted_effect_pct:+.1f}%"
    net = expected.net_effect_pct
    assert metric(at, "净效应（含同社区邻近小区）") == ("—" if net is None else f"{net:+.1f}%")
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    shown = [expected.naive_change_pct, placebo, expected.adjusted_effect_pct, net]
    assert len(bars["x"]) == sum(v is not None for v in shown) + (expected.eb_effect_pct is not None)
    interval = f"95% 区间 {expected.ci_low_pct:+.1f}% 至 {expected.ci_high_pct:+.1f}%"
    captions = [c.value for c in at.caption]
    assert interval in captions
    if net is None:  # the small fixture: task forces in nearly every community
        assert any(c.startswith("无法估计") for c in captions)
    else:
        assert f"95% 区间 {expected.net_ci_low_pct:+.1f}% 至 {expected.net_ci_high_pct:+.1f}%" in captions


def test_what_the_method_reports_when_nothing_happened(app, expected):
    at = open_page(app, "leader1")
    assert errors_of(at) == []
    said = [m.value for m in at.markdown]
    perm = expected.permutation
    assert any(s.startswith(f"随机挑选 {perm['n']} 组没有专班") for s in said)
    assert any(s.startswith("进驻时间提前") or s.startswith("专班进驻前的数据不够长") for s in said)
    windows = table_with(at, "窗口（月）")
    assert list(windows["窗口（月）"]) == [6, 12, 18]
    # a window without an estimate says why, in words; one with an estimate says nothing
    for _, row in windows.iterrows():
        assert (row["调整后效应（%）"] in ("—", None) or pd.isna(row["调整后效应（%）"])) == bool(row["说明"])
    assert set(windows["说明"]) <= {
        "",
        "数据起点太晚：该窗口之前没有基线月份",
        "基线月份或对照小区不足，无法估计",
    }


def test_summary_and_caveat_when_the_interval_crosses_zero(app, expected):
    at = open_page(app, "leader1")
    assert summary(expected, "zh") in [i.value for i in at.info]
    caveat = "调整后效应的 95% 区间跨越零：不能据此宣称专班使工单下降。"
    assert (caveat in [w.value for w in at.warning]) == bool(expected.crosses_zero)


def test_event_study_shows_the_baseline_months(app):
    at = open_page(app, "leader1")
    event = json.loads(at.get("plotly_chart")[1].proto.spec)
    traces = {trace["name"]: trace for trace in event["data"]}
    assert min(numbers(traces["基线期（排名窗口前）"]["x"])) < 0
    # the joint band the sentence under the chart speaks of is drawn, over the months after the start
    band = numbers(traces["逐月效应 95% 联合置信带"]["x"])
    assert min(band) == 0 and max(band) > 0


# every statistical term carries a plain-words line where it appears
@pytest.mark.parametrize(
    ("kind", "label", "words"),
    [
        ("metric", "简单同比（官方口径）", "概览页"),  # and why it differs from the overview's figure
        ("metric", "安慰剂：更早时段同规则", "安慰剂"),
        ("metric", "调整后效应", "反事实"),
        ("caption", "95% 区间", "区间"),
        ("subheader", "十秒读懂", "均值回归"),
        ("subheader", "事件研究", "事件研究"),
        ("subheader", "外溢检验", "外溢"),
        ("subheader", "各专班小区：实际与反事实", "反事实"),
    ],
)
def test_statistical_terms_have_a_help_line(app, kind, label, words):
    at = open_page(app, "leader1")
    shown = {e.label if kind == "metric" else e.value: e.proto.help for e in at.get(kind)}
    tip = next(h for text, h in shown.items() if text.startswith(label))
    assert words in tip and "\n" not in tip.strip()


def test_method_in_plain_words_with_the_technical_name_as_help(app):
    at = open_page(app, "leader1")
    design = next(c for c in at.caption if "方法：" in c.value)
    assert "泊松固定效应模型（按月份与小区控制，不用排名窗口的数据）" in design.value
    assert "FE" not in design.value and "stacked" not in design.value
    assert design.proto.help.startswith("技术名称：") and "刀切法" in design.proto.help
    assert f"{SELECTION[0]:%Y-%m} 至 {SELECTION[1]:%Y-%m}" in design.value.replace("\\", "")


# the second cohort: the next compound below the cut, or one whose by-category estimate has a
# category with almost no tickets on one side (its log effect is too large for a percent)
@pytest.mark.parametrize("pick", ["next_below_the_cut", "C00001"])
def test_two_cohorts_are_named_in_plain_words(district, tmp_path, monkeypatch, pick):
    path = copy_district(district, tmp_path)
    con = db.connect(path)
    try:
        # a task force four months after the first ones: a second cohort
        later = pick
        if pick == "next_below_the_cut":
            later = db.query_one(
                con,
                "SELECT compound_id FROM ranking_rows WHERE snapshot_id = ? AND rank = ?",
                [district.snapshot_id, TOP + 1],
            )
        assignments = pd.DataFrame({"compound_id": [later], "leader": ["赵主任"], "head": [None]})
        records.create_from_snapshot(con, district.snapshot_id, assignments, "2023-07-01", user="fixture")
    finally:
        con.close()
    at = open_on(path, monkeypatch, "leader1")
    assert errors_of(at) == []
    design = next(c.value for c in at.caption if "方法：" in c.value)
    assert "分批堆叠的泊松固定效应模型（2 批专班，按批次×月份与小区控制" in design


def test_tables_show_yes_no_and_rounded_numbers(app):
    at = open_page(app, "leader1")
    compounds = table_with(at, "相对反事实（%）")
    assert len(compounds) == TOP
    assert set(compounds["满足撤出条件"]) <= {"是", "否"}
    assert compounds["相对反事实（%）"].str.fullmatch(r"[+-]\d+\.\d%").all()
    # expected tickets in whole tickets; q values to three places (one place would show 0.04 as 0.0)
    assert (compounds["反事实预计"].round(0) == compounds["反事实预计"]).all()
    q = compounds["q 值"].astype(float)
    assert q.between(0, 1).all() and (q.round(3) == q).all() and (q.round(1) != q).any()


def test_leaders_see_the_district_and_its_total_cost(costly, monkeypatch):
    at = open_on(costly, monkeypatch, "leader1")
    assert errors_of(at) == []
    assert metric(at, "登记费用合计（元）") == f"{ACTION_COST + OTHER_COST:,.0f}"
    assert len(table_with(at, "相对反事实（%）")) == TOP


# --- a task-force head: their compounds and nothing else ---------------------------------------


def test_head_sees_their_compounds_against_the_models_counterfactual(costly, district, monkeypatch):
    at = open_on(costly, monkeypatch, "tf1")
    assert errors_of(at) == []
    names = compound_names(costly)
    mine = table_with(at, "反事实来源")
    assert sorted(mine["小区"]) == sorted(names[c] for c in district.head_scope)
    assert set(mine["反事实来源"]) == {"成效模型的反事实"}
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == len(district.head_scope)
    assert all(
        [t["name"] for t in c["data"]] == ["反事实 95% 区间", "反事实（无专班）", "实际"] for c in charts
    )
    actions = table_with(at, "工作内容")
    assert list(actions["工作内容"]) == ["更换小区供水管道"] and list(actions["费用（元）"]) == [ACTION_COST]


def test_head_reaches_no_district_figure(costly, district, expected, monkeypatch, downloads):
    at = open_on(costly, monkeypatch, "tf1")
    shown = everything(at)
    names = compound_names(costly)
    outside = [names[c] for c in names if c not in district.head_scope]
    assert [n for n in outside if n in shown] == []
    district_words = [
        "简单同比", "安慰剂", "调整后效应", "十秒读懂", "事件研究", "分类别效应", "外溢", "对照小区",
        "登记费用合计", "每避免一件工单", f"{ACTION_COST + OTHER_COST:,.0f}", f"{OTHER_COST:,.0f}", "拆除违建",
        f"{expected.naive_change_pct:+.1f}%", f"{expected.adjusted_effect_pct:+.1f}%", "净效应",
    ]  # fmt: skip
    assert [w for w in district_words if w in shown] == []
    assert downloads == []  # a head reads, and takes no file away


def test_head_without_model_history_gets_the_comparison_trend(small, monkeypatch, downloads):
    at = open_on(small.path, monkeypatch, "tf1")
    assert errors_of(at) == []
    mine = table_with(at, "反事实来源")
    assert list(mine["小区"]) == ["锦绣花园"]  # C002, also theirs, has no task force
    assert mine["反事实来源"].iloc[0].startswith("参照走势")
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in chart["data"]] == ["参照走势（未设专班小区，按进驻前缩放）", "实际"]
    assert any("只作参照，没有区间" in c.value for c in at.caption)
    shown = everything(at)
    others = [name for cid, name, _, _ in COMPOUNDS if cid not in ("C001", "C002")]
    assert [n for n in others if n in shown] == [] and "登记费用合计" not in shown
    assert downloads == []


@pytest.mark.parametrize("username", ["leader1", "tf1"])
def test_glossary_is_one_click_away(app, username):
    at = open_page(app, username)
    assert [link.proto.label for link in at.main.get("page_link") if link.proto.page == "glossary"] == [
        "名词解释"
    ]
