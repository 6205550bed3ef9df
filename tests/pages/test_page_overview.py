"""总览 page: KPIs match the store, charts and downloads render, access by role.

The analysis pages need history (surges want 12 baseline months, effects a baseline before the
ranking window), so these tests use a small simulated district instead of the 2024-only shell
fixture: 40 compounds, 2022-01..2024-06, six task forces from a ranking snapshot of 2022-07..12,
starting 2023-03. `build_district` is shared with the other analysis-page tests.
"""

from __future__ import annotations

import json

import pytest

from analytics.store import db
from tests.fixtures.apptest import (
    errors_of,
    login,
    menu_pages,
    open_as,
)
from tests.fixtures.district import tickets_in_month


def open_overview(app, username: str):
    return open_as(app, username, "pages/overview.py")


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("username", ["leader1", "analyst1", "admin1"])
def test_overview_renders_for_roles_that_may_see_it(app, username):
    at = open_overview(app, username)
    assert errors_of(at) == []
    assert at.title[0].value == "总览"


def test_tickets_this_month_is_the_store_count_for_the_latest_complete_month(app, district):
    at = open_overview(app, "leader1")
    # the data end on 2024-06-30, so June is the latest complete month
    assert at.selectbox(key="ov_month").value == "2024-06"
    assert metric(at, "本月工单") == f"{tickets_in_month(district.path, '2024-06'):,}"


def test_month_selector_changes_the_kpi(app, district):
    at = open_overview(app, "leader1")
    at.selectbox(key="ov_month").select("2023-01").run()
    assert errors_of(at) == []
    assert metric(at, "本月工单") == f"{tickets_in_month(district.path, '2023-01'):,}"


def test_trend_marks_the_task_force_start_and_briefing_is_offered(app):
    at = open_overview(app, "leader1")
    charts = at.get("plotly_chart")
    assert len(charts) >= 2
    trend = json.loads(charts[0].proto.spec)
    assert [s["x0"] for s in trend["layout"]["shapes"] if s.get("name") == "start"] == ["2023-03-01T00:00:00"]
    labels = [b.proto.label for b in at.get("download_button")]
    assert "下载通报（Excel）" in labels and "下载通报（可打印网页）" in labels


def test_a_task_force_head_has_no_overview(app):
    login(app, "tf1")
    assert "pages/overview.py" not in menu_pages(app)


def test_naive_task_force_change_sits_beside_the_adjusted_effect(app, district):
    at = open_overview(app, "leader1")
    from analytics.services import effects

    expected = effects.estimate_effects(db.connect(district.path), details=False).as_json()
    assert metric(at, "专班调整后成效") == f"{expected['adjusted_effect_pct']:+.1f}%"
    captions = " ".join(c.value for c in at.caption)
    assert f"{expected['ci_low_pct']:+.1f}%" in captions and f"{expected['ci_high_pct']:+.1f}%" in captions
