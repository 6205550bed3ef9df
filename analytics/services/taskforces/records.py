"""The task-force ledger: creating task forces, changing their status and target, the action
log (what was done and what it cost) and the ledger view with tickets before and after."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.errors import NotFound, ValidationError
from analytics.services.taskforces.dates import parse_date
from analytics.services.taskforces.exit_rule import EXIT_MONTHS, _default_target, _monthly_counts, exit_status
from analytics.store import db

STATUSES = ("进驻", "整改中", "已转化", "撤出")
STATUS_CLOSED = "撤出"
BEFORE_MONTHS = 12  # ledger "tickets before": monthly mean over this many months before start


def _upsert(
    cur: duckdb.DuckDBPyConnection,
    compound_id: str,
    leader: str | None,
    head: str | None,
    start: dt.date,
    end: dt.date | None,
    window: tuple[dt.date, dt.date] | None,
    snapshot_id: int | None,
    review: dt.date | None = None,
) -> tuple[int, bool]:
    """Insert or update the task force for compound+start; returns (taskforce_id, inserted).

    review: the planned exit-review date from an import file (None keeps the one stored)."""
    existing = cur.execute(
        "SELECT taskforce_id, target_monthly FROM task_forces WHERE compound_id = ? AND start_date = ?",
        [compound_id, start],
    ).fetchone()
    target = _default_target(cur, compound_id, window)
    sel = window or (None, None)
    if existing:
        tf_id = int(existing[0])
        cur.execute(
            """UPDATE task_forces SET leader = ?, head = coalesce(?, head), end_date = coalesce(?, end_date),
                   status = CASE WHEN ? IS NOT NULL THEN ? ELSE status END,
                   snapshot_id = coalesce(?, snapshot_id),
                   selection_start = coalesce(?, selection_start), selection_end = coalesce(?, selection_end),
                   target_monthly = coalesce(target_monthly, ?), review_date = coalesce(?, review_date)
               WHERE taskforce_id = ?""",
            [leader, head, end, end, STATUS_CLOSED, snapshot_id, sel[0], sel[1], target, review, tf_id],
        )
        return tf_id, False
    tf_id = db.next_id(cur, "seq_taskforce")
    cur.execute(
        """INSERT INTO task_forces (taskforce_id, compound_id, leader, head, start_date, end_date, status,
               snapshot_id, selection_start, selection_end, target_monthly, exit_months, review_date)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            tf_id,
            compound_id,
            leader,
            head,
            start,
            end,
            STATUS_CLOSED if end else "进驻",
            snapshot_id,
            sel[0],
            sel[1],
            target,
            EXIT_MONTHS,
            review,
        ],
    )
    return tf_id, True


def create_from_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    assignments: pd.DataFrame,
    start_date: dt.date,
    user: str | None = None,
) -> list[int]:
    """Task forces for ranked compounds: assignments[compound_id, leader, head] from one snapshot.

    The snapshot's ranking window becomes each task force's selection window.
    """
    snap = db.query_df(
        con, "SELECT window_start, window_end FROM ranking_snapshots WHERE snapshot_id = ?", [snapshot_id]
    )
    if snap.empty:
        raise NotFound(f"排名快照 {snapshot_id} 不存在。", f"Ranking snapshot {snapshot_id} does not exist.")
    window = (pd.Timestamp(snap.at[0, "window_start"]).date(), pd.Timestamp(snap.at[0, "window_end"]).date())
    start = parse_date(start_date)
    if start is None:
        raise ValidationError(
            f"进驻日期「{start_date}」无法识别。", f"Start date '{start_date}' is not a date."
        )
    for needed in ("compound_id", "leader"):
        if needed not in assignments.columns:
            raise ValidationError(
                f"分配表缺少 {needed} 列。", f"The assignments table lacks the column {needed}."
            )
    known = set(db.query_df(con, "SELECT compound_id FROM compounds")["compound_id"])
    unknown = sorted(set(assignments["compound_id"].astype(str)) - known)
    if unknown:
        raise ValidationError(
            f"以下小区不在小区名录中：{'、'.join(unknown[:10])}。",
            f"These compounds are not in the registry: {', '.join(unknown[:10])}.",
        )
    ids: list[int] = []
    with db.transaction(con) as cur:
        for rec in assignments.to_dict("records"):
            head = rec.get("head")
            head = None if head is None or (isinstance(head, float) and pd.isna(head)) else str(head)
            tf_id, _ = _upsert(
                cur, str(rec["compound_id"]), str(rec["leader"]), head, start, None, window, snapshot_id
            )
            ids.append(tf_id)
        db.audit(
            cur, user, "taskforces.create_from_snapshot", {"snapshot_id": snapshot_id, "taskforces": ids}
        )
    return ids


