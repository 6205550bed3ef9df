"""Repeat complaints on a hand-built fixture: boundaries, order invariance, monotonicity in N."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from analytics.metrics import repeats
from analytics.store import db

T0 = pd.Timestamp("2024-03-01 09:00:00")
DAY = pd.Timedelta(days=1)
# (ticket_id, created_at, compound, category, caller, content, closed)
ROWS = [
    ("A1", T0, "C1", "供暖", "h1", "3号楼暖气不热，室温只有十几度", True),
    ("A2", T0 + 30 * DAY, "C1", "供暖", "h1", "3号楼暖气还是不热", True),  # exactly 30 days: repeat
    ("A3", T0 + 60 * DAY + pd.Timedelta(seconds=1), "C1", "供暖", "h1", "暖气依旧不热", False),  # 30 d + 1 s
    ("B1", T0 + 2 * DAY, "C1", "噪音扰民", "h1", "夜间施工噪音扰民", True),  # same caller, other category
    ("B2", T0 + 3 * DAY, "C2", "供暖", "h1", "暖气不热", True),  # same caller, other compound
    (
        "D1",
        T0 + 5 * DAY,
        "C1",
        "供暖",
        "h2",
        "3号楼暖气不热，室温只有十几度",
        True,
    ),  # other caller, same text
    ("D2", T0 + 6 * DAY, "C1", "供暖", "h3", "物业费收费标准不合理", True),  # other caller, other text
    ("E1", T0 + 8 * DAY, "C1", "供暖", None, "3号楼暖气不热，室温只有十几度", False),  # no caller
    ("F1", T0 + 80 * DAY, "C2", "电梯", "h9", "电梯经常故障困人", True),
    ("F2", T0 + 95 * DAY, "C2", "电梯", "h9", "电梯故障困人多次", True),  # 15 days after F1
]
REOPENED = {"F2"}


def _load(con, rows):
    con.execute(
        "INSERT INTO compounds (compound_id, name, households) VALUES ('C1', '锦绣花园', 500), ('C2', '阳光家园', 300)"
    )
    for tid, at, comp, cat, caller, content, closed in rows:
        con.execute(
            "INSERT INTO tickets (ticket_id, created_at, closed_at, category, compound_id, caller_hash, content,"
            " reopened, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [tid, at, at + DAY if closed else None, cat, comp, caller, f"锦绣花园{content}", tid in REOPENED],
        )


@pytest.fixture
def fixture_store(store):
    _load(store, ROWS)
    return store


def _flags(con, n_days):
    return repeats.repeat_flags(con, n_days).set_index("ticket_id")


@pytest.mark.parametrize(
    "ticket, n_days, same_caller",
    [
        ("A2", 30, True),  # exactly N days counts as within
        ("A2", 29, False),
        ("A3", 30, False),  # N days and one second
        ("A3", 31, True),
        ("B1", 90, False),  # other category
        ("B2", 90, False),  # other compound
        ("D1", 30, False),  # other caller
        ("E1", 30, False),  # no caller hash
        ("F2", 7, False),
        ("F2", 30, True),
        ("A1", 90, False),  # the first call is never a repeat
    ],
)
def test_same_caller(fixture_store, ticket, n_days, same_caller):
    assert _flags(fixture_store, n_days).loc[ticket, "same_caller"] == same_caller


@pytest.mark.parametrize(
    "ticket, n_days, same_issue",
    [
        ("D1", 30, True),  # same compound, category and text from another caller
        ("D1", 4, False),  # ... but 5 days later
        ("D2", 30, False),  # same place and category, different problem
        ("E1", 30, True),  # no caller needed
        ("B2", 90, False),  # similar text in another compound
    ],
)
def test_same_issue(fixture_store, ticket, n_days, same_issue):
    assert _flags(fixture_store, n_days).loc[ticket, "same_issue"] == same_issue


def test_reopened_counts_as_repeat(fixture_store):
    flags = _flags(fixture_store, 7)
    assert flags.loc["F2", "reopened"] and flags.loc["F2", "any_repeat"]


def test_counts_never_fall_as_the_window_grows(fixture_store):
    rates = [repeats.repeat_rate(fixture_store, n).iloc[0] for n in (0, 7, 30, 90, 365)]
    for col in ("same_caller", "same_issue", "any_repeat"):
        values = [r[col] for r in rates]
        assert values == sorted(values), (col, values)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_row_order_does_not_matter(tmp_path, fixture_store, seed):
    shuffled = ROWS[:]
    random.Random(seed).shuffle(shuffled)
    other = db.connect(tmp_path / f"shuffled{seed}.duckdb")
    _load(other, shuffled)
    cols = ["same_caller", "same_issue", "any_repeat", "issue_id", "same_caller_prev", "same_issue_prev"]
    pd.testing.assert_frame_equal(_flags(fixture_store, 30)[cols], _flags(other, 30)[cols])
    other.close()


def test_period_filter_still_looks_back(fixture_store):
    flags = repeats.repeat_flags(fixture_store, 30, start=(T0 + 20 * DAY).date())
    assert "A1" not in set(flags["ticket_id"])
    assert flags.set_index("ticket_id").loc["A2", "same_caller"]


def test_hot_issue_groups_one_problem_in_one_place(fixture_store):
    issues = repeats.hot_issues(fixture_store, 30, min_tickets=3, start="2024-01")
    top = issues.iloc[0]
    assert top["compound_id"] == "C1" and top["category"] == "供暖"
    assert set(top["ticket_ids"]) >= {"A1", "A2", "D1", "E1"} and "D2" not in top["ticket_ids"]
    assert top["callers"] == 2  # h1, h2 (the anonymous call has no caller)
    assert top["still_open"]  # E1 is not closed
    assert "锦绣花园" in top["sample_text"]
    assert repeats.hot_issues(fixture_store, 30, compound_ids=["C2"], min_tickets=3, start="2024-01").empty


def test_negative_window_is_refused(fixture_store):
    with pytest.raises(Exception, match="重复窗口"):
        repeats.repeat_flags(fixture_store, -1)
