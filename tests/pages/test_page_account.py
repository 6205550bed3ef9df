"""账户: every role changes their own password, with the rules of `users add`; a wrong old
password counts towards the lock-out; the user's other sessions and remembered cookies end."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analytics.services import auth
from analytics.store import backup, db
from tests.fixtures.apptest import (
    PASSWORD,
    USERS,
    build_fixture_store,
    copy_store,
    errors_of,
    login,
    menu_pages,
    new_app,
)
from tests.fixtures.cookies import cookie_written, signed_in_by

PAGE = "pages/account.py"
NEW_PASSWORD = "a-new-password-2"


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return build_fixture_store(tmp_path_factory.mktemp("account"), with_tickets=False)


@pytest.fixture
def store_path(fixture, tmp_path, monkeypatch):
    path = copy_store(fixture, tmp_path)
    monkeypatch.setenv("HOTLINE_DB", str(path))
    return path


def open_account(username: str) -> AppTest:
    at = login(new_app(), username)
    return at.switch_page(PAGE).run()


def change(at: AppTest, old: str, new: str, repeat: str | None = None) -> AppTest:
    at.text_input(key="ac_old").input(old)
    at.text_input(key="ac_new").input(new)
    at.text_input(key="ac_repeat").input(new if repeat is None else repeat)
    return at.form_submit_button[0].click().run()


def audit(path, action: str) -> list[tuple[str, dict | None]]:
    con = db.connect(path)
    try:
        log = backup.audit_log(con, action=action)
    finally:
        con.close()
    return [(u, json.loads(d) if d else None) for u, d in zip(log["user"], log["detail"], strict=True)]


def logs_in(username: str, password: str) -> bool:
    return bool(menu_pages(login(new_app(), username, password)))


@pytest.mark.parametrize("username", list(USERS))
def test_every_role_has_the_account_page(store_path, username) -> None:
    at = open_account(username)
    assert not errors_of(at), errors_of(at)
    assert [t.value for t in at.title] == ["账户"]
    assert f"用户名：{username}" in at.markdown[0].value
    if USERS[username][1]:  # a head sees their compounds by name
        assert "锦绣花园、阳光家园" in " ".join(m.value for m in at.markdown)
    assert [ti.key for ti in at.text_input] == ["ac_old", "ac_new", "ac_repeat"]


def test_change_own_password(store_path) -> None:
    at = open_account("tf1")
    old_cookie, _ = cookie_written(at)
    elsewhere = login(new_app(), "tf1")  # the same user in another browser
    change(at, PASSWORD, NEW_PASSWORD)
    assert not errors_of(at), errors_of(at)
    assert [s.value for s in at.success] == ["密码已修改。其他浏览器或设备上记住的登录已失效。"]
    assert audit(store_path, "change_password") == [("tf1", None)]
    assert signed_in_by(store_path, old_cookie) is None  # a remembered login from before is dead
    new_cookie, _ = cookie_written(at)
    assert new_cookie != old_cookie and signed_in_by(store_path, new_cookie) == "tf1"  # this one stays
    at.run()
    assert menu_pages(at)  # still signed in here
    elsewhere.run()
    assert menu_pages(elsewhere) == []  # signed out there
    assert not logs_in("tf1", PASSWORD) and logs_in("tf1", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("old", "new", "repeat", "message"),
    [
        ("wrong-password", NEW_PASSWORD, None, "原密码不正确。"),
        (PASSWORD, NEW_PASSWORD, "a-new-password-3", "两次输入的新密码不一致，密码未修改。"),
        (PASSWORD, "short", None, "密码至少需要 8 个字符。"),  # the rule of `users add`
        (PASSWORD, PASSWORD, None, "新密码不能与原密码相同。"),
    ],
)
def test_change_refused(store_path, old, new, repeat, message) -> None:
    at = change(open_account("leader1"), old, new, repeat)
    assert [e.value for e in at.error] == [message]
    assert not at.success and not at.exception
    assert audit(store_path, "change_password") == []
    assert logs_in("leader1", PASSWORD)
    assert not [key for key in ("ac_old", "ac_new", "ac_repeat") if key in at.session_state]  # not kept


def test_wrong_old_password_counts_towards_the_lockout(store_path) -> None:
    at = open_account("analyst1")
    for attempt in range(1, auth.LOCKOUT_AFTER):
        change(at, "wrong-password", NEW_PASSWORD)
        assert [e.value for e in at.error] == ["原密码不正确。"]
        failed = audit(store_path, "login_failed")[0][1]
        assert failed["reason"] == "wrong old password" and failed["failed_attempts"] == attempt
    change(at, "wrong-password", NEW_PASSWORD)  # the fifth locks the account and signs out
    assert menu_pages(at) == []
    assert "账号已锁定" in at.warning[0].value
    assert [u for u, _ in audit(store_path, "account_locked")] == ["analyst1"]
    assert not logs_in("analyst1", PASSWORD)
