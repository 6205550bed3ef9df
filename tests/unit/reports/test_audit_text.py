"""The administrator's audit log and tables in words: every action the program writes has a
name, every store table a label, and details read as "field: value", never as JSON."""

from __future__ import annotations

import ast
import json

import pytest

from analytics.reports import audit_text
from analytics.reports.text import CATALOGUE
from analytics.store import db
from tests.fixtures import ROOT

NAMES = {"C001": "锦绣花园", "C002": "阳光家园"}
WRITERS = [
    *ROOT.glob("analytics/**/*.py"),
    *ROOT.glob("ui/*.py"),
    *ROOT.glob("pages/*.py"),
    ROOT / "dashboard.py",
]


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def written_actions() -> tuple[set[str], set[str]]:
    """(action codes written as literals, prefixes of those built from a pattern) anywhere in
    the program: `audit(cur, user, ACTION, ...)` and the downloads' `deferred(..., ACTION)`."""
    codes: set[str] = set()
    prefixes: set[str] = set()
    for path in WRITERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            if name == "audit" and len(node.args) >= 3:
                arg = node.args[2]
            elif name == "deferred":
                arg = next((k.value for k in node.keywords if k.arg == "action"), None)
                arg = arg if arg is not None else (node.args[3] if len(node.args) >= 4 else None)
            else:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                codes.add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                prefixes.add(arg.values[0].value)
    return codes, prefixes


def test_every_action_the_program_writes_has_a_name():
    codes, prefixes = written_actions()
    assert {
        "login",
        "set_role",
        "add_user",
        "logout",
        "download",
        "session_resumed",
        "change_password",
    } <= codes
    assert sorted(c for c in codes if f"ad_act_{c}" not in CATALOGUE) == []
    assert all(any(k.startswith(f"ad_act_{p}") for k in CATALOGUE) for p in prefixes), prefixes


def test_every_store_table_has_a_label(store):
    assert sorted(t for t in db.table_counts(store) if f"ad_tbl_{t}" not in CATALOGUE) == []


@pytest.mark.parametrize(
    ("action", "detail", "zh", "en"),
    [
        (
            "set_role",
            {"username": "tf1", "old_role": "taskforce", "old_scope": "C001,C002", "role": "leader",
             "compound_scope": None},
            "tf1：专班组长（2 个小区：锦绣花园、阳光家园） → 区领导（全部小区）",
            "tf1: Task-force head (2 compounds: 锦绣花园, 阳光家园) → District leader (all compounds)",
        ),
        (  # as stores written before the old scope was kept have it
            "set_role",
            {"username": "li", "old": "leader", "role": "taskforce", "compound_scope": "C002"},
            "li：区领导 → 专班组长（1 个小区：阳光家园）",
            "li: District leader → Task-force head (1 compounds: 阳光家园)",
        ),
        (
            "login_failed",
            {"reason": "wrong password", "failed_attempts": 2, "client": "203.0.113.7"},
            "原因：密码错误；连续失败次数：2；来源地址：203.0.113.7",
            "reason: wrong password; failed attempts in a row: 2; from: 203.0.113.7",
        ),
        (
            "tickets.ingest",
            {"file": "工单.csv", "rows_read": 12345, "inserted": 12000, "rejected": 3, "batch_id": 7},
            "文件：工单.csv；读取行数：12,345；新增：12,000；拒收：3；批次：7",
            "file: 工单.csv; rows read: 12,345; inserted: 12,000; rejected: 3; batch: 7",
        ),
        ("restore", {"rows": 10, "overwrite": True}, "行数：10；覆盖现有数据：是", "rows: 10; overwrite: yes"),
        ("add_alias", {"compound_id": "C001", "alias": "锦绣"}, "小区：锦绣花园；别名：锦绣", "compound: 锦绣花园; alias: 锦绣"),
        ("train_category_model", {"macro_f1": 0.81234}, "宏平均 F1：0.81", "macro F1: 0.81"),
        (
            "registry.edit",
            {"compound_id": "C002", "version": 2, "changes": {"households": [400, 420]}},
            "小区：阳光家园；版本：2；改动：户数：400 → 420",
            "compound: 阳光家园; version: 2; changes: households: 400 → 420",
        ),
        ("logout", None, "", ""),
    ],
)  # fmt: skip
def test_details_read_as_words(action, detail, zh, en):
    stored = None if detail is None else json.dumps(detail, ensure_ascii=False)
    assert audit_text.describe(action, stored, NAMES, "zh") == zh
    assert audit_text.describe(action, stored, NAMES, "en") == en


def test_an_unknown_action_is_named_as_such():
    assert audit_text.action_label("something_new", "zh") == "其他操作（something_new）"
    assert audit_text.action_label("set_role", "en") == "Role changed"
