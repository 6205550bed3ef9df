"""Users, roles, scopes, lock-out; look-alike names; what refused logins leave in the audit log."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from analytics.errors import NotFound, ValidationError
from analytics.services import auth, login_limits
from analytics.store import callerkey, db
from tests.fixtures import ROOT

pytestmark = pytest.mark.backends

PASSWORD = "correct horse"
T0 = datetime(2024, 5, 1, 9, 0)
HEX16 = re.compile(r"[0-9a-f]{16}")


def audit_rows(con, action: str | None = None) -> list[tuple]:
    """(user, action, detail as a dict) of every audit entry, oldest first."""
    rows = db.query_df(con, 'SELECT "user", action, detail FROM audit_log ORDER BY logged_at, rowid')
    if action is not None:
        rows = rows[rows["action"] == action]
    return [(u, a, json.loads(d) if d else None) for u, a, d in rows.itertuples(index=False)]


def audit_text(con) -> str:
    """Every column of every audit entry, as one text."""
    return db.query_df(con, "SELECT * FROM audit_log").astype(str).to_csv()


def is_locked(con, username: str, now: datetime) -> bool:
    until = db.query_one(con, "SELECT locked_until FROM users WHERE username = ?", [username])
    return until is not None and until > now


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
    for i in range(auth.LOCKOUT_AFTER):
        assert auth.authenticate(con, "li", f"wrong {i}", now=T0) is None
    assert is_locked(con, "li", T0)
    until = (T0 + timedelta(minutes=auth.LOCKOUT_MINUTES)).isoformat(timespec="minutes")
    assert audit_rows(con, "account_locked") == [("li", "account_locked", {"until": until})]
    # even the right password is refused while locked, and the audit log says why
    assert (
        auth.authenticate(con, "li", PASSWORD, now=T0 + timedelta(minutes=auth.LOCKOUT_MINUTES - 1)) is None
    )
    assert audit_rows(con, "login_failed")[-1] == ("li", "login_failed", {"reason": "locked"})
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
    for _ in range(auth.LOCKOUT_AFTER):
        auth.authenticate(con, "li", "wrong", now=T0)
    assert is_locked(con, "li", T0)
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
    eight wrong passwords at once still lock the account once, after the fifth (the three after
    it are refused as locked, which only the audit log tells)."""
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
        return "in" if auth.authenticate(con, name, password, now=T0) else "refused"

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
    assert wrong == ["refused"] * 8
    reasons = [d.get("reason") for u, _, d in audit_rows(con, "login_failed") if u == "leader2"]
    assert sorted(reasons) == ["locked"] * 3 + ["wrong password"] * 4
    assert len(audit_rows(con, "account_locked")) == 1


# --- what a refused login leaves behind -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "x" * 10_240,  # 10 KB
        "密" * 40_000,  # 120 KB of UTF-8: once a DuckDB key-size error
        "a" * (auth.MAX_TYPED_NAME_LENGTH + 1),
    ],
)
def test_overlong_name_gets_the_common_answer_and_leaves_only_its_length(store, name):
    auth.add_user(store, "li", PASSWORD, "leader")
    before = audit_rows(store)
    assert auth.authenticate(store, name, PASSWORD) is None
    new = audit_rows(store)[len(before) :]
    assert new == [(None, "login_failed", {"reason": "too long", "name_len": len(name)})]
    assert name[:20] not in audit_text(store)


@pytest.mark.parametrize(
    "typed",
    [
        PASSWORD,  # the password in the name field, the name forgotten
        "Tr0ub4dor&3",
        "ＬＩ的密码2024",
    ],
)
def test_password_typed_as_user_name_is_never_stored(store, typed):
    auth.add_user(store, "li", PASSWORD, "leader")
    assert auth.authenticate(store, typed, "li") is None
    text = audit_text(store)
    assert typed not in text and auth.normalize_username(typed) not in text
    (entry,) = audit_rows(store, "login_failed")
    user, _, detail = entry
    assert user is None
    assert detail == {"reason": "unknown user", "name_len": len(typed), "name_digest": detail["name_digest"]}
    assert HEX16.fullmatch(detail["name_digest"])
    # an administrator holding the deployment key can check a suspected name against it
    expected = callerkey.keyed_digest(store, auth.normalize_username(typed))[: auth.NAME_DIGEST_CHARS]
    assert detail["name_digest"] == expected