def _require_taskforce(con: duckdb.DuckDBPyConnection, taskforce_id: int) -> pd.Series:
    row = db.query_df(con, "SELECT * FROM task_forces WHERE taskforce_id = ?", [int(taskforce_id)])
    if row.empty:
        raise NotFound(f"专班 {taskforce_id} 不存在。", f"Task force {taskforce_id} does not exist.")
    return row.iloc[0]


def log_action(
    con: duckdb.DuckDBPyConnection,
    taskforce_id: int,
    date: dt.date | str,
    action: str,
    cost: float | None = None,
    user: str | None = None,
) -> int:
    """Record what a task force did (and what it cost, in yuan); returns the action id."""
    _require_taskforce(con, taskforce_id)
    day = parse_date(date)
    if day is None:
        raise ValidationError(f"日期「{date}」无法识别。", f"'{date}' is not a date.")
    if not str(action or "").strip():
        raise ValidationError("请填写工作内容。", "Describe the action.")
    if cost is not None and (pd.isna(cost) or float(cost) < 0):
        raise ValidationError("费用不能为负数。", "Cost cannot be negative.")
    with db.transaction(con) as cur:
        action_id = db.next_id(cur, "seq_action")
        cur.execute(
            "INSERT INTO taskforce_actions VALUES (?, ?, ?, ?, ?, ?, now())",
            [
                action_id,
                int(taskforce_id),
                day,
                str(action).strip(),
                None if cost is None else float(cost),
                user,
            ],
        )
        db.audit(
            cur, user, "taskforces.log_action", {"taskforce_id": int(taskforce_id), "action_id": action_id}
        )
    return action_id


