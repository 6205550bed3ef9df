"""The audit log and the users table in words an administrator reads: action codes as names,
details as "field: value" instead of JSON, roles as role names, compound scopes as names."""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from typing import Any

import pandas as pd

from analytics.reports.text import CATALOGUE, text

# fields whose value is a role code / a comma-separated compound scope (None = all compounds)
ROLE_FIELDS = ("role", "old_role", "old")
SCOPE_FIELDS = ("compound_scope", "old_scope")
HIDDEN_FIELDS = ("old_role", "old_scope", "old")  # shown as part of the role change
FINGERPRINT_CHARS = 12  # of a file's sha256: enough to tell two files apart on screen
SCOPE_NAMES_SHOWN = 5


def action_label(action: str, lang: str = "zh") -> str:
    key = f"ad_act_{action}"
    return text(key, lang) if key in CATALOGUE else text("ad_act_unknown", lang, code=action)


def table_label(table: str, lang: str = "zh") -> str:
    key = f"ad_tbl_{table}"
    return text(key, lang) if key in CATALOGUE else table


def role_label(role: Any, lang: str = "zh") -> str:
    key = f"role_{role}"
    return text(key, lang) if key in CATALOGUE else str(role)


def scope_ids(scope: Any) -> list[str] | None:
    """A stored scope ("C1,C2") as ids; None for no scope (all compounds)."""
    if scope is None or (isinstance(scope, float) and pd.isna(scope)):
        return None
    if isinstance(scope, list | tuple):
        return [str(s) for s in scope]
    return [part for part in str(scope).split(",") if part]


def scope_label(scope: Any, names: Mapping[str, str], lang: str = "zh") -> str:
    """'全部小区', or the compounds' names (the first few, then the count)."""
    ids = scope_ids(scope)
    if ids is None:
        return text("ad_scope_all", lang)
    shown = [names.get(cid, cid) for cid in ids[:SCOPE_NAMES_SHOWN]]
    listed = text("ad_sep_list", lang).join(shown)
    if len(ids) > SCOPE_NAMES_SHOWN:
        listed += "…"
    return listed


def scope_summary(scope: Any, names: Mapping[str, str], lang: str = "zh") -> str:
    """'全部小区', or '锦绣花园、阳光家园（2 个）': names and how many."""
    ids = scope_ids(scope)
    if ids is None:
        return text("ad_scope_all", lang)
    return text("ad_scope_n", lang, names=scope_label(scope, names, lang), n=len(ids))


def access_label(role: Any, scope: Any, names: Mapping[str, str], lang: str = "zh") -> str:
    """A role with what it sees: '专班组长（2 个小区：锦绣花园、阳光家园）' or '区领导（全部小区）'."""
    ids = scope_ids(scope)
    if ids is None:
        return text("ad_access_all", lang, role=role_label(role, lang))
    return text(
        "ad_access_scoped",
        lang,
        role=role_label(role, lang),
        n=len(ids),
        names=scope_label(scope, names, lang),
    )


def _value(field: str, value: Any, names: Mapping[str, str], lang: str) -> str:
    if field in ROLE_FIELDS:
        return role_label(value, lang)
    if field in SCOPE_FIELDS:
        return scope_label(value, names, lang)
    if field == "reason":
        key = f"ad_reason_{value}"
        return text(key, lang) if key in CATALOGUE else str(value)
    if field == "kind" and f"ad_kind_{value}" in CATALOGUE:
        return text(f"ad_kind_{value}", lang)
    if field == "compound_id" and isinstance(value, str):
        return names.get(value, value)
    if field == "sha256" and isinstance(value, str):
        return value[:FINGERPRINT_CHARS] + "…"
    if isinstance(value, bool):
        return text("ad_yes" if value else "ad_no", lang)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        return text("ad_sep_list", lang).join(_value("", v, names, lang) for v in value)
    if isinstance(value, dict) and all(isinstance(v, list | tuple) and len(v) == 2 for v in value.values()):
        # {field: [old, new]}, as edits record their changes
        return text("ad_sep_field", lang).join(
            f"{field_label(k, lang)}{text('ad_colon', lang)}{_value(k, v[0], names, lang)} → {_value(k, v[1], names, lang)}"
            for k, v in value.items()
        )
    if isinstance(value, dict):
        return describe_fields(value, names, lang)
    if value is None:
        return "—"
    return str(value)


def field_label(field: str, lang: str = "zh") -> str:
    key = f"ad_f_{field}"
    return text(key, lang) if key in CATALOGUE else field


def describe_fields(detail: Mapping[str, Any], names: Mapping[str, str], lang: str = "zh") -> str:
    sep, colon = text("ad_sep_field", lang), text("ad_colon", lang)
    return sep.join(
        f"{field_label(k, lang)}{colon}{_value(k, v, names, lang)}"
        for k, v in detail.items()
        if k not in HIDDEN_FIELDS
    )


def describe(action: str, detail: Any, names: Mapping[str, str], lang: str = "zh") -> str:
    """One audit entry's detail in words; '' when it has none."""
    if detail is None or (isinstance(detail, float) and pd.isna(detail)) or detail == "":
        return ""
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            return detail
    if not isinstance(detail, dict):
        return _value("", detail, names, lang)
    if action == "set_role":
        old_role = detail.get("old_role", detail.get("old"))
        return text(
            "ad_role_change",
            lang,
            name=detail.get("username", ""),
            old=access_label(old_role, detail.get("old_scope"), names, lang)
            if "old_scope" in detail
            else role_label(old_role, lang),
            new=access_label(detail.get("role"), detail.get("compound_scope"), names, lang),
        )
    return describe_fields(detail, names, lang)
