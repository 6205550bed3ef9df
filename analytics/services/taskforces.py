"""Task forces (专班): the ledger, the action log, status and the exit rule.

"One compound, one task force; not withdrawn until the problem is solved" is made concrete:
a task force may only be closed (撤出) once its compound's monthly tickets have stayed below a
target (`target_monthly`, by default half the compound's monthly mean in the ranking window it
was selected from) for `exit_months` consecutive complete months since it moved in.

Public interface:

- `import_taskforces(con, path, selection_window=None, user=None, mapping=None) -> dict`
- `create_from_snapshot(con, snapshot_id, assignments, start_date, user=None) -> list[int]`
- `log_action(con, taskforce_id, date, action, cost=None, user=None) -> int`, `actions(con, ...)`
- `exit_status(con, as_of=None)`, `set_status(con, taskforce_id, status, user=None)`,
  `set_target(con, taskforce_id, target_monthly=None, exit_months=None, user=None)`
- `ledger(con, leader=None, compound_scope=None)`
- `parse_date(text)`; a selection window is read by analytics.calendar.parse_window, and the
  months the exit rule counts are complete months as analytics.calendar defines them
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.errors import FileRejected, NotFound, ValidationError
from analytics.ingest.matching import lookup_compounds
from analytics.store import db

STATUSES = ("进驻", "整改中", "已转化", "撤出")
STATUS_CLOSED = "撤出"
EXIT_MONTHS = 3  # consecutive complete months below target before a task force may leave
TARGET_SHARE = 0.5  # default target: half the monthly mean in the selection window
BEFORE_MONTHS = 12  # ledger "tickets before": monthly mean over this many months before start
# Excel day 0 is 1899-12-30 (Lotus 1900 leap-year bug); serials in this range are plausible dates
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (20000, 80000)

# canonical field -> headers that map to it automatically (first match wins)
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "compound_id": ("小区编号", "小区代码", "compound_id"),
    "compound_name": ("小区名称", "小区", "compound", "compound_name"),
    "leader": ("包保领导", "包联领导", "牵头领导", "leader"),
    "head": ("专班组长", "组长", "head"),
    "start_date": ("进驻日期", "进驻时间", "start_date"),
    "end_date": ("撤出日期", "撤出时间", "end_date"),
    "selection_window": ("选定窗口", "排名窗口", "selection_window"),
}
FIELD_LABELS = {
    "compound_id": "小区编号",
    "compound_name": "小区名称",
    "leader": "包保领导",
    "head": "专班组长",
    "start_date": "进驻日期",
    "end_date": "撤出日期",
    "selection_window": "选定窗口",
}
REQUIRED = ("leader", "start_date")  # plus one of compound_id / compound_name
# start/end dates outside this span are typing errors (1900-01-01, 2099-12-31), not plans
EARLIEST_PLAUSIBLE = dt.date(2000, 1, 1)
PLAUSIBLE_YEARS_AHEAD = 5

DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?(?:\s.*)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


# ---------------------------------------------------------------- parsing


def parse_date(value: Any) -> dt.date | None:
    """A date from the forms people type or Excel writes; None when it is not a date.

    2023-03-01, 2023/3/1, 2023.3.1, 2023年3月1日, 20230301, '2023-03-01 00:00:00' and Excel
    serial day numbers (45000, 45000.0).
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for pattern in DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    try:
        serial = float(text)
    except ValueError:
        return None
    if EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1] and serial == int(serial):
        return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    return None


# ---------------------------------------------------------------- import


