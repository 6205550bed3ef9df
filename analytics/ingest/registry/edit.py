"""Editing one compound of the registry in place (the upload page's 小区名录 tab), and the
registry's history: every change, by an edit or a registry file, is one numbered version of the
compound in `registry_versions` ({field: [old, new]}, who, when) and one line of the audit log.

An edit changes only the fields it is given, checks all of them first and writes nothing when
one is wrong (ValidationError in Chinese and English): an empty name, households that are not a
positive whole number, an unknown type, an alias that is another compound's name or alias.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import NotFound, ValidationError
from analytics.ingest.registry.values import COMPOUND_TYPES, split_aliases
from analytics.store import db

# what the page lets an analyst edit; aliases is the whole list of the compound's aliases
EDITABLE_FIELDS = ("name", "households", "type", "property_company", "aliases")
# aliases typed on the page: kept apart from 'registry' ones, which a registry file replaces
MANUAL_ALIAS_SOURCE = "manual"
MAX_NAME_CHARS = 100
MAX_HOUSEHOLDS = 100_000  # the largest compounds have a few thousand households


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _current(cur: duckdb.DuckDBPyConnection, compound_id: str) -> dict[str, Any]:
    row = cur.execute(
        "SELECT name, households, type, property_company FROM compounds WHERE compound_id = ?", [compound_id]
    ).fetchone()
    if row is None:
        raise NotFound(f"小区编号“{compound_id}”不存在。", f"Compound {compound_id!r} does not exist.")
    aliases = [
        r[0]
        for r in cur.execute(
            "SELECT alias FROM compound_aliases WHERE compound_id = ? ORDER BY alias", [compound_id]
        ).fetchall()
    ]
    return {
        "name": row[0],
        "households": _plain(row[1]),
        "type": row[2],
        "property_company": row[3],
        "aliases": aliases,
    }


def _households(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        number = math.nan
    if math.isnan(number) or number != int(number) or not 0 < number <= MAX_HOUSEHOLDS:
        raise ValidationError(
            f"户数应为 1 到 {MAX_HOUSEHOLDS:,} 之间的整数（填写的是“{value}”）；不知道可以留空。",
            f"Households must be a whole number from 1 to {MAX_HOUSEHOLDS:,} (got '{value}'); leave it "
            "blank when unknown.",
        )
    return int(number)


def _checked(
    cur: duckdb.DuckDBPyConnection, compound_id: str, old: Mapping[str, Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """The new values of the given fields, checked; ValidationError on the first wrong one."""
    unknown = sorted(set(given) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(
            f"不能在这里修改这些字段：{'、'.join(unknown)}。",
            f"These fields cannot be edited here: {', '.join(unknown)}.",
        )
    new: dict[str, Any] = {}
    if "name" in given:
        name = str(given["name"] or "").strip()
        if not name:
            raise ValidationError("小区名称不能为空。", "The compound's name must not be empty.")
        if len(name) > MAX_NAME_CHARS:
            raise ValidationError(
                f"小区名称太长（最多 {MAX_NAME_CHARS} 个字）。",
                f"The name is too long (at most {MAX_NAME_CHARS} characters).",
            )
        new["name"] = name
    if "households" in given:
        new["households"] = _households(given["households"])
    if "type" in given:
        ctype = str(given["type"] or "").strip() or None
        if ctype is not None and ctype not in COMPOUND_TYPES:
            raise ValidationError(
                f"小区类型应为 {'、'.join(COMPOUND_TYPES)} 之一（填写的是“{ctype}”）。",
                f"The type must be one of {', '.join(COMPOUND_TYPES)} (got '{ctype}').",
            )
        new["type"] = ctype
    if "property_company" in given:
        new["property_company"] = str(given["property_company"] or "").strip() or None
    if "aliases" in given:
        raw = given["aliases"]
        text = "；".join(raw) if isinstance(raw, list | tuple) else str(raw or "")
        new["aliases"] = sorted(split_aliases(text, new.get("name", old["name"])))
        added = sorted(set(new["aliases"]) - set(old["aliases"]))
        if added:
            taken = cur.execute(
                """SELECT a.alias, c.compound_id, c.name FROM compound_aliases a
                   JOIN compounds c USING (compound_id)
                   WHERE a.compound_id <> ? AND list_contains(?, a.alias)
                   UNION ALL
                   SELECT c.name, c.compound_id, c.name FROM compounds c
                   WHERE c.compound_id <> ? AND list_contains(?, c.name)
                   ORDER BY 1, 2""",
                [compound_id, added, compound_id, added],
            ).fetchall()
            if taken:
                alias, other_id, other_name = taken[0]
                raise ValidationError(
                    f"别名“{alias}”已是另一个小区“{other_name}”（{other_id}）的名称或别名，不能重复使用。",
                    f"The alias '{alias}' already names another compound, {other_name} ({other_id}).",
                )
    return new


def edit_compound(
    con: duckdb.DuckDBPyConnection, compound_id: str, changes: Mapping[str, Any], user: str | None = None
) -> dict[str, list[Any]]:
    """Change the given fields of one compound (EDITABLE_FIELDS); returns {field: [old, new]} of
    what actually changed ({} when nothing did: no version, no audit line). One transaction: the
    compound, its aliases, the new version and the audit line, or nothing."""
    with db.transaction(con) as cur:
        old = _current(cur, compound_id)
        new = _checked(cur, compound_id, old, changes)
        diff = {f: [old[f], v] for f, v in new.items() if old[f] != v}
        if not diff:
            return {}
        plain = [f for f in diff if f != "aliases"]
        if plain:
            sets = ", ".join(f"{f} = ?" for f in plain)
            cur.execute(
                f"UPDATE compounds SET {sets} WHERE compound_id = ?",  # noqa: S608 - names from EDITABLE_FIELDS
                [diff[f][1] for f in plain] + [compound_id],
            )
        if "aliases" in diff:
            removed = sorted(set(diff["aliases"][0]) - set(diff["aliases"][1]))
            added = sorted(set(diff["aliases"][1]) - set(diff["aliases"][0]))
            if removed:
                cur.execute(
                    "DELETE FROM compound_aliases WHERE compound_id = ? AND list_contains(?, alias)",
                    [compound_id, removed],
                )
            for alias in added:
                cur.execute(
                    "INSERT INTO compound_aliases (alias, compound_id, source) VALUES (?, ?, ?)",
                    [alias, compound_id, MANUAL_ALIAS_SOURCE],
                )
        version = record_version(cur, compound_id, diff, user, "edit")
        db.audit(
            cur, user, "registry.edit", {"compound_id": compound_id, "version": version, "changes": diff}
        )
    return diff


def record_version(
    cur: duckdb.DuckDBPyConnection,
    compound_id: str,
    changes: Mapping[str, list[Any]],
    user: str | None,
    source: str,
    batch_id: int | None = None,
) -> int:
    """Append the compound's next version (inside the caller's transaction); returns its number."""
    version = cur.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM registry_versions WHERE compound_id = ?", [compound_id]
    ).fetchone()[0]
    cur.execute(
        'INSERT INTO registry_versions (compound_id, version, changed_at, "user", source, batch_id, changes) '
        "VALUES (?, ?, now(), ?, ?, ?, ?)",
        [
            compound_id,
            version,
            user,
            source,
            batch_id,
            json.dumps(dict(changes), ensure_ascii=False, default=str),
        ],
    )
    return int(version)


def record_versions(
    cur: duckdb.DuckDBPyConnection,
    changes: Mapping[str, Mapping[str, list[Any]]],
    user: str | None,
    source: str,
    batch_id: int | None = None,
) -> None:
    """`record_version` for many compounds at once ({compound_id: {field: [old, new]}}): a
    registry file changes hundreds of compounds in one transaction."""
    if not changes:
        return
    frame = pd.DataFrame(
        {
            "compound_id": list(changes),
            "changes": [json.dumps(dict(c), ensure_ascii=False, default=str) for c in changes.values()],
        }
    )
    cur.register("version_changes", frame)
    try:
        cur.execute(
            """INSERT INTO registry_versions (compound_id, version, changed_at, "user", source, batch_id, changes)
               SELECT v.compound_id, coalesce(m.version, 0) + 1, now(), ?, ?, ?, v.changes
               FROM version_changes v
               LEFT JOIN (SELECT compound_id, max(version) AS version FROM registry_versions GROUP BY 1) m
                   USING (compound_id)""",
            [user, source, batch_id],
        )
    finally:
        cur.unregister("version_changes")


def compound_history(con: duckdb.DuckDBPyConnection, compound_id: str) -> pd.DataFrame:
    """The compound's versions, newest first: version, changed_at, user, source, batch_id,
    changes ({field: [old, new]})."""
    frame = db.query_df(
        con,
        'SELECT version, changed_at, "user", source, batch_id, changes FROM registry_versions '
        "WHERE compound_id = ? ORDER BY version DESC",
        [compound_id],
    )
    frame["changes"] = [json.loads(c) for c in frame["changes"]]
    return frame


def search_registry(con: duckdb.DuckDBPyConnection, text: str = "", limit: int | None = None) -> pd.DataFrame:
    """Compounds whose id, name, alias, community or subdistrict contains `text` (all when blank),
    by id: compound_id, name, aliases ('；'-joined), community, subdistrict, type, is_old,
    built_year, households, property_company."""
    return db.query_df(
        con,
        """
        WITH al AS (
            SELECT compound_id, string_agg(alias, '；' ORDER BY alias) AS aliases
            FROM compound_aliases GROUP BY compound_id
        )
        SELECT c.compound_id, c.name, coalesce(al.aliases, '') AS aliases, c.community,
               coalesce(c.subdistrict, cm.subdistrict) AS subdistrict, c.type, c.is_old, c.built_year,
               c.households, c.property_company
        FROM compounds c
        LEFT JOIN al USING (compound_id)
        LEFT JOIN communities cm ON cm.community = c.community
        WHERE $1 = '' OR contains(lower(c.compound_id), lower($1)) OR contains(c.name, $1)
           OR contains(coalesce(al.aliases, ''), $1) OR contains(coalesce(c.community, ''), $1)
           OR contains(coalesce(coalesce(c.subdistrict, cm.subdistrict), ''), $1)
        ORDER BY c.compound_id
        LIMIT $2
        """,
        [(text or "").strip(), limit],
    )
