"""Registry changes with effective dates: a compound renamed, split or merged from a day on.

A change is one row per (predecessor, successor) in `compound_changes`, under one change_id:
a rename has one predecessor and one successor, a split one predecessor and several successors,
a merge several predecessors and one successor. A compound on both sides of a change continues
through it (a rename in place keeps its id; "A merged into the existing B" is from A, B to B).
Validity follows from the changes (`refresh_validity`): a predecessor that does not continue is
valid until the change date (valid_to, exclusive), a successor that was not a predecessor from it
(valid_from). A compound renamed in place keeps its former name as an alias (source 'former')
valid until the change date (`compound_alias_periods`).

Where a ticket belongs (`resolve_dated`), for a row with compound c, day t and address a,
repeated until nothing moves (at most MAX_STEPS steps, never revisiting a compound):
1. c is a successor that started on day s > t (the ticket predates it): move to the change's
   predecessor; of several (a merge), to the one the address names; when it names none, stay.
2. c ended by a change on day s <= t: a rename or merge moves the ticket to the one successor;
   a split moves it to the successor the address names (its name or alias in the address, or the
   predecessor's name together with the part that tells the successor apart, e.g. 东区 in
   翠华苑小区东区8号楼), else to the successor an analyst settled for that address
   (`settle_split`); otherwise the ticket stays on the predecessor, counted, and is listed by
   `unsettled_splits` ("split, successor unknown").
3. A row without a compound whose address names a compound involved in a change (the longest
   registry name or alias found in the address is that compound's, and the analyst has not
   rejected the address) is given that compound first. The matcher reads 翠华苑东区 and 翠华苑
   as the same core, so once a split's successors are registered, such addresses come back
   ambiguous; this keeps them counted in the lineage instead of dropping them.
Decisions depend on a ticket's day only through the change dates, so rows are resolved once per
(compound, address, interval between change dates) and written back with one UPDATE.

`lineage` gives every compound the original unit it belongs to (the connected component of the
change graph, rooted at its member that no change created, the smallest id first), so an effect
estimate can follow a split compound as one unit; `registry_events` lists the changes per
compound for the pages' markers.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import NotFound, ValidationError
from analytics.ingest.columns import Field
from analytics.ingest.registry.edit import record_versions
from analytics.ingest.registry.values import ALIAS_SEPARATORS
from analytics.store import db

CHANGE_KINDS: tuple[str, ...] = ("rename", "split", "merge")
KIND_LABELS: dict[str, tuple[str, str]] = {
    "rename": ("更名", "rename"),
    "split": ("拆分", "split"),
    "merge": ("合并", "merge"),
}
# what a registry file may write in 变更类型
KIND_WORDS: dict[str, str] = {
    "更名": "rename", "改名": "rename", "rename": "rename", "renamed": "rename",
    "拆分": "split", "分设": "split", "split": "split",
    "合并": "merge", "并入": "merge", "merge": "merge", "merged": "merge",
}  # fmt: skip
# The registry file's change columns (beside analytics.ingest.columns.COMPOUND_FIELDS).
# 前身 names the compound(s) a row's compound continues, by id or name; 生效日期 is its first day.
CHANGE_FIELDS: tuple[Field, ...] = (
    Field(
        "predecessor",
        "前身",
        ("前身", "前身小区", "前身编号", "原小区", "原小区编号", "原小区名称", "predecessor", "predecessors"),
    ),
    Field(
        "effective_date",
        "生效日期",
        (
            "生效日期",
            "变更日期",
            "生效时间",
            "变更生效日期",
            "effective_date",
            "effective date",
            "change_date",
        ),
        kind="datetime",
    ),
    Field("change_kind", "变更类型", ("变更类型", "变更方式", "change_kind", "change_type", "change kind")),
)
FORMER_ALIAS_SOURCE = "former"
MAX_STEPS = 20  # a ticket follows at most this many changes (chains are short)
EARLIEST = pd.Timestamp("1900-01-01")
LATEST = pd.Timestamp("2200-01-01")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
MIN_DISTINCT_CHARS = 2  # 东区: the shortest part that tells a split's successors apart


@dataclass(frozen=True)
class Change:
    """One recorded change and what it did to the stored tickets."""

    change_id: int
    kind: str
    change_date: dt.date
    from_ids: tuple[str, ...]
    to_ids: tuple[str, ...]
    tickets_moved: int
    unsettled: int  # tickets a split left on its predecessor (address names no successor)
    message_zh: str
    message_en: str

    def as_json(self) -> dict[str, Any]:
        return {
            "change_id": self.change_id,
            "kind": self.kind,
            "date": self.change_date.isoformat(),
            "from": list(self.from_ids),
            "to": list(self.to_ids),
            "tickets_moved": self.tickets_moved,
            "unsettled": self.unsettled,
            "message": self.message_zh,
            "message_en": self.message_en,
        }


CHANGE_COLUMNS = [
    "change_id", "kind", "change_date", "from_ids", "to_ids", "tickets_moved", "unsettled",
    "message_zh", "message_en",
]  # fmt: skip


def changes_frame(changes: Iterable[Change]) -> pd.DataFrame:
    """Changes as a table (CHANGE_COLUMNS; ids '；'-joined)."""
    rows = [
        (c.change_id, c.kind, c.change_date, "；".join(c.from_ids), "；".join(c.to_ids), c.tickets_moved,
         c.unsettled, c.message_zh, c.message_en)
        for c in changes
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


# --------------------------------------------------------------------------- values


def parse_change_date(value: Any) -> tuple[dt.date | None, str | None]:
    """'2024-01', '2024-01-01', '2024/1/1', '2024年1月', '2024.01', a date -> the day (a month
    means its first day)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return pd.Timestamp(value).date(), None
    if isinstance(value, dt.date):
        return value, None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?\s*月?(?:\s+00:00(?::00)?)?", text
    )
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)), None
        except ValueError:
            pass
    return None, f"生效日期无效：“{value}”（应为 2024-01-01 或 2024-01 这样的形式）"


