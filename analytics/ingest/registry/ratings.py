"""Importing half-year star ratings and quarterly property evaluations: the two small files
kept beside the registry, each upserted on its key with bad rows kept."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.ingest.columns import EVALUATION_FIELDS, RATING_FIELDS, Field
from analytics.ingest.registry.files import (
    RegistryResult,
    _fmt,
    _map_headers,
    _read,
    _rejected_frame,
    _result,
    _same,
    _write_batch,
)
from analytics.ingest.registry.values import (
    EVALUATION_LISTS,
    SCORE_RANGE,
    _nfkc,
    parse_period,
    parse_quarter,
    parse_stars,
)
from analytics.store import db


def _simple_import(
    con: duckdb.DuckDBPyConnection,
    source: str | Path | pd.DataFrame,
    fields: Sequence[Field],
    what: str,
    kind: str,
    table_name: str,
    key: tuple[str, str],
    value_cols: tuple[str, ...],
    parse_row: Callable[[dict[str, str]], tuple[dict[str, Any] | None, list[str]]],
    user: str | None,
    mapping: dict[str, str] | None = None,
) -> RegistryResult:
    """Shared shape of the small imports: map, parse each row, upsert on `key`, keep bad rows."""
    table = _read(source)
    cols = _map_headers(list(table.frame.columns), fields, mapping, what)
    good: dict[tuple[str, str], dict[str, Any]] = {}
    bad: list[tuple[int, str, dict[str, str]]] = []
    for i, raw in enumerate(table.frame.to_dict("records")):
        row = {name: raw.get(header, "") for name, header in cols.items()}
        parsed, reasons = parse_row(row)
        k = None if parsed is None else (parsed[key[0]], parsed[key[1]])
        if not reasons and k in good:
            reasons = [f"与第 {good[k]['row_number']} 行重复"]
        if reasons or parsed is None:
            bad.append((i + 1, "；".join(reasons), raw))
        else:
            good[k] = {**parsed, "row_number": i + 1}
    stored = db.query_df(con, f"SELECT * FROM {table_name}")  # noqa: S608 - fixed table name
    stored_map = {(r[key[0]], r[key[1]]): r for r in stored.to_dict("records")}
    records, changes = [], []
    added = updated = unchanged = 0
    for k, row in good.items():
        old = stored_map.get(k)
        if old is None:
            added += 1
            records.append(row)
            continue
        diff = [
            (f"{k[0]}|{k[1]}", c, _fmt(old[c]), _fmt(row[c])) for c in value_cols if not _same(old[c], row[c])
        ]
        if diff:
            updated += 1
            changes += diff
            records.append(row)
        else:
            unchanged += 1
    rejected = _rejected_frame(bad)
    counts = {"rows_read": len(table.frame), "added": added, "updated": updated, "rejected": len(bad)}
    all_cols = [*key, *value_cols]
    with db.transaction(con) as cur:
        if records:
            cur.register("simple_df", pd.DataFrame(records)[all_cols])
            db.merge(cur, table_name, all_cols, list(key), "SELECT * FROM simple_df")
            cur.unregister("simple_df")
        batch_id = _write_batch(cur, kind, table, user, cols, counts, rejected)
        db.audit(cur, user, f"import_{kind}", {"file": table.file_name, "batch_id": batch_id, **counts})
    return _result(table, (added, updated, unchanged), bad, rejected, changes, batch_id)


def import_ratings(
    con: duckdb.DuckDBPyConnection,
    path_or_df: str | Path | pd.DataFrame,
    user: str | None = None,
    mapping: dict[str, str] | None = None,
) -> RegistryResult:
    """Half-year party-branch star ratings: 小区编号, 评定周期 (2023上半年 / 2023H1), 星级 1-5."""
    known = set(db.query_df(con, "SELECT compound_id FROM compounds")["compound_id"])

    def parse_row(row: dict[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
        reasons = []
        cid = row.get("compound_id", "")
        if not cid:
            reasons.append("缺少小区编号")
        elif cid not in known:
            reasons.append(f"小区编号“{cid}”不在小区名册中")
        period, why = parse_period(row.get("period", ""))
        reasons += [why] if why else []
        stars, why = parse_stars(row.get("stars", ""))
        reasons += [why] if why else []
        return {"compound_id": cid, "period": period, "stars": stars}, reasons

    return _simple_import(
        con,
        path_or_df,
        RATING_FIELDS,
        "星级评定表",
        "ratings",
        "compound_ratings",
        ("compound_id", "period"),
        ("stars",),
        parse_row,
        user,
        mapping,
    )


def import_property_evaluations(
    con: duckdb.DuckDBPyConnection,
    path_or_df: str | Path | pd.DataFrame,
    user: str | None = None,
    mapping: dict[str, str] | None = None,
) -> RegistryResult:
    """Quarterly property-company evaluations: 物业公司, 季度, 得分 (0-100), 红黑榜 (红榜/黑榜/blank)."""

    def parse_row(row: dict[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
        reasons = []
        company = row.get("company", "")
        if not company:
            reasons.append("缺少物业公司")
        quarter, why = parse_quarter(row.get("quarter", ""))
        reasons += [why] if why else []
        score = None
        text = row.get("score", "")
        if text:
            try:
                score = float(_nfkc(text).removesuffix("分"))
            except ValueError:
                reasons.append(f"得分不是数字：“{text}”")
            else:
                if not SCORE_RANGE[0] <= score <= SCORE_RANGE[1]:
                    reasons.append(f"得分应在 {SCORE_RANGE[0]:g}–{SCORE_RANGE[1]:g} 之间：“{text}”")
        listed = row.get("list", "")
        list_value = None
        if listed and listed not in ("无", "-", "—"):
            list_value = EVALUATION_LISTS.get(_nfkc(listed))
            if list_value is None:
                reasons.append(f"红黑榜无效：“{listed}”（应为 红榜/黑榜/空）")
        return {"company": company, "quarter": quarter, "score": score, "list": list_value}, reasons

    return _simple_import(
        con,
        path_or_df,
        EVALUATION_FIELDS,
        "物业考核表",
        "evaluations",
        "property_evaluations",
        ("company", "quarter"),
        ("score", "list"),
        parse_row,
        user,
        mapping,
    )
