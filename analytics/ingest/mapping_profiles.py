"""Saved mappings (table mapping_profiles): a mapping of one import kind kept under a name, e.g.
'区热线平台导出 2023', and reused for the next export of the same system. The JSON stored is the
mapping itself, `{canonical_field: source_header}`."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from analytics.errors import NotFound, ValidationError
from analytics.ingest.columns import FIELD_TABLES, fields_by_name, is_caller_name_header
from analytics.store import db


def save_profile(
    con: duckdb.DuckDBPyConnection,
    name: str,
    mapping: dict[str, str],
    kind: str = "tickets",
    user: str | None = None,
) -> None:
    """Save (or replace) a named mapping, e.g. '区热线平台导出 2023'."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("请为映射方案命名。", "Give the mapping profile a name.")
    if kind not in FIELD_TABLES:
        raise ValidationError(f"未知的映射类型：{kind}", f"Unknown mapping kind: {kind}")
    known = fields_by_name(FIELD_TABLES[kind])
    unknown = [k for k in mapping if k not in known]
    if unknown:
        raise ValidationError(
            f"映射中有未知字段：{'、'.join(unknown)}。",
            f"The mapping has unknown fields: {', '.join(unknown)}.",
        )
    named = [h for h in mapping.values() if h and is_caller_name_header(h)]
    if named:
        raise ValidationError(
            f"映射方案不能包含来电人姓名列：{'、'.join(named)}。",
            f"A mapping profile cannot use columns of callers' names: {', '.join(named)}.",
        )
    payload = json.dumps(mapping, ensure_ascii=False, sort_keys=True)
    with db.transaction(con) as cur:
        db.merge(
            cur,
            "mapping_profiles",
            ["name", "kind", "mapping", "created_by", "created_at"],
            ["name"],
            "SELECT ?, ?, ?, ?, now()",
            [name, kind, payload, user],
        )
        db.audit(cur, user, "mapping.save", {"name": name, "kind": kind})


def load_profile(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    raw = db.query_one(con, "SELECT mapping FROM mapping_profiles WHERE name = ?", [name])
    if raw is None:
        raise NotFound(f"没有名为「{name}」的映射方案。", f"No mapping profile named '{name}'.")
    return json.loads(raw)


def list_profiles(con: duckdb.DuckDBPyConnection, kind: str | None = None) -> pd.DataFrame:
    """name, kind, mapping (JSON), created_by, created_at; newest first."""
    sql = "SELECT name, kind, mapping, created_by, created_at FROM mapping_profiles"
    params: list[str] = []
    if kind is not None:
        sql += " WHERE kind = ?"
        params.append(kind)
    return db.query_df(con, sql + " ORDER BY created_at DESC, name", params)
