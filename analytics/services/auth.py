"""Users, roles, scopes and password checks (no Streamlit: the login page calls these).

- Four roles; what each may open or do is one table, `PERMISSIONS`.
- Passwords are hashed with argon2 (argon2-cffi); the hash never leaves this module.
- Five wrong passwords lock an account for fifteen minutes.
- A task-force head (role `taskforce`) sees only the compounds in their scope.

Every write goes through one `db.transaction` and lands in the audit log with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from analytics.errors import AccessDenied, NotFound, ValidationError
from analytics.store import db

ROLES: tuple[str, ...] = ("leader", "analyst", "taskforce", "admin")
ROLE_LABELS: dict[str, str] = {
    "leader": "区领导",
    "analyst": "分析员",
    "taskforce": "专班组长",
    "admin": "管理员",
}
PAGES: frozenset[str] = frozenset(
    {"overview", "ranking", "taskforces", "effects", "profile", "upload", "admin"}
)
ACTIONS: frozenset[str] = frozenset(
    {"upload", "manage_users", "export", "log_action", "save_snapshot", "edit_registry", "review_matches"}
)
# Which pages each role may open and which actions it may take. Leaders read; analysts keep the
# data; task-force heads read and log work on their own compounds only (their scope); admins do all.
PERMISSIONS: dict[str, frozenset[str]] = {
    "leader": frozenset({"overview", "ranking", "taskforces", "effects", "profile", "export"}),
    "analyst": frozenset(
        {
            "overview",
            "ranking",
            "taskforces",
            "effects",
            "profile",
            "upload",
            "export",
            "save_snapshot",
            "edit_registry",
            "review_matches",
        }
    ),
    "taskforce": frozenset({"taskforces", "effects", "profile", "log_action"}),
    "admin": PAGES | ACTIONS,
}
LOCKOUT_AFTER = 5  # consecutive wrong passwords before the account locks
LOCKOUT_MINUTES = 15
MIN_PASSWORD_LENGTH = 8  # demo stores accept shorter ones
MAX_USERNAME_LENGTH = 64

_hasher = PasswordHasher()
# verified against when the user does not exist, so a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class User:
    """A signed-in user. compound_scope None means all compounds."""

    username: str
    role: str
    compound_scope: tuple[str, ...] | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def sees(self, compound_id: str) -> bool:
        return self.compound_scope is None or compound_id in self.compound_scope

    def scope_list(self) -> list[str] | None:
        """The scope as the list `registry.search_compounds(scope=...)` and friends take."""
        return None if self.compound_scope is None else list(self.compound_scope)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    """True when `password` matches `password_hash` (argon2's argument order)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def can(user: User | None, action_or_page: str) -> bool:
    """May `user` open this page / take this action? Unknown names are a programming error."""
    if action_or_page not in PAGES and action_or_page not in ACTIONS:
        raise ValueError(f"unknown page or action: {action_or_page!r}")
    if user is None:
        return False
    return action_or_page in PERMISSIONS.get(user.role, frozenset())


def _scope_from_text(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(part for part in text.split(",") if part)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(
            f"未知角色“{role}”，可选：{'、'.join(ROLES)}。",
            f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.",
        )


def _check_password(con: duckdb.DuckDBPyConnection, password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH and not db.is_demo(con):
        raise ValidationError(
            f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
        )


def _check_scope(cur: duckdb.DuckDBPyConnection, role: str, compounds: Iterable[str] | None) -> str | None:
    """Validated comma-separated scope for the users table (None = all compounds)."""
    ids = sorted({str(c).strip() for c in compounds or [] if str(c).strip()})
    if role != "taskforce":
        if ids:
            raise ValidationError(
                "只有专班组长（taskforce）角色按小区限定范围；其他角色可查看全部小区。",
                "Only the taskforce role is limited to compounds; other roles see all of them.",
            )
        return None
    if not ids:
        raise ValidationError(
            "专班组长必须指定负责的小区编号。",
            "A taskforce user needs the compound ids they are responsible for.",
        )
    found = {
        row[0]
        for row in cur.execute(
            "SELECT compound_id FROM compounds WHERE compound_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
        ).fetchall()
    }
    missing = [c for c in ids if c not in found]
    if missing:
        raise ValidationError(
            f"小区编号不存在：{'、'.join(missing[:10])}。请先导入小区名录。",
            f"Unknown compound ids: {', '.join(missing[:10])}. Import the compound registry first.",
        )
    return ",".join(ids)


def _require_user(cur: duckdb.DuckDBPyConnection, username: str) -> tuple:
    row = cur.execute(
        "SELECT username, password_hash, role, compound_scope, failed_attempts, locked_until "
        "FROM users WHERE username = ?",
        [username],
    ).fetchone()
    if row is None:
        raise NotFound(f"用户“{username}”不存在。", f"User {username!r} does not exist.")
    return row


def _admin_count(cur: duckdb.DuckDBPyConnection) -> int:
    return int(cur.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchone()[0])


def insert_user(
    cur: duckdb.DuckDBPyConnection,
    username: str,
    password_hash: str,
    role: str,
    scope: str | None,
    actor: str | None,
) -> None:
    """Insert an already validated user inside the caller's transaction (used by the demo too)."""
    cur.execute(
        "INSERT INTO users (username, password_hash, role, compound_scope, failed_attempts, created_at) "
        "VALUES (?, ?, ?, ?, 0, now())",
        [username, password_hash, role, scope],
    )
    db.audit(cur, actor, "add_user", {"username": username, "role": role, "compound_scope": scope})


def add_user(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    role: str,
    compounds: list[str] | None = None,
    user: str | None = None,
) -> User:
    """Create a user. A taskforce user needs `compounds` (existing ids); others see everything."""
    username = (username or "").strip()
    if not username or len(username) > MAX_USERNAME_LENGTH or any(ch.isspace() for ch in username):
        raise ValidationError(
            f"用户名不能为空、不能含空格，且不超过 {MAX_USERNAME_LENGTH} 个字符。",
            f"The user name must be non-empty, without spaces, at most {MAX_USERNAME_LENGTH} characters.",
        )
    _check_role(role)
    _check_password(con, password)
    password_hash = hash_password(password)
    with db.transaction(con) as cur:
        if cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise ValidationError(
                f"用户名“{username}”已存在，请换一个。",
                f"User {username!r} already exists; pick another name.",
            )
        scope = _check_scope(cur, role, compounds)
        insert_user(cur, username, password_hash, role, scope, user)
    return User(username, role, _scope_from_text(scope))


def get_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    row = (
        db.cursor(con)
        .execute("SELECT username, role, compound_scope FROM users WHERE username = ?", [username])
        .fetchone()
    )
    return None if row is None else User(row[0], row[1], _scope_from_text(row[2]))


def _unlock_text(locked_until: datetime) -> str:
    return locked_until.strftime("%Y-%m-%d %H:%M")


def _account(cur: duckdb.DuckDBPyConnection, username: str) -> tuple[Any, ...] | None:
    """password_hash, role, compound_scope, failed_attempts, locked_until of one account."""
    return cur.execute(
        "SELECT password_hash, role, compound_scope, failed_attempts, locked_until FROM users WHERE username = ?",
        [username],
    ).fetchone()


def _locked_message(username: str, locked_until: datetime) -> tuple[str, str]:
    return (
        f"账号“{username}”因连续 {LOCKOUT_AFTER} 次密码错误已被锁定，"
        f"将于 {_unlock_text(locked_until)} 解锁；如需提前解锁请联系管理员重置密码。",
        f"Account {username!r} is locked after {LOCKOUT_AFTER} wrong passwords until "
        f"{_unlock_text(locked_until)}; ask an administrator to reset the password to unlock it sooner.",
    )


def authenticate(
    con: duckdb.DuckDBPyConnection, username: str, password: str, now: datetime | None = None
) -> User | None:
    """The user when the password is right, else None.

    Raises AccessDenied while the account is locked, and on the wrong password that locks it
    (the message says when it unlocks). `now` is for tests; it defaults to the local time.
    """
    now = now or datetime.now()
    username = (username or "").strip()
    # the password hash is checked outside the writer lock (argon2 is deliberately slow: twenty
    # leaders logging in at once must not queue behind each other, or behind an upload)
    row = _account(con.cursor(), username)
    if row is None:
        verify(_DUMMY_HASH, password or "")  # as long as a real check: no user enumeration by timing
        with db.transaction(con) as cur:
            db.audit(cur, username or None, "login_failed", {"reason": "unknown user"})
        return None
    password_hash, role, scope, _failed, locked_until = row
    if locked_until is not None and locked_until > now:
        raise AccessDenied(*_locked_message(username, locked_until))
    ok = verify(password_hash, password or "")
    new_hash = hash_password(password) if ok and _hasher.check_needs_rehash(password_hash) else password_hash
    with db.transaction(con) as cur:
        # the account may have changed while the hash was checked: decide on what it is now
        row = _account(cur, username)
        if row is None:
            return None
        current_hash, role, scope, failed, locked_until = row
        if locked_until is not None and locked_until > now:
            raise AccessDenied(*_locked_message(username, locked_until))
        if ok and current_hash == password_hash:
            cur.execute(
                "UPDATE users SET failed_attempts = 0, locked_until = NULL, password_hash = ? WHERE username = ?",
                [new_hash, username],
            )
            db.audit(cur, username, "login", None)
            return User(username, role, _scope_from_text(scope))
        failed = int(failed or 0) + 1
        if failed >= LOCKOUT_AFTER:
            until = now + timedelta(minutes=LOCKOUT_MINUTES)
            cur.execute(
                "UPDATE users SET failed_attempts = 0, locked_until = ? WHERE username = ?",
                [until, username],
            )
            db.audit(cur, username, "account_locked", {"until": until.isoformat(timespec="minutes")})
            locked_message = (
                f"密码连续错误 {LOCKOUT_AFTER} 次，账号“{username}”已锁定 {LOCKOUT_MINUTES} 分钟，"
                f"将于 {_unlock_text(until)} 解锁。",
                f"{LOCKOUT_AFTER} wrong passwords in a row: account {username!r} is locked for "
                f"{LOCKOUT_MINUTES} minutes, until {_unlock_text(until)}.",
            )
        else:
            cur.execute(
                "UPDATE users SET failed_attempts = ?, locked_until = NULL WHERE username = ?",
                [failed, username],
            )
            db.audit(cur, username, "login_failed", {"failed_attempts": failed})
            locked_message = None
    # raised after the transaction committed, so the lock is stored
    if locked_message is not None:
        raise AccessDenied(*locked_message)
    return None


def list_users(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Users for the admin page. Password hashes never leave this module."""
    return db.query_df(
        con,
        "SELECT username, role, compound_scope, failed_attempts, locked_until, created_at "
        "FROM users ORDER BY username",
    )


def set_role(
    con: duckdb.DuckDBPyConnection,
    username: str,
    role: str,
    compounds: list[str] | None = None,
    user: str | None = None,
) -> User:
    """Change a user's role (and scope: required for taskforce, cleared otherwise)."""
    _check_role(role)
    with db.transaction(con) as cur:
        row = _require_user(cur, username)
        if row[2] == "admin" and role != "admin" and _admin_count(cur) <= 1:
            raise ValidationError(
                "不能取消最后一位管理员的管理员角色。", "Cannot demote the last administrator."
            )
        scope = _check_scope(cur, role, compounds)
        cur.execute(
            "UPDATE users SET role = ?, compound_scope = ? WHERE username = ?", [role, scope, username]
        )
        db.audit(
            cur,
            user,
            "set_role",
            {"username": username, "old": row[2], "role": role, "compound_scope": scope},
        )
    return User(username, role, _scope_from_text(scope))


def delete_user(con: duckdb.DuckDBPyConnection, username: str, user: str | None = None) -> None:
    with db.transaction(con) as cur:
        row = _require_user(cur, username)
        if row[2] == "admin" and _admin_count(cur) <= 1:
            raise ValidationError("不能删除最后一位管理员。", "Cannot delete the last administrator.")
        cur.execute("DELETE FROM users WHERE username = ?", [username])
        db.audit(cur, user, "delete_user", {"username": username, "role": row[2]})


def reset_password(
    con: duckdb.DuckDBPyConnection, username: str, new_password: str, user: str | None = None
) -> None:
    """Set a new password; also clears a lock-out."""
    _check_password(con, new_password)
    password_hash = hash_password(new_password)
    with db.transaction(con) as cur:
        _require_user(cur, username)
        cur.execute(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL WHERE username = ?",
            [password_hash, username],
        )
        db.audit(cur, user, "reset_password", {"username": username})