def parse_kind(text: str) -> tuple[str | None, str | None]:
    key = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not key:
        return None, None
    if key in KIND_WORDS:
        return KIND_WORDS[key], None
    return None, f"变更类型无效：“{text}”（应为 更名/拆分/合并）"


def _as_date(value: Any) -> dt.date:
    day, why = parse_change_date(value)
    if day is None:
        raise ValidationError(
            why or "缺少生效日期。", f"The effective date {value!r} is not a date (use 2024-01-01)."
        )
    return day


def _norm(text: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------- the change graph


@dataclass
class _Graph:
    """The recorded changes, and the names of the compounds they involve."""

    edges: pd.DataFrame  # change_id, kind, change_date, from_compound, to_compound
    texts: dict[str, list[str]]  # compound -> its name and aliases, normalised
    names: dict[str, str]  # compound -> name
    settled: dict[tuple[int, str], str] = field(default_factory=dict)  # (change_id, address) -> compound

    def __post_init__(self) -> None:
        self.kind: dict[int, str] = {}
        self.day: dict[int, dt.date] = {}
        self.froms: dict[int, list[str]] = {}
        self.tos: dict[int, list[str]] = {}
        for e in self.edges.itertuples(index=False):
            cid = int(e.change_id)
            self.kind[cid] = e.kind
            self.day[cid] = pd.Timestamp(e.change_date).date()
            self.froms.setdefault(cid, [])
            self.tos.setdefault(cid, [])
            if e.from_compound not in self.froms[cid]:
                self.froms[cid].append(e.from_compound)
            if e.to_compound not in self.tos[cid]:
                self.tos[cid].append(e.to_compound)
        self.ends: dict[str, list[int]] = {}  # compound -> changes that end it, by date
        self.starts: dict[str, list[int]] = {}  # compound -> changes that create it
        for cid in sorted(self.kind, key=lambda c: (self.day[c], c)):
            for c in self.froms[cid]:
                if c not in self.tos[cid]:
                    self.ends.setdefault(c, []).append(cid)
            for c in self.tos[cid]:
                if c not in self.froms[cid]:
                    self.starts.setdefault(c, []).append(cid)

    def valid_from(self, compound: str) -> dt.date | None:
        days = [self.day[c] for c in self.starts.get(compound, [])]
        return min(days) if days else None

    def valid_to(self, compound: str) -> dt.date | None:
        days = [self.day[c] for c in self.ends.get(compound, [])]
        return min(days) if days else None

    def involved(self) -> set[str]:
        return set(self.edges["from_compound"]) | set(self.edges["to_compound"])

    def named(self, address: str, candidates: Sequence[str], predecessors: Sequence[str] = ()) -> str | None:
        """The one candidate the address names (longest name or alias found in it; for a split
        successor also the predecessor's name with the part that tells the successor apart)."""
        text = _norm(address)
        if not text:
            return None
        best: dict[str, int] = {}
        for c in candidates:
            for t in self.texts.get(c, []):
                if t and t in text:
                    best[c] = max(best.get(c, 0), len(t))
            name = _norm(self.names.get(c, ""))
            for p in predecessors:
                pname = _norm(self.names.get(p, ""))
                rest = name[len(pname) :] if pname and name.startswith(pname) else ""
                if len(rest) >= MIN_DISTINCT_CHARS and pname in text and rest in text:
                    best[c] = max(best.get(c, 0), len(name))
        if not best:
            return None
        top = max(best.values())
        winners = [c for c, n in best.items() if n == top]
        return winners[0] if len(winners) == 1 else None

    def resolve(self, compound: str, day: dt.date, address: str | None) -> str:
        """Where a ticket of `compound` on `day` with `address` belongs (module docstring)."""
        seen = {compound}
        for _ in range(MAX_STEPS):
            nxt = self._step(compound, day, address)
            if nxt is None or nxt in seen:
                return compound
            seen.add(nxt)
            compound = nxt
        return compound

    def _step(self, compound: str, day: dt.date, address: str | None) -> str | None:
        start = self.valid_from(compound)
        if start is not None and day < start:
            change = next(c for c in self.starts[compound] if self.day[c] == start)
            preds = [p for p in self.froms[change] if p != compound]
            if len(preds) == 1:
                return preds[0]
            return self.named(address or "", preds)
        ended = [c for c in self.ends.get(compound, []) if self.day[c] <= day]
        if not ended:
            return None
        change = ended[0]
        succ = self.tos[change]
        if len(succ) == 1:
            return succ[0]
        named = self.named(address or "", succ, self.froms[change])
        if named is not None:
            return named
        return self.settled.get((change, (address or "").strip()))


def _store_prefix(cur: duckdb.DuckDBPyConnection) -> str:
    """The catalog that holds the store's tables, as a prefix ('' when it is the default one):
    a staging cursor whose default catalog is another database still reads the store."""
    rows = cur.execute(
        "SELECT database_name, database_name = current_database() FROM duckdb_tables() "
        "WHERE table_name = 'compound_changes' AND schema_name = 'main' ORDER BY 2 DESC, 1"
    ).fetchall()
    if not rows:
        raise NotFound(
            "数据库缺少 compound_changes 表，请先升级数据库。", "The store lacks compound_changes."
        )
    return "" if rows[0][1] else f"{_quote(rows[0][0])}.main."


def _graph(cur: duckdb.DuckDBPyConnection, prefix: str = "") -> _Graph:
    edges = cur.execute(
        f"SELECT change_id, kind, change_date, from_compound, to_compound FROM {prefix}compound_changes "  # noqa: S608
        "ORDER BY change_id, from_compound, to_compound"
    ).df()
    texts: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    settled: dict[tuple[int, str], str] = {}
    if len(edges):
        for cid, name in cur.execute(f"SELECT compound_id, name FROM {prefix}compounds").fetchall():  # noqa: S608
            names[cid] = name
            texts.setdefault(cid, []).append(_norm(name))
        for alias, cid in cur.execute(f"SELECT alias, compound_id FROM {prefix}compound_aliases").fetchall():  # noqa: S608
            texts.setdefault(cid, []).append(_norm(alias))
        for change_id, address, cid in cur.execute(
            f"SELECT change_id, address, compound_id FROM {prefix}split_settlements"  # noqa: S608
        ).fetchall():
            settled[(int(change_id), address)] = cid
    return _Graph(edges, texts, names, settled)


# --------------------------------------------------------------------------- resolving tickets


def resolve_dated(cur: duckdb.DuckDBPyConnection, table: str) -> int:
    """Move every row of `table` (columns compound_id, created_at, and address when it has one)
    to the compound valid at its date, as the module docstring says; returns the rows moved.

    `cur` may be a cursor of the store or of a staging database attached to the store's instance
    (the store's tables are found by catalog); `table` may be qualified ("stg_x.final"). Runs
    inside the caller's transaction, if any."""
    return _resolve(cur, table, None)


def _resolve(cur: duckdb.DuckDBPyConnection, table: str, log_change: int | None) -> int:
    if not _TABLE_NAME.match(table):
        raise ValueError(f"not a table name: {table!r}")
    prefix = _store_prefix(cur)
    graph = _graph(cur, prefix)
    if graph.edges.empty:
        return 0
    columns = {d[0] for d in cur.execute(f"SELECT * FROM {table} LIMIT 0").description}  # noqa: S608
    address = "address" if "address" in columns else "NULL"
    days = sorted(set(graph.day.values()))
    bounds = [EARLIEST, *(pd.Timestamp(d) for d in days), LATEST]
    bucket = "CASE " + " ".join("WHEN x.created_at < ? THEN ? " for _ in days) + f"ELSE {len(days)} END"
    bucket_params: list[Any] = [v for i, d in enumerate(days) for v in (pd.Timestamp(d).to_pydatetime(), i)]
    keys = _keys(cur, table, prefix, graph, address, bucket, bucket_params)
    if keys.empty:
        return 0
    moves = []
    for cid, addr, b in keys.itertuples(index=False):
        day = (bounds[int(b)] if int(b) > 0 else bounds[1] - pd.Timedelta(days=1)).date()
        start = cid
        if cid is None:
            start = _fill(graph, addr)
            if start is None:
                continue
        new = graph.resolve(start, day, addr)
        if new != cid:
            moves.append((cid, addr, bounds[int(b)], bounds[int(b) + 1], new))
    if not moves:
        return 0
    frame = pd.DataFrame(moves, columns=["compound_id", "address", "start_at", "stop_at", "new_id"]).astype(
        {"compound_id": "string", "address": "string", "new_id": "string"}
    )
    on = (
        f"x.compound_id IS NOT DISTINCT FROM m.compound_id AND {'x.' if address != 'NULL' else ''}{address} "
        "IS NOT DISTINCT FROM m.address AND x.created_at >= m.start_at AND x.created_at < m.stop_at"
    )
    cur.register("dated_moves", frame)
    try:
        if log_change is not None:
            cur.execute(
                f"INSERT INTO compound_change_moves SELECT ?, x.ticket_id, x.compound_id, m.new_id "  # noqa: S608
                f"FROM {table} x JOIN dated_moves m ON {on}",
                [log_change],
            )
        moved = cur.execute(
            f"UPDATE {table} AS x SET compound_id = m.new_id FROM dated_moves m WHERE {on}"  # noqa: S608
        ).fetchone()[0]
    finally:
        cur.unregister("dated_moves")
    return int(moved)


def _keys(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    prefix: str,
    graph: _Graph,
    address: str,
    bucket: str,
    bucket_params: list[Any],
) -> pd.DataFrame:
    """Distinct (compound_id, address, bucket) of the rows a change can concern: those on an
    involved compound, and those without one whose address holds an involved compound's name."""
    involved = sorted(graph.involved())
    needles = sorted({t for c in involved for t in graph.texts.get(c, []) if len(t) >= MIN_DISTINCT_CHARS})
    addr = f"x.{address}" if address != "NULL" else "NULL"
    unmatched = "FALSE"
    if address != "NULL" and needles:
        rejected = f"NOT EXISTS (SELECT 1 FROM {prefix}address_matches r WHERE r.address = trim({addr}) AND r.status = 'rejected')"  # noqa: S608
        names_one = (
            f"list_bool_or(list_transform(?::VARCHAR[], lambda n: contains(replace({addr}, ' ', ''), n)))"
        )
        unmatched = f"x.compound_id IS NULL AND {names_one} AND {rejected}"
    sql = f"""
        SELECT DISTINCT x.compound_id, {addr} AS address, {bucket} AS bucket
        FROM {table} x
        WHERE list_contains(?::VARCHAR[], x.compound_id) OR ({unmatched})
    """  # noqa: S608 - names checked by _TABLE_NAME, values are parameters
    params = [*bucket_params, involved] + ([needles] if unmatched != "FALSE" else [])
    keys = cur.execute(sql, params).df()
    return keys.astype(object).where(keys.notna(), None)


def _fill(graph: _Graph, address: str | None) -> str | None:
    """The involved compound an unmatched address names: the longest registry name or alias in
    it must belong to an involved compound, and to one only."""
    text = _norm(address)
    if not text:
        return None
    best: dict[str, int] = {}
    for c, texts in graph.texts.items():
        for t in texts:
            if len(t) >= MIN_DISTINCT_CHARS and t in text:
                best[c] = max(best.get(c, 0), len(t))
    if not best:
        return None
    top = max(best.values())
    winners = [c for c, n in best.items() if n == top]
    return winners[0] if len(winners) == 1 and winners[0] in graph.involved() else None


# --------------------------------------------------------------------------- recording


def refresh_validity(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, dict[str, list[Any]]]]:
    """Set compounds.valid_from / valid_to from compound_changes (inside the caller's
    transaction); returns (compound_id, {field: [old, new]}) for each compound that changed."""
    graph = _graph(cur)
    stored = cur.execute(
        "SELECT compound_id, valid_from, valid_to FROM compounds "
        "WHERE valid_from IS NOT NULL OR valid_to IS NOT NULL OR list_contains(?::VARCHAR[], compound_id)",
        [sorted(graph.involved())],
    ).fetchall()
    diffs: list[tuple[str, dict[str, list[Any]]]] = []
    rows = []
    for cid, old_from, old_to in stored:
        new_from, new_to = graph.valid_from(cid), graph.valid_to(cid)
        diff = {
            f: [None if o is None else o.isoformat(), None if n is None else n.isoformat()]
            for f, o, n in (("valid_from", old_from, new_from), ("valid_to", old_to, new_to))
            if o != n
        }
        if diff:
            diffs.append((cid, diff))
            rows.append((cid, new_from, new_to))
    if rows:
        frame = pd.DataFrame(rows, columns=["compound_id", "valid_from", "valid_to"])
        frame[["valid_from", "valid_to"]] = frame[["valid_from", "valid_to"]].apply(pd.to_datetime)
        cur.register("validity_df", frame)
        try:
            cur.execute(
                "UPDATE compounds SET valid_from = CAST(v.valid_from AS DATE), valid_to = CAST(v.valid_to AS DATE) "
                "FROM validity_df v WHERE compounds.compound_id = v.compound_id"
            )
        finally:
            cur.unregister("validity_df")
    return diffs


