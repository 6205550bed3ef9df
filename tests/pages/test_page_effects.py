"""整治成效 page: the three numbers side by side, the caveat, scoped per-compound views."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from analytics.reports.effects_text import summary
from analytics.services import effects
from analytics.store import db
from tests.fixtures.apptest import (
    errors_of,
    new_app,
    open_as,
    table_with,
)
from tests.fixtures.district import ACTION_COST, TOP


@pytest.fixture(scope="module")
def expected(district):
    con = db.connect(district.path)
    try:
        return effects.estimate_effects(con)
    finally:
        con.close()


def open_page(app, username: str):
    return open_as(app, username, "pages/effects.py")


def numbers(values) -> list[float]:
    """Plotly sends numeric arrays as base64 ('bdata' with a dtype); plain lists otherwise."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("username", ["leader1", "analyst1", "tf1", "admin1"])
def test_effects_renders_for_every_role(app, username):
    at = open_page(app, username)
    assert errors_of(at) == []
    assert at.title[0].value == "整治成效"


def test_naive_placebo_adjusted_shown_together_with_the_interval(app, expected):
    at = open_page(app, "leader1")
    assert metric(at, "简单同比（官方口径）") == f"{expected.naive_change_pct:+.1f}%"
    assert metric(at, "安慰剂：前一年同规则") == f"{expected.placebo_change_pct:+.1f}%"
    assert metric(at, "调整后效应") == f"{expected.adjusted_effect_pct:+.1f}%"
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert len(bars["x"]) == 3
    interval = f"95% 区间 {expected.ci_low_pct:+.1f}% 至 {expected.ci_high_pct:+.1f}%"
    assert interval in [c.value for c in at.caption]


def test_summary_and_caveat_when_the_interval_crosses_zero(app, expected):
    at = open_page(app, "leader1")
    assert summary(expected, "zh") in [i.value for i in at.info]
    caveat = "调整后效应的 95% 区间跨越零：不能据此宣称专班使工单下降。"
    assert (caveat in [w.value for w in at.warning]) == bool(expected.crosses_zero)


def test_event_study_shows_the_baseline_months(app):
    at = open_page(app, "leader1")
    event = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert event["data"][0]["name"] == "基线期（排名窗口前）"
    assert min(numbers(event["data"][0]["x"])) < 0


def test_per_compound_table_is_scoped_for_a_head(app, district):
    at = open_page(app, "tf1")
    shown = set(table_with(at, "相对反事实（%）")["小区编号"])
    assert shown == set(district.head_scope)
    at = open_page(new_app(), "leader1")
    assert len(table_with(at, "相对反事实（%）")) == TOP


def test_logged_cost_is_shown(app):
    at = open_page(app, "leader1")
    assert metric(at, "登记费用合计（元）") == f"{ACTION_COST:,.0f}"
