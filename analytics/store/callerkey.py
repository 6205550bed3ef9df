"""The deployment's caller key: what makes a stored caller hash useless without it.

A caller's number is stored as a keyed hash, never as digits:

    caller_hash = HMAC(k_n, ... HMAC(k_2, HMAC(k_1, sha256(salt || digits))))

(HMAC-SHA256, each layer over the text of the layer below). The salt lives in the store's
settings and so in every backup; with the salt alone anyone holding a copy could hash every
possible phone number in hours and read off who called. The keys k_1..k_n never enter the store
or its backups, so a copy without them links tickets to callers that cannot be named.

Where the keys come from, first match wins:

- `$HOTLINE_CALLER_KEY`: hex keys, oldest first, separated by commas;
- `<store>.key` beside the store file (e.g. `data/hotline.duckdb.key`): one hex key per line,
  oldest first. Created on the store's first start with 32 random bytes, atomically (O_EXCL)
  and readable by its owner only (0600). A file others may read is refused, not just warned
  about: a key the whole machine can read protects nothing, and a warning in a server log is
  never seen;
- an in-memory store (tests) uses a key of this process only.

The store keeps the keys' fingerprint (the chain applied to a fixed marker) in settings.
Uploads refuse to run under keys whose fingerprint differs, e.g. a backup restored on another
machine without its key file: hashes made there would link to none of the stored ones.

Rotation (`rotate_key`) appends a fresh key to the chain and wraps every stored hash in one more
layer with it, so the old keys alone reproduce no stored hash. The new chain is written to
`<store>.key.new` first, the stores' hashes and fingerprint are rewritten in one transaction, and
only then is the file renamed over the old one. A crash in between leaves a `.key.new` that the
next use resolves by the store's fingerprint: kept if the transaction committed, dropped if not.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import threading
from pathlib import Path

import duckdb

from analytics.errors import StoreError, ValidationError
from analytics.store import db

ENV_VAR = "HOTLINE_CALLER_KEY"
FINGERPRINT_SETTING = "caller_key_check"
# the fingerprint is this text put through the chain, like a caller's inner hash
MARKER = "hotline-caller-key-check"
# keyed_digest uses a key derived from the newest key with this label, so no digest of a
# chosen text can ever equal a stored caller hash
DIGEST_LABEL = b"hotline-keyed-digest"
# store version from which stored caller hashes are keyed (migrations/005_caller_hmac.py); a
# backup from before it holds plain salted hashes
HMAC_SCHEMA_VERSION = 5
# tables holding caller_hash: every one is re-keyed together
HASH_TABLES = ("tickets", "ticket_history")
KEY_BYTES = 32
MIN_KEY_BYTES = 16
BLOCK = 64  # SHA-256 block size: HMAC pads the key to it
PENDING_SUFFIX = ".new"
_HEX_KEY = re.compile(rf"(?:[0-9a-fA-F]{{2}}){{{MIN_KEY_BYTES},{BLOCK}}}")

Keys = tuple[bytes, ...]

# key files of this process are resolved and rotated one at a time
_lock = threading.RLock()
# the key of every in-memory store of this process: nothing outlives the process anyway
_MEMORY_KEYS: Keys = (secrets.token_bytes(KEY_BYTES),)


class CallerKeyError(StoreError):
    """The caller key is missing, unreadable, unsafe or not the one the store was hashed with."""


# --- where the key lives ---------------------------------------------------------------------


def key_file(store: str) -> Path | None:
    """The key file of the store at `store` (None for an in-memory store)."""
    if store == ":memory:":
        return None
    return Path(f"{store}.key")


def _pending(path: Path) -> Path:
    return path.with_name(path.name + PENDING_SUFFIX)


def _parse(text: str, source: str) -> Keys:
    parts = [p for p in re.split(r"[\s,]+", text) if p]
    if not parts or not all(_HEX_KEY.fullmatch(p) for p in parts):
        raise CallerKeyError(
            f"来电号码密钥 {source} 格式不对：应为一个或多个十六进制密钥（每个 {MIN_KEY_BYTES}–{BLOCK} 字节，"
            "每行一个或以逗号分隔）。请恢复原来的密钥文件；密钥丢失则已存的重复来电关联无法再延续。",
            f"The caller key {source} is malformed: it must be one or more hex keys "
            f"({MIN_KEY_BYTES}-{BLOCK} bytes each, one per line or comma-separated). Restore the "
            "original key file; without it new tickets cannot be linked to stored repeat callers.",
        )
    return tuple(bytes.fromhex(p) for p in parts)


def _read_file(path: Path) -> Keys:
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            data = handle.read()
    except OSError as exc:
        raise CallerKeyError(
            f"无法读取来电号码密钥文件 {path}：{exc.strerror}。",
            f"Cannot read the caller key file {path}: {exc.strerror}.",
        ) from None
    if os.name == "posix" and mode & 0o077:
        raise CallerKeyError(
            f"来电号码密钥文件 {path} 可被其他用户读取（权限 {mode & 0o777:o}），已拒绝使用。"
            f"请执行 chmod 600 {path} 后重试。",
            f"The caller key file {path} is readable by other users (mode {mode & 0o777:o}); "
            f"refused. Run `chmod 600 {path}` and try again.",
        )
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    return _parse(text, str(path))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_new(path: Path, keys: Keys) -> None:
    """Write `keys` to a file that must not exist yet, readable by its owner only, durably."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, "".join(k.hex() + "\n" for k in keys).encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def _env_keys() -> Keys | None:
    value = os.environ.get(ENV_VAR)
    return _parse(value, f"${ENV_VAR}") if value and value.strip() else None


