"""Users, roles, scopes and password checks (no Streamlit: the login page calls these).

- Four roles; what each may open or do is one table, `PERMISSIONS`, read only through `can`
  (the menu, each page's own check and every download ask it).
- Passwords are hashed with argon2 (argon2-cffi); the hash never leaves this module.
- Five wrong passwords lock an account for fifteen minutes.
- A task-force head (role `taskforce`) sees only the compounds in their scope.
- User names are compared in one normal form (`normalize_username`), so look-alike names
  ("Admin", full-width "ＡＤＭＩＮ", "ad<zero-width space>min") are the same account, not new ones.
- A refused login answers the same for an unknown name, a wrong password, a locked account and
  a name too long to be real: the answer tells nobody which accounts exist or are locked. The
  audit log says which it was, without ever storing what was typed as a name that matches no
  account (it may be a password typed into the wrong field): only its length and a keyed digest.
- Audit entries a stranger can cause are capped per minute (`AuditBudget`), so a flood of
  refused logins cannot grow the store; `LoginThrottle` slows a client address that keeps failing.

Every write goes through one `db.transaction` and lands in the audit log with it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import unicodedata
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from analytics.config import LOCKOUT_AFTER, LOCKOUT_MINUTES
from analytics.errors import AccessDenied, HotlineError, NotFound, ValidationError
from analytics.services.login_limits import AuditBudget
from analytics.store import db
from analytics.store.callerkey import keyed_digest

ROLES: tuple[str, ...] = ("leader", "analyst", "taskforce", "admin")
PAGES: frozenset[str] = frozenset(
    {"overview", "ranking", "taskforces", "effects", "profile", "upload", "admin", "glossary", "account"}
)
# pages every signed-in user may open: the glossary, and their own account (own password)
COMMON_PAGES: frozenset[str] = frozenset({"glossary", "account"})
ACTIONS: frozenset[str] = frozenset(
    {"upload", "manage_users", "export", "log_action", "save_snapshot", "edit_registry", "review_matches"}
)
# Which pages each role may open and which actions it may take. Leaders read; analysts keep the
# data; task-force heads read and log work on their own compounds only (their scope); admins do all.
# A task-force head keeps "effects": that page shows a scoped user only their own compounds,
# never district totals. A head has no "export": no download is ever drawn for them.
PERMISSIONS: dict[str, frozenset[str]] = {
    "leader": COMMON_PAGES | {"overview", "ranking", "taskforces", "effects", "profile", "export"},
    "analyst": COMMON_PAGES
    | frozenset(
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
    "taskforce": COMMON_PAGES | {"taskforces", "effects", "profile", "log_action"},
    "admin": PAGES | ACTIONS,
}
MIN_PASSWORD_LENGTH = 8  # demo stores accept shorter ones
MAX_PASSWORD_LENGTH = 1024  # longer is no password anyone types: refused before hashing
MAX_USERNAME_LENGTH = 64  # after normalisation
# what a login form may send as a name before it is even normalised; anything longer is refused
# without looking at the store (a 120 KB "name" must cost nothing and leave nothing behind)
MAX_TYPED_NAME_LENGTH = 4 * MAX_USERNAME_LENGTH
NAME_DIGEST_CHARS = 16  # hex characters of the keyed digest kept for a name that matches no one
# audit entries per minute, per process and store, that refused logins may write before the
# rest are only counted (see AuditBudget)

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# verified against when the user does not exist, so a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class User:
    """A signed-in user. compound_scope None means all compounds."""

    username: str
    role: str
    compound_scope: tuple[str, ...] | None = None

    def sees(self, compound_id: str) -> bool:
        return self.compound_scope is None or compound_id in self.compound_scope

    def scope_list(self) -> list[str] | None:
        """The scope as the list `registry.queries.search_compounds(scope=...)` and friends take."""
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


def roles_for(action_or_page: str) -> tuple[str, ...]:
    """The roles that may open this page / take this action, in the order of ROLES."""
    return tuple(role for role in ROLES if can(User("", role), action_or_page))


def widens(old: User, new: User) -> bool:
    """True when `new` may open or do something `old` may not, or see a compound `old` may not
    (a scope dropped or grown): a change an administrator confirms before it is written."""
    if not PERMISSIONS.get(new.role, frozenset()) <= PERMISSIONS.get(old.role, frozenset()):
        return True
    if old.compound_scope is None:
        return False
    return new.compound_scope is None or not set(new.compound_scope) <= set(old.compound_scope)


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
    if len(password or "") > MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符。",
            f"The password may have at most {MAX_PASSWORD_LENGTH} characters.",
        )


# --- user names ------------------------------------------------------------------------------


def _drop_format_chars(text: str) -> str:
    # zero-width spaces and joiners, soft hyphens, direction marks: invisible, so never part of a name
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def normalize_username(name: str | None) -> str:
    """The one form in which user names are stored and compared: NFKC (full-width letters and
    digits become ASCII, the ideographic space a space), case-folded, without zero-width and
    other invisible format characters, surrounding spaces trimmed. "Admin", "ＡＤＭＩＮ" and
    "ad\u200bmin" all become "admin"."""
    text = unicodedata.normalize("NFKC", _drop_format_chars(str(name or "")))
    # case folding can leave text that is no longer in NFKC (e.g. "ß" -> "ss" is fine, but some
    # folds compose differently): normalise once more so the form is stable
    text = unicodedata.normalize("NFKC", text.casefold())
    return _drop_format_chars(text).strip()


def _name_ok(name: str) -> bool:
    """A normalised name fit for an account: 1..MAX_USERNAME_LENGTH characters, no spaces,
    separators or control characters anywhere."""
    return 0 < len(name) <= MAX_USERNAME_LENGTH and not any(
        ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in name
    )


def _check_name(name: str) -> None:
    if not _name_ok(name):
        raise ValidationError(
            f"用户名不能为空、不能含空格或控制字符，且不超过 {MAX_USERNAME_LENGTH} 个字符。",
            f"The user name must be non-empty, without spaces or control characters, at most "
            f"{MAX_USERNAME_LENGTH} characters.",
        )


def _matching_names(cur: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """Stored names equal to `name` after normalisation (a store from before names were
    normalised may hold several, e.g. 'Li' and 'li')."""
    key = normalize_username(name)
    if not key:
        return []
    # a users table holds hundreds of rows at most: compare in Python, where normalisation lives
    rows = cur.execute("SELECT username FROM users ORDER BY username").fetchall()
    return [row[0] for row in rows if normalize_username(row[0]) == key]


def _resolve(cur: duckdb.DuckDBPyConnection, name: str) -> tuple[str | None, list[str]]:
    """(the stored name `name` refers to or None, every stored name it could mean).

    An exact match wins, so each of two old accounts that differ only in case stays reachable
    by its exact spelling; otherwise the name must match exactly one account after
    normalisation. Two or more candidates without an exact match refer to none of them."""
    name = (name or "").strip()
    if name and cur.execute("SELECT 1 FROM users WHERE username = ?", [name]).fetchone():
        return name, [name]
    candidates = _matching_names(cur, name)
    return (candidates[0] if len(candidates) == 1 else None), candidates


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
    """The account row (username as stored first) the administrator's `username` refers to."""
    stored, candidates = _resolve(cur, username)
    if stored is None and len(candidates) > 1:
        raise ValidationError(
            f"有多个账号与“{username}”仅大小写、全半角或不可见字符不同：{'、'.join(candidates)}。"
            "请输入其中一个的准确写法。",
            f"Several accounts differ from {username!r} only in case, width or invisible "
            f"characters: {', '.join(candidates)}. Type the exact spelling of one of them.",
        )
    row = None
    if stored is not None:
        row = cur.execute(
            "SELECT username, password_hash, role, compound_scope, failed_attempts, locked_until "
            "FROM users WHERE username = ?",
            [stored],
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
    """Create a user (the name stored in normal form, see `normalize_username`). A taskforce
    user needs `compounds` (existing ids); others see everything. A name that normalises to an
    existing account's is refused: it would be a look-alike of that account."""
    typed = (username or "").strip()
    username = normalize_username(typed)
    _check_name(username)
    _check_role(role)
    _check_password(con, password)
    password_hash = hash_password(password)
    with db.transaction(con) as cur:
        clash = _matching_names(cur, username)
        if clash:
            if clash == [typed] or clash == [username]:
                raise ValidationError(
                    f"用户名“{username}”已存在，请换一个。",
                    f"User {username!r} already exists; pick another name.",
                )
            raise ValidationError(
                f"用户名“{typed}”与已有账号“{'、'.join(clash)}”只差大小写、全半角或不可见字符，"
                "会被当成同一个人，请换一个。",
                f"The user name {typed!r} differs from the existing account "
                f"{', '.join(repr(c) for c in clash)} only in case, width or invisible characters "
                "and would pass for it; pick another name.",
            )
        scope = _check_scope(cur, role, compounds)
        insert_user(cur, username, password_hash, role, scope, user)
    return User(username, role, _scope_from_text(scope))


def get_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    """The account stored under exactly this name (a signed-in session re-reads itself with it)."""
    row = (
        db.cursor(con)
        .execute("SELECT username, role, compound_scope FROM users WHERE username = ?", [username])
        .fetchone()
    )
    return None if row is None else User(row[0], row[1], _scope_from_text(row[2]))


def find_user(con: duckdb.DuckDBPyConnection, name: str) -> User | None:
    """The account a typed or provider-given name refers to (exact spelling first, then the one
    account equal to it after normalisation), or None."""
    if len(name or "") > MAX_TYPED_NAME_LENGTH:
        return None
    stored, _ = _resolve(db.cursor(con), name)
    return None if stored is None else get_user(con, stored)


# --- refused logins: what the audit log keeps, and how much of it ---------------------------


# one budget per store connection (a process serves one store through one connection)
_budgets: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, AuditBudget] = weakref.WeakKeyDictionary()
_budgets_lock = threading.Lock()