def _resolve_headers(headers: list[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    """canonical field -> header in this file."""
    found: dict[str, str] = {}
    for fld, header in (mapping or {}).items():
        if header in headers:
            found[fld] = header
    for fld, synonyms in HEADER_SYNONYMS.items():
        if fld in found:
            continue
        for syn in synonyms:
            if syn in headers:
                found[fld] = syn
                break
    return found


def _read_file(path: str | Path) -> tuple[pd.DataFrame, list[str], str | None, str | None]:
    from analytics.ingest.readers import read_table

    table = read_table(path)
    return table.frame, list(table.headers), table.encoding, table.sheet


def _missing_field_error(path: str | Path, fields: list[str], headers: list[str]) -> FileRejected:
    name = Path(path).name
    zh_fields = "、".join(fields)
    shown = "、".join(headers) if headers else "（无）"
    return FileRejected(
        f"文件「{name}」缺少必需的列：{zh_fields}。文件中的列为：{shown}。请添加该列或提供列名映射。",
        f"File '{name}' lacks the required column(s): {zh_fields}. Columns found: "
        f"{', '.join(headers) if headers else '(none)'}. Add the column or give a mapping.",
    )


def _default_target(
    cur: duckdb.DuckDBPyConnection, compound_id: str, window: tuple[dt.date, dt.date] | None
) -> float | None:
    """Half the compound's monthly mean in the selection window (None without window or tickets)."""
    if window is None:
        return None
    start, end = window
    has_any = cur.execute(
        "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?",
        [start, end + dt.timedelta(days=1)],
    ).fetchone()[0]
    if not has_any:
        return None
    n = cur.execute(
        "SELECT count(*) FROM tickets WHERE compound_id = ? AND is_valid AND created_at >= ? AND created_at < ?",
        [compound_id, start, end + dt.timedelta(days=1)],
    ).fetchone()[0]
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return round(TARGET_SHARE * n / months, 2)


def _upsert(
    cur: duckdb.DuckDBPyConnection,
    compound_id: str,
    leader: str | None,
    head: str | None,
    start: dt.date,
    end: dt.date | None,
    window: tuple[dt.date, dt.date] | None,
    snapshot_id: int | None,
) -> tuple[int, bool]:
    """Insert or update the task force for compound+start; returns (taskforce_id, inserted)."""
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
                   target_monthly = coalesce(target_monthly, ?)
               WHERE taskforce_id = ?""",
            [leader, head, end, end, STATUS_CLOSED, snapshot_id, sel[0], sel[1], target, tf_id],
        )
        return tf_id, False
    tf_id = db.next_id(cur, "seq_taskforce")
    cur.execute(
        """INSERT INTO task_forces (taskforce_id, compound_id, leader, head, start_date, end_date, status,
               snapshot_id, selection_start, selection_end, target_monthly, exit_months)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
        ],
    )
    return tf_id, True


