"""Importing the compound registry (小区名册), and adding an alias to a compound.

Re-importing a registry updates compounds in place and reports each changed value. Blank cells
never erase a stored value: a partial file (say, only ids and households) updates just what it
carries.

A registry file states renames, splits and merges with the columns of
`changes.CHANGE_FIELDS`: 前身 (predecessor: the id or name of the compound(s) a row's compound
continues, several separated by ；) and 生效日期 (effective date, the first day under the new
compound), optionally 变更类型 (更名 / 拆分 / 合并; otherwise read from the shape: one
predecessor and one successor is a rename, one and several a split, several and one a merge).
A row whose name differs from the stored one and that gives 生效日期 without 前身 is a rename in
place: the former name stays an alias until that day. The changes are recorded in the import's
transaction (`changes.record_planned`), which moves the stored tickets to the compound valid at
their dates, and the result lists each in plain words (`RegistryResult.compound_changes`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import NotFound, ValidationError
from analytics.ingest.columns import COMPOUND_FIELDS
from analytics.ingest.registry.changes import (
    CHANGE_FIELDS,
    changes_frame,
    plan_changes,
    record_planned,
    refresh_validity,
)
from analytics.ingest.registry.edit import record_versions
from analytics.ingest.registry.files import (
    RegistryResult,
    _fmt,
    _map_headers,
    _plain,
    _read,
    _rejected_frame,
    _result,
    _same,
    _write_batch,
)
from analytics.ingest.registry.values import (
    ALIAS_SEPARATORS,
    LAT_RANGE,
    LON_RANGE,
    _parse_coordinate,
    parse_built_year,
    parse_households,
    parse_old_new,
    parse_type,
    split_aliases,
)
from analytics.store import db

# compound columns compared on re-import, in report order
COMPARED_FIELDS = (
    "name",
    "community",
    "subdistrict",
    "type",
    "is_old",
    "built_year",
    "households",
    "property_company",
    "lat",
    "lon",
)


def _existing(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, dict[str, str], dict[str, list[str]]]:
    compounds = db.query_df(con, "SELECT * FROM compounds").set_index("compound_id")
    communities = dict(db.query_df(con, "SELECT community, subdistrict FROM communities").values.tolist())
    aliases_df = db.query_df(
        con, "SELECT compound_id, alias FROM compound_aliases WHERE source = 'registry' ORDER BY alias"
    )
    aliases = aliases_df.groupby("compound_id")["alias"].agg(list).to_dict() if len(aliases_df) else {}
    return compounds, communities, aliases


def _validate_compounds(
    frame: pd.DataFrame, cols: dict[str, str], store_tree: dict[str, str]
) -> tuple[list[dict[str, Any]], list[tuple[int, str, dict[str, str]]]]:
    """Parsed good rows, and (row_number, reason, raw) for bad ones."""

    def cell(row: dict[str, str], name: str) -> str:
        return row.get(cols[name], "") if name in cols else ""

    raw_rows = frame.to_dict("records")
    ids = [cell(r, "compound_id") for r in raw_rows]
    positions: dict[str, list[int]] = {}
    for i, cid in enumerate(ids):
        if cid:
            positions.setdefault(cid, []).append(i + 1)
    # the community -> subdistrict tree as the file states it
    file_tree: dict[str, set[str]] = {}
    for r in raw_rows:
        community, subdistrict = cell(r, "community"), cell(r, "subdistrict")
        if community and subdistrict:
            file_tree.setdefault(community, set()).add(subdistrict)

    good: list[dict[str, Any]] = []
    bad: list[tuple[int, str, dict[str, str]]] = []
    for i, r in enumerate(raw_rows):
        reasons: list[str] = []
        cid, name = cell(r, "compound_id"), cell(r, "name")
        if not cid:
            reasons.append("缺少小区编号")
        elif len(positions[cid]) > 1:
            reasons.append(f"小区编号“{cid}”在文件中重复（第 {'、'.join(map(str, positions[cid]))} 行）")
        if not name:
            reasons.append("缺少小区名称")
        households, why = parse_households(cell(r, "households"))
        reasons += [why] if why else []
        ctype, why = parse_type(cell(r, "type"))
        reasons += [why] if why else []
        built_year, why = parse_built_year(cell(r, "built_year"))
        reasons += [why] if why else []
        is_old, why = parse_old_new(cell(r, "is_old"), built_year)
        reasons += [why] if why else []
        lat, why = _parse_coordinate(cell(r, "lat"), "纬度", LAT_RANGE)
        reasons += [why] if why else []
        lon, why = _parse_coordinate(cell(r, "lon"), "经度", LON_RANGE)
        reasons += [why] if why else []
        if (cell(r, "lat") == "") != (cell(r, "lon") == ""):
            reasons.append("经度和纬度须同时填写")
        community, subdistrict = cell(r, "community"), cell(r, "subdistrict")
        if community:
            stated = file_tree.get(community, set())
            if len(stated) > 1:
                reasons.append(f"社区“{community}”在文件中属于多个街道（{'、'.join(sorted(stated))}）")
            elif community in store_tree and subdistrict and store_tree[community] != subdistrict:
                reasons.append(
                    f"社区“{community}”已登记属于“{store_tree[community]}”，文件中却为“{subdistrict}”"
                )
            elif not subdistrict:
                subdistrict = store_tree.get(community) or next(iter(stated), "")
                if not subdistrict:
                    reasons.append(f"缺少所属街道（社区“{community}”尚未登记）")
        if reasons:
            bad.append((i + 1, "；".join(reasons), r))
            continue
        good.append(
            {
                "row_number": i + 1,
                "compound_id": cid,
                "name": name,
                "community": community or None,
                "subdistrict": subdistrict or None,
                "type": ctype,
                "is_old": is_old,
                "built_year": built_year,
                "households": households,
                "property_company": cell(r, "property_company") or None,
                "lat": lat,
                "lon": lon,
                "aliases": split_aliases(cell(r, "aliases"), name) if cell(r, "aliases") else None,
                # a change the row states (changes.plan_changes reads these), and the row as read
                **{f.name: cell(r, f.name) for f in CHANGE_FIELDS},
                "raw": r,
            }
        )
    return good, bad


COMPOUND_DTYPES = {
    "compound_id": "string",
    "name": "string",
    "community": "string",
    "subdistrict": "string",
    "type": "string",
    "is_old": "boolean",
    "built_year": "Int32",
    "households": "Int64",
    "property_company": "string",
    "lat": "Float64",
    "lon": "Float64",
}


def import_compounds(
    con: duckdb.DuckDBPyConnection,
    path: str | Path | pd.DataFrame,
    mapping: dict[str, str] | None = None,
    user: str | None = None,
    sheet: str | int | None = None,
) -> RegistryResult:
    """Import (or re-import) the compound registry from a CSV/XLSX file or a DataFrame.

    Good rows are added or updated in place; bad rows are kept with a Chinese reason. Raises
    FileRejected when the file is unreadable or lacks the 小区编号 / 小区名称 columns.
    """
    table = _read(path, sheet)
    headers = list(table.frame.columns)
    cols = _map_headers(headers, (*COMPOUND_FIELDS, *CHANGE_FIELDS), mapping, "小区名册")
    stored, store_tree, stored_aliases = _existing(con)
    good, bad = _validate_compounds(table.frame, cols, store_tree)
    good, bad, planned = _plan(con, good, bad, stored, stored_aliases, cols.get("predecessor"))

    records: list[dict[str, Any]] = []
    alias_updates: dict[str, list[str]] = {}
    changes: list[tuple[str, str, str | None, str | None]] = []
    versions: dict[str, dict[str, list[str | None]]] = {}  # the registry's history (edit.record_versions)
    added = updated = unchanged = 0
    for row in good:
        cid = row["compound_id"]
        if cid in stored.index:
            old = {k: _plain(v) for k, v in stored.loc[cid].to_dict().items()}
            merged = {f: (row[f] if row[f] is not None else old.get(f)) for f in COMPARED_FIELDS}
            row_changes = [
                (cid, f, _fmt(old.get(f)), _fmt(merged[f]))
                for f in COMPARED_FIELDS
                if not _same(old.get(f), merged[f])
            ]
            if row["aliases"] is not None and sorted(row["aliases"]) != sorted(stored_aliases.get(cid, [])):
                row_changes.append(
                    (cid, "aliases", _fmt(stored_aliases.get(cid, [])) or None, _fmt(row["aliases"]))
                )
                alias_updates[cid] = row["aliases"]
            if row_changes:
                updated += 1
                changes += row_changes
                records.append({"compound_id": cid, **merged})
                versions[cid] = {f: [old_value, new_value] for _, f, old_value, new_value in row_changes}
            else:
                unchanged += 1
        else:
            added += 1
            records.append({"compound_id": cid, **{f: row[f] for f in COMPARED_FIELDS}})
            if row["aliases"]:
                alias_updates[cid] = row["aliases"]
            versions[cid] = {
                f: [None, _fmt(row[f])] for f in (*COMPARED_FIELDS, "aliases") if _fmt(row[f]) is not None
            }

    rejected = _rejected_frame(bad)
    counts = {"rows_read": len(table.frame), "added": added, "updated": updated, "rejected": len(bad)}
    new_tree = {(r["community"], r["subdistrict"]) for r in good if r["community"] and r["subdistrict"]}
    with db.transaction(con) as cur:
        subdistricts = pd.DataFrame(
            {
                "subdistrict": sorted(
                    {s for _, s in new_tree} | {r["subdistrict"] for r in good if r["subdistrict"]}
                )
            }
        )
        if len(subdistricts):
            cur.register("sub_df", subdistricts)
            db.merge(
                cur,
                "subdistricts",
                ["subdistrict"],
                ["subdistrict"],
                "SELECT subdistrict FROM sub_df",
                update=[],
            )
            cur.unregister("sub_df")
        if new_tree:
            cur.register("tree_df", pd.DataFrame(sorted(new_tree), columns=["community", "subdistrict"]))
            db.merge(
                cur,
                "communities",
                ["community", "subdistrict"],
                ["community"],
                "SELECT community, subdistrict FROM tree_df",
                update=[],
            )
            cur.unregister("tree_df")
        if records:
            frame = pd.DataFrame(records, columns=list(COMPOUND_DTYPES)).astype(COMPOUND_DTYPES)
            cur.register("compounds_df", frame)
            db.merge(cur, "compounds", list(COMPOUND_DTYPES), ["compound_id"], "SELECT * FROM compounds_df")
            cur.unregister("compounds_df")
        if alias_updates:
            alias_rows = pd.DataFrame(
                [(a, cid) for cid, aliases in alias_updates.items() for a in aliases],
                columns=["alias", "compound_id"],
            )
            ids = pd.DataFrame({"compound_id": sorted(alias_updates)})
            cur.register("alias_ids", ids)
            cur.execute(
                "DELETE FROM compound_aliases WHERE source = 'registry' AND compound_id IN (SELECT compound_id FROM alias_ids)"
            )
            cur.unregister("alias_ids")
            if len(alias_rows):
                cur.register("alias_df", alias_rows)
                db.merge(
                    cur,
                    "compound_aliases",
                    ["alias", "compound_id", "source"],
                    ["alias", "compound_id"],
                    "SELECT alias, compound_id, 'registry' FROM alias_df",
                    update=[],
                )
                cur.unregister("alias_df")
        batch_id = _write_batch(cur, "compounds", table, user, cols, counts, rejected)
        record_versions(cur, versions, user, "import", batch_id)
        refresh_validity(cur)  # a replaced compound row is valid as its recorded changes say
        recorded = record_planned(cur, planned, user, batch_id)
        db.audit(
            cur,
            user,
            "import_compounds",
            {
                "file": table.file_name,
                "batch_id": batch_id,
                **counts,
                "unchanged": unchanged,
                "compound_changes": len(recorded),
            },
        )
    result = _result(table, (added, updated, unchanged), bad, rejected, changes, batch_id)
    result.compound_changes = changes_frame(recorded)
    return result


def _plan(
    con: duckdb.DuckDBPyConnection,
    good: list[dict[str, Any]],
    bad: list[tuple[int, str, dict[str, str]]],
    stored: pd.DataFrame,
    stored_aliases: dict[str, list[str]],
    predecessor_header: str | None,
) -> tuple[list[dict[str, Any]], list[tuple[int, str, dict[str, str]]], list[Any]]:
    """The changes the file states; rows whose change cannot be taken are refused whole, and so
    are rows naming the same predecessor as a refused row (a split missing one successor would
    otherwise read as a rename)."""
    recorded = db.query_df(con, "SELECT kind, change_date, from_compound, to_compound FROM compound_changes")
    names = {str(k): str(v) for k, v in stored["name"].items()}
    planned, refused = plan_changes(good, names, stored_aliases, recorded)
    cells = [raw.get(predecessor_header, "") for _, _, raw in bad] if predecessor_header else []
    broken = {p.strip() for cell in cells for p in re.split(ALIAS_SEPARATORS, cell)}
    broken.discard("")
    for r in good:
        shared = broken & {p.strip() for p in re.split(ALIAS_SEPARATORS, r["predecessor"])}
        if shared and r["row_number"] not in refused:
            refused[r["row_number"]] = (
                f"同一变更的另一行有误（前身“{'、'.join(sorted(shared))}”），请一并改正"
            )
    if not refused:
        return good, bad, planned
    kept = [r for r in good if r["row_number"] not in refused]
    bad = sorted(
        [
            *bad,
            *(
                (r["row_number"], refused[r["row_number"]], r["raw"])
                for r in good
                if r["row_number"] in refused
            ),
        ],
        key=lambda b: b[0],
    )
    planned = [p for p in planned if not set(p.rows) & set(refused)]
    return kept, bad, planned


def add_alias(
    con: duckdb.DuckDBPyConnection,
    compound_id: str,
    alias: str,
    source: str = "confirmed",
    user: str | None = None,
) -> bool:
    """Record another name for a compound (e.g. an analyst confirming an address). True if new."""
    alias = (alias or "").strip()
    if not alias:
        raise ValidationError("别名不能为空。", "The alias must not be empty.")
    with db.transaction(con) as cur:
        row = cur.execute("SELECT name FROM compounds WHERE compound_id = ?", [compound_id]).fetchone()
        if row is None:
            raise NotFound(f"小区编号“{compound_id}”不存在。", f"Compound {compound_id!r} does not exist.")
        if alias == row[0]:
            return False
        exists = cur.execute(
            "SELECT 1 FROM compound_aliases WHERE alias = ? AND compound_id = ?", [alias, compound_id]
        ).fetchone()
        if exists:
            return False
        cur.execute("INSERT INTO compound_aliases VALUES (?, ?, ?)", [alias, compound_id, source])
        db.audit(cur, user, "add_alias", {"compound_id": compound_id, "alias": alias, "source": source})
    return True