def audit_budget(con: duckdb.DuckDBPyConnection) -> AuditBudget:
    with _budgets_lock:
        budget = _budgets.get(con)
        if budget is None:
            budget = _budgets[con] = AuditBudget()
        return budget


def _name_trace(con: duckdb.DuckDBPyConnection, typed: str) -> dict[str, Any]:
    """What the audit log keeps of a name that matches no account: its length and a short keyed
    digest of its normal form (an administrator can check a suspected name against it; a copy
    of the store without the deployment key cannot). Never the text: it may be a password."""
    trace: dict[str, Any] = {"name_len": len(typed)}
    if len(typed) <= MAX_TYPED_NAME_LENGTH:
        try:
            trace["name_digest"] = keyed_digest(con, normalize_username(typed))[:NAME_DIGEST_CHARS]
        except HotlineError:  # the key is unusable: the refusal must still look like any other
            log.warning("no keyed digest for a refused login name", exc_info=True)
    return trace


def _audit_refusal(
    con: duckdb.DuckDBPyConnection,
    cur: duckdb.DuckDBPyConnection | None,
    username: str | None,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    """A refused login, within the budget: written in `cur`'s transaction, or in a new one."""
    write, dropped = audit_budget(con).take(now.timestamp())
    if not write and not dropped:
        return

    def entries(c: duckdb.DuckDBPyConnection) -> None:
        if dropped:
            db.audit(c, None, "login_failed_unlogged", {"count": dropped})
        if write:
            db.audit(c, username, "login_failed", detail)

    if cur is not None:
        entries(cur)
    else:
        with db.transaction(con) as new:
            entries(new)


def _account(cur: duckdb.DuckDBPyConnection, username: str) -> tuple[Any, ...] | None:
    """password_hash, role, compound_scope, failed_attempts, locked_until of one account."""
    return cur.execute(
        "SELECT password_hash, role, compound_scope, failed_attempts, locked_until FROM users WHERE username = ?",
        [username],
    ).fetchone()


def authenticate(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    now: datetime | None = None,
    client: str | None = None,
) -> User | None:
    """The user when the name and password are right, else None.

    None alike for an unknown name, a wrong password, a locked account (five wrong passwords in
    a row lock it for LOCKOUT_MINUTES, even against the right one) and a name or password too
    long to be real, and each takes about as long, so neither the answer nor its timing tells
    which accounts exist or are locked. The audit log records which it was (and `client`, the
    address, when given). `now` is for tests; it defaults to the local time."""
    now = now or datetime.now()
    typed = username or ""
    password = password or ""
    where = {"client": client} if client else {}
    if len(typed) > MAX_TYPED_NAME_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        # nothing is looked up and nothing of the text kept: only how long it was
        _audit_refusal(con, None, None, {"reason": "too long", "name_len": len(typed), **where}, now)
        return None
    # the password hash is checked outside the writer lock (argon2 is deliberately slow: twenty
    # leaders logging in at once must not queue behind each other, or behind an upload)
    reader = con.cursor()
    stored, _ = _resolve(reader, typed) if _name_ok(normalize_username(typed)) else (None, [])
    row = _account(reader, stored) if stored is not None else None
    if row is None:
        verify(_DUMMY_HASH, password)  # as long as a real check: no user enumeration by timing
        _audit_refusal(con, None, None, {"reason": "unknown user", **_name_trace(con, typed), **where}, now)
        return None
    password_hash, role, scope, _failed, locked_until = row
    if locked_until is not None and locked_until > now:
        verify(_DUMMY_HASH, password)  # a locked account answers as slowly as any other
        _audit_refusal(con, None, stored, {"reason": "locked", **where}, now)
        return None
    ok = verify(password_hash, password)
    new_hash = hash_password(password) if ok and _hasher.check_needs_rehash(password_hash) else password_hash
    with db.transaction(con) as cur:
        # the account may have changed while the hash was checked: decide on what it is now
        row = _account(cur, stored)
        if row is None:
            _audit_refusal(
                con, cur, None, {"reason": "unknown user", **_name_trace(con, typed), **where}, now
            )
            return None
        current_hash, role, scope, failed, locked_until = row
        if locked_until is not None and locked_until > now:
            _audit_refusal(con, cur, stored, {"reason": "locked", **where}, now)
            return None
        if ok and current_hash == password_hash:
            cur.execute(
                "UPDATE users SET failed_attempts = 0, locked_until = NULL, password_hash = ? WHERE username = ?",
                [new_hash, stored],
            )
            db.audit(cur, stored, "login", where or None)
            return User(stored, role, _scope_from_text(scope))
        _wrong_password(cur, stored, failed, now, {"reason": "wrong password", **where})
    return None


def _wrong_password(
    cur: duckdb.DuckDBPyConnection, stored: str, failed: int | None, now: datetime, detail: dict[str, Any]
) -> bool:
    """Count a wrong password for a real account inside the caller's transaction; True when it
    locks the account now. At most LOCKOUT_AFTER per lock period, so these entries are always
    written (the audit budget is for what a stranger can repeat forever)."""
    failed = int(failed or 0) + 1
    if failed >= LOCKOUT_AFTER:
        until = now + timedelta(minutes=LOCKOUT_MINUTES)
        cur.execute(
            "UPDATE users SET failed_attempts = 0, locked_until = ? WHERE username = ?", [until, stored]
        )
        where = {k: v for k, v in detail.items() if k == "client"}
        db.audit(cur, stored, "account_locked", {"until": until.isoformat(timespec="minutes"), **where})
        return True
    cur.execute(
        "UPDATE users SET failed_attempts = ?, locked_until = NULL WHERE username = ?", [failed, stored]
    )
    db.audit(cur, stored, "login_failed", {**detail, "failed_attempts": failed})
    return False


def refuse_throttled(
    con: duckdb.DuckDBPyConnection,
    username: str,
    client: str | None,
    wait_s: float,
    now: datetime | None = None,
) -> None:
    """Record (within the budget) a login refused unchecked because its address must still wait."""
    detail = {"reason": "throttled", "wait_s": round(wait_s, 1), **_name_trace(con, username or "")}
    if client:
        detail["client"] = client
    _audit_refusal(con, None, None, detail, now or datetime.now())


# --- administration --------------------------------------------------------------------------


def list_users(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Users for the admin page. Password hashes never leave this module."""
    return db.query_df(
        con,
        "SELECT username, role, compound_scope, failed_attempts, locked_until, created_at "
        "FROM users ORDER BY username",
    )


def _same_access(role: str, scope: tuple[str, ...] | None, other: User) -> bool:
    def key(s: tuple[str, ...] | None) -> frozenset[str] | None:
        return None if s is None else frozenset(s)

    return role == other.role and key(scope) == key(other.compound_scope)


def set_role(
    con: duckdb.DuckDBPyConnection,
    username: str,
    role: str,
    compounds: list[str] | None = None,
    user: str | None = None,
    expect: User | None = None,
) -> User:
    """Change a user's role and scope (required for taskforce, cleared otherwise).

    Nothing is written or audited when role and scope stay as they are. With `expect` (the
    account as the administrator saw it when deciding) the change is refused if the account has
    changed since. The audit entry keeps the old role and scope beside the new ones."""
    _check_role(role)
    with db.transaction(con) as cur:
        row = _require_user(cur, username)
        username = row[0]
        old = User(username, row[2], _scope_from_text(row[3]))
        if expect is not None and not _same_access(expect.role, expect.compound_scope, old):
            raise ValidationError(
                f"用户“{username}”的角色或负责小区刚被修改过，请重新选择该用户后再试。",
                f"The role or compounds of {username!r} changed meanwhile; pick the user again and retry.",
            )
        scope = _check_scope(cur, role, compounds)
        if _same_access(role, _scope_from_text(scope), old):
            return old
        if old.role == "admin" and role != "admin" and _admin_count(cur) <= 1:
            raise ValidationError(
                "不能取消最后一位管理员的管理员角色。", "Cannot demote the last administrator."
            )
        cur.execute(
            "UPDATE users SET role = ?, compound_scope = ? WHERE username = ?", [role, scope, username]
        )
        db.audit(
            cur,
            user,
            "set_role",
            {
                "username": username,
                "old_role": old.role,
                "old_scope": row[3],
                "role": role,
                "compound_scope": scope,
            },
        )
    return User(username, role, _scope_from_text(scope))


def delete_user(con: duckdb.DuckDBPyConnection, username: str, user: str | None = None) -> None:
    with db.transaction(con) as cur:
        row = _require_user(cur, username)
        if row[2] == "admin" and _admin_count(cur) <= 1:
            raise ValidationError("不能删除最后一位管理员。", "Cannot delete the last administrator.")
        cur.execute("DELETE FROM users WHERE username = ?", [row[0]])
        _end_sessions(cur, row[0])
        db.audit(cur, user, "delete_user", {"username": row[0], "role": row[2]})


def reset_password(
    con: duckdb.DuckDBPyConnection, username: str, new_password: str, user: str | None = None
) -> None:
    """Set a new password; also clears a lock-out and ends the user's remembered sessions."""
    _check_password(con, new_password)
    password_hash = hash_password(new_password)
    with db.transaction(con) as cur:
        row = _require_user(cur, username)
        cur.execute(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL WHERE username = ?",
            [password_hash, row[0]],
        )
        _end_sessions(cur, row[0])
        db.audit(cur, user, "reset_password", {"username": row[0]})


# --- a user's own account and sessions -----------------------------------------------------

# settings key prefix of a user's session epoch: a random token replaced whenever every session
# of that user must end (logout, a new password, deletion); session cookies are bound to it
SESSION_EPOCH_PREFIX = "session_epoch:"


def _end_sessions(cur: duckdb.DuckDBPyConnection, username: str) -> None:
    """Inside the caller's transaction: no session cookie issued to `username` so far is accepted."""
    db.set_setting(cur, SESSION_EPOCH_PREFIX + username, secrets.token_hex(16))


def session_binding(con: duckdb.DuckDBPyConnection, username: str) -> str | None:
    """What a session of `username` is bound to: a digest of the account's password hash and its
    session epoch (None when there is no such account). It changes when the password changes
    (also by an administrator's reset), on logout and when the account is deleted and made
    again, so a cookie signed over it dies then. The password hash itself never leaves here."""
    row = (
        db.cursor(con)
        .execute(
            "SELECT u.password_hash, s.value FROM users u LEFT JOIN settings s ON s.key = ? "
            "WHERE u.username = ?",
            [SESSION_EPOCH_PREFIX + username, username],
        )
        .fetchone()
    )
    if row is None:
        return None
    return hashlib.sha256(f"{row[0]}\x1f{row[1] or ''}".encode()).hexdigest()


def is_locked(con: duckdb.DuckDBPyConnection, username: str, now: datetime | None = None) -> bool:
    until = db.query_one(con, "SELECT locked_until FROM users WHERE username = ?", [username])
    return until is not None and until > (now or datetime.now())


def logout(con: duckdb.DuckDBPyConnection, username: str) -> None:
    """End every session of `username` (audited): their remembered session cookies stop working
    in every browser."""
    with db.transaction(con) as cur:
        _end_sessions(cur, username)
        db.audit(cur, username, "logout", None)


def resumed(con: duckdb.DuckDBPyConnection, username: str, client: str | None = None) -> None:
    """Record that a remembered session signed `username` in again (a reload or a pasted link)."""
    with db.transaction(con) as cur:
        db.audit(cur, username, "session_resumed", {"client": client} if client else None)


def _locked_out() -> AccessDenied:
    return AccessDenied(
        f"原密码输错次数过多，账号已锁定 {LOCKOUT_MINUTES} 分钟，已退出登录。请稍后重新登录。",
        f"Too many wrong passwords: the account is locked for {LOCKOUT_MINUTES} minutes and you "
        "were logged out. Log in again later.",
    )


def change_password(
    con: duckdb.DuckDBPyConnection,
    username: str,
    old_password: str,
    new_password: str,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    """A user's own new password, with the same rules as `add_user`.

    The old password must be right: a wrong one counts towards the lock-out as a wrong login
    does (ValidationError; AccessDenied once the account is locked). On success every session
    cookie issued before stops being accepted, so other browsers must log in again."""
    now = now or datetime.now()
    old_password = old_password or ""
    _check_password(con, new_password)
    where = {"client": client} if client else {}
    row = _account(con.cursor(), username)
    if row is None:
        raise NotFound(f"用户“{username}”不存在。", f"User {username!r} does not exist.")
    password_hash, _role, _scope, _failed, locked_until = row
    if locked_until is not None and locked_until > now:
        raise _locked_out()
    ok = len(old_password) <= MAX_PASSWORD_LENGTH and verify(password_hash, old_password)
    if ok and old_password == new_password:
        raise ValidationError("新密码不能与原密码相同。", "The new password must differ from the old one.")
    new_hash = hash_password(new_password) if ok else None
    with db.transaction(con) as cur:
        row = _account(cur, username)
        if row is None:
            raise NotFound(f"用户“{username}”不存在。", f"User {username!r} does not exist.")
        current_hash, _role, _scope, failed, locked_until = row
        if locked_until is not None and locked_until > now:
            raise _locked_out()
        if ok and current_hash == password_hash:
            cur.execute(
                "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL WHERE username = ?",
                [new_hash, username],
            )
            _end_sessions(cur, username)
            db.audit(cur, username, "change_password", where or None)
            return
        # the failure is written (this transaction commits) before the refusal is raised
        locked_now = _wrong_password(cur, username, failed, now, {"reason": "wrong old password", **where})
    if locked_now:
        raise _locked_out()
    raise ValidationError("原密码不正确。", "The current password is wrong.")