def import_taskforces(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    selection_window: tuple[dt.date, dt.date] | None = None,
    user: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Load a task-force list (CSV/XLSX) into the ledger, all or nothing.

    Headers: 小区编号 and/or 小区名称, 包保领导, 进驻日期 (required); 专班组长, 撤出日期, 选定窗口
    (optional, e.g. 2022-07:2022-12 — a row's own window wins over `selection_window`).
    Rows naming an unknown compound or carrying a bad date are kept in rejected_rows with a
    Chinese reason and reported; the others are inserted, or update the task force with the same
    compound and start date. Returns {"file", "rows_read", "inserted", "updated", "rejected",
    "batch_id", "reasons"}.
    """
    frame, headers, encoding, sheet = _read_file(path)
    found = _resolve_headers(headers, mapping)
    missing = [FIELD_LABELS[f] for f in REQUIRED if f not in found]
    if "compound_id" not in found and "compound_name" not in found:
        missing.insert(0, "小区编号或小区名称")
    if missing:
        raise _missing_field_error(path, missing, headers)

    def col(fld: str) -> pd.Series:
        if fld in found:
            return frame[found[fld]].fillna("").astype(str).str.strip()
        return pd.Series([""] * len(frame), index=frame.index, dtype=str)

    ids, names = col("compound_id"), col("compound_name")
    lookup = lookup_compounds(con, list(ids) + list(names))
    resolved = dict(zip(lookup["value"], lookup["compound_id"], strict=True)) if len(lookup) else {}

    good: list[dict[str, Any]] = []
    rejected: list[tuple[int, str, str]] = []
    for i, idx in enumerate(frame.index, start=1):
        raw = {h: frame.at[idx, h] for h in headers}
        reasons: list[str] = []
        cid = resolved.get(ids[idx]) if ids[idx] else None
        if cid is None and names[idx]:
            cid = resolved.get(names[idx])
        if not ids[idx] and not names[idx]:
            reasons.append("缺少小区编号或小区名称")
        elif cid is None or (isinstance(cid, float) and pd.isna(cid)):
            shown = ids[idx] or names[idx]
            reasons.append(f"小区「{shown}」不在小区名录中")
        leader = col("leader")[idx]
        if not leader:
            reasons.append("缺少包保领导")
        start_text = col("start_date")[idx]
        start = parse_date(start_text)
        if start is None:
            reasons.append(f"进驻日期「{start_text}」无法识别" if start_text else "缺少进驻日期")
        end_text = col("end_date")[idx]
        end = parse_date(end_text) if end_text else None
        if end_text and end is None:
            reasons.append(f"撤出日期「{end_text}」无法识别")
        latest = dt.date(dt.date.today().year + PLAUSIBLE_YEARS_AHEAD, 12, 31)
        for label, day, text in (("进驻日期", start, start_text), ("撤出日期", end, end_text)):
            if day is not None and not EARLIEST_PLAUSIBLE <= day <= latest:
                reasons.append(f"{label}「{text}」超出合理范围")
        if start and end and end < start:
            reasons.append("撤出日期早于进驻日期")
        window = selection_window
        window_text = col("selection_window")[idx]
        if window_text:
            try:
                window = calendar.parse_window(window_text)
            except ValidationError:
                reasons.append(f"选定窗口「{window_text}」无法识别（应为 2022-07:2022-12）")
        if window and start and window[0] > start:
            reasons.append("选定窗口晚于进驻日期")
        if reasons:
            rejected.append((i, "；".join(reasons), json.dumps(raw, ensure_ascii=False)))
            continue
        good.append(
            {
                "compound_id": str(cid),
                "leader": leader,
                "head": col("head")[idx] or None,
                "start": start,
                "end": end,
                "window": window,
            }
        )

    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    inserted = updated = 0
    with db.transaction(con) as cur:
        batch_id = db.next_id(cur, "seq_batch")
        for row in good:
            _, new = _upsert(
                cur,
                row["compound_id"],
                row["leader"],
                row["head"],
                row["start"],
                row["end"],
                row["window"],
                None,
            )
            inserted += new
            updated += not new
        for row_number, reason, raw in rejected:
            cur.execute("INSERT INTO rejected_rows VALUES (?, ?, ?, ?)", [batch_id, row_number, reason, raw])
        cur.execute(
            """INSERT INTO ingest_batches (batch_id, kind, file_name, sha256, "user", loaded_at, rows_read,
                   inserted, updated, duplicates, rejected, unmatched, mapping, encoding, sheet)
               VALUES (?, 'taskforces', ?, ?, ?, now(), ?, ?, ?, 0, ?, 0, ?, ?, ?)""",
            [
                batch_id,
                Path(path).name,
                digest,
                user,
                len(frame),
                inserted,
                updated,
                len(rejected),
                json.dumps(found, ensure_ascii=False),
                encoding,
                sheet,
            ],
        )
        db.audit(
            cur,
            user,
            "taskforces.import",
            {
                "file": Path(path).name,
                "batch_id": batch_id,
                "inserted": inserted,
                "updated": updated,
                "rejected": len(rejected),
            },
        )
    return {
        "file": Path(path).name,
        "rows_read": len(frame),
        "inserted": inserted,
        "updated": updated,
        "rejected": len(rejected),
        "batch_id": batch_id,
        "reasons": [{"row": r, "reason": reason} for r, reason, _ in rejected],
    }


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


# ---------------------------------------------------------------- actions


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


def actions(con: duckdb.DuckDBPyConnection, taskforce_id: int | None = None) -> pd.DataFrame:
    """The action log (newest first), for one task force or all."""
    sql = """SELECT a.action_id, a.taskforce_id, t.compound_id, a.date, a.action, a.cost, a."user", a.logged_at
             FROM taskforce_actions a JOIN task_forces t USING (taskforce_id)"""
    params: list[Any] = []
    if taskforce_id is not None:
        sql += " WHERE a.taskforce_id = ?"
        params.append(int(taskforce_id))
    return db.query_df(con, sql + " ORDER BY a.date DESC, a.action_id DESC", params)


# ---------------------------------------------------------------- exit rule


def _last_complete_month(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date | None:
    """First day of the last month that is complete by `as_of` (default: the last ticket's date)."""
    if as_of is None:
        latest = db.query_one(con, "SELECT max(created_at) FROM tickets")
        if latest is None:
            return None
        as_of = pd.Timestamp(latest).date()
    as_of = parse_date(as_of)
    if as_of is None:
        return None
    return calendar.complete_month(as_of).start_time.date()


def _monthly_counts(con: duckdb.DuckDBPyConnection, compound_ids: Iterable[str]) -> pd.DataFrame:
    ids = sorted(set(compound_ids))
    if not ids:
        return pd.DataFrame(columns=["compound_id", "month", "n"])
    frame = db.query_df(
        con,
        """SELECT compound_id, CAST(date_trunc('month', created_at) AS DATE) AS month, count(*) AS n
           FROM tickets WHERE is_valid AND compound_id IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY 1, 2""",
        [ids],
    )
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame


def exit_rule_state(
    counts: Mapping[dt.date, int],
    start: dt.date,
    last_month: dt.date | None,
    target: float | None,
    exit_months: int,
) -> dict[str, Any]:
    """The exit rule on one compound's monthly counts.

    Months run from the month the task force moved in to `last_month`; a month with no tickets
    counts 0. `months_below` is the run of most recent consecutive months strictly below target.
    """
    if last_month is None or target is None or last_month < calendar.month_start(start):
        return {"months_below": 0, "meets_exit_rule": False, "last_month_count": None}
    months_below = 0
    month = last_month
    first = calendar.month_start(start)
    while month >= first and counts.get(month, 0) < target:
        months_below += 1
        month = calendar.add_months(month, -1)
    return {
        "months_below": months_below,
        "meets_exit_rule": months_below >= exit_months,
        "last_month_count": int(counts.get(last_month, 0)),
    }


def exit_status(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> pd.DataFrame:
    """Per task force: months_below, meets_exit_rule, last_month_count, target, exit_months."""
    tfs = db.query_df(con, "SELECT * FROM task_forces ORDER BY taskforce_id")
    cols = [
        "taskforce_id",
        "compound_id",
        "months_below",
        "meets_exit_rule",
        "last_month_count",
        "target",
        "exit_months",
        "last_month",
    ]
    if tfs.empty:
        return pd.DataFrame(columns=cols)
    last_month = _last_complete_month(con, as_of)
    counts = _monthly_counts(con, tfs["compound_id"])
    by_compound = {
        cid: dict(zip(g["month"], g["n"], strict=True)) for cid, g in counts.groupby("compound_id")
    }
    rows = []
    for tf in tfs.itertuples(index=False):
        start = pd.Timestamp(tf.start_date).date()
        target = None if pd.isna(tf.target_monthly) else float(tf.target_monthly)
        series = by_compound.get(tf.compound_id, {})
        if target is None and pd.notna(tf.selection_start) and pd.notna(tf.selection_end):
            s, e = pd.Timestamp(tf.selection_start).date(), pd.Timestamp(tf.selection_end).date()
            in_window = [n for m, n in series.items() if s <= m <= e]
            n_months = (e.year - s.year) * 12 + e.month - s.month + 1
            target = round(TARGET_SHARE * sum(in_window) / n_months, 2)
        k = EXIT_MONTHS if pd.isna(tf.exit_months) else int(tf.exit_months)
        state = exit_rule_state(series, start, last_month, target, k)
        rows.append(
            {
                "taskforce_id": int(tf.taskforce_id),
                "compound_id": tf.compound_id,
                **state,
                "target": target,
                "exit_months": k,
                "last_month": last_month,
            }
        )
    return pd.DataFrame(rows, columns=cols)


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


# ---------------------------------------------------------------- ledger


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
                    t.start_date, t.end_date, t.status, t.selection_start, t.selection_end, t.snapshot_id
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
