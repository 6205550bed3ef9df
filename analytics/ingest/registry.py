"""The compound registry: subdistricts, communities, compounds, aliases, ratings, evaluations.

Imports read a CSV/XLSX (via `analytics.ingest.readers.read_table`) or a DataFrame, map headers onto the
fields below, check every row, store the good rows and keep the bad ones with a Chinese reason
(`rejected_rows`, under one `ingest_batches` row). Re-importing a registry updates compounds in
place and reports each changed value. Blank cells never erase a stored value: a partial file
(say, only ids and households) updates just what it carries.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import FileRejected, NotFound, ValidationError
from analytics.safe_text import strip_invisible
from analytics.store import db

# A compound built before this year counts as old (老旧小区) when the file gives no 新旧 column.
OLD_BEFORE_YEAR = 2000
EARLIEST_BUILT_YEAR = 1900
COMPOUND_TYPES: tuple[str, ...] = ("商开", "还建", "家属院", "混合")
# obvious variants seen in district spreadsheets -> canonical type
TYPE_SYNONYMS: dict[str, str] = {
    "商开": "商开",
    "商品房": "商开",
    "商业开发": "商开",
    "商品住宅": "商开",
    "开发商": "商开",
    "商业": "商开",
    "还建": "还建",
    "回迁": "还建",
    "安置": "还建",
    "拆迁安置": "还建",
    "还建房": "还建",
    "回迁房": "还建",
    "安置房": "还建",
    "家属院": "家属院",
    "单位家属院": "家属院",
    "家属区": "家属院",
    "家属楼": "家属院",
    "单位宿舍": "家属院",
    "职工宿舍": "家属院",
    "宿舍": "家属院",
    "混合": "混合",
    "混合型": "混合",
    "综合": "混合",
}
OLD_NEW_VALUES: dict[str, bool] = {
    "新": False,
    "新小区": False,
    "新建": False,
    "否": False,
    "旧": True,
    "老": True,
    "老旧": True,
    "旧小区": True,
    "老小区": True,
    "老旧小区": True,
    "是": True,
}
# China's extent, generously: a point outside is a typo or swapped columns
LAT_RANGE = (3.8, 53.6)
LON_RANGE = (73.5, 135.1)
ALIAS_SEPARATORS = r"[；;、,，|｜]"
STARS_RANGE = (1, 5)
SCORE_RANGE = (0.0, 100.0)
EVALUATION_LISTS: dict[str, str] = {"红榜": "红榜", "红": "红榜", "黑榜": "黑榜", "黑": "黑榜"}

# canonical registry field -> header synonyms (extended by analytics.ingest.columns.COMPOUND_FIELDS)
REGISTRY_FIELDS: dict[str, tuple[str, ...]] = {
    "compound_id": ("小区编号", "小区代码", "小区ID", "编号", "compound_id"),
    "name": ("小区名称", "小区名", "小区", "名称", "name"),
    "aliases": ("别名", "曾用名", "俗称", "其他名称", "aliases", "alias"),
    "community": ("所属社区", "社区", "社区名称", "community"),
    "subdistrict": ("所属街道", "街道", "街道办事处", "subdistrict"),
    "type": ("小区类型", "类型", "type"),
    "is_old": ("新旧", "新老", "新旧小区", "是否老旧小区", "is_old"),
    "built_year": ("建成年份", "建成年代", "竣工年份", "建成时间", "built_year"),
    "households": ("户数", "总户数", "住户数", "居民户数", "households"),
    "property_company": ("物业公司", "物业服务企业", "物业企业", "物业", "property_company"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
}
FIELD_LABELS: dict[str, str] = {
    "compound_id": "小区编号",
    "name": "小区名称",
    "aliases": "别名",
    "community": "所属社区",
    "subdistrict": "所属街道",
    "type": "小区类型",
    "is_old": "新旧",
    "built_year": "建成年份",
    "households": "户数",
    "property_company": "物业公司",
    "lon": "经度",
    "lat": "纬度",
}
REQUIRED_FIELDS = ("compound_id", "name")
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
RATING_FIELDS: dict[str, tuple[str, ...]] = {
    "compound_id": ("小区编号", "compound_id", "编号"),
    "period": ("评定周期", "周期", "评定期", "半年度", "period"),
    "stars": ("星级", "星级评定", "党支部星级", "stars"),
}
EVALUATION_FIELDS: dict[str, tuple[str, ...]] = {
    "company": ("物业公司", "物业服务企业", "企业名称", "company"),
    "quarter": ("季度", "考核季度", "评价季度", "quarter"),
    "score": ("得分", "考核得分", "分数", "score"),
    "list": ("红黑榜", "榜单", "list"),
}


@dataclass
class RegistryResult:
    """What an import did. `changes` has one row per changed value of an existing record."""

    file: str | None
    rows_read: int
    added: int
    updated: int
    unchanged: int
    rejected: int
    rejected_rows: pd.DataFrame = field(repr=False)  # row_number, reason, raw
    changes: pd.DataFrame = field(repr=False)  # compound_id, field, old, new
    batch_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain, JSON-serialisable summary (the batch interface prints it)."""
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "batch_id": self.batch_id,
            "rejected_rows": [
                {"row_number": int(r.row_number), "reason": r.reason}
                for r in self.rejected_rows.itertuples(index=False)
            ],
            "changes": [
                {"compound_id": c.compound_id, "field": c.field, "old": c.old, "new": c.new}
                for c in self.changes.itertuples(index=False)
            ],
        }


