"""Remembered sessions: a signed, expiring cookie that signs a user in again after a reload (F5)
or in a pasted link, without their password.

The value is `<user>|<issued>|<last seen>|<mac>`: the user name in URL-safe base64 (so no
character of a name can break the value), two times in Unix seconds, and HMAC-SHA256 under the
deployment's session key over the first three fields and the account's session binding
(`auth.session_binding`: a digest of its password hash and session epoch). So a new password
(own or reset by an administrator), a logout and a deleted account each kill every cookie
issued before, and a cookie copied before a logout is dead after it.

A cookie is accepted when its MAC matches, it was last seen at most IDLE_MINUTES ago (the idle
expiry of a signed-in session) and not in the future, it was issued at most MAX_HOURS ago, and
the account exists and is not locked. The caller then re-reads role and scope from the store.

The key, first match wins:
- `$HOTLINE_SESSION_KEY`: hex, at least 16 bytes;
- `<store>.session-key` beside the store file: created on first use with 32 random bytes,
  atomically and readable by its owner only; a file others may read is refused;
- an in-memory store (tests) uses a key of this process only.
It is never the caller key: each can be replaced without touching the other, and neither is in
the store or its backups. Replacing it signs everybody out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analytics.errors import StoreError
from analytics.services import auth
from analytics.store import db

COOKIE_NAME = "hotline_session"
ENV_VAR = "HOTLINE_SESSION_KEY"
KEY_SUFFIX = ".session-key"
KEY_BYTES = 32
MIN_KEY_BYTES = 16
IDLE_MINUTES = 60  # a session unused this long is over, in the browser and in a cookie alike
MAX_HOURS = 12  # a cookie is refreshed while used, but never outlives one working day
CLOCK_SKEW_S = 60  # a "last seen" this far ahead of the server clock is still accepted
MAX_COOKIE_CHARS = 512  # anything longer is no cookie of ours

_lock = threading.Lock()
_keys: dict[str, bytes] = {}  # store path -> key, read once per process
_MEMORY_KEY = secrets.token_bytes(KEY_BYTES)


class SessionKeyError(StoreError):
    """The session key is malformed, unreadable or readable by others."""


@dataclass(frozen=True)
class Cookie:
    username: str
    issued: int
    last_seen: int


# --- the key ---------------------------------------------------------------------------------


def key_file(store: str) -> Path | None:
    return None if store == ":memory:" else Path(f"{store}{KEY_SUFFIX}")


def _parse_key(text: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) < MIN_KEY_BYTES:
        raise SessionKeyError(
            f"会话密钥 {source} 格式不对：应为至少 {MIN_KEY_BYTES} 字节的十六进制串。删除该文件即可自动生成新密钥"
            "（所有人需重新登录）。",
            f"The session key {source} is malformed: it must be hex of at least {MIN_KEY_BYTES} bytes. "
            "Delete the file to have a new one made (everybody logs in again).",
        )
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            data = handle.read()
    except OSError as exc:
        raise SessionKeyError(
            f"无法读取会话密钥文件 {path}：{exc.strerror}。",
            f"Cannot read the session key file {path}: {exc.strerror}.",
        ) from None
    if os.name == "posix" and mode & 0o077:
        raise SessionKeyError(
            f"会话密钥文件 {path} 可被其他用户读取（权限 {mode & 0o777:o}），已拒绝使用。请执行 chmod 600 {path}。",
            f"The session key file {path} is readable by other users (mode {mode & 0o777:o}); "
            f"refused. Run `chmod 600 {path}`.",
        )
    return _parse_key(data.decode("ascii", errors="replace"), str(path))


def _create_key_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # made by another process a moment ago: that one is used
    except OSError as exc:
        raise SessionKeyError(
            f"无法创建会话密钥文件 {path}：{exc.strerror}。",
            f"Cannot create the session key file {path}: {exc.strerror}.",
        ) from None
    try:
        os.write(fd, (secrets.token_bytes(KEY_BYTES).hex() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def load_key(store: str) -> bytes:
    """The session key for the store at `store` (see the module doc); SessionKeyError when unusable."""
    value = os.environ.get(ENV_VAR)
    if value and value.strip():
        return _parse_key(value, f"${ENV_VAR}")
    path = key_file(store)
    if path is None:
        return _MEMORY_KEY
    with _lock:
        if store not in _keys:
            if not path.exists():
                _create_key_file(path)
            _keys[store] = _read_key_file(path)
        return _keys[store]


def _key(con: duckdb.DuckDBPyConnection) -> bytes:
    return load_key(db.store_path(con))


# --- the cookie ------------------------------------------------------------------------------


def _b64(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii").rstrip("=")


def _unb64(text: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _mac(key: bytes, body: str, binding: str) -> str:
    return hmac.new(key, f"{body}|{binding}".encode(), hashlib.sha256).hexdigest()


def parse(value: str | None) -> tuple[Cookie, str, str] | None:
    """(the cookie's fields, the signed part, its MAC) or None when it is not shaped like ours."""
    if not value or len(value) > MAX_COOKIE_CHARS:
        return None
    parts = value.split("|")
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    username = _unb64(parts[0])
    if not username:
        return None
    body = "|".join(parts[:3])
    return Cookie(username, int(parts[1]), int(parts[2])), body, parts[3]


def issue(
    con: duckdb.DuckDBPyConnection, username: str, issued: float | None = None, now: float | None = None
) -> str | None:
    """A cookie value for `username`, last seen `now` (default: the clock) and first issued at
    `issued` (default: now); None when the account does not exist (any more)."""
    binding = auth.session_binding(con, username)
    if binding is None:
        return None
    at = int(time.time() if now is None else now)
    body = f"{_b64(username)}|{int(at if issued is None else issued)}|{at}"
    return f"{body}|{_mac(_key(con), body, binding)}"


def verify(con: duckdb.DuckDBPyConnection, value: str | None, now: float | None = None) -> Cookie | None:
    """The cookie's fields when it signs its user in now (see the module doc), else None."""
    parsed = parse(value)
    if parsed is None:
        return None
    cookie, body, mac = parsed
    at = time.time() if now is None else now
    if not (at - IDLE_MINUTES * 60 <= cookie.last_seen <= at + CLOCK_SKEW_S):
        return None
    if not (at - MAX_HOURS * 3600 <= cookie.issued <= cookie.last_seen):
        return None
    binding = auth.session_binding(con, cookie.username)
    if binding is None or not hmac.compare_digest(mac, _mac(_key(con), body, binding)):
        return None
    if auth.is_locked(con, cookie.username):
        return None
    return cookie
