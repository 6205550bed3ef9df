"""总览 page: KPIs match the store for every kind of period, badges read a rise in complaints as
bad, an unfinished month says so, a compound picked anywhere opens its profile, and the page
reads like a report in both languages.

The analysis pages need history (surges want 12 baseline months, effects a baseline before the
ranking window), so these tests use a small simulated district (tests/fixtures/district.py):
40 compounds, 2022-01..2024-06, six task forces from a ranking snapshot of 2022-07..12, starting
2023-03.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from streamlit.proto.Metric_pb2 import Metric

from analytics.metrics import surges
from analytics.store import db
from tests.fixtures.apptest import copy_store_file, errors_of, login, menu_pages, new_app, open_as, table_with
from tests.fixtures.district import tickets_in_month
from tests.fixtures.page_text import problems, store_values
from ui.i18n import LANG_KEY

UP, DOWN = Metric.MetricDirection.UP, Metric.MetricDirection.DOWN
RED, GREEN = Metric.MetricColor.RED, Metric.MetricColor.GREEN


def open_overview(app, username: str = "leader1"):
    return open_as(app, username, "pages/overview.py")


def metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


def tickets_between(path, first: dt.date, last: dt.date) -> int:
    con = db.connect(path)
    try:
        lo, hi = pd.Timestamp(first), pd.Timestamp(last) + pd.Timedelta(days=1)
        return int(
            db.query_one(
                con, "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?", [lo, hi]
            )
        )
    finally:
        con.close()


def choose(at, kind: str):
    at.get("button_group")[0].set_value(kind)
    return at.run()


@pytest.mark.parametrize("username", ["leader1", "analyst1", "admin1"])
def test_overview_renders_for_roles_that_may_see_it(app, username):
    at = open_overview(app, username)
    assert errors_of(at) == []
    assert at.title[0].value == "总览"


def test_tickets_this_month_is_the_store_count_for_the_latest_complete_month(app, district):
    at = open_overview(app)
    # the data end on 2024-06-30, so June is the latest complete month
    assert at.selectbox(key="ov_month").value == "2024-06"
    assert metric(at, "本月工单").value == f"{tickets_in_month(district.path, '2024-06'):,}"


def test_month_selector_changes_the_kpi(app, district):
    at = open_overview(app)
    at.selectbox(key="ov_month").select("2023-01").run()
    assert errors_of(at) == []
    assert metric(at, "本月工单").value == f"{tickets_in_month(district.path, '2023-01'):,}"


def months_by_change(path) -> dict[str, str]:
    """A month whose tickets rose against the month before, and one whose tickets fell."""
    months = [str(m) for m in pd.period_range("2022-02", "2024-06", freq="M")]
    counts = {m: tickets_in_month(path, m) for m in [str(pd.Period("2022-01", "M")), *months]}
    change = {m: counts[m] - counts[str(pd.Period(m, "M") - 1)] for m in months}
    return {
        "rise": next(m for m in months if change[m] > 0),
        "fall": next(m for m in months if change[m] < 0),
    }


@pytest.mark.parametrize("way, direction, color", [("rise", UP, RED), ("fall", DOWN, GREEN)])
def test_a_rise_in_complaints_reads_red_and_up_a_fall_green_and_down(app, district, way, direction, color):
    month = months_by_change(district.path)[way]
    at = open_overview(app)
    at.selectbox(key="ov_month").select(month).run()
    card = metric(at, "本月工单")
    assert (card.proto.direction, card.proto.color) == (direction, color)
    assert card.proto.delta.startswith("+" if way == "rise" else "-")
    before = str(pd.Period(month, "M") - 1)
    assert card.proto.delta_description == f"环比（较 {before[:4]}年{int(before[5:])}月）"
    # every badge on the page follows the same rule: the arrow with the sign, red for more tickets
    for m in at.metric:
        if m.proto.delta:
            rising = not m.proto.delta.startswith("-")
            assert (m.proto.direction, m.proto.color) == ((UP, RED) if rising else (DOWN, GREEN)), m.label


@pytest.mark.parametrize(
    "kind, pick, label, first, last, previous, last_year",
    [
        ("quarter", (2024, 1), "本季度工单", dt.date(2024, 1, 1), dt.date(2024, 3, 31),
         "2023年第4季度", "2023年第1季度"),
        ("ytd", 2024, "年初至今工单", dt.date(2024, 1, 1), dt.date(2024, 6, 30), None, "2023-01-01 至 2023-06-30"),
        ("custom", (dt.date(2024, 3, 5), dt.date(2024, 4, 10)), "本期工单", dt.date(2024, 3, 5),
         dt.date(2024, 4, 10), "2024-01-28 至 2024-03-04", "2023-03-05 至 2023-04-10"),
    ],
)  # fmt: skip
def test_each_period_counts_the_store_and_says_what_it_compares(
    app, district, kind, pick, label, first, last, previous, last_year
):
    at = choose(open_overview(app), kind)
    widget = {"quarter": "ov_quarter_zh", "ytd": "ov_year", "custom": "ov_dates"}[kind]
    if kind == "custom":
        at.date_input(key=widget).set_value(pick).run()
    else:
        at.selectbox(key=widget).select(pick).run()
    assert errors_of(at) == []
    assert metric(at, label).value == f"{tickets_between(district.path, first, last):,}"
    captions = [c.value for c in at.caption]
    compared = next(c for c in captions if "同比：与去年同期" in c)
    assert last_year in compared
    if previous:
        assert f"环比：与上一期 {previous}" in compared
    else:
        assert "不计环比" in compared and not metric(at, label).proto.delta


def test_a_quarter_is_the_sum_of_its_months_on_screen(app):
    at = open_overview(app)
    months = []
    for month in ("2024-01", "2024-02", "2024-03"):
        at.selectbox(key="ov_month").select(month).run()
        months.append(int(metric(at, "本月工单").value.replace(",", "")))
    at = choose(at, "quarter")
    at.selectbox(key="ov_quarter_zh").select((2024, 1)).run()
    assert int(metric(at, "本季度工单").value.replace(",", "")) == sum(months)


@pytest.fixture
def cut_store(district, tmp_path):
    """The district with its data stopping on 2024-06-14 (a half-finished June)."""
    path = copy_store_file(district.path, tmp_path / "cut.duckdb")
    con = db.connect(path)
    try:
        con.execute("DELETE FROM tickets WHERE created_at >= TIMESTAMP '2024-06-15'")
    finally:
        con.close()
    return path


def test_an_unfinished_month_is_flagged_and_compared_like_for_like(cut_store, monkeypatch):
    monkeypatch.setenv("HOTLINE_DB", str(cut_store))
    at = open_overview(new_app())
    # the default is the latest complete month; the half month is there, marked
    assert at.selectbox(key="ov_month").value == "2024-05"
    at.selectbox(key="ov_month").select("2024-06").run()
    assert errors_of(at) == []
    warning = " ".join(w.value for w in at.warning)
    assert "数据截至 2024-06-14，本期尚不完整" in warning
    compared = next(c.value for c in at.caption if "环比：与上一期" in c.value)
    assert "2024-05-01 至 2024-05-14" in compared and "2023-06-01 至 2023-06-14" in compared
    trend = json.loads(at.get("plotly_chart")[0].proto.spec)
    (tail,) = [t for t in trend["data"] if t.get("name") == "不完整月份"]
    assert tail["marker"]["symbol"] == "circle-open" and tail["line"]["dash"] == "dot"
    assert any(a["text"] == "数据截至 2024-06-14，本月尚不完整" for a in trend["layout"]["annotations"])
    assert trend["layout"]["yaxis"]["rangemode"] == "tozero"


def test_trend_marks_the_task_force_start_and_briefing_is_offered(app):
    at = open_overview(app)
    trend = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [s["x0"] for s in trend["layout"]["shapes"] if s.get("name") == "start"] == ["2023-03-01T00:00:00"]
    assert (
        trend["layout"]["legend"]["yref"] == "container"
    )  # the legend is under the plot, not under 专班进驻
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("Excel" in label for label in labels)


def test_a_task_force_head_has_no_overview(app):
    login(app, "tf1")
    assert "pages/overview.py" not in menu_pages(app)


def test_naive_task_force_change_sits_beside_the_adjusted_effect_the_effects_page_shows(app, district):
    at = open_overview(app)
    from analytics.services import effects

    con = db.connect(district.path)
    try:
        expected = effects.stored_effects(con)
    finally:
        con.close()
    assert metric(at, "专班调整后成效").value == f"{expected.adjusted_effect_pct:+.1f}%"
    captions = " ".join(c.value for c in at.caption)
    assert f"{expected.ci_low_pct:+.1f}%" in captions and f"{expected.ci_high_pct:+.1f}%" in captions
    # the simple figure says it is simple, and gives the 整治成效 page's figures beside it
    assert metric(at, "专班小区同比（简单口径）").proto.help.startswith(
        "专班小区本期工单与去年同期相比的简单同比"
    )
    assert f"简单同比为 {expected.naive_change_pct:+.1f}%" in captions
    assert f"调整后成效为 {expected.adjusted_effect_pct:+.1f}%" in captions


def picked_rises(at):
    """Pick the first row of the rises table; the compound it names."""
    first = at.dataframe[0].value.iloc[0]["小区"]
    at.session_state["ov_rises_df"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    return first


def clicked_tile(at):
    """Click the treemap tile of the busiest compound; the compound it names."""
    tree = json.loads(next(c for c in at.get("plotly_chart") if "treemap" in c.proto.spec).proto.spec)[
        "data"
    ][0]
    leaves = [i for i, key in enumerate(tree["customdata"]) if key]
    busiest = max(leaves, key=lambda i: tree["values"][i])
    at.session_state["ov_treemap_chart"] = {
        "selection": {
            "points": [{"id": tree["ids"][busiest]}],
            "point_indices": [busiest],
            "box": [],
            "lasso": [],
        }
    }
    return tree["labels"][busiest]


@pytest.mark.parametrize("pick", [picked_rises, clicked_tile], ids=["movers table", "treemap"])
def test_a_compound_picked_on_the_overview_opens_its_profile(app, district, pick):
    at = open_overview(app)
    name = pick(at)
    at.run()
    assert errors_of(at) == []
    assert at.title[0].value == "小区档案"
    compound = at.query_params["compound"]
    assert at.selectbox(key="prof_pick").value == compound
    con = db.connect(district.path)
    try:
        assert db.query_one(con, "SELECT name FROM compounds WHERE compound_id = ?", [compound]) == name
    finally:
        con.close()
    # back on the overview the page stays there: the pick was used once
    at.switch_page("pages/overview.py")
    assert at.run().title[0].value == "总览"


@pytest.fixture(scope="module")
def data_values(district) -> list[str]:
    return store_values(district.path)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", ["month", "quarter", "ytd", "custom"])
def test_every_period_reads_like_a_report(app, data_values, kind, lang):
    at = open_overview(app)
    at.toggle(key=LANG_KEY).set_value(lang == "en").run()
    at = choose(at, kind)
    assert errors_of(at) == []
    assert problems(at, lang, data_values) == []


def test_surge_alerts_read_like_a_report_and_open_the_compound(app, district, data_values):
    con = db.connect(district.path)
    try:
        month = next(m for m in ("2023-02", "2023-12") if len(surges.detect_surges(con, m)) >= 2)
        alerts = surges.detect_surges(con, month)
    finally:
        con.close()
    at = open_overview(app)
    at.selectbox(key="ov_month").select(month).run()
    table = table_with(at, "q 值")
    assert list(table["小区"]) == list(alerts["name"])
    assert all(q == "<0.01" or len(q) == 4 for q in table["q 值"])  # never 0.000015644680103956745
    assert problems(at, "zh", data_values) == []
    at.session_state["ov_surges_df"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert at.title[0].value == "小区档案" and at.query_params["compound"] == alerts["compound_id"].iloc[1]