@pytest.mark.slow
def test_unknown_name_flood_writes_at_most_the_cap(store):
    """45 refused logins with names nobody has, four at a time, within a minute: no more than
    REFUSED_LOGIN_AUDITS_PER_MINUTE entries; the first refusal of the next minute reports the
    rest in one entry."""
    attempts = login_limits.REFUSED_LOGIN_AUDITS_PER_MINUTE + 15
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda i: auth.authenticate(store, f"nobody{i}", "x", now=T0), range(attempts))
        )
    assert answers == [None] * attempts
    cap = login_limits.REFUSED_LOGIN_AUDITS_PER_MINUTE
    assert len(audit_rows(store)) == cap
    auth.authenticate(store, "nobody-later", "x", now=T0 + timedelta(seconds=61))
    assert audit_rows(store, "login_failed_unlogged") == [
        (None, "login_failed_unlogged", {"count": attempts - cap})
    ]
    assert len(audit_rows(store)) == cap + 2


@pytest.mark.parametrize(
    ("times", "written", "reported"),
    [
        ([0, 1, 2], [True, True, True], [0, 0, 0]),  # under the cap: every one
        ([0, 1, 2, 3, 4], [True, True, True, False, False], [0, 0, 0, 0, 0]),  # past it: counted
        ([0, 1, 2, 3, 4, 61], [True, True, True, False, False, True], [0, 0, 0, 0, 0, 2]),  # next minute
        ([0, 1, 2, 3, 61, 62], [True, True, True, False, True, True], [0, 0, 0, 0, 1, 0]),  # reported once
        ([100, 101, 102, 103, 5], [True, True, True, False, True], [0, 0, 0, 0, 1]),  # clock set back
    ],
)
def test_audit_budget(times, written, reported):
    budget = login_limits.AuditBudget(limit=3, window_s=60)
    answers = [budget.take(at) for at in times]
    assert [w for w, _ in answers] == written
    assert [r for _, r in answers] == reported


@pytest.mark.parametrize(
    ("case", "name", "password", "prepare"),
    [
        ("unknown name", "nobody", PASSWORD, None),
        ("wrong password", "li", "wrong password", None),
        ("locked account, right password", "li", PASSWORD, "lock"),
        ("over-long name", "li" * 5000, PASSWORD, None),
        ("over-long password", "li", "p" * (auth.MAX_PASSWORD_LENGTH + 1), None),
    ],
)
def test_every_refusal_answers_alike_and_the_audit_log_tells_which(store, case, name, password, prepare):
    auth.add_user(store, "li", PASSWORD, "leader")
    if prepare == "lock":
        for _ in range(auth.LOCKOUT_AFTER):
            auth.authenticate(store, "li", "wrong", now=T0)
    assert auth.authenticate(store, name, password, now=T0) is None
    reason = audit_rows(store, "login_failed")[-1][2]["reason"]
    expected = {
        "unknown name": "unknown user",
        "wrong password": "wrong password",
        "locked account, right password": "locked",
        "over-long name": "too long",
        "over-long password": "too long",
    }[case]
    assert reason == expected


# --- look-alike names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("admin", "admin"),
        ("Admin", "admin"),
        ("ＡＤＭＩＮ", "admin"),  # full-width
        ("ad\u200bmin", "admin"),  # zero-width space
        ("\ufeffadmin\u200d", "admin"),  # byte-order mark, zero-width joiner
        ("  admin\u3000", "admin"),  # ideographic space around it
        ("ＬＩ\u00ad明", "li明"),  # soft hyphen
        ("Straße", "strasse"),  # full case folding
    ],
)
def test_normalize_username(typed, normal):
    assert auth.normalize_username(typed) == normal


@pytest.mark.parametrize("look_alike", ["Admin", "ＡＤＭＩＮ", "ad\u200bmin", "ADMIN\u2060", " admin "])
def test_look_alike_cannot_be_created_beside_admin_and_logs_in_as_it(store, look_alike):
    auth.add_user(store, "admin", PASSWORD, "admin")
    with pytest.raises(ValidationError) as refused:
        auth.add_user(store, look_alike, "another password", "leader")
    assert "admin" in refused.value.zh and "admin" in refused.value.en
    assert list(auth.list_users(store)["username"]) == ["admin"]
    assert auth.authenticate(store, look_alike, PASSWORD) == auth.User("admin", "admin")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Wang", "wang"),
        ("ＷＡＮＧ", "wang"),
        ("wa\u200bng", "wang"),
        ("wang", "wang"),
    ],
)
def test_names_are_stored_normalised_and_every_admin_action_finds_them(store_with_compounds, typed, stored):
    con = store_with_compounds
    auth.add_user(con, "root", PASSWORD, "admin")
    assert auth.add_user(con, typed, PASSWORD, "leader").username == stored
    assert auth.set_role(con, typed, "taskforce", ["C1"]).username == stored
    auth.reset_password(con, typed, "a new password")
    assert auth.authenticate(con, stored, "a new password") == auth.User(stored, "taskforce", ("C1",))
    auth.delete_user(con, typed)
    assert list(auth.list_users(con)["username"]) == ["root"]


