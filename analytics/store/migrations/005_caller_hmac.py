"""Version 5: caller hashes keyed with the deployment's caller key (analytics.callerkey).

Until now a caller was stored as sha256(salt || digits), the salt in the store and in every
backup, so a copy of either let anyone try every phone number. Each stored hash becomes
HMAC(key, old hash) under a key kept beside the store (created here on the first start), never
in it: the same caller keeps one hash, so no repeat-caller link is lost, among old tickets or
between old ones and the next upload. The keys' fingerprint goes into settings, so uploads
under other keys are refused instead of writing hashes that link to nothing.
"""

from __future__ import annotations

import duckdb

from analytics.store import callerkey


def upgrade(cur: duckdb.DuckDBPyConnection, store_path: str) -> None:
    keys = callerkey.load_keys(store_path, create=True)
    callerkey.rekey(cur, keys)
    callerkey.record_fingerprint(cur, keys)