# --- reading and header mapping ------------------------------------------------------------


def _field_synonyms() -> dict[str, tuple[str, ...]]:
    """Our table, extended by the shared header synonyms when analytics.ingest.columns provides them."""
    merged = {k: list(v) for k, v in REGISTRY_FIELDS.items()}
    try:
        from analytics.ingest.columns import COMPOUND_FIELDS  # type: ignore[attr-defined]
    except ImportError:
        return {k: tuple(v) for k, v in merged.items()}
    items: list[tuple[str, Any]]
    if isinstance(COMPOUND_FIELDS, dict):
        items = list(COMPOUND_FIELDS.items())
    else:  # a sequence of field objects with a name and their headers
        items = [
            (getattr(f, "name", None), getattr(f, "synonyms", None) or getattr(f, "headers", None))
            for f in COMPOUND_FIELDS
        ]
    for name, headers in items:
        if name in merged and headers and not isinstance(headers, str):
            merged[name].extend(h for h in headers if isinstance(h, str) and h not in merged[name])
    return {k: tuple(v) for k, v in merged.items()}


def _norm_header(text: Any) -> str:
    text = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"[\s*＊:：]", "", text).casefold()


def _map_headers(
    headers: list[str],
    fields: dict[str, tuple[str, ...]],
    mapping: dict[str, str] | None,
    required: tuple[str, ...],
    what: str,
) -> dict[str, str]:
    """field -> header actually present in the file. Raises FileRejected on a missing required field."""
    if mapping:
        unknown = sorted(set(mapping) - set(fields))
        if unknown:
            raise ValidationError(
                f"映射中有未知字段：{'、'.join(unknown)}；可用字段：{'、'.join(fields)}。",
                f"Unknown fields in the mapping: {', '.join(unknown)}; known: {', '.join(fields)}.",
            )
        absent = [h for h in mapping.values() if h not in headers]
        if absent:
            raise FileRejected(
                f"映射中的表头在文件中不存在：{'、'.join(absent)}。文件中的表头：{'、'.join(headers)}。",
                f"Headers named in the mapping are not in the file: {', '.join(absent)}. "
                f"Headers found: {', '.join(headers)}.",
            )
    found: dict[str, str] = dict(mapping or {})
    by_norm = {_norm_header(h): h for h in reversed(headers)}
    taken = set(found.values())
    for name, synonyms in fields.items():
        if name in found:
            continue
        for synonym in synonyms:
            header = by_norm.get(_norm_header(synonym))
            if header is not None and header not in taken:
                found[name] = header
                taken.add(header)
                break
    missing = [name for name in required if name not in found]
    if missing:
        labels = "、".join(FIELD_LABELS.get(m, fields[m][0]) for m in missing)
        raise FileRejected(
            f"{what}缺少必需的列：{labels}。文件中的表头：{'、'.join(map(str, headers)) or '（无）'}。"
            "请检查表头，或提供映射（--mapping）。",
            f"The {what} file lacks required column(s): {', '.join(missing)} ({labels}). "
            f"Headers found: {', '.join(map(str, headers)) or '(none)'}. Fix the headers or give a mapping.",
        )
    return found


