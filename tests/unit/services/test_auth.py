"""Users, roles, scopes, lock-out."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from analytics.errors import AccessDenied, NotFound, ValidationError
from analytics.services import auth
from analytics.store import db

PASSWORD = "correct horse"
T0 = datetime(2024, 5, 1, 9, 0)


@pytest.fixture
def store_with_compounds(store):
    with db.transaction(store) as cur:
        cur.execute("INSERT INTO compounds (compound_id, name) VALUES ('C1', '翠华苑'), ('C2', '沂河家园')")
    return store


def test_hash_verify_roundtrip():
    hashed = auth.hash_password(PASSWORD)
    assert hashed != PASSWORD and hashed.startswith("$argon2")
    assert auth.verify(hashed, PASSWORD)
    assert not auth.verify(hashed, PASSWORD + "x")
    assert not auth.verify("not a hash", PASSWORD)


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        (
            "leader",
            ["overview", "ranking", "effects", "export"],
            ["upload", "admin", "manage_users", "log_action"],
        ),
        ("analyst", ["upload", "save_snapshot", "overview", "export"], ["admin", "manage_users"]),
        (
            "taskforce",
            ["taskforces", "log_action", "profile"],
            ["upload", "admin", "overview", "save_snapshot"],
        ),
        ("admin", sorted(auth.PAGES | auth.ACTIONS), []),
    ],
)
def test_permissions_per_role(role, allowed, denied):
    user = auth.User("u", role)
    assert all(auth.can(user, name) for name in allowed)
    assert not any(auth.can(user, name) for name in denied)


def test_can_rejects_unknown_names_and_anonymous():
    with pytest.raises(ValueError):
        auth.can(auth.User("u", "admin"), "ovreview")
    assert not auth.can(None, "overview")


def test_add_and_authenticate(store_with_compounds):
    auth.add_user(store_with_compounds, "li", PASSWORD, "analyst", user="admin")
    user = auth.authenticate(store_with_compounds, "li", PASSWORD)
    assert user == auth.User("li", "analyst", None)
    assert auth.authenticate(store_with_compounds, "li", "wrong password") is None
    assert auth.authenticate(store_with_compounds, "nobody", PASSWORD) is None
    actions = db.query_df(store_with_compounds, "SELECT action FROM audit_log")["action"].tolist()
    assert {"add_user", "login", "login_failed"} <= set(actions)


@pytest.mark.parametrize(
    ("username", "password", "role", "compounds"),
    [
        ("a", "short", "analyst", None),  # password too short
        ("a", PASSWORD, "boss", None),  # unknown role
        ("a", PASSWORD, "taskforce", None),  # taskforce without compounds
        ("a", PASSWORD, "taskforce", ["NOPE"]),  # unknown compound
        ("a", PASSWORD, "leader", ["C1"]),  # scope only for taskforce
        ("", PASSWORD, "leader", None),  # empty name
        ("a b", PASSWORD, "leader", None),  # space in name
    ],
)
def test_add_user_rejects(store_with_compounds, username, password, role, compounds):
    with pytest.raises(ValidationError):
        auth.add_user(store_with_compounds, username, password, role, compounds)
    assert auth.list_users(store_with_compounds).empty


def test_duplicate_username_rejected(store_with_compounds):
    auth.add_user(store_with_compounds, "li", PASSWORD, "leader")
    with pytest.raises(ValidationError):
        auth.add_user(store_with_compounds, "li", PASSWORD, "analyst")


def test_short_password_allowed_in_demo_store(store_with_compounds):
    with db.transaction(store_with_compounds) as cur:
        db.set_setting(cur, "demo", "1")
    auth.add_user(store_with_compounds, "demo", "demo", "leader")
    assert auth.authenticate(store_with_compounds, "demo", "demo") is not None


def test_lockout_after_five_failures_and_unlock(store_with_compounds):
    con = store_with_compounds
    auth.add_user(con, "li", PASSWORD, "leader")
    for i in range(auth.LOCKOUT_AFTER - 1):
        assert auth.authenticate(con, "li", f"wrong {i}", now=T0) is None
    with pytest.raises(AccessDenied) as locked:
        auth.authenticate(con, "li", "wrong again", now=T0)
    unlock_at = (T0 + timedelta(minutes=auth.LOCKOUT_MINUTES)).strftime("%H:%M")
    assert "锁定" in locked.value.zh and unlock_at in locked.value.zh
    # even the right password is refused while locked
    with pytest.raises(AccessDenied):
        auth.authenticate(con, "li", PASSWORD, now=T0 + timedelta(minutes=auth.LOCKOUT_MINUTES - 1))
    after = T0 + timedelta(minutes=auth.LOCKOUT_MINUTES, seconds=1)
    assert auth.authenticate(con, "li", PASSWORD, now=after) == auth.User("li", "leader")
    assert int(db.query_one(con, "SELECT failed_attempts FROM users WHERE username = 'li'")) == 0


def test_success_resets_failure_count(store_with_compounds):
    con = store_with_compounds
    auth.add_user(con, "li", PASSWORD, "leader")
    for _ in range(auth.LOCKOUT_AFTER - 1):
        auth.authenticate(con, "li", "wrong", now=T0)
    assert auth.authenticate(con, "li", PASSWORD, now=T0) is not None
    for _ in range(auth.LOCKOUT_AFTER - 1):  # a fresh run of failures does not lock yet
        assert auth.authenticate(con, "li", "wrong", now=T0) is None


def test_reset_password_clears_lock(store_with_compounds):
    con = store_with_compounds
    auth.add_user(con, "li", PASSWORD, "leader")
    for _ in range(auth.LOCKOUT_AFTER - 1):
        auth.authenticate(con, "li", "wrong", now=T0)
    with pytest.raises(AccessDenied):
        auth.authenticate(con, "li", "wrong", now=T0)
    auth.reset_password(con, "li", "a new password", user="admin")
    assert auth.authenticate(con, "li", "a new password", now=T0) is not None


def test_taskforce_scope(store_with_compounds):
    user = auth.add_user(store_with_compounds, "head", PASSWORD, "taskforce", ["C2"])
    assert user.compound_scope == ("C2",)
    signed_in = auth.authenticate(store_with_compounds, "head", PASSWORD)
    assert signed_in.sees("C2") and not signed_in.sees("C1")
    assert signed_in.scope_list() == ["C2"]
    assert auth.User("boss", "leader").sees("C1")


def test_list_users_never_returns_hashes(store_with_compounds):
    auth.add_user(store_with_compounds, "li", PASSWORD, "leader")
    users = auth.list_users(store_with_compounds)
    assert list(users["username"]) == ["li"]
    assert "password_hash" not in users.columns
    assert not users.astype(str).apply(lambda col: col.str.contains("argon2")).any().any()


def test_set_role_and_delete(store_with_compounds):
    con = store_with_compounds
    auth.add_user(con, "root", PASSWORD, "admin")
    auth.add_user(con, "li", PASSWORD, "leader")
    assert auth.set_role(con, "li", "taskforce", ["C1"]).compound_scope == ("C1",)
    assert auth.get_user(con, "li").role == "taskforce"
    with pytest.raises(ValidationError):  # the last admin stays
        auth.set_role(con, "root", "leader")
    with pytest.raises(ValidationError):
        auth.delete_user(con, "root")
    auth.delete_user(con, "li", user="root")
    assert auth.get_user(con, "li") is None
    with pytest.raises(NotFound):
        auth.delete_user(con, "li")
    details = db.query_df(con, "SELECT action FROM audit_log")["action"].tolist()
    assert "set_role" in details and "delete_user" in details


def test_logins_at_once_all_get_in_and_wrong_ones_lock_exactly_once(store_with_compounds):
    """Twelve sessions log in at the same moment while an upload holds the writer lock: the
    password checks run beside each other and the upload, every right password gets in, and
    eight wrong passwords at once still lock the account once, after the fifth."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    con = store_with_compounds
    auth.add_user(con, "leader1", PASSWORD, "leader")
    auth.add_user(con, "leader2", PASSWORD, "leader")
    holding, release = threading.Event(), threading.Event()

    def upload() -> None:
        with db.transaction(con):
            holding.set()
            release.wait(10)

    def attempt(i: int) -> str:
        name, password = ("leader1", PASSWORD) if i % 3 else ("leader2", "wrong password")
        try:
            return "in" if auth.authenticate(con, name, password, now=T0) else "refused"
        except AccessDenied:
            return "locked"

    writer = threading.Thread(target=upload)
    writer.start()
    assert holding.wait(10)
    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(attempt, i) for i in range(24)]
        release.set()
        outcomes = [f.result() for f in futures]
    writer.join()
    right = [o for i, o in enumerate(outcomes) if i % 3]
    wrong = [o for i, o in enumerate(outcomes) if not i % 3]
    assert right == ["in"] * 16
    assert sorted(wrong) == ["locked"] * 4 + ["refused"] * 4  # the fifth failure locks and says so
    locks = db.query_one(
        con, "SELECT count(*) FROM audit_log WHERE action = 'account_locked' AND \"user\" = 'leader2'"
    )
    assert locks == 1