def _label(names: Mapping[str, str], ids: Sequence[str], zh: bool) -> str:
    if zh:
        return "、".join(f"{names.get(i, i)}（{i}）" for i in ids)
    return ", ".join(f"{names.get(i, i)} ({i})" for i in ids)


def describe(
    kind: str, day: dt.date, from_ids: Sequence[str], to_ids: Sequence[str], names: Mapping[str, str]
) -> tuple[str, str]:
    """The change in plain words, Chinese and English. `names` maps ids to names; an id on both
    sides of a rename maps to its new name, its former name under (id, 'former')."""
    when = day.isoformat()
    if kind == "rename" and list(from_ids) == list(to_ids):
        cid = from_ids[0]
        old, new = names.get(f"{cid}\x00former", cid), names.get(cid, cid)
        return (
            f"自 {when} 起，{old}（{cid}）更名为{new}；原名保留为别名，此前的工单不变。",
            f"From {when}, {old} ({cid}) is renamed {new}; the former name stays an alias.",
        )
    src_zh, dst_zh = _label(names, from_ids, True), _label(names, to_ids, True)
    src_en, dst_en = _label(names, from_ids, False), _label(names, to_ids, False)
    verb_zh = {"rename": "更名为", "split": "拆分为", "merge": "合并为"}[kind]
    verb_en = {"rename": "is renamed", "split": "is split into", "merge": "are merged into"}[kind]
    return (
        f"自 {when} 起，{src_zh}{verb_zh}{dst_zh}；此前的工单仍属原小区。",
        f"From {when}, {src_en} {verb_en} {dst_en}; earlier tickets stay with the former compound(s).",
    )


