"""Remembered sessions (the signed cookie), own password changes, and the role form's rules:
a change that widens access, a change that changes nothing."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta

import pytest

from analytics.errors import AccessDenied, ValidationError
from analytics.services import auth, session_cookie
from analytics.store import db

PASSWORD = "correct horse"
NEW_PASSWORD = "battery staple"
T0 = 1_750_000_000.0  # a fixed clock for the cookie's times
MINUTE = 60.0


@pytest.fixture
def users(store):
    with db.transaction(store) as cur:
        cur.execute("INSERT INTO compounds (compound_id, name) VALUES ('C1', '翠华苑'), ('C2', '沂河家园')")
    auth.add_user(store, "root", PASSWORD, "admin")
    auth.add_user(store, "li", PASSWORD, "leader")
    auth.add_user(store, "head", PASSWORD, "taskforce", ["C1"])
    return store


def actions(con, action: str) -> list[tuple[str | None, dict | None]]:
    rows = db.query_df(con, 'SELECT "user", detail FROM audit_log WHERE action = ? ORDER BY rowid', [action])
    return [(u, json.loads(d) if d else None) for u, d in rows.itertuples(index=False)]


# --- the cookie --------------------------------------------------------------------------------


def test_issued_cookie_signs_its_user_in(users):
    value = session_cookie.issue(users, "li", now=T0)
    cookie = session_cookie.verify(users, value, now=T0 + MINUTE)
    assert (cookie.username, cookie.issued, cookie.last_seen) == ("li", int(T0), int(T0))
    assert value.count("|") == 3 and "li" not in value.split("|")[0]  # the name travels encoded


@pytest.mark.parametrize(
    ("last_seen_ago_min", "issued_ago_h", "accepted"),
    [
        (0, 0, True),
        (59, 1, True),  # within the idle limit
        (61, 2, False),  # idle too long: the 60-minute expiry holds across a reload
        (5, 11.9, True),  # refreshed while used
        (5, 12.1, False),  # but never beyond a working day
        (-0.5, 0, True),  # a clock a little behind the browser's
        (-5, 0, False),  # "last seen" in the future
    ],
)
def test_cookie_expiry(users, last_seen_ago_min, issued_ago_h, accepted):
    now = T0 + 24 * 3600
    value = session_cookie.issue(
        users, "li", issued=now - issued_ago_h * 3600, now=now - last_seen_ago_min * MINUTE
    )
    assert (session_cookie.verify(users, value, now=now) is not None) is accepted


def flip_first(mac: str) -> str:
    return ("1" if mac[0] == "0" else "0") + mac[1:]


def _swap(value: str, index: int, new: str) -> str:
    parts = value.split("|")
    parts[index] = new
    return "|".join(parts)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: _swap(v, 0, session_cookie._b64("root")),  # another user's name  # noqa: SLF001
        lambda v: _swap(v, 2, str(int(v.split("|")[2]) + 3600)),  # a later "last seen"
        lambda v: _swap(v, 1, str(int(v.split("|")[1]) + 60)),  # another issue time
        lambda v: _swap(v, 3, flip_first(v.split("|")[3])),  # the MAC
        lambda v: v + "|x",
        lambda v: v.replace("|", ";"),
        lambda v: "",
        lambda v: "li|1|2|" + "0" * 64,
        lambda v: "x" * 10_000,
        lambda v: _swap(v, 0, "!!!"),
    ],
)
def test_tampered_cookie_is_refused(users, tamper):
    value = session_cookie.issue(users, "li", now=T0)
    assert session_cookie.verify(users, tamper(value), now=T0 + MINUTE) is None


def test_a_cookie_from_another_key_is_refused(users, monkeypatch):
    value = session_cookie.issue(users, "li", now=T0)
    monkeypatch.setenv(session_cookie.ENV_VAR, "ab" * 32)
    assert session_cookie.verify(users, value, now=T0) is None
    assert session_cookie.verify(users, session_cookie.issue(users, "li", now=T0), now=T0) is not None


@pytest.mark.parametrize(
    ("ending", "audited"),
    [
        (lambda con: auth.logout(con, "li"), "logout"),
        (lambda con: auth.change_password(con, "li", PASSWORD, NEW_PASSWORD), "change_password"),
        (lambda con: auth.reset_password(con, "li", NEW_PASSWORD, user="root"), "reset_password"),
        (lambda con: auth.delete_user(con, "li", user="root"), "delete_user"),
        (  # deleted and made again under the same name: still not the same account
            lambda con: (
                auth.delete_user(con, "li", user="root"),
                auth.add_user(con, "li", PASSWORD, "leader"),
            ),
            "add_user",
        ),
    ],
)
def test_a_cookie_copied_before_the_session_ended_is_dead(users, ending, audited):
    copied = session_cookie.issue(users, "li", now=T0)
    other = session_cookie.issue(users, "root", now=T0)
    ending(users)
    assert session_cookie.verify(users, copied, now=T0 + MINUTE) is None
    assert session_cookie.verify(users, other, now=T0 + MINUTE) is not None  # nobody else's
    assert actions(users, audited)
    fresh = session_cookie.issue(users, "li", now=T0)  # a new login gets a working cookie
    assert fresh is None or session_cookie.verify(users, fresh, now=T0) is not None


def test_a_locked_account_is_not_let_in_by_its_cookie(users):
    value = session_cookie.issue(users, "li", now=T0)
    for _ in range(auth.LOCKOUT_AFTER):
        auth.authenticate(users, "li", "wrong password!")
    assert session_cookie.verify(users, value, now=T0) is None
    with db.transaction(users) as cur:  # the lock has run out
        cur.execute(
            "UPDATE users SET locked_until = ? WHERE username = 'li'", [datetime.now() - timedelta(minutes=1)]
        )
    assert session_cookie.verify(users, value, now=T0).username == "li"


def test_session_key_file_is_made_owner_only_and_an_unsafe_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(session_cookie.ENV_VAR, raising=False)
    store = str(tmp_path / "a.duckdb")
    key = session_cookie.load_key(store)
    path = session_cookie.key_file(store)
    assert len(key) == session_cookie.KEY_BYTES and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert session_cookie.load_key(store) == key  # made once, then reused
    other = str(tmp_path / "b.duckdb")
    unsafe = session_cookie.key_file(other)
    unsafe.write_text("ab" * 32)
    unsafe.chmod(0o644)
    with pytest.raises(session_cookie.SessionKeyError, match="chmod 600"):
        session_cookie.load_key(other)
    monkeypatch.setenv(session_cookie.ENV_VAR, "not hex")
    with pytest.raises(session_cookie.SessionKeyError):
        session_cookie.load_key(store)


def test_session_key_is_not_the_caller_key(store):
    from analytics.store import callerkey

    path = db.store_path(store)
    assert session_cookie.key_file(path) != callerkey.key_file(path)


# --- own password ------------------------------------------------------------------------------


def test_change_own_password(users):
    auth.change_password(users, "li", PASSWORD, NEW_PASSWORD, client="203.0.113.7")
    assert auth.authenticate(users, "li", PASSWORD) is None
    assert auth.authenticate(users, "li", NEW_PASSWORD) == auth.User("li", "leader")
    assert actions(users, "change_password") == [("li", {"client": "203.0.113.7"})]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("wrong", NEW_PASSWORD, "原密码不正确。"),
        (PASSWORD, "short", "密码至少需要 8 个字符。"),  # the rules of `users add`
        (PASSWORD, "x" * (auth.MAX_PASSWORD_LENGTH + 1), "密码不能超过 1024 个字符。"),
        (PASSWORD, PASSWORD, "新密码不能与原密码相同。"),
    ],
)
def test_change_own_password_refused(users, old, new, message):
    with pytest.raises(ValidationError) as refused:
        auth.change_password(users, "li", old, new)
    assert refused.value.zh == message
    assert auth.authenticate(users, "li", PASSWORD) is not None  # unchanged
    assert actions(users, "change_password") == []


def test_wrong_old_passwords_count_towards_the_lockout(users):
    for attempt in range(1, auth.LOCKOUT_AFTER):
        with pytest.raises(ValidationError):
            auth.change_password(users, "li", "wrong", NEW_PASSWORD)
        assert db.query_one(users, "SELECT failed_attempts FROM users WHERE username = 'li'") == attempt
    with pytest.raises(AccessDenied):  # the fifth locks the account
        auth.change_password(users, "li", "wrong", NEW_PASSWORD)
    assert auth.is_locked(users, "li")
    assert auth.authenticate(users, "li", PASSWORD) is None
    with pytest.raises(AccessDenied):  # locked: even the right old password waits
        auth.change_password(users, "li", PASSWORD, NEW_PASSWORD)
    failed = actions(users, "login_failed")
    assert [d["reason"] for _, d in failed][: auth.LOCKOUT_AFTER - 1] == ["wrong old password"] * 4
    assert len(actions(users, "account_locked")) == 1


# --- the role form's rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "widens"),
    [
        (("taskforce", ("C1",)), ("taskforce", ("C1",)), False),
        (("taskforce", ("C1", "C2")), ("taskforce", ("C1",)), False),
        (("taskforce", ("C1",)), ("taskforce", ("C1", "C2")), True),
        (("taskforce", ("C1",)), ("taskforce", ("C2",)), True),  # another compound is still more
        (("taskforce", ("C1",)), ("leader", None), True),
        (("taskforce", ("C1",)), ("analyst", None), True),
        (("taskforce", ("C1",)), ("admin", None), True),
        (("leader", None), ("analyst", None), True),
        (("leader", None), ("admin", None), True),
        (("analyst", None), ("leader", None), False),
        (("admin", None), ("leader", None), False),
        (("leader", None), ("taskforce", ("C1",)), True),  # fewer compounds, but may log actions
    ],
)
def test_which_changes_widen_access(old, new, widens):
    assert auth.widens(auth.User("u", *old), auth.User("u", *new)) is widens


@pytest.mark.parametrize(
    ("username", "role", "compounds"),
    [("head", "taskforce", ["C1"]), ("li", "leader", None), ("root", "admin", None)],
)
def test_set_role_without_a_change_writes_nothing(users, username, role, compounds):
    before = db.table_counts(users)
    assert auth.set_role(users, username, role, compounds, user="root") == auth.get_user(users, username)
    assert db.table_counts(users) == before
    assert actions(users, "set_role") == []


def test_set_role_keeps_old_and_new_and_refuses_a_stale_form(users):
    seen = auth.get_user(users, "head")
    auth.set_role(users, "head", "leader", user="root", expect=seen)
    assert actions(users, "set_role") == [
        (
            "root",
            {
                "username": "head",
                "old_role": "taskforce",
                "old_scope": "C1",
                "role": "leader",
                "compound_scope": None,
            },
        )
    ]
    with pytest.raises(ValidationError, match="刚被修改"):  # decided on what the account was before
        auth.set_role(users, "head", "analyst", user="root", expect=seen)
    assert auth.get_user(users, "head").role == "leader"


@pytest.mark.parametrize(
    ("page", "roles"),
    [
        ("admin", ("admin",)),
        ("upload", ("analyst", "admin")),
        ("overview", ("leader", "analyst", "admin")),
        ("effects", ("leader", "analyst", "taskforce", "admin")),
        ("glossary", auth.ROLES),
        ("account", auth.ROLES),
        ("export", ("leader", "analyst", "admin")),  # never a task-force head
    ],
)
def test_roles_for(page, roles):
    assert auth.roles_for(page) == roles