def load_keys(store: str, create: bool = False) -> Keys:
    """The key chain of the store at `store`: from the environment, its key file, or this
    process (in-memory). `create` makes the key file when there is none (the store's first
    start); otherwise a missing file is an error."""
    from_env = _env_keys()
    if from_env is not None:
        return from_env
    path = key_file(store)
    if path is None:
        return _MEMORY_KEYS
    if not path.exists():
        if not create:
            raise _missing(path)
        try:
            _write_new(path, (secrets.token_bytes(KEY_BYTES),))
        except FileExistsError:
            pass  # made by another process a moment ago: use that one
        except OSError as exc:
            raise CallerKeyError(
                f"无法创建来电号码密钥文件 {path}：{exc.strerror}。",
                f"Cannot create the caller key file {path}: {exc.strerror}.",
            ) from None
    return _read_file(path)


def _missing(path: Path) -> CallerKeyError:
    return CallerKeyError(
        f"找不到来电号码密钥文件 {path}。该库的来电哈希需要它：请把原机器上的密钥文件复制到此处"
        f"（chmod 600），或设置 {ENV_VAR}。",
        f"The caller key file {path} is missing and this store's caller hashes need it: copy the "
        f"key file from the original machine there (chmod 600) or set {ENV_VAR}.",
    )


def _mismatch(store: str) -> CallerKeyError:
    path = key_file(store)
    where = f"{path}" if path else "this process"
    return CallerKeyError(
        f"来电号码密钥与数据库不符（例如备份在另一台机器上恢复却没有带上密钥文件），已拒绝导入，"
        f"以免新工单与已存工单的重复来电无法关联。请把原机器上的密钥文件复制为 {where}（chmod 600），"
        f"或设置正确的 {ENV_VAR}。",
        f"The caller key does not match this store (e.g. a backup restored on another machine "
        f"without its key file); upload refused so new tickets do not lose their link to stored "
        f"repeat callers. Copy the key file from the original machine to {where} (chmod 600) or "
        f"set the right {ENV_VAR}.",
    )


# --- the hash --------------------------------------------------------------------------------


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """(key xor opad, key xor ipad), the key zero-padded to one block (keys are at most one)."""
    block = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x5C for b in block), bytes(b ^ 0x36 for b in block)


def apply_keys(keys: Keys, inner: str) -> str:
    """The chain over one inner hash, in Python (the reference the SQL is held to)."""
    value = inner
    for key in keys:
        value = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return value