def _check(cur: duckdb.DuckDBPyConnection, kind: str, from_ids: Sequence[str], to_ids: Sequence[str]) -> None:
    """ValidationError / NotFound when the change cannot be recorded as given."""
    if kind not in CHANGE_KINDS:
        raise ValidationError(
            f"变更类型应为 更名/拆分/合并（rename/split/merge），填写的是“{kind}”。",
            f"The kind of change must be rename, split or merge (got {kind!r}).",
        )
    counts = {"rename": (1, 1), "split": (1, 2), "merge": (2, 1)}[kind]
    n_from = len([f for f in from_ids if f not in to_ids]) or len(from_ids)
    shape_ok = (
        (len(from_ids) == 1 and len(to_ids) == 1)
        if kind == "rename"
        else (len(from_ids) == 1 and len(to_ids) >= counts[1])
        if kind == "split"
        else (len(from_ids) >= counts[0] and len(to_ids) == 1 and n_from >= 1)
    )
    if not shape_ok or len(set(from_ids)) != len(from_ids) or len(set(to_ids)) != len(to_ids):
        raise ValidationError(
            "更名是一个前身对一个后继，拆分是一个前身对多个后继，合并是多个前身对一个后继（编号不可重复）。",
            "A rename has one predecessor and one successor, a split one predecessor and several "
            "successors, a merge several predecessors and one successor (no id twice).",
        )
    ids = sorted(set(from_ids) | set(to_ids))
    known = {
        r[0]
        for r in cur.execute(
            "SELECT compound_id FROM compounds WHERE list_contains(?, compound_id)", [ids]
        ).fetchall()
    }
    missing = [i for i in ids if i not in known]
    if missing:
        raise NotFound(
            f"小区编号不存在：{'、'.join(missing)}。请先在小区名册中登记后继小区。",
            f"Unknown compound id(s): {', '.join(missing)}. Register the successors first.",
        )
    graph = _graph(cur)
    for f in from_ids:
        if f not in to_ids and graph.ends.get(f):
            day = graph.day[graph.ends[f][0]]
            raise ValidationError(
                f"小区 {f} 已于 {day.isoformat()} 变更，不能再次作为前身结束。",
                f"Compound {f} already changed on {day.isoformat()}; it cannot end again.",
            )
    for t in to_ids:
        if t not in from_ids and graph.starts.get(t):
            raise ValidationError(
                f"小区 {t} 已是另一次变更的后继。",
                f"Compound {t} is already the successor of another change.",
            )
    ancestors = _ancestors(graph, from_ids)
    loops = [t for t in to_ids if t in ancestors and t not in from_ids]
    if loops:
        raise ValidationError(
            f"变更会形成循环：{'、'.join(loops)} 是前身的前身。",
            f"The change would make a loop: {', '.join(loops)} came before the predecessor.",
        )