def test_old_store_with_names_differing_only_in_case(store):
    """Before normalisation a store could hold 'Li' and 'li': each still logs in by its exact
    spelling; a third spelling matching both logs in as neither, and an administrator must
    name one exactly."""
    with db.transaction(store) as cur:  # as an older version stored them
        auth.insert_user(cur, "Li", auth.hash_password("password of Li"), "leader", None, None)
        auth.insert_user(cur, "li", auth.hash_password("password of li"), "analyst", None, None)
    assert auth.authenticate(store, "Li", "password of Li") == auth.User("Li", "leader")
    assert auth.authenticate(store, "li", "password of li") == auth.User("li", "analyst")
    assert auth.authenticate(store, "Li", "password of li") is None
    assert auth.authenticate(store, "LI", "password of Li") is None  # ambiguous: neither
    assert auth.authenticate(store, "LI", "password of li") is None
    with pytest.raises(ValidationError, match="Li"):
        auth.set_role(store, "LI", "admin")
    assert auth.set_role(store, "Li", "admin") == auth.User("Li", "admin")
    with pytest.raises(ValidationError):
        auth.add_user(store, "ＬＩ", PASSWORD, "leader")


def test_cli_refuses_a_look_alike_with_exit_2(store_path):
    def add(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "analytics",
                "--db",
                str(store_path),
                "users",
                "add",
                name,
                "--role",
                "admin",
            ],
            cwd=ROOT,
            input="a-long-passphrase\n",
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert add("admin").returncode == 0
    refused = add("ＡＤＭＩＮ")
    assert refused.returncode == 2
    assert "admin" in refused.stderr and "Traceback" not in refused.stderr
    con = db.connect(store_path)
    try:
        assert list(auth.list_users(con)["username"]) == ["admin"]
    finally:
        con.close()


# --- the per-address delay --------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("refusals", "wait"),
    [
        (0, 0.0),
        (4, 0.0),  # people mistype: the first five cost nothing
        (5, 1.0),
        (6, 2.0),
        (7, 4.0),
        (9, 16.0),
        (20, 60.0),  # at most a minute
    ],
)
def test_throttle_wait_grows_with_refusals(refusals, wait):
    throttle = login_limits.LoginThrottle(clock=Clock())
    for _ in range(refusals):
        throttle.refused("203.0.113.7")
    assert throttle.wait("203.0.113.7") == wait


@pytest.mark.parametrize(
    ("other", "waits"),
    [
        ("203.0.113.8", False),  # the neighbour's address
        ("2001:db8:0:1::1", False),  # another IPv6 subscriber
        ("2001:db8::2", True),  # same /64: the same subscriber
        (None, False),  # a local connection
    ],
)
def test_throttle_is_per_address(other, waits):
    throttle = login_limits.LoginThrottle(clock=Clock())
    for _ in range(8):
        throttle.refused("2001:db8::1")
        throttle.refused("203.0.113.7")
    assert throttle.wait("203.0.113.7") == 8.0
    assert (throttle.wait(other) > 0) is waits


def test_throttle_counts_down_and_forgets():
    clock = Clock()
    throttle = login_limits.LoginThrottle(clock=clock)
    for _ in range(7):
        throttle.refused("203.0.113.7")
    assert throttle.wait("203.0.113.7") == 4.0
    clock.now += 3
    assert throttle.wait("203.0.113.7") == 1.0
    clock.now += 1
    assert throttle.wait("203.0.113.7") == 0.0
    throttle.refused("203.0.113.7")  # the eighth: waits longer again
    assert throttle.wait("203.0.113.7") == 8.0
    clock.now += auth.LOCKOUT_MINUTES * 60
    assert throttle.refusals("203.0.113.7") == 0  # quiet long enough: forgotten


def test_throttle_remembers_a_bounded_number_of_addresses():
    clock = Clock()
    throttle = login_limits.LoginThrottle(clock=clock, max_addresses=100)
    for i in range(1000):
        clock.now += 0.001
        throttle.refused(f"10.0.{i // 256}.{i % 256}")
    assert len(throttle._seen) == 100  # noqa: SLF001 - the memory bound itself
    assert throttle.refusals("10.0.3.231") == 1  # the newest are kept
