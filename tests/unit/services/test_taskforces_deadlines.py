"""Exit reviews: the planned date (from the import file, set by an analyst, or the exit rule's),
days left, which reviews are due, and every change audited."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import NotFound, ValidationError
from analytics.services.taskforces import deadlines, file_import, records
from analytics.store import db

D = dt.date
TODAY = D(2024, 5, 20)


def _registry(con) -> None:
    with db.transaction(con) as cur:
        for cid, name in [("C001", "阳光花园"), ("C002", "幸福家园"), ("C003", "翠湖名苑")]:
            cur.execute(
                "INSERT INTO compounds (compound_id, name, community) VALUES (?, ?, '第001社区')", [cid, name]
            )


def _csv(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "专班名单.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _ledger_row(**values) -> dict:
    row = {
        "taskforce_id": 1,
        "compound_id": "C001",
        "compound_name": "阳光花园",
        "start_date": D(2024, 2, 10),
        "status": "进驻",
        "review_date": None,
        "exit_months": 3,
    }
    return {**row, **values}


@pytest.mark.parametrize(
    ("row", "review_date", "is_set", "days_left", "state"),
    [
        # no date set: start + the exit rule's months, same day of the month, and again every as
        # many months while the task force stays (the next one on or after today)
        (_ledger_row(start_date=D(2024, 3, 1)), D(2024, 6, 1), False, 12, deadlines.DUE),
        (_ledger_row(exit_months=6), D(2024, 8, 10), False, 82, deadlines.PLANNED),
        (_ledger_row(start_date=D(2024, 3, 1), exit_months=None), D(2024, 6, 1), False, 12, deadlines.DUE),
        (_ledger_row(start_date=D(2023, 11, 30)), D(2024, 5, 30), False, 10, deadlines.DUE),  # month end
        (_ledger_row(), D(2024, 8, 10), False, 82, deadlines.PLANNED),  # the first rule review has passed
        (_ledger_row(start_date=D(2024, 2, 20)), D(2024, 5, 20), False, 0, deadlines.DUE),
        # a date from the import file or an analyst wins over the rule
        (_ledger_row(review_date=D(2024, 5, 20)), D(2024, 5, 20), True, 0, deadlines.DUE),
        (_ledger_row(review_date=D(2024, 6, 3)), D(2024, 6, 3), True, 14, deadlines.DUE),
        (_ledger_row(review_date=D(2024, 6, 4)), D(2024, 6, 4), True, 15, deadlines.PLANNED),
        (_ledger_row(review_date=pd.Timestamp("2024-05-19")), D(2024, 5, 19), True, -1, deadlines.OVERDUE),
        # a withdrawn task force has no review to wait for
        (_ledger_row(status="撤出"), D(2024, 5, 10), False, None, deadlines.CLOSED),
    ],
)
def test_review_schedule(row, review_date, is_set, days_left, state):
    got = deadlines.review_schedule(pd.DataFrame([row]), TODAY).iloc[0]
    assert got["review_date"] == review_date
    assert bool(got["review_set"]) is is_set
    assert (None if pd.isna(got["days_left"]) else int(got["days_left"])) == days_left
    assert got["review_state"] == state


def test_due_reviews_lists_overdue_and_due_most_urgent_first():
    ledger = pd.DataFrame(
        [
            _ledger_row(taskforce_id=1, compound_id="C001", review_date=D(2024, 6, 1)),  # due in 12 days
            _ledger_row(taskforce_id=2, compound_id="C002", review_date=D(2024, 9, 1)),  # far
            _ledger_row(taskforce_id=3, compound_id="C003", review_date=D(2024, 5, 1)),  # overdue
            _ledger_row(taskforce_id=4, compound_id="C004", status="撤出"),  # closed
        ]
    )
    due = deadlines.due_reviews(deadlines.review_schedule(ledger, TODAY))
    assert list(due["compound_id"]) == ["C003", "C001"]
    assert list(due["review_state"]) == [deadlines.OVERDUE, deadlines.DUE]


def test_empty_ledger_has_an_empty_schedule(store):
    schedule = deadlines.review_schedule(records.ledger(store), TODAY)
    assert schedule.empty and deadlines.due_reviews(schedule).empty


def test_import_reads_the_review_column_and_rejects_bad_dates(store, tmp_path):
    _registry(store)
    path = _csv(
        tmp_path,
        [
            {
                "小区编号": "C001",
                "包保领导": "张三",
                "进驻日期": "2024-01-05",
                "撤出评估日期": "2024年7月1日",
            },
            {"小区编号": "C002", "包保领导": "张三", "进驻日期": "2024-01-05", "撤出评估日期": ""},
            {"小区编号": "C003", "包保领导": "王五", "进驻日期": "2024-01-05", "撤出评估日期": "下月底"},
            {"小区编号": "C003", "包保领导": "王五", "进驻日期": "2024-03-01", "撤出评估日期": "2024-02-01"},
        ],
    )
    result = file_import.import_taskforces(store, path, selection_window=(D(2023, 7, 1), D(2023, 12, 31)))
    assert (result["inserted"], result["rejected"]) == (2, 2)
    reasons = {r["row"]: r["reason"] for r in result["reasons"]}
    assert "撤出评估日期「下月底」无法识别" in reasons[3]
    assert "撤出评估日期早于进驻日期" in reasons[4]
    stored = db.query_df(store, "SELECT compound_id, review_date FROM task_forces ORDER BY compound_id")
    assert stored["review_date"].iloc[0] == pd.Timestamp("2024-07-01")
    assert pd.isna(stored["review_date"].iloc[1])  # none given: the rule's date applies
    schedule = deadlines.review_schedule(records.ledger(store), D(2024, 6, 20))
    # the rule's reviews: every 3 months from the start, the next one after 2024-04-05 has passed
    assert list(schedule["review_date"]) == [D(2024, 7, 1), D(2024, 7, 5)]
    assert list(schedule["review_state"]) == [deadlines.DUE, deadlines.PLANNED]


def test_reimport_without_the_column_keeps_the_planned_date(store, tmp_path):
    _registry(store)
    row = {"小区编号": "C001", "包保领导": "张三", "进驻日期": "2024-01-05"}
    file_import.import_taskforces(
        store, _csv(tmp_path, [{**row, "撤出评估日期": "2024-07-01"}]), (D(2023, 7, 1), D(2023, 12, 31))
    )
    file_import.import_taskforces(
        store, _csv(tmp_path, [{**row, "包保领导": "赵六"}]), (D(2023, 7, 1), D(2023, 12, 31))
    )
    assert db.query_one(store, "SELECT review_date FROM task_forces") == D(2024, 7, 1)


def test_set_review_date_is_audited_and_can_go_back_to_the_rule(store, tmp_path):
    _registry(store)
    path = _csv(tmp_path, [{"小区编号": "C001", "包保领导": "张三", "进驻日期": "2024-01-05"}])
    file_import.import_taskforces(store, path, selection_window=(D(2023, 7, 1), D(2023, 12, 31)))
    records.set_review_date(store, 1, "2024/8/15", user="ana")
    assert deadlines.review_schedule(records.ledger(store), TODAY)["review_date"].iloc[0] == D(2024, 8, 15)
    records.set_review_date(store, 1, None, user="admin")
    assert deadlines.review_schedule(records.ledger(store), TODAY)["review_date"].iloc[0] == D(2024, 7, 5)
    log = db.query_df(
        store,
        "SELECT \"user\", detail FROM audit_log WHERE action = 'taskforces.set_review_date' ORDER BY rowid",
    )
    assert list(log["user"]) == ["ana", "admin"]
    assert [json.loads(d) for d in log["detail"]] == [
        {"taskforce_id": 1, "from": None, "to": "2024-08-15"},
        {"taskforce_id": 1, "from": "2024-08-15", "to": None},
    ]


@pytest.mark.parametrize(
    ("taskforce_id", "day", "error"),
    [
        (1, "明年", ValidationError),
        (1, D(2023, 12, 31), ValidationError),  # before the start
        (99, D(2024, 8, 1), NotFound),
    ],
)
def test_bad_review_dates_are_refused_and_change_nothing(store, tmp_path, taskforce_id, day, error):
    _registry(store)
    path = _csv(tmp_path, [{"小区编号": "C001", "包保领导": "张三", "进驻日期": "2024-01-05"}])
    file_import.import_taskforces(store, path, selection_window=(D(2023, 7, 1), D(2023, 12, 31)))
    with pytest.raises(error):
        records.set_review_date(store, taskforce_id, day, user="ana")
    assert db.query_one(store, "SELECT review_date FROM task_forces") is None
    assert not db.query_one(
        store, "SELECT count(*) FROM audit_log WHERE action = 'taskforces.set_review_date'"
    )