def _ancestors(graph: _Graph, ids: Iterable[str]) -> set[str]:
    todo, seen = list(ids), set()
    while todo:
        c = todo.pop()
        for change in graph.starts.get(c, []):
            for p in graph.froms[change]:
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
    return seen


def _record(
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    day: dt.date,
    from_ids: Sequence[str],
    to_ids: Sequence[str],
    user: str | None,
    batch_id: int | None = None,
    former_name: str | None = None,
) -> Change:
    """Record one change inside the caller's transaction: its rows, the validity it implies, a
    former name kept as an alias (a rename in place), the stored tickets moved (logged for undo),
    a version of each compound it touches and an audit line."""
    _check(cur, kind, from_ids, to_ids)
    names = dict(
        cur.execute(
            "SELECT compound_id, name FROM compounds WHERE list_contains(?, compound_id)",
            [sorted(set(from_ids) | set(to_ids))],
        ).fetchall()
    )
    in_place = kind == "rename" and list(from_ids) == list(to_ids)
    if in_place:
        if not former_name or former_name == names[from_ids[0]]:
            raise ValidationError(
                "原地更名须给出与现名不同的原名。",
                "A rename in place needs a former name other than the current one.",
            )
        names[f"{from_ids[0]}\x00former"] = former_name
    change_id = int(cur.execute("SELECT coalesce(max(change_id), 0) + 1 FROM compound_changes").fetchone()[0])
    for f in from_ids:
        for t in to_ids:
            cur.execute(
                "INSERT INTO compound_changes (change_id, kind, change_date, from_compound, to_compound, "
                'from_name, to_name, batch_id, recorded_at, "user") VALUES (?, ?, ?, ?, ?, ?, ?, ?, now(), ?)',
                [change_id, kind, day, f, t, former_name if in_place else names[f], names[t], batch_id, user],
            )
    if in_place:
        cid = from_ids[0]
        db.merge(
            cur,
            "compound_aliases",
            ["alias", "compound_id", "source"],
            ["alias", "compound_id"],
            "VALUES (?, ?, ?)",
            [former_name, cid, FORMER_ALIAS_SOURCE],
            update=[],
        )
        db.merge(
            cur,
            "compound_alias_periods",
            ["alias", "compound_id", "valid_from", "valid_to", "change_id"],
            ["alias", "compound_id"],
            "SELECT ?, ?, NULL::DATE, ?::DATE, ?::INTEGER",
            [former_name, cid, day, change_id],
        )
    validity = dict(refresh_validity(cur))
    moved = _resolve(cur, "tickets", change_id)
    unsettled = _unsettled_count(cur, change_id)
    zh, en = describe(kind, day, from_ids, to_ids, names)
    if moved:
        zh += f"已将 {moved} 张工单归入变更后的小区。"
        en += f" {moved} stored tickets moved."
    if unsettled:
        zh += f"{unsettled} 张工单的地址未写明属于哪个新小区，暂留在原小区，待分析员核定。"
        en += f" {unsettled} tickets name no successor and stay on the predecessor until an analyst settles them."
    versions = {
        c: {"registry_change": [None, zh], **validity.get(c, {})} for c in dict.fromkeys([*from_ids, *to_ids])
    }
    record_versions(cur, versions, user, "change", batch_id)
    change = Change(change_id, kind, day, tuple(from_ids), tuple(to_ids), moved, unsettled, zh, en)
    # the audit log says it in its own words (analytics.reports.audit_text): no message text
    db.audit(
        cur,
        user,
        "registry.change",
        {k: v for k, v in change.as_json().items() if not k.startswith("message")},
    )
    return change