@dataclass
class _Table:
    frame: pd.DataFrame
    file_name: str | None
    sha256: str | None
    encoding: str | None
    sheet: str | None


def _read(source: str | Path | pd.DataFrame, sheet: str | int | None = None) -> _Table:
    """A file (CSV/XLSX, any encoding) or a DataFrame -> all-string frame with '' for blanks."""
    if isinstance(source, pd.DataFrame):
        frame, file_name, sha, encoding, sheet_name = source, None, None, None, None
    else:
        from analytics.ingest.readers import read_table

        path = Path(source)
        table = read_table(path, sheet=sheet)
        frame, encoding, sheet_name = table.frame, table.encoding, table.sheet
        file_name = path.name
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), "")
    # bidi overrides and other invisible characters would let a name read differently on screen
    frame = frame.apply(lambda col: col.map(lambda v: strip_invisible(v).strip()))
    return _Table(frame, file_name, sha, encoding, None if sheet_name is None else str(sheet_name))


# --- value parsing (each returns (value, reason or None)) ----------------------------------


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_households(text: str) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    cleaned = _nfkc(text).replace(",", "").removesuffix("户").strip()
    try:
        number = float(cleaned)
    except ValueError:
        return None, f"户数不是数字：“{text}”"
    if number != int(number) or number <= 0:
        return None, f"户数应为正整数：“{text}”"
    return int(number), None


def parse_type(text: str) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    key = _nfkc(text).replace(" ", "")
    for candidate in (key, key.removesuffix("小区"), key.removesuffix("类"), key.removesuffix("型")):
        if candidate in TYPE_SYNONYMS:
            return TYPE_SYNONYMS[candidate], None
    return None, f"小区类型无效：“{text}”（应为 {'/'.join(COMPOUND_TYPES)}）"


def parse_built_year(text: str, today: date | None = None) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    match = re.fullmatch(r"(\d{4})(?:\.0+)?\s*年?(?:代)?", _nfkc(text))
    latest = (today or date.today()).year
    if not match or not EARLIEST_BUILT_YEAR <= int(match.group(1)) <= latest:
        return None, f"建成年份无效：“{text}”（应为 {EARLIEST_BUILT_YEAR}–{latest} 的四位年份）"
    return int(match.group(1)), None


def parse_old_new(text: str, built_year: int | None) -> tuple[bool | None, str | None]:
    """新/旧/老 as given; else derived from the built year (old = built before OLD_BEFORE_YEAR)."""
    if text:
        key = _nfkc(text).replace(" ", "")
        if key in OLD_NEW_VALUES:
            return OLD_NEW_VALUES[key], None
        return None, f"新旧无效：“{text}”（应为 新/旧/老）"
    if built_year is not None:
        return built_year < OLD_BEFORE_YEAR, None
    return None, None


def _parse_coordinate(text: str, label: str, bounds: tuple[float, float]) -> tuple[float | None, str | None]:
    if not text:
        return None, None
    try:
        value = float(_nfkc(text))
    except ValueError:
        return None, f"{label}不是数字：“{text}”"
    if not bounds[0] <= value <= bounds[1]:
        return None, f"{label} {text} 超出中国范围（{bounds[0]}–{bounds[1]}），是否与经纬度填反？"
    return value, None


def split_aliases(text: str, name: str | None = None) -> list[str]:
    """Split on ；;、,| (full- or half-width); drop blanks, duplicates and the name itself."""
    out: list[str] = []
    for part in re.split(ALIAS_SEPARATORS, text or ""):
        alias = part.strip()
        if alias and alias != name and alias not in out:
            out.append(alias)
    return out


# --- compounds import ----------------------------------------------------------------------


def _existing(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, dict[str, str], dict[str, list[str]]]:
    compounds = db.query_df(con, "SELECT * FROM compounds").set_index("compound_id")
    communities = dict(db.query_df(con, "SELECT community, subdistrict FROM communities").values.tolist())
    aliases_df = db.query_df(
        con, "SELECT compound_id, alias FROM compound_aliases WHERE source = 'registry' ORDER BY alias"
    )
    aliases = aliases_df.groupby("compound_id")["alias"].agg(list).to_dict() if len(aliases_df) else {}
    return compounds, communities, aliases