def actions(
    con: duckdb.DuckDBPyConnection,
    taskforce_id: int | None = None,
    compound_scope: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The action log (newest first), for one task force, the task forces of `compound_scope`
    (a list or a comma-separated string) or all."""
    sql = """SELECT a.action_id, a.taskforce_id, t.compound_id, c.name AS compound_name, a.date, a.action,
                    a.cost, a."user", a.logged_at
             FROM taskforce_actions a JOIN task_forces t USING (taskforce_id)
             LEFT JOIN compounds c USING (compound_id) WHERE 1 = 1"""
    params: list[Any] = []
    if taskforce_id is not None:
        sql += " AND a.taskforce_id = ?"
        params.append(int(taskforce_id))
    scope = _scope_list(compound_scope)
    if scope is not None:
        sql += " AND t.compound_id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(scope)
    return db.query_df(con, sql + " ORDER BY a.date DESC, a.action_id DESC", params)


def set_status(
    con: duckdb.DuckDBPyConnection,
    taskforce_id: int,
    status: str,
    user: str | None = None,
    as_of: dt.date | None = None,
) -> None:
    """Change a task force's status; closing (撤出) only when the exit rule is met as of `as_of`."""
    if status not in STATUSES:
        raise ValidationError(
            f"状态「{status}」无效，应为：{'、'.join(STATUSES)}。",
            f"Unknown status '{status}'; use one of {', '.join(STATUSES)}.",
        )
    tf = _require_taskforce(con, taskforce_id)
    end_date = None
    if status == STATUS_CLOSED:
        state = exit_status(con, as_of)
        row = state[state["taskforce_id"] == int(taskforce_id)].iloc[0]
        if not bool(row["meets_exit_rule"]):
            target = "未设定" if row["target"] is None or pd.isna(row["target"]) else f"{row['target']:g}"
            raise ValidationError(
                f"专班 {taskforce_id}（小区 {tf['compound_id']}）尚不能撤出：须连续 {int(row['exit_months'])} 个月"
                f"工单低于目标 {target} 件/月，目前仅连续 {int(row['months_below'])} 个月。未解决不撤出。",
                f"Task force {taskforce_id} ({tf['compound_id']}) cannot be withdrawn yet: monthly tickets "
                f"must stay below {target} for {int(row['exit_months'])} consecutive months; so far "
                f"{int(row['months_below'])}.",
            )
        last = row["last_month"]
        end_date = (
            None if last is None or pd.isna(last) else calendar.add_months(last, 1) - dt.timedelta(days=1)
        )
    with db.transaction(con) as cur:
        cur.execute(
            "UPDATE task_forces SET status = ?, end_date = CASE WHEN ? = ? THEN coalesce(end_date, ?, current_date) "
            "ELSE NULL END WHERE taskforce_id = ?",
            [status, status, STATUS_CLOSED, end_date, int(taskforce_id)],
        )
        db.audit(cur, user, "taskforces.set_status", {"taskforce_id": int(taskforce_id), "status": status})


def set_target(
    con: duckdb.DuckDBPyConnection,
    taskforce_id: int,
    target_monthly: float | None = None,
    exit_months: int | None = None,
    user: str | None = None,
) -> None:
    """Edit a task force's exit target (tickets per month) and/or the months it must hold."""
    _require_taskforce(con, taskforce_id)
    if target_monthly is not None and not float(target_monthly) > 0:
        raise ValidationError("目标值必须大于 0。", "The target must be above 0.")
    if exit_months is not None and int(exit_months) < 1:
        raise ValidationError("连续月数至少为 1。", "The number of months must be at least 1.")
    with db.transaction(con) as cur:
        cur.execute(
            "UPDATE task_forces SET target_monthly = coalesce(?, target_monthly), "
            "exit_months = coalesce(?, exit_months) WHERE taskforce_id = ?",
            [target_monthly, exit_months, int(taskforce_id)],
        )
        db.audit(
            cur,
            user,
            "taskforces.set_target",
            {"taskforce_id": int(taskforce_id), "target_monthly": target_monthly, "exit_months": exit_months},
        )


def set_review_date(
    con: duckdb.DuckDBPyConnection,
    taskforce_id: int,
    review_date: dt.date | str | None,
    user: str | None = None,
) -> None:
    """Plan a task force's exit review for `review_date`; None goes back to the exit rule's date
    (start plus its months, see deadlines). The old and new dates go to the audit log."""
    tf = _require_taskforce(con, taskforce_id)
    day = None
    if review_date is not None:
        day = parse_date(review_date)
        if day is None:
            raise ValidationError(f"日期「{review_date}」无法识别。", f"'{review_date}' is not a date.")
        start = pd.Timestamp(tf["start_date"]).date()
        if day < start:
            raise ValidationError(
                f"撤出评估日期（{day}）不能早于进驻日期（{start}）。",
                f"The exit review ({day}) cannot come before the start ({start}).",
            )
    old = tf["review_date"]
    with db.transaction(con) as cur:
        cur.execute("UPDATE task_forces SET review_date = ? WHERE taskforce_id = ?", [day, int(taskforce_id)])
        db.audit(
            cur,
            user,
            "taskforces.set_review_date",
            {
                "taskforce_id": int(taskforce_id),
                "from": None if old is None or pd.isna(old) else str(pd.Timestamp(old).date()),
                "to": None if day is None else str(day),
            },
        )


def _scope_list(scope: str | Iterable[str] | None) -> list[str] | None:
    if scope is None:
        return None
    if isinstance(scope, str):
        return [s.strip() for s in scope.split(",") if s.strip()]
    return [str(s) for s in scope]


def ledger(
    con: duckdb.DuckDBPyConnection,
    leader: str | None = None,
    compound_scope: str | Iterable[str] | None = None,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """One row per task force: compound, leader, head, dates, status, tickets before/after, exit rule.

    tickets_before_monthly is the monthly mean over the 12 months before the start month;
    tickets_after_monthly over the complete months since (at most 12). `compound_scope` (a list
    or a comma-separated string, as stored for a task-force head) restricts to those compounds.
    """
    sql = """SELECT t.taskforce_id, t.compound_id, c.name AS compound_name, c.community, t.leader, t.head,
                    t.start_date, t.end_date, t.status, t.selection_start, t.selection_end, t.snapshot_id,
                    t.review_date
             FROM task_forces t LEFT JOIN compounds c USING (compound_id) WHERE 1 = 1"""
    params: list[Any] = []
    if leader:
        sql += " AND t.leader = ?"
        params.append(leader)
    scope = _scope_list(compound_scope)
    if scope is not None:
        sql += " AND t.compound_id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(scope)
    frame = db.query_df(con, sql + " ORDER BY t.start_date, t.taskforce_id", params)
    if frame.empty:
        return frame.assign(
            tickets_before_monthly=[],
            tickets_after_monthly=[],
            target=[],
            months_below=[],
            meets_exit_rule=[],
        )
    state = exit_status(con, as_of)
    last_month = state["last_month"].iloc[0] if len(state) else None
    counts = _monthly_counts(con, frame["compound_id"])
    by_compound = {
        cid: dict(zip(g["month"], g["n"], strict=True)) for cid, g in counts.groupby("compound_id")
    }
    before, after = [], []
    for rec in frame.itertuples(index=False):
        series = by_compound.get(rec.compound_id, {})
        first = calendar.month_start(pd.Timestamp(rec.start_date).date())
        pre = [calendar.add_months(first, -k) for k in range(1, BEFORE_MONTHS + 1)]
        before.append(sum(series.get(m, 0) for m in pre) / BEFORE_MONTHS)
        post = []
        if last_month is not None and not pd.isna(last_month):
            m = first
            while m <= last_month and len(post) < BEFORE_MONTHS:
                post.append(series.get(m, 0))
                m = calendar.add_months(m, 1)
        after.append(sum(post) / len(post) if post else None)
    frame["tickets_before_monthly"] = before
    frame["tickets_after_monthly"] = after
    frame = frame.merge(
        state[["taskforce_id", "target", "exit_months", "months_below", "meets_exit_rule"]],
        on="taskforce_id",
        how="left",
    )
    return frame