def record_change(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    change_date: dt.date | str,
    from_ids: Sequence[str],
    to_ids: Sequence[str],
    user: str | None = None,
) -> Change:
    """Record that `from_ids` became `to_ids` from `change_date` on (kind rename / split /
    merge; all compounds registered already). One transaction: the change, the validity, the
    stored tickets moved to the compound valid at their dates, versions and an audit line.
    ValidationError / NotFound (Chinese and English) when the change does not fit."""
    day = _as_date(change_date)
    froms, tos = [str(i).strip() for i in from_ids], [str(i).strip() for i in to_ids]
    if kind == "rename" and froms == tos:
        raise ValidationError(
            "更名请给出新的小区编号；只改名称请在小区名册中修改并填写生效日期。",
            "A rename needs a new compound id; to change only the name, edit the registry with an effective date.",
        )
    with db.transaction(con) as cur:
        return _record(cur, kind, day, froms, tos, user)


def settle_split(
    con: duckdb.DuckDBPyConnection, change_id: int, address: str, compound_id: str, user: str | None = None
) -> int:
    """An analyst says tickets at `address` after split `change_id` belong to the successor
    `compound_id`: remembered (later uploads follow it through resolve_dated) and applied to the
    stored tickets; returns the tickets moved."""
    address = str(address or "").strip()
    with db.transaction(con) as cur:
        graph = _graph(cur)
        if graph.kind.get(int(change_id)) != "split":
            raise NotFound(f"没有编号为 {change_id} 的拆分。", f"There is no split {change_id}.")
        if compound_id not in graph.tos[int(change_id)]:
            raise ValidationError(
                f"{compound_id} 不是这次拆分的后继小区（{'、'.join(graph.tos[int(change_id)])}）。",
                f"{compound_id} is not a successor of this split ({', '.join(graph.tos[int(change_id)])}).",
            )
        db.merge(
            cur,
            "split_settlements",
            ["change_id", "address", "compound_id", "user", "settled_at"],
            ["change_id", "address"],
            "SELECT ?::INTEGER, ?, ?, ?, now()",
            [int(change_id), address, compound_id, user],
        )
        moved = _resolve(cur, "tickets", int(change_id))
        db.audit(
            cur, user, "registry.settle_split",
            {"change_id": int(change_id), "address": address, "compound_id": compound_id, "tickets": moved},
        )  # fmt: skip
    return moved


def undo_change(con: duckdb.DuckDBPyConnection, change_id: int, user: str | None = None) -> dict[str, Any]:
    """Take back a recorded change: its rows, settlements and former-name alias go, validity is
    derived again and the stored tickets it moved go back where they were (those a later upload
    placed stay where that upload put them). Refused while a later change involves the same
    compounds (undo that first). Registry imports themselves are not undone: the compounds they
    added stay."""
    change_id = int(change_id)
    with db.transaction(con) as cur:
        graph = _graph(cur)
        if change_id not in graph.kind:
            raise NotFound(
                f"没有编号为 {change_id} 的小区变更。", f"There is no registry change {change_id}."
            )
        mine = set(graph.froms[change_id]) | set(graph.tos[change_id])
        later = sorted(
            c for c in graph.kind if c > change_id and mine & (set(graph.froms[c]) | set(graph.tos[c]))
        )
        if later:
            ids = "、".join(map(str, later))
            raise ValidationError(
                f"不能撤销变更 {change_id}：之后的变更（{ids}）涉及相同小区，请先撤销它们。",
                f"Cannot undo change {change_id}: later change(s) {ids} involve the same compounds; undo those first.",
            )
        restored = cur.execute(
            """UPDATE tickets SET compound_id = mv.from_compound FROM compound_change_moves mv
               WHERE mv.change_id = ? AND tickets.ticket_id = mv.ticket_id
                 AND tickets.compound_id IS NOT DISTINCT FROM mv.to_compound""",
            [change_id],
        ).fetchone()[0]
        cur.execute(
            """DELETE FROM compound_aliases WHERE source = ? AND (alias, compound_id) IN
               (SELECT (alias, compound_id) FROM compound_alias_periods WHERE change_id = ?)""",
            [FORMER_ALIAS_SOURCE, change_id],
        )
        for table in (
            "compound_alias_periods",
            "compound_change_moves",
            "split_settlements",
            "compound_changes",
        ):
            cur.execute(f"DELETE FROM {table} WHERE change_id = ?", [change_id])  # noqa: S608 - fixed names
        validity = dict(refresh_validity(cur))
        versions = {
            c: {"registry_change_undone": [change_id, None], **validity.get(c, {})} for c in sorted(mine)
        }
        record_versions(cur, versions, user, "change", None)
        detail = {"change_id": change_id, "tickets_restored": int(restored)}
        db.audit(cur, user, "registry.undo_change", detail)
    return detail