def sql_keyed(inner: str, keys: Keys) -> tuple[str, list[bytes]]:
    """A DuckDB expression for the chain over the VARCHAR expression `inner`, and its
    parameters. HMAC is built from DuckDB's sha256 over BLOBs, so it runs vectorised:
    H((K ^ opad) || H((K ^ ipad) || m)). The parameters all come before any of `inner`'s."""
    sql, params = inner, []
    for key in keys:
        outer, inner_pad = _pads(key)
        sql = f"sha256(? || unhex(sha256(? || encode({sql}))))"
        params = [outer, inner_pad, *params]
    return sql, params


def fingerprint(keys: Keys) -> str:
    return apply_keys(keys, MARKER)


def keyed_digest(con: duckdb.DuckDBPyConnection, value: str) -> str:
    """Hex HMAC-SHA256 of `value` under the store's newest caller key (a key derived from it, so
    a digest can never be confused with a caller hash). For logging values that must stay
    comparable but unreadable, e.g. unknown login names. CallerKeyError if the key is unusable."""
    keys, _ = _current_keys(con)
    derived = hmac.new(keys[-1], DIGEST_LABEL, hashlib.sha256).digest()
    return hmac.new(derived, value.encode("utf-8"), hashlib.sha256).hexdigest()


# --- the store's keys ------------------------------------------------------------------------


def _recorded(con: duckdb.DuckDBPyConnection) -> str | None:
    return db.get_setting(con, FINGERPRINT_SETTING)


def _has_hashes(cur: duckdb.DuckDBPyConnection) -> bool:
    return any(
        cur.execute(f"SELECT count(*) FROM {t} WHERE caller_hash IS NOT NULL").fetchone()[0]  # noqa: S608
        for t in HASH_TABLES
    )