def _plain(value: Any) -> Any:
    """numpy scalars -> Python, NaN/NA -> None (values read back from the store)."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, list | str):
        value = value.item()
    if isinstance(value, float) and pd.isna(value):
        return None
    return value


def _fmt(value: Any) -> str | None:
    """A stored or parsed value as text for the change report (None stays None)."""
    value = _plain(value)
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, bool):
        return "旧" if value else "新"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return "；".join(value)
    return str(value)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float) and not pd.isna(old):
        return abs(old - new) < 1e-9
    return _fmt(old) == _fmt(new)


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
            }
        )
    return good, bad


def _rejected_frame(bad: list[tuple[int, str, dict[str, str]]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(n, reason, json.dumps(raw, ensure_ascii=False)) for n, reason, raw in bad],
        columns=["row_number", "reason", "raw"],
    ).astype({"row_number": "int64"})


def _write_batch(
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    table: _Table,
    user: str | None,
    cols: dict[str, str],
    counts: dict[str, int],
    rejected: pd.DataFrame,
) -> int:
    batch_id = db.next_id(cur, "seq_batch")
    cur.execute(
        'INSERT INTO ingest_batches (batch_id, kind, file_name, sha256, "user", loaded_at, rows_read, '
        "inserted, updated, duplicates, rejected, unmatched, mapping, encoding, sheet) "
        "VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, 0, ?, 0, ?, ?, ?)",
        [
            batch_id,
            kind,
            table.file_name,
            table.sha256,
            user,
            counts["rows_read"],
            counts["added"],
            counts["updated"],
            counts["rejected"],
            json.dumps(cols, ensure_ascii=False),
            table.encoding,
            table.sheet,
        ],
    )
    if len(rejected):
        rows = rejected.assign(batch_id=batch_id)[["batch_id", "row_number", "reason", "raw"]]
        cur.register("rejected_df", rows)
        cur.execute("INSERT INTO rejected_rows SELECT batch_id, row_number, reason, raw FROM rejected_df")
        cur.unregister("rejected_df")
    return batch_id


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

_UPSERT_COMPOUNDS_SQL = (
    f"INSERT OR REPLACE INTO compounds ({', '.join(COMPOUND_DTYPES)}) SELECT * FROM compounds_df"  # noqa: S608
)


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
    cols = _map_headers(headers, _field_synonyms(), mapping, REQUIRED_FIELDS, "小区名册")
    stored, store_tree, stored_aliases = _existing(con)
    good, bad = _validate_compounds(table.frame, cols, store_tree)

    records: list[dict[str, Any]] = []
    alias_updates: dict[str, list[str]] = {}
    changes: list[tuple[str, str, str | None, str | None]] = []
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
            else:
                unchanged += 1
        else:
            added += 1
            records.append({"compound_id": cid, **{f: row[f] for f in COMPARED_FIELDS}})
            if row["aliases"]:
                alias_updates[cid] = row["aliases"]

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
            cur.execute("INSERT INTO subdistricts SELECT subdistrict FROM sub_df ON CONFLICT DO NOTHING")
            cur.unregister("sub_df")
        if new_tree:
            cur.register("tree_df", pd.DataFrame(sorted(new_tree), columns=["community", "subdistrict"]))
            cur.execute(
                "INSERT INTO communities SELECT community, subdistrict FROM tree_df ON CONFLICT DO NOTHING"
            )
            cur.unregister("tree_df")
        if records:
            frame = pd.DataFrame(records, columns=list(COMPOUND_DTYPES)).astype(COMPOUND_DTYPES)
            cur.register("compounds_df", frame)
            cur.execute(_UPSERT_COMPOUNDS_SQL)
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
                cur.execute(
                    "INSERT INTO compound_aliases SELECT alias, compound_id, 'registry' FROM alias_df ON CONFLICT DO NOTHING"
                )
                cur.unregister("alias_df")
        batch_id = _write_batch(cur, "compounds", table, user, cols, counts, rejected)
        db.audit(
            cur,
            user,
            "import_compounds",
            {"file": table.file_name, "batch_id": batch_id, **counts, "unchanged": unchanged},
        )
    return RegistryResult(
        file=table.file_name,
        rows_read=len(table.frame),
        added=added,
        updated=updated,
        unchanged=unchanged,
        rejected=len(bad),
        rejected_rows=rejected,
        changes=pd.DataFrame(changes, columns=["compound_id", "field", "old", "new"]),
        batch_id=batch_id,
    )


# --- ratings and property evaluations --------------------------------------------------------


def parse_period(text: str) -> tuple[str | None, str | None]:
    """'2023上半年', '2023年下半年', '2023H1', '2023-h2' -> '2023H1' / '2023H2'."""
    key = _nfkc(text).upper().replace(" ", "").replace("年", "").replace("-", "")
    match = re.fullmatch(r"(\d{4})(H[12]|上半|下半|上半年|下半年)", key)
    if not match:
        return None, f"评定周期无效：“{text}”（应为 2023上半年 或 2023H1 这样的形式）"
    half = "H1" if match.group(2) in ("H1", "上半", "上半年") else "H2"
    return f"{match.group(1)}{half}", None


def parse_stars(text: str) -> tuple[int | None, str | None]:
    key = _nfkc(text).replace(" ", "")
    if key and set(key) <= {"★"}:
        key = str(len(key))
    key = key.removesuffix("星级").removesuffix("星")
    digits = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5"}
    key = digits.get(key, key)
    if key.isdigit() and STARS_RANGE[0] <= int(key) <= STARS_RANGE[1]:
        return int(key), None
    return None, f"星级无效：“{text}”（应为 {STARS_RANGE[0]}–{STARS_RANGE[1]}）"


_QUARTER_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}


def parse_quarter(text: str) -> tuple[str | None, str | None]:
    """'2023Q3', '2023年第三季度', '2023年3季度', '2023-q3' -> '2023Q3'."""
    key = _nfkc(text).upper().replace(" ", "").replace("-", "").replace("年", "").replace("第", "")
    for zh, digit in _QUARTER_DIGITS.items():
        key = key.replace(zh, digit)
    match = re.fullmatch(r"(\d{4})(?:Q([1-4])|([1-4])季度?)", key)
    if not match:
        return None, f"季度无效：“{text}”（应为 2023Q3 或 2023年第三季度 这样的形式）"
    return f"{match.group(1)}Q{match.group(2) or match.group(3)}", None


def _simple_import(
    con: duckdb.DuckDBPyConnection,
    source: str | Path | pd.DataFrame,
    fields: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    what: str,
    kind: str,
    table_name: str,
    key: tuple[str, str],
    value_cols: tuple[str, ...],
    parse_row: Callable[[dict[str, str]], tuple[dict[str, Any] | None, list[str]]],
    user: str | None,
    mapping: dict[str, str] | None = None,
) -> RegistryResult:
    """Shared shape of the small imports: map, parse each row, upsert on `key`, keep bad rows."""
    table = _read(source)
    cols = _map_headers(list(table.frame.columns), fields, mapping, required, what)
    good: dict[tuple[str, str], dict[str, Any]] = {}
    bad: list[tuple[int, str, dict[str, str]]] = []
    for i, raw in enumerate(table.frame.to_dict("records")):
        row = {name: raw.get(header, "") for name, header in cols.items()}
        parsed, reasons = parse_row(row)
        k = None if parsed is None else (parsed[key[0]], parsed[key[1]])
        if not reasons and k in good:
            reasons = [f"与第 {good[k]['row_number']} 行重复"]
        if reasons or parsed is None:
            bad.append((i + 1, "；".join(reasons), raw))
        else:
            good[k] = {**parsed, "row_number": i + 1}
    stored = db.query_df(con, f"SELECT * FROM {table_name}")  # noqa: S608 - fixed table name
    stored_map = {(r[key[0]], r[key[1]]): r for r in stored.to_dict("records")}
    records, changes = [], []
    added = updated = unchanged = 0
    for k, row in good.items():
        old = stored_map.get(k)
        if old is None:
            added += 1
            records.append(row)
            continue
        diff = [
            (f"{k[0]}|{k[1]}", c, _fmt(old[c]), _fmt(row[c])) for c in value_cols if not _same(old[c], row[c])
        ]
        if diff:
            updated += 1
            changes += diff
            records.append(row)
        else:
            unchanged += 1
    rejected = _rejected_frame(bad)
    counts = {"rows_read": len(table.frame), "added": added, "updated": updated, "rejected": len(bad)}
    all_cols = [*key, *value_cols]
    with db.transaction(con) as cur:
        if records:
            cur.register("simple_df", pd.DataFrame(records)[all_cols])
            cur.execute(
                f"INSERT OR REPLACE INTO {table_name} ({', '.join(all_cols)}) SELECT * FROM simple_df"  # noqa: S608
            )
            cur.unregister("simple_df")
        batch_id = _write_batch(cur, kind, table, user, cols, counts, rejected)
        db.audit(cur, user, f"import_{kind}", {"file": table.file_name, "batch_id": batch_id, **counts})
    return RegistryResult(
        file=table.file_name,
        rows_read=len(table.frame),
        added=added,
        updated=updated,
        unchanged=unchanged,
        rejected=len(bad),
        rejected_rows=rejected,
        changes=pd.DataFrame(changes, columns=["compound_id", "field", "old", "new"]),
        batch_id=batch_id,
    )


def import_ratings(
    con: duckdb.DuckDBPyConnection,
    path_or_df: str | Path | pd.DataFrame,
    user: str | None = None,
    mapping: dict[str, str] | None = None,
) -> RegistryResult:
    """Half-year party-branch star ratings: 小区编号, 评定周期 (2023上半年 / 2023H1), 星级 1-5."""
    known = set(db.query_df(con, "SELECT compound_id FROM compounds")["compound_id"])

    def parse_row(row: dict[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
        reasons = []
        cid = row.get("compound_id", "")
        if not cid:
            reasons.append("缺少小区编号")
        elif cid not in known:
            reasons.append(f"小区编号“{cid}”不在小区名册中")
        period, why = parse_period(row.get("period", ""))
        reasons += [why] if why else []
        stars, why = parse_stars(row.get("stars", ""))
        reasons += [why] if why else []
        return {"compound_id": cid, "period": period, "stars": stars}, reasons

    return _simple_import(
        con,
        path_or_df,
        RATING_FIELDS,
        ("compound_id", "period", "stars"),
        "星级评定表",
        "ratings",
        "compound_ratings",
        ("compound_id", "period"),
        ("stars",),
        parse_row,
        user,
        mapping,
    )


def import_property_evaluations(
    con: duckdb.DuckDBPyConnection,
    path_or_df: str | Path | pd.DataFrame,
    user: str | None = None,
    mapping: dict[str, str] | None = None,
) -> RegistryResult:
    """Quarterly property-company evaluations: 物业公司, 季度, 得分 (0-100), 红黑榜 (红榜/黑榜/blank)."""

    def parse_row(row: dict[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
        reasons = []
        company = row.get("company", "")
        if not company:
            reasons.append("缺少物业公司")
        quarter, why = parse_quarter(row.get("quarter", ""))
        reasons += [why] if why else []
        score = None
        text = row.get("score", "")
        if text:
            try:
                score = float(_nfkc(text).removesuffix("分"))
            except ValueError:
                reasons.append(f"得分不是数字：“{text}”")
            else:
                if not SCORE_RANGE[0] <= score <= SCORE_RANGE[1]:
                    reasons.append(f"得分应在 {SCORE_RANGE[0]:g}–{SCORE_RANGE[1]:g} 之间：“{text}”")
        listed = row.get("list", "")
        list_value = None
        if listed and listed not in ("无", "-", "—"):
            list_value = EVALUATION_LISTS.get(_nfkc(listed))
            if list_value is None:
                reasons.append(f"红黑榜无效：“{listed}”（应为 红榜/黑榜/空）")
        return {"company": company, "quarter": quarter, "score": score, "list": list_value}, reasons

    return _simple_import(
        con,
        path_or_df,
        EVALUATION_FIELDS,
        ("company", "quarter"),
        "物业考核表",
        "evaluations",
        "property_evaluations",
        ("company", "quarter"),
        ("score", "list"),
        parse_row,
        user,
        mapping,
    )


# --- read helpers ------------------------------------------------------------------------------

_COMPOUNDS_SQL = """
WITH latest AS (
    SELECT compound_id, arg_max(stars, period) AS stars, max(period) AS stars_period
    FROM compound_ratings GROUP BY compound_id
), al AS (
    SELECT compound_id, string_agg(alias, '；' ORDER BY alias) AS aliases
    FROM compound_aliases GROUP BY compound_id
)
SELECT c.compound_id, c.name, coalesce(al.aliases, '') AS aliases, c.community,
       coalesce(c.subdistrict, cm.subdistrict) AS subdistrict, c.type, c.is_old, c.built_year,
       c.households, c.property_company, c.lat, c.lon, latest.stars, latest.stars_period