# --------------------------------------------------------------------------- reading


def _unsettled_count(cur: duckdb.DuckDBPyConnection, change_id: int) -> int:
    sql = f"SELECT count(*) FROM ({_UNSETTLED_SQL}) WHERE change_id = ?"  # noqa: S608 - a constant
    return int(cur.execute(sql, [change_id]).fetchone()[0])


_UNSETTLED_SQL = """
WITH ended AS (
    SELECT change_id, any_value(change_date) AS change_date, any_value(from_compound) AS compound_id,
           string_agg(to_compound, '；' ORDER BY to_compound) AS successors
    FROM compound_changes WHERE kind = 'split' GROUP BY change_id
    HAVING NOT list_contains(list(to_compound), any_value(from_compound))
)
SELECT t.ticket_id, t.created_at, t.address, t.compound_id, e.change_id, e.change_date, e.successors
FROM tickets t JOIN ended e ON t.compound_id = e.compound_id AND t.created_at >= e.change_date
"""


def unsettled_splits(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Tickets a split left on its predecessor ("split, successor unknown"): ticket_id,
    created_at, address, compound_id, change_id, change_date, successors ('；'-joined ids);
    newest first. An analyst settles an address with `settle_split`."""
    return db.query_df(con, _UNSETTLED_SQL + " ORDER BY t.created_at DESC, t.ticket_id")


def registry_events(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per compound touched by a change: compound_id, date, kind, detail_zh, detail_en,
    change_id, month (the date's month start); by date. The effects and trend pages draw a marker at `date` on that compound's
    (and its lineage's) series."""
    edges = db.query_df(
        con,
        "SELECT change_id, kind, change_date, from_compound, to_compound, from_name, to_name "
        "FROM compound_changes ORDER BY change_id, from_compound, to_compound",
    )
    columns = ["compound_id", "date", "kind", "detail_zh", "detail_en", "change_id"]
    rows = []
    for change_id, part in edges.groupby("change_id", sort=True):
        froms = list(dict.fromkeys(part["from_compound"]))
        tos = list(dict.fromkeys(part["to_compound"]))
        names = {**dict(zip(part["from_compound"], part["from_name"], strict=True)),
                 **dict(zip(part["to_compound"], part["to_name"], strict=True))}  # fmt: skip
        if froms == tos:
            names[f"{froms[0]}\x00former"] = part["from_name"].iloc[0]
        kind, day = part["kind"].iloc[0], pd.Timestamp(part["change_date"].iloc[0]).date()
        zh, en = describe(kind, day, froms, tos, names)
        rows += [(c, day, kind, zh, en, int(change_id)) for c in dict.fromkeys([*froms, *tos])]
    frame = pd.DataFrame(rows, columns=columns)
    frame["date"] = pd.to_datetime(frame["date"])
    frame["month"] = frame["date"].dt.to_period("M").dt.to_timestamp()  # the month the marker sits on
    return frame.sort_values(["date", "change_id", "compound_id"], kind="stable").reset_index(drop=True)


def lineage(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """compound_id, root_id for every compound: the original unit it belongs to (the connected
    component of the change graph; root is its member no change created, smallest id first).
    A compound no change touched is its own root."""
    ids = db.query_df(con, "SELECT compound_id FROM compounds ORDER BY compound_id")["compound_id"].tolist()
    cur = db.cursor(con)
    try:
        graph = _graph(cur)
    finally:
        cur.close()
    parent = {c: c for c in ids}
    for c in graph.involved():
        parent.setdefault(c, c)

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for e in graph.edges.itertuples(index=False):
        a, b = find(e.from_compound), find(e.to_compound)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for c in parent:
        members.setdefault(find(c), []).append(c)
    root_of: dict[str, str] = {}
    for group in members.values():
        originals = sorted(c for c in group if not graph.starts.get(c)) or sorted(group)
        root_of.update(dict.fromkeys(group, originals[0]))
    return pd.DataFrame({"compound_id": ids, "root_id": [root_of[c] for c in ids]})


# --------------------------------------------------------------------------- registry files


@dataclass
class PlannedChange:
    """A change a registry file states, checked against the file and the store."""

    kind: str
    day: dt.date
    from_ids: list[str]
    to_ids: list[str]
    rows: list[int]
    former_name: str | None = None


def plan_changes(
    good: list[dict[str, Any]],
    stored_names: Mapping[str, str],
    stored_aliases: Mapping[str, Sequence[str]],
    recorded: pd.DataFrame,
) -> tuple[list[PlannedChange], dict[int, str]]:
    """The changes stated by a registry file's rows (`good`: parsed rows with their raw
    predecessor / effective_date / change_kind text), and {row_number: reason} for rows whose
    change cannot be taken (those rows are refused whole). `recorded`: compound_changes rows
    already in the store (a change stated again is not recorded twice)."""
    file_names = {r["compound_id"]: r["name"] for r in good}
    by_name: dict[str, set[str]] = {}
    for cid, name in [*stored_names.items(), *file_names.items()]:
        by_name.setdefault(_norm(name), set()).add(cid)
    for cid, aliases in stored_aliases.items():
        for a in aliases:
            by_name.setdefault(_norm(a), set()).add(cid)
    known = set(stored_names) | set(file_names)
    bad: dict[int, str] = {}
    edges: list[tuple[str, str, dt.date, str | None, int]] = []  # from, to, day, kind, row
    renames: list[PlannedChange] = []
    for r in good:
        pred_text, date_text = r.get("predecessor", ""), r.get("effective_date", "")
        if not pred_text and not date_text:
            continue
        day, why = parse_change_date(date_text)
        kind, kind_why = parse_kind(r.get("change_kind", ""))
        reasons = [w for w in (why, kind_why) if w]
        cid = r["compound_id"]
        if not pred_text:
            old = stored_names.get(cid)
            if day is not None and old is not None and old != r["name"]:
                renames.append(PlannedChange("rename", day, [cid], [cid], [r["row_number"]], old))
            continue  # an effective date alone, without a new name, changes nothing
        if day is None and not reasons:
            reasons.append("填写了前身，但缺少生效日期")
        preds = []
        for token in [t.strip() for t in re.split(ALIAS_SEPARATORS, pred_text) if t.strip()]:
            found = {token} if token in known else by_name.get(_norm(token), set())
            if len(found) != 1:
                reasons.append(
                    f"前身“{token}”不是已登记的小区编号或名称"
                    if not found
                    else f"前身“{token}”对应多个小区，请填写小区编号"
                )
            else:
                preds.append(next(iter(found)))
        if reasons:
            bad[r["row_number"]] = "；".join(reasons)
            continue
        for p in preds:
            edges.append((p, cid, day, kind, r["row_number"]))  # type: ignore[arg-type]
    planned = _group(edges, bad) + renames
    return _drop_recorded(planned, recorded, bad), bad


def _find(parent: dict[str, str], x: str) -> str:
    """Union-find root of x (added as its own root when new)."""
    parent.setdefault(x, x)
    while parent[x] != x:
        x = parent[x]
    return x


def _group(
    edges: list[tuple[str, str, dt.date, str | None, int]], bad: dict[int, str]
) -> list[PlannedChange]:
    """Edges of the same day joined into changes (connected predecessor/successor groups)."""
    planned: list[PlannedChange] = []
    for day in sorted({e[2] for e in edges}):
        todays = [e for e in edges if e[2] == day]
        parent: dict[str, str] = {}
        for f, t, *_ in todays:  # predecessors and successors are nodes of their own kind
            parent[_find(parent, f"from:{f}")] = _find(parent, f"to:{t}")
        groups: dict[str, list[tuple[str, str, dt.date, str | None, int]]] = {}
        for e in todays:
            groups.setdefault(_find(parent, f"to:{e[1]}"), []).append(e)
        for group in groups.values():
            froms = list(dict.fromkeys(e[0] for e in group))
            tos = list(dict.fromkeys(e[1] for e in group))
            rows = sorted({e[4] for e in group})
            stated = {e[3] for e in group if e[3]}
            inferred = (
                "rename"
                if len(froms) == len(tos) == 1
                else "split"
                if len(froms) == 1
                else "merge"
                if len(tos) == 1
                else None
            )
            reason = None
            if inferred is None:
                reason = "前身与后继多对多交叉，请分成几次变更（一次拆分或一次合并）"
            elif len(stated) > 1 or (stated and stated != {inferred}):
                reason = f"变更类型与前身不符（按前身应为{KIND_LABELS[inferred][0]}）"
            elif froms == tos:
                reason = "前身不能只是小区自己；原地更名只需改名称并填写生效日期"
            if reason:
                bad.update(dict.fromkeys(rows, reason))
                continue
            planned.append(PlannedChange(inferred, day, froms, tos, rows))  # type: ignore[arg-type]
    return planned


def _drop_recorded(
    planned: list[PlannedChange], recorded: pd.DataFrame, bad: dict[int, str]
) -> list[PlannedChange]:
    """Changes already recorded the same way are not recorded again; an edge recorded with
    another date or kind refuses the rows stating it."""
    keep = []
    for p in planned:
        pairs = {(f, t) for f in p.from_ids for t in p.to_ids}
        same = recorded[
            [(f, t) in pairs for f, t in zip(recorded["from_compound"], recorded["to_compound"], strict=True)]
        ]
        if same.empty:
            keep.append(p)
            continue
        days = {pd.Timestamp(d).date() for d in same["change_date"]}
        if days == {p.day} and set(same["kind"]) == {p.kind} and len(same) == len(pairs):
            continue
        bad.update(
            dict.fromkeys(
                p.rows, f"这次变更已于 {min(days).isoformat()} 登记过，日期或范围不同；如需更正请先撤销原变更"
            )
        )
    return keep


def record_planned(
    cur: duckdb.DuckDBPyConnection, planned: Sequence[PlannedChange], user: str | None, batch_id: int
) -> list[Change]:
    """Record a registry file's changes inside its import transaction, by date."""
    out = []
    for p in sorted(planned, key=lambda p: (p.day, p.rows)):
        if p.former_name is not None:
            out.append(_record(cur, "rename", p.day, p.from_ids, p.to_ids, user, batch_id, p.former_name))
        else:
            out.append(_record(cur, p.kind, p.day, p.from_ids, p.to_ids, user, batch_id))
    return out