def _resolve_pending(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Finish or drop a rotation that stopped between writing `.key.new` and renaming it."""
    pending = _pending(path)
    if not pending.exists():
        return
    recorded = _recorded(con)
    try:
        new = _read_file(pending)
    except CallerKeyError:
        new = None  # written and synced before the transaction began: a torn file never committed
    if new is not None and recorded == fingerprint(new):
        os.replace(pending, path)
        _fsync_dir(path.parent)
        return
    if new is None or (path.exists() and recorded == fingerprint(_read_file(path))):
        pending.unlink()
        _fsync_dir(path.parent)
    # neither matches: leave both for a person to look at; the mismatch error names the file


def _current_keys(con: duckdb.DuckDBPyConnection) -> tuple[Keys, str | None]:
    """The store's keys (a leftover rotation resolved first) and its recorded fingerprint. The
    key file is made only for a store that has no fingerprint yet."""
    store = db.store_path(con)
    path = key_file(store)
    with _lock:
        if path is not None and _env_keys() is None:
            _resolve_pending(con, path)
        recorded = _recorded(con)
        return load_keys(store, create=recorded is None), recorded


def _prefix(keys: Keys, recorded: str | None) -> int | None:
    """How many of `keys`, from the oldest, the stored hashes are under (None: other keys)."""
    if recorded is None:
        return None
    for n in range(len(keys), 0, -1):
        if hmac.compare_digest(recorded, fingerprint(keys[:n])):
            return n
    return None


def caller_keys(con: duckdb.DuckDBPyConnection, record: bool = True) -> Keys:
    """The store's key chain, checked against the fingerprint in its settings.

    CallerKeyError (nothing written) when the keys are missing, unreadable or not the ones the
    store's hashes were made with. With `record`, a store whose hashes are under only the older
    keys of the chain (a copy from before a rotation) is brought up to the whole chain, and a
    store with neither fingerprint nor hashes gets the fingerprint. Without it nothing is
    written and the keys returned are those the stored hashes are under, so a preview compares
    like with like."""
    keys, recorded = _current_keys(con)
    under = _prefix(keys, recorded)
    if under == len(keys):
        return keys
    if not record:
        if under is not None:
            return keys[:under]
        with con.cursor() as cur:
            if recorded is None and not _has_hashes(cur):
                return keys
        raise _mismatch(db.store_path(con))
    with db.transaction(con) as cur:
        added = catch_up(cur, keys)
        if added is None:
            raise _mismatch(db.store_path(con))
        if added:
            db.audit(cur, None, "caller_key_catch_up", {"keys": len(keys), "added": added})
    return keys


def catch_up(cur: duckdb.DuckDBPyConnection, keys: Keys, legacy: bool = False) -> int | None:
    """Inside an open transaction: put the stored hashes under all of `keys` when they are under
    the oldest few of them (or, with `legacy`, are plain salted hashes from before keyed hashing),
    and record the fingerprint. Returns the layers added, None when the hashes are under other
    keys (then nothing changes)."""
    row = cur.execute("SELECT value FROM settings WHERE key = ?", [FINGERPRINT_SETTING]).fetchone()
    recorded = row[0] if row else None
    if recorded is None:
        if not legacy and _has_hashes(cur):
            return None
        under = 0
    else:
        under = _prefix(keys, recorded)
        if under is None:
            return None
    if under < len(keys):
        rekey(cur, keys[under:])
    if under < len(keys) or recorded is None:
        record_fingerprint(cur, keys)
    return len(keys) - under


def record_fingerprint(cur: duckdb.DuckDBPyConnection, keys: Keys) -> None:
    """Inside an open transaction (with the hashes it vouches for)."""
    db.set_setting(cur, FINGERPRINT_SETTING, fingerprint(keys))


def rekey(cur: duckdb.DuckDBPyConnection, keys: Keys) -> dict[str, int]:
    """Wrap every stored caller hash in the layers of `keys`, inside an open transaction.
    Equal hashes stay equal, so every repeat-caller link survives. Rows changed per table."""
    expr, params = sql_keyed("caller_hash", keys)
    changed = {}
    for table in HASH_TABLES:
        cur.execute(f"UPDATE {table} SET caller_hash = {expr} WHERE caller_hash IS NOT NULL", params)  # noqa: S608
        changed[table] = int(cur.fetchone()[0])
    return changed


def rotate_key(con: duckdb.DuckDBPyConnection, user: str | None = None) -> dict:
    """Append a fresh key to the store's chain and re-key every stored hash with it, so the old
    keys alone open nothing stored from now on. Safe against a crash at any point (see the
    module doc). Returns the key file, the number of keys and the rows re-keyed."""
    store = db.store_path(con)
    path = key_file(store)
    if _env_keys() is not None:
        target = path or "<store>.key"
        raise ValidationError(
            f"来电号码密钥来自环境变量 {ENV_VAR}，无法在此轮换：请把它的值写入 {target}（chmod 600），"
            f"取消 {ENV_VAR} 后运行 callers rotate-key，然后继续用该文件，或把文件中的密钥用逗号连接后设为 {ENV_VAR}。",
            f"The caller key comes from {ENV_VAR} and cannot be rotated in place: write its value "
            f"to {target} (chmod 600), unset {ENV_VAR}, run `callers rotate-key`, then keep the "
            f"file or set {ENV_VAR} to its keys joined by commas.",
        )
    if path is None:
        raise ValidationError(
            "内存数据库的密钥只属于本进程，无需轮换。", "An in-memory store's key lives only in this process."
        )
    with _lock:
        keys = caller_keys(con)  # a store behind its key file is brought up to it first
        new_keys = (*keys, secrets.token_bytes(KEY_BYTES))
        pending = _pending(path)
        try:
            _write_new(pending, new_keys)
        except OSError as exc:
            raise CallerKeyError(
                f"无法写入新的来电号码密钥文件 {pending}：{exc.strerror}。密钥未轮换，数据未改动。",
                f"Cannot write the new caller key file {pending}: {exc.strerror}. Nothing was "
                "rotated or changed.",
            ) from None
        try:
            with db.transaction(con) as cur:
                changed = rekey(cur, new_keys[-1:])
                record_fingerprint(cur, new_keys)
                db.audit(cur, user, "rotate_caller_key", {"keys": len(new_keys), **changed})
        except BaseException:
            # whatever the store holds now decides which file stays
            with contextlib.suppress(Exception):
                _resolve_pending(con, path)
            raise
        os.replace(pending, path)
        _fsync_dir(path.parent)
    return {"key_file": str(path), "keys": len(new_keys), **{f"rekeyed_{t}": n for t, n in changed.items()}}