FROM compounds c
LEFT JOIN al USING (compound_id)
LEFT JOIN latest USING (compound_id)
LEFT JOIN communities cm ON cm.community = c.community
"""


def compounds_df(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every compound with its aliases ('；'-joined) and latest star rating, ordered by id."""
    return db.query_df(con, _COMPOUNDS_SQL + " ORDER BY c.compound_id")


def search_compounds(
    con: duckdb.DuckDBPyConnection, text: str, scope: list[str] | None = None, limit: int = 20
) -> pd.DataFrame:
    """Compounds whose id, name or an alias contains `text`, best first.

    `scope` limits the result to those compound ids (a task-force head's compounds); an empty
    scope finds nothing. Blank text lists compounds (within scope) by id.
    """
    needle = (text or "").strip()
    sql = f"""
    WITH base AS ({_COMPOUNDS_SQL}),
    hits AS (
        SELECT b.*,
            CASE
                WHEN lower(b.compound_id) = lower($1) THEN 0
                WHEN b.name = $1 THEN 1
                WHEN EXISTS (SELECT 1 FROM compound_aliases a WHERE a.compound_id = b.compound_id AND a.alias = $1) THEN 2
                WHEN starts_with(b.name, $1) OR starts_with(lower(b.compound_id), lower($1)) THEN 3
                WHEN contains(b.name, $1) OR contains(lower(b.compound_id), lower($1)) THEN 4
                WHEN EXISTS (SELECT 1 FROM compound_aliases a WHERE a.compound_id = b.compound_id AND contains(a.alias, $1)) THEN 5
                ELSE NULL
            END AS match_rank
        FROM base b
        WHERE $3::VARCHAR[] IS NULL OR list_contains($3::VARCHAR[], b.compound_id)
    )
    SELECT * EXCLUDE (match_rank) FROM hits
    WHERE $1 = '' OR match_rank IS NOT NULL
    ORDER BY match_rank NULLS LAST, compound_id
    LIMIT $2
    """  # noqa: S608 - the inner query is a constant
    return db.query_df(con, sql, [needle, int(limit), None if scope is None else [str(s) for s in scope]])


