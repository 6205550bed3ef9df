"""Task-force ledger: import, exit rule, status changes, action log, ledger view."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import FileRejected, NotFound, ValidationError
from analytics.services.taskforces import dates, exit_rule, file_import, records
from analytics.store import db

pytestmark = pytest.mark.backends

D = dt.date


def _registry(con) -> None:
    with db.transaction(con) as cur:
        for cid, name, community in [
            ("C001", "阳光花园", "第001社区"),
            ("C002", "幸福家园", "第001社区"),
            ("C003", "翠湖名苑", "第002社区"),
            ("C004", "书香小区", "第002社区"),
        ]:
            cur.execute(
                "INSERT INTO compounds (compound_id, name, community) VALUES (?, ?, ?)",
                [cid, name, community],
            )
        cur.execute("INSERT INTO compound_aliases VALUES ('翠湖', 'C003', 'registry')")


def _tickets(con, compound_id: str, monthly: dict[str, int]) -> None:
    """monthly: {'2023-01': n, ...} -> n tickets on the 10th of that month."""
    with db.transaction(con) as cur:
        base = cur.execute("SELECT count(*) FROM tickets").fetchone()[0]
        k = base
        for month, n in monthly.items():
            day = dt.datetime.fromisoformat(f"{month}-10 09:00:00")
            for _ in range(n):
                k += 1
                cur.execute(
                    "INSERT INTO tickets (ticket_id, created_at, compound_id, batch_id) VALUES (?, ?, ?, 0)",
                    [f"T{k:06d}", day, compound_id],
                )


def _csv(tmp_path: Path, rows: list[dict[str, str]], name: str = "专班名单.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-03-01", D(2023, 3, 1)),
        ("2023/3/1", D(2023, 3, 1)),
        ("2023年3月1日", D(2023, 3, 1)),
        ("2023.3.1", D(2023, 3, 1)),
        ("20230301", D(2023, 3, 1)),
        ("2023-03-01 00:00:00", D(2023, 3, 1)),
        ("45000", D(2023, 3, 15)),  # Excel serial
        ("44986.0", D(2023, 3, 1)),  # Excel serial read as float
        ("2023-13-01", None),
        ("2023/2/30", None),
        ("明天", None),
        ("12", None),  # a small number is not a plausible Excel date
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert dates.parse_date(text) == expected


# ---------------------------------------------------------------- import


def test_import_inserts_rejects_with_reasons_and_stores_window(store, tmp_path):
    _registry(store)
    path = _csv(
        tmp_path,
        [
            {
                "小区编号": "C001",
                "小区名称": "",
                "包保领导": "张三",
                "专班组长": "李四",
                "进驻日期": "2023/1/5",
            },
            {
                "小区编号": "",
                "小区名称": "幸福家园",
                "包保领导": "张三",
                "专班组长": "",
                "进驻日期": "2023年1月5日",
            },
            {"小区编号": "", "小区名称": "翠湖", "包保领导": "王五", "专班组长": "", "进驻日期": "44931"},
            {
                "小区编号": "C999",
                "小区名称": "",
                "包保领导": "王五",
                "专班组长": "",
                "进驻日期": "2023-01-05",
            },
            {"小区编号": "C004", "小区名称": "", "包保领导": "王五", "专班组长": "", "进驻日期": "下个月"},
        ],
    )
    result = file_import.import_taskforces(
        store, path, selection_window=(D(2022, 7, 1), D(2022, 12, 31)), user="ana"
    )
    assert (result["rows_read"], result["inserted"], result["updated"], result["rejected"]) == (5, 3, 0, 2)
    reasons = {r["row"]: r["reason"] for r in result["reasons"]}
    assert "C999" in reasons[4] and "不在小区名录" in reasons[4]
    assert "进驻日期「下个月」无法识别" in reasons[5]
    stored = db.query_df(store, "SELECT * FROM task_forces ORDER BY compound_id")
    assert list(stored["compound_id"]) == ["C001", "C002", "C003"]  # by id, by name, by alias
    assert set(pd.to_datetime(stored["start_date"]).dt.date) == {D(2023, 1, 5)}
    assert set(pd.to_datetime(stored["selection_end"]).dt.date) == {D(2022, 12, 31)}
    assert list(stored["leader"]) == ["张三", "张三", "王五"]  # one leader, several compounds
    kept = db.query_df(
        store, "SELECT row_number, reason FROM rejected_rows WHERE batch_id = ?", [result["batch_id"]]
    )
    assert sorted(kept["row_number"]) == [4, 5]
    assert db.query_one(store, "SELECT count(*) FROM audit_log WHERE action = 'taskforces.import'") == 1


def test_reimport_updates_same_compound_and_start(store, tmp_path):
    _registry(store)
    first = _csv(tmp_path, [{"小区编号": "C001", "包保领导": "张三", "进驻日期": "2023-01-05"}], "a.csv")
    again = _csv(
        tmp_path,
        [
            {"小区编号": "C001", "包保领导": "赵六", "进驻日期": "2023/1/5"},
            {"小区编号": "C001", "包保领导": "赵六", "进驻日期": "2024-01-05"},
        ],
        "b.csv",
    )
    window = (D(2022, 7, 1), D(2022, 12, 31))
    file_import.import_taskforces(store, first, selection_window=window)
    result = file_import.import_taskforces(store, again, selection_window=window)
    assert (result["inserted"], result["updated"]) == (1, 1)
    stored = db.query_df(store, "SELECT leader, start_date FROM task_forces ORDER BY start_date")
    assert list(stored["leader"]) == ["赵六", "赵六"]
    # a stored task force keeps its window when a later file only changes its leader
    third = _csv(tmp_path, [{"小区编号": "C001", "包保领导": "钱七", "进驻日期": "2023-01-05"}], "c.csv")
    assert file_import.import_taskforces(store, third)["updated"] == 1


def test_no_window_is_ever_assumed(store, tmp_path):
    _registry(store)
    path = _csv(tmp_path, [{"小区编号": "C001", "包保领导": "张三", "进驻日期": "2023-07-01"}])
    with pytest.raises(ValidationError) as refused:
        file_import.import_taskforces(store, path)
    assert "--selection-window" in refused.value.zh and "--snapshot" in refused.value.zh
    assert db.query_one(store, "SELECT count(*) FROM task_forces") == 0
    assert db.query_one(store, "SELECT count(*) FROM ingest_batches") == 0


def test_a_list_from_a_snapshot_takes_its_window(store, tmp_path):
    _registry(store)
    store.execute(
        "INSERT INTO ranking_snapshots VALUES (7, now(), DATE '2022-07-01', DATE '2023-06-30', '{}', 'a', NULL)"
    )
    path = _csv(tmp_path, [{"小区编号": "C001", "包保领导": "张三", "进驻日期": "2023-07-01"}])
    file_import.import_taskforces(store, path, snapshot_id=7)
    row = db.query_df(store, "SELECT selection_start, selection_end, snapshot_id FROM task_forces").iloc[0]
    assert (row["selection_start"].date(), row["selection_end"].date(), row["snapshot_id"]) == (
        D(2022, 7, 1),
        D(2023, 6, 30),
        7,
    )
    with pytest.raises(NotFound):
        file_import.import_taskforces(store, path, snapshot_id=99)


def test_row_window_column_wins_over_argument(store, tmp_path):
    _registry(store)
    path = _csv(
        tmp_path,
        [{"小区编号": "C001", "包保领导": "张三", "进驻日期": "2023-07-01", "选定窗口": "2023-01:2023-06"}],
    )
    file_import.import_taskforces(store, path, selection_window=(D(2022, 7, 1), D(2022, 12, 31)))
    row = db.query_df(store, "SELECT selection_start, selection_end FROM task_forces").iloc[0]
    assert pd.Timestamp(row["selection_start"]).date() == D(2023, 1, 1)


@pytest.mark.parametrize(
    "headers, missing",
    [
        (["小区编号", "包保领导", "专班组长"], "进驻日期"),
        (["小区编号", "进驻日期"], "包保领导"),
        (["包保领导", "进驻日期"], "小区编号或小区名称"),
    ],
)
def test_missing_required_header_rejects_whole_file(store, tmp_path, headers, missing):
    _registry(store)
    path = _csv(tmp_path, [dict.fromkeys(headers, "x")])
    with pytest.raises(FileRejected) as info:
        file_import.import_taskforces(store, path)
    assert missing in info.value.zh
    assert headers[0] in info.value.zh  # lists the headers found
    assert db.query_one(store, "SELECT count(*) FROM task_forces") == 0
    assert db.query_one(store, "SELECT count(*) FROM ingest_batches") == 0


def test_import_xlsx_with_mapping(store, tmp_path):
    _registry(store)
    path = tmp_path / "list.xlsx"
    pd.DataFrame({"编号": ["C002"], "领导": ["张三"], "开始": ["2023-03-01"]}).to_excel(path, index=False)
    result = file_import.import_taskforces(
        store,
        path,
        mapping={"compound_id": "编号", "leader": "领导", "start_date": "开始"},
        selection_window=(D(2022, 7, 1), D(2022, 12, 31)),
    )
    assert result["inserted"] == 1


def test_headers_resolve_through_the_shared_field_table(store, tmp_path):
    """Every spelling of the task-force table maps, compared as the other imports compare headers."""
    _registry(store)
    rows = [
        {"小区代码": "C002", "包联领导": "张三", "进驻时间*": "2023-03-01", "排名窗口": "2022-07:2022-12"}
    ]
    result = file_import.import_taskforces(store, _csv(tmp_path, rows))
    assert (result["inserted"], result["rejected"]) == (1, 0)
    row = db.query_df(store, "SELECT compound_id, leader, selection_start FROM task_forces").iloc[0]
    assert (row["compound_id"], row["leader"]) == ("C002", "张三")
    assert pd.Timestamp(row["selection_start"]).date() == D(2022, 7, 1)
    stored = json.loads(db.query_one(store, "SELECT mapping FROM ingest_batches"))
    assert stored == {
        "compound_id": "小区代码",
        "leader": "包联领导",
        "start_date": "进驻时间*",
        "selection_window": "排名窗口",
    }


def test_target_defaults_to_half_the_window_mean(store, tmp_path):
    _registry(store)
    _tickets(store, "C001", {f"2022-{m:02d}": 20 for m in range(7, 13)})
    path = _csv(tmp_path, [{"小区编号": "C001", "包保领导": "张三", "进驻日期": "2023-01-01"}])
    file_import.import_taskforces(store, path, selection_window=(D(2022, 7, 1), D(2022, 12, 31)))
    assert db.query_one(store, "SELECT target_monthly FROM task_forces") == 10.0


# ---------------------------------------------------------------- exit rule


JAN = D(2023, 1, 1)


def _m(k: int) -> dt.date:
    return D(2023 + (k // 12), k % 12 + 1, 1)


@pytest.mark.parametrize(
    "series, target, months, below, meets",
    [
        ([10, 10, 10], 10.0, 3, 0, False),  # exactly at the target is not below it
        ([9, 9], 10.0, 3, 2, False),  # below for N-1 months
        ([9, 9, 9], 10.0, 3, 3, True),  # below for N months
        ([20, 9, 9, 9, 9], 10.0, 3, 4, True),
        ([9, 9, 12, 9, 9], 10.0, 3, 2, False),  # a month above breaks the run
        ([0, 0, 0], 0.5, 3, 3, True),  # months without tickets count as zero
        ([5, 5, 5, 5, 5], 4.0, 3, 0, False),
        ([9, 9, 9], 10.0, 1, 3, True),  # editable number of months
    ],
)
def test_exit_rule_state(series, target, months, below, meets):
    counts = {_m(k): n for k, n in enumerate(series) if n}
    state = exit_rule.exit_rule_state(counts, JAN, _m(len(series) - 1), target, months)
    assert (state["months_below"], state["meets_exit_rule"]) == (below, meets)


def test_months_before_start_do_not_count():
    counts = {D(2022, 12, 1): 0, JAN: 1, D(2023, 2, 1): 1}
    state = exit_rule.exit_rule_state(counts, JAN, D(2023, 2, 1), 5.0, 3)
    assert state["months_below"] == 2 and not state["meets_exit_rule"]


def _one_taskforce(store, tmp_path) -> int:
    _registry(store)
    _tickets(
        store,
        "C001",
        {"2022-07": 40, "2022-08": 40, "2022-09": 40, "2022-10": 40, "2022-11": 40, "2022-12": 40},
    )
    path = _csv(
        tmp_path, [{"小区编号": "C001", "包保领导": "张三", "专班组长": "li", "进驻日期": "2023-01-01"}]
    )
    file_import.import_taskforces(store, path, selection_window=(D(2022, 7, 1), D(2022, 12, 31)))
    return int(db.query_one(store, "SELECT taskforce_id FROM task_forces"))


def test_cannot_withdraw_until_solved(store, tmp_path):
    tf = _one_taskforce(store, tmp_path)  # target: 20 a month
    _tickets(store, "C001", {"2023-01": 30, "2023-02": 19, "2023-03": 19})
    state = exit_rule.exit_status(store, as_of=D(2023, 3, 31)).iloc[0]
    assert (state["target"], state["months_below"], bool(state["meets_exit_rule"])) == (20.0, 2, False)
    with pytest.raises(ValidationError) as info:
        records.set_status(store, tf, "撤出", user="ana", as_of=D(2023, 3, 31))
    assert "不能撤出" in info.value.zh and "连续 3 个月" in info.value.zh
    _tickets(store, "C001", {"2023-04": 5})
    records.set_status(store, tf, "撤出", user="ana", as_of=D(2023, 4, 30))
    row = db.query_df(store, "SELECT status, end_date FROM task_forces").iloc[0]
    assert row["status"] == "撤出" and pd.Timestamp(row["end_date"]).date() == D(2023, 4, 30)


def test_as_of_and_edited_target(store, tmp_path):
    tf = _one_taskforce(store, tmp_path)
    _tickets(store, "C001", {"2023-01": 25, "2023-02": 25, "2023-03": 25, "2023-04": 25})
    assert int(exit_rule.exit_status(store, as_of=D(2023, 4, 30)).iloc[0]["months_below"]) == 0
    records.set_target(store, tf, target_monthly=30, exit_months=4)
    state = exit_rule.exit_status(store, as_of=D(2023, 4, 30)).iloc[0]
    assert (int(state["months_below"]), bool(state["meets_exit_rule"])) == (4, True)
    # as of mid-April only Jan-Mar are complete months
    assert int(exit_rule.exit_status(store, as_of=D(2023, 4, 15)).iloc[0]["months_below"]) == 3


@pytest.mark.parametrize("status", ["进驻", "整改中", "已转化"])
def test_other_statuses_are_free(store, tmp_path, status):
    tf = _one_taskforce(store, tmp_path)
    records.set_status(store, tf, status)
    assert db.query_one(store, "SELECT status FROM task_forces") == status


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda con, tf: records.set_status(con, tf, "完成"), ValidationError),
        (lambda con, tf: records.set_status(con, 999, "整改中"), NotFound),
        (lambda con, tf: records.set_target(con, tf, target_monthly=0), ValidationError),
        (lambda con, tf: records.log_action(con, tf, "2023-02-01", "入户走访", cost=-5), ValidationError),
        (lambda con, tf: records.log_action(con, tf, "昨天", "入户走访"), ValidationError),
        (lambda con, tf: records.log_action(con, tf, "2023-02-01", "  "), ValidationError),
    ],
)
def test_bad_edits_are_refused(store, tmp_path, call, error):
    tf = _one_taskforce(store, tmp_path)
    with pytest.raises(error):
        call(store, tf)


# ---------------------------------------------------------------- actions, ledger, snapshot


def test_action_log(store, tmp_path):
    tf = _one_taskforce(store, tmp_path)
    records.log_action(store, tf, "2023-01-10", "召开业主协调会", cost=2000, user="li")
    records.log_action(store, tf, D(2023, 2, 3), "更换破损管道", cost=15000.5, user="li")
    log = records.actions(store, tf)
    assert list(log["action"]) == ["更换破损管道", "召开业主协调会"]  # newest first
    assert log["cost"].sum() == pytest.approx(17000.5)
    assert len(records.actions(store)) == 2


def test_ledger_rows_scope_and_before_after(store, tmp_path):
    _registry(store)
    _tickets(store, "C001", {**{f"2022-{m:02d}": 12 for m in range(1, 13)}, "2023-01": 6, "2023-02": 4})
    path = _csv(
        tmp_path,
        [
            {"小区编号": "C001", "包保领导": "张三", "专班组长": "li", "进驻日期": "2023-01-01"},
            {"小区编号": "C003", "包保领导": "王五", "专班组长": "wang", "进驻日期": "2023-01-01"},
        ],
    )
    file_import.import_taskforces(store, path, selection_window=(D(2022, 7, 1), D(2022, 12, 31)))
    full = records.ledger(store, as_of=D(2023, 2, 28))
    assert list(full["compound_name"]) == ["阳光花园", "翠湖名苑"]
    c1 = full.iloc[0]
    assert (c1["tickets_before_monthly"], c1["tickets_after_monthly"], c1["target"]) == (12.0, 5.0, 6.0)
    assert int(c1["months_below"]) == 1 and not bool(c1["meets_exit_rule"])  # January sits exactly at 6
    assert list(records.ledger(store, compound_scope="C003")["compound_id"]) == ["C003"]
    assert list(records.ledger(store, compound_scope=["C002"])["compound_id"]) == []
    assert list(records.ledger(store, leader="张三")["compound_id"]) == ["C001"]


def test_create_from_snapshot_uses_the_ranking_window(store):
    _registry(store)
    with db.transaction(store) as cur:
        cur.execute(
            "INSERT INTO ranking_snapshots (snapshot_id, created_at, window_start, window_end, params) "
            "VALUES (7, now(), '2022-07-01', '2022-12-31', ?)",
            [json.dumps({"top": 2})],
        )
    assignments = pd.DataFrame(
        {"compound_id": ["C001", "C002"], "leader": ["张三", "张三"], "head": ["li", None]}
    )
    ids = records.create_from_snapshot(store, 7, assignments, D(2023, 1, 1), user="ana")
    assert len(ids) == 2
    stored = db.query_df(
        store, "SELECT snapshot_id, selection_start, head FROM task_forces ORDER BY compound_id"
    )
    assert set(stored["snapshot_id"]) == {7}
    assert pd.Timestamp(stored.at[0, "selection_start"]).date() == D(2022, 7, 1)
    with pytest.raises(NotFound):
        records.create_from_snapshot(store, 8, assignments, D(2023, 1, 1))
    with pytest.raises(ValidationError):
        records.create_from_snapshot(store, 7, assignments.assign(compound_id="C999"), D(2023, 1, 1))
