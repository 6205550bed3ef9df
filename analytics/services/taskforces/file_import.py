"""Importing a task-force list (CSV/XLSX) into the ledger, all or nothing, with rejected rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics import calendar
from analytics.errors import FileRejected, NotFound, ValidationError
from analytics.ingest.columns import TASKFORCE_FIELDS, match_headers
from analytics.ingest.matching import lookup_compounds
from analytics.services.taskforces.dates import parse_date
from analytics.services.taskforces.records import _upsert
from analytics.store import db

# start/end dates outside this span are typing errors (1900-01-01, 2099-12-31), not plans
EARLIEST_PLAUSIBLE = dt.date(2000, 1, 1)
PLAUSIBLE_YEARS_AHEAD = 5


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


def _require_windows(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Refuse the file when a new task force would have no selection window (see import_taskforces)."""
    lacking = [r for r in rows if r["window"] is None]
    if not lacking:
        return
    stored = db.query_df(
        con,
        "SELECT compound_id, start_date FROM task_forces WHERE selection_start IS NOT NULL",
    )
    known = {
        (str(c), pd.Timestamp(d).date())
        for c, d in zip(stored["compound_id"], stored["start_date"], strict=True)
    }
    missing = [r for r in lacking if (r["compound_id"], r["start"]) not in known]
    if missing:
        raise ValidationError(
            f"{len(missing)} 个专班没有选定窗口：请用 --selection-window 给出排名窗口（如 2022-07:2022-12），"
            "或用 --snapshot 指明名单来自哪个排名快照，或在文件中填写“选定窗口”列。",
            f"{len(missing)} task forces have no selection window: give the ranking window with "
            "--selection-window (e.g. 2022-07:2022-12), name the ranking snapshot the list came from with "
            "--snapshot, or fill the file's 选定窗口 column.",
        )


def import_taskforces(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    selection_window: tuple[dt.date, dt.date] | None = None,
    user: str | None = None,
    mapping: Mapping[str, str] | None = None,
    snapshot_id: int | None = None,
) -> dict[str, Any]:
    """Load a task-force list (CSV/XLSX) into the ledger, all or nothing.

    Headers: 小区编号 and/or 小区名称, 包保领导, 进驻日期 (required); 专班组长, 撤出日期, 选定窗口
    (optional, e.g. 2022-07:2022-12 — a row's own window wins over `selection_window`),
    撤出评估日期 (optional: the planned exit review; without it the exit rule's date applies).
    Every task force needs the ranking window it was selected on (the effects leave it out of the
    baseline): a row's 选定窗口, else `selection_window`, else the window of the ranking snapshot
    `snapshot_id` the list came from (then stored with it). A row with none of these, for a task
    force not already stored with a window, refuses the whole file (nothing is written): no
    window is ever assumed.
    Rows naming an unknown compound or carrying a bad date are kept in rejected_rows with a
    Chinese reason and reported; the others are inserted, or update the task force with the same
    compound and start date. Returns {"file", "rows_read", "inserted", "updated", "rejected",
    "batch_id", "reasons"}.
    """
    if snapshot_id is not None:
        snap = db.query_df(
            con, "SELECT window_start, window_end FROM ranking_snapshots WHERE snapshot_id = ?", [snapshot_id]
        )
        if snap.empty:
            raise NotFound(
                f"排名快照 {snapshot_id} 不存在。", f"Ranking snapshot {snapshot_id} does not exist."
            )
        snapshot_window = (pd.Timestamp(snap.iat[0, 0]).date(), pd.Timestamp(snap.iat[0, 1]).date())
        selection_window = selection_window or snapshot_window
    frame, headers, encoding, sheet = _read_file(path)
    found = match_headers(headers, TASKFORCE_FIELDS, mapping)
    missing = [f.label for f in TASKFORCE_FIELDS if f.required and f.name not in found]
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
        review_text = col("review_date")[idx]
        review = parse_date(review_text) if review_text else None
        if review_text and review is None:
            reasons.append(f"撤出评估日期「{review_text}」无法识别")
        if start and review and review < start:
            reasons.append("撤出评估日期早于进驻日期")
        latest = dt.date(dt.date.today().year + PLAUSIBLE_YEARS_AHEAD, 12, 31)
        checked = (
            ("进驻日期", start, start_text),
            ("撤出日期", end, end_text),
            ("撤出评估日期", review, review_text),
        )
        for label, day, text in checked:
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
                "review": review,
            }
        )

    _require_windows(con, good)
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
                snapshot_id,
                row["review"],
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