def compound_detail(con: duckdb.DuckDBPyConnection, compound_id: str) -> dict[str, Any]:
    """One compound: its fields, aliases (with source), star ratings, its company's evaluations
    and its task forces."""
    base = db.query_df(con, _COMPOUNDS_SQL + " WHERE c.compound_id = ?", [compound_id])
    if base.empty:
        raise NotFound(f"小区编号“{compound_id}”不存在。", f"Compound {compound_id!r} does not exist.")
    detail = {
        k: (None if v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v)
        for k, v in base.iloc[0].items()
    }
    detail["alias_list"] = db.query_df(
        con, "SELECT alias, source FROM compound_aliases WHERE compound_id = ? ORDER BY alias", [compound_id]
    ).to_dict("records")
    detail["ratings"] = db.query_df(
        con, "SELECT period, stars FROM compound_ratings WHERE compound_id = ? ORDER BY period", [compound_id]
    ).to_dict("records")
    detail["property_evaluations"] = db.query_df(
        con,
        "SELECT quarter, score, list FROM property_evaluations WHERE company = ? ORDER BY quarter",
        [detail["property_company"]],
    ).to_dict("records")
    detail["task_forces"] = db.query_df(
        con,
        "SELECT taskforce_id, leader, head, start_date, end_date, status FROM task_forces "
        "WHERE compound_id = ? ORDER BY start_date",
        [compound_id],
    ).to_dict("records")
    return detail


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


def tree(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """subdistrict -> community -> compound, one row per compound."""
    return db.query_df(
        con,
        """
        SELECT coalesce(c.subdistrict, cm.subdistrict) AS subdistrict, c.community, c.compound_id, c.name,
               c.households
        FROM compounds c LEFT JOIN communities cm ON cm.community = c.community
        ORDER BY subdistrict NULLS LAST, c.community NULLS LAST, c.compound_id
        """,
    )
