"""Matching an upload: explicit compound values by id, name or alias, and each distinct address
once, through the cache `address_matches` (read beside the parsing; an upload writes the
addresses it keeps that wait for an analyst, `remember_staged`).

An upload's addresses never leave DuckDB (`stage_matches`): an export carries a distinct address
per ticket (翠华苑3号楼2单元401室), but far fewer name parts. SQL cuts each address into a head
and a building tail and replaces the tail by a canonical one (`KEY_PATTERN`): the address's match
key, 翠华苑3号楼2单元401室 -> 翠华苑1号楼. Only the distinct keys go to the matcher, and every
address takes the answer of its key.

Why the key's answer is the address's. Write the address as head + tail, where the tail is a
digit run, a building marker (号楼, 栋, 单元, ...) and then only characters of TAIL_CHARS
(digits, Latin letters, markers, hyphens), and the head ends with a CJK ideograph that is not a
Chinese numeral; the key is head + "1" + the same marker. `normalise` of head + tail is then
normalise(head) + normalise(tail) (nothing it does joins characters across that boundary), and
`normalise.name_part` of an address decides from the head alone, with one exception:

- a subdistrict or community name is found in the head only: a name found across the boundary
  or in the tail would end with a tail character, and `stage_matches` cuts no tail when a known
  name does (`_tail_safe`); the "enough text left" test passes with either tail, as both are
  at least two characters long;
- the building cut (normalise.BUILDING_CUT) starts in the head, or at the tail's first digit
  (both tails start with digits and a marker, behind the same head character), and removes
  everything after it;
- the exception: when that cut leaves less than a name (MIN_STEM characters), name_part keeps
  the whole text, tail included. The key's name part then ends with its canonical tail, which
  a cut name part never does (the cut would have started there); such keys are found
  (`_KEEPS_TAIL`) and their addresses are matched one by one.

tests/unit/ingest/test_ingest.py holds this against `normalise.name_part` on generated
addresses and hard cases, so a change on either side is caught.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd

from analytics.ingest.matching.index import Registry, load_registry
from analytics.ingest.matching.normalise import AdminNames, name_part, parse_address
from analytics.ingest.matching.score import RESULT_COLUMNS, score_addresses
from analytics.store import db
from analytics.store.db import query_df, transaction

SCORE_CHUNK = 50_000  # addresses scored at a time by match_addresses (bounds memory)

# what str.strip() removes, for DuckDB's trim(text, characters): the cache is keyed by the
# address as `_distinct` strips it
PY_WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
# the first building marker of a tail (those of normalise.BUILDING_CUT but # and 号院)
TAIL_MARKERS = ("号楼", "单元", "栋", "幢", "座", "室", "层", "楼", "户", "排")
_MARKER_CHARS = "".join(sorted({*"".join(TAIL_MARKERS), "号"}))
# what may follow the first marker (raw): digits, Latin letters, full-width forms, hyphens
TAIL_CHARS = "0-9０-９A-Za-zＡ-Ｚａ-ｚ\\-" + _MARKER_CHARS
# the same characters after normalise
NORMALISED_TAIL_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _MARKER_CHARS)
CHINESE_NUMERALS = "零〇一二两三四五六七八九十百千"


def _ideographs_but_numerals() -> str:
    """A RE2 character class body: U+4E00..U+9FFF without the Chinese numerals."""
    cut = sorted(ord(c) for c in CHINESE_NUMERALS if 0x4E00 <= ord(c) <= 0x9FFF)
    parts, lo = [], 0x4E00
    for c in [*cut, 0xA000]:
        if c > lo:
            parts.append(chr(lo) if c - 1 == lo else f"{chr(lo)}-{chr(c - 1)}")
        lo = c + 1
    return "".join(parts)


# the head's last character, digit run, first marker, rest of the tail; the leftmost match is the
# shortest head, which regexp_replace leaves in front (no `^.*?` to scan it: a fifth faster)
KEY_PATTERN = f"([{_ideographs_but_numerals()}])([0-9０-９]+)({'|'.join(TAIL_MARKERS)})[{TAIL_CHARS}]*$"
KEY_REWRITE = "\\11\\3"  # head's last character + "1" + marker (RE2 reads \1, the digit 1, \3)
# a key whose name part kept its canonical tail (see the module docstring)
_KEEPS_TAIL = re.compile(f"1(?:{'|'.join(TAIL_MARKERS)})$")


def _distinct(values: Iterable[object]) -> list[str]:
    """Sorted distinct non-blank values, stripped (hashing first: a million tickets carry far
    fewer distinct addresses)."""
    series = pd.Series(
        values if isinstance(values, pd.Series | np.ndarray | list) else list(values), dtype=object
    )
    unique = pd.unique(series.dropna())
    return sorted({(v if isinstance(v, str) else str(v)).strip() for v in unique} - {""})


def lookup_compounds(con: duckdb.DuckDBPyConnection, values: Iterable[str]) -> pd.DataFrame:
    """Explicit compound values -> compound_id by id, then exact name / alias, then the same
    name after normalisation (full-width, spaces, 小区 dropped).

    A name shared by two compounds is ambiguous and left unmatched.
    """
    distinct = _distinct(values)
    out = pd.DataFrame({"value": distinct})
    if out.empty:
        return out.assign(compound_id=None, match_score=None, match_method=None)
    ids = set(query_df(con, "SELECT compound_id FROM compounds")["compound_id"])
    names = query_df(
        con,
        """
        SELECT compound_id, name, 'name' AS kind FROM compounds
        UNION ALL
        SELECT compound_id, alias AS name, 'alias' AS kind FROM compound_aliases
        """,
    ).drop_duplicates(["name", "compound_id"])
    names["norm"] = [parse_address(n).core for n in names["name"]]
    by: dict[str, dict[str, tuple[str, str]]] = {"name": {}, "norm": {}}
    for column in by:
        counts = names.groupby(column)["compound_id"].nunique()
        unique = names[names[column].map(counts) == 1]
        by[column] = dict(
            zip(unique[column], zip(unique["compound_id"], unique["kind"], strict=True), strict=True)
        )
    rows = []
    for value in distinct:
        if value in ids:
            rows.append((value, value, 1.0, "id"))
        elif value in by["name"]:
            cid, kind = by["name"][value]
            rows.append((value, cid, 1.0, kind))
        elif (norm := parse_address(value).core) in by["norm"]:
            cid, kind = by["norm"][norm]
            rows.append((value, cid, 1.0, kind))
        else:
            rows.append((value, None, None, None))
    return pd.DataFrame(rows, columns=["value", "compound_id", "match_score", "match_method"])


def _public(rows: pd.DataFrame) -> pd.DataFrame:
    """Only auto / confirmed matches give a compound to tickets."""
    taken = rows["status"].isin(["auto", "confirmed"])
    return pd.DataFrame(
        {
            "address": rows["address"].to_numpy(),
            "compound_id": rows["compound_id"].where(taken, None).to_numpy(),
            "match_score": rows["match_score"].where(taken, None).to_numpy(),
            "match_method": rows["match_method"].where(taken, None).to_numpy(),
        }
    )


def _store_matches(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, replace: bool = False) -> None:
    if rows.empty:
        return
    with transaction(con) as cur:
        _insert_matches(cur, rows, replace)


MATCH_COLUMNS = ["address", "compound_id", "match_score", "match_method", "status", "candidates"]


def _insert_matches(cur: duckdb.DuckDBPyConnection, rows: pd.DataFrame, replace: bool = False) -> None:
    """Write match rows to address_matches on a cursor inside the caller's transaction."""
    if rows.empty:
        return
    cur.register("new_matches", rows[RESULT_COLUMNS])
    try:
        db.merge(
            cur,
            "address_matches",
            MATCH_COLUMNS,
            ["address"],
            f"SELECT {', '.join(MATCH_COLUMNS)} FROM new_matches",  # noqa: S608 - fixed names
            update=None if replace else [],
        )
    finally:
        cur.unregister("new_matches")


def _score_in_chunks(registry: Registry, addresses: list[str]) -> pd.DataFrame:
    """score_addresses over slices of SCORE_CHUNK addresses, so memory stays bounded when an
    export carries a distinct address per ticket (building and room numbers)."""
    if not addresses:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    parts = [
        score_addresses(registry, addresses[i : i + SCORE_CHUNK])
        for i in range(0, len(addresses), SCORE_CHUNK)
    ]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def match_addresses(con: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> pd.DataFrame:
    """Distinct addresses -> compound. Cached addresses are answered from address_matches; new
    ones are scored and cached (status auto / review / unmatched).

    Returns address, compound_id, match_score, match_method; compound_id is None unless the
    match was accepted automatically or confirmed by an analyst.
    """
    prepared = prepare_matches(con, addresses)
    _store_matches(con, prepared[prepared["fresh"].astype(bool)])
    return public_matches(prepared)


def prepare_matches(con: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> pd.DataFrame:
    """match_addresses without writing: RESULT_COLUMNS for each distinct address, from the cache
    or freshly scored (column `fresh`), sorted by address. Reads the store only, so an upload
    can run it beside other work and cache only the addresses it keeps (`remember_matches`)."""
    distinct = _distinct(addresses)
    if not distinct:
        return pd.DataFrame(columns=[*RESULT_COLUMNS, "fresh"])
    wanted = pd.DataFrame({"address": distinct})  # noqa: F841 - read by DuckDB's replacement scan
    cur = con.cursor()
    cur.register("wanted_addresses", wanted)
    cached = cur.execute(
        """
        SELECT m.address, m.compound_id, m.match_score, m.match_method, m.status, m.candidates
        FROM address_matches m JOIN wanted_addresses w USING (address)
        """
    ).df()
    cur.unregister("wanted_addresses")
    cur.close()
    known = set(cached["address"])
    new = [a for a in distinct if a not in known] if known else distinct  # still sorted
    fresh = _score_in_chunks(load_registry(con), new) if new else pd.DataFrame(columns=RESULT_COLUMNS)
    if cached.empty:
        return fresh.assign(fresh=True)
    parts = [cached.assign(fresh=False)] + ([fresh.assign(fresh=True)] if len(fresh) else [])
    return pd.concat(parts, ignore_index=True).sort_values("address").reset_index(drop=True)


ANSWER_TYPES = {c: "string" for c in ("lookup", *RESULT_COLUMNS[1:])} | {"match_score": "float64"}


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def strip_sql(text: str) -> str:
    """The DuckDB expression of `text`.strip() (what `_distinct` does). trim() with a character
    set is slow on a million addresses, so it runs only where the first or last character is
    white space; elsewhere it would change nothing."""
    ws = _lit(PY_WHITESPACE)
    ends = f"contains({ws}, left({text}, 1)) OR contains({ws}, right({text}, 1))"
    return f"CASE WHEN {ends} THEN trim({text}, {ws}) ELSE {text} END"


def match_key_sql(address: str) -> str:
    """The DuckDB expression of an address's match key (see the module docstring)."""
    return f"regexp_replace({address}, {_lit(KEY_PATTERN)}, {_lit(KEY_REWRITE)})"


def _tail_safe(admin: AdminNames) -> bool:
    """False when a known subdistrict or community name ends with a character a tail may hold
    (it could then be found in a tail, and the tail would matter)."""
    forms = [*admin.sub_forms, *admin.com_forms]
    return not any(form and form[-1] in NORMALISED_TAIL_CHARS for form in forms)


def _keeps_tail(reg: Registry, keys: list[str]) -> list[str]:
    """The keys whose name part keeps the canonical tail (see the module docstring)."""
    return [k for k in keys if _KEEPS_TAIL.search(name_part(k, reg.admin)[0])]


def stage_matches(cur: duckdb.DuckDBPyConnection, source: str, table: str) -> pd.DataFrame:
    """View `table` (RESULT_COLUMNS and `fresh`): each distinct address of the query `source`
    (one column `address`), stripped as `_distinct` strips it, from the cache or matched through
    its key: the answers of prepare_matches, without the addresses leaving DuckDB. Reads the
    store only. Returns what the matcher scored: RESULT_COLUMNS with `lookup` (a key, or an
    address whose key keeps its tail) in place of the address.

    The view reads the tables STAGED_PARTS names (`drop_staged` drops all): one row per address
    with its key, and one per lookup with its answer, so an answer's candidates list is held once
    per key rather than copied onto each of the key's many addresses."""
    reg = load_registry(cur)
    key = match_key_sql("a.address") if _tail_safe(reg.admin) else "a.address"
    every, held_keys, answers = (f"{table}_{part}" for part in STAGED_PARTS)
    cur.execute(
        f"""CREATE TABLE {every} AS
            SELECT a.address, CASE WHEN m.address IS NULL THEN {key} END AS key,
                   m.compound_id, m.match_score, m.match_method, m.status, m.candidates
            FROM (SELECT DISTINCT {strip_sql("address")} AS address FROM ({source})
                  WHERE address IS NOT NULL) a
            LEFT JOIN address_matches m ON m.address = a.address
            WHERE a.address <> ''"""  # noqa: S608 - a query and a table name built by the caller
    )
    distinct_keys = f"SELECT DISTINCT key FROM {every} WHERE key IS NOT NULL"  # noqa: S608
    keys = [r[0] for r in cur.execute(distinct_keys).fetchall()]
    held = _keeps_tail(reg, keys)
    held_set = set(held)
    try:
        cur.register("held_frame", pd.DataFrame({"key": pd.Series(held, dtype="string")}))
        cur.execute(f"CREATE TABLE {held_keys} AS SELECT key FROM held_frame")  # noqa: S608
    finally:
        cur.unregister("held_frame")
    singles = f"SELECT address FROM {every} WHERE key IN (SELECT key FROM {held_keys})"  # noqa: S608
    lookups = [k for k in keys if k not in held_set] + [r[0] for r in cur.execute(singles).fetchall()]
    scored = _score_in_chunks(reg, lookups).rename(columns={"address": "lookup"})
    scored = scored.drop_duplicates("lookup").reset_index(drop=True)
    try:
        cur.register("key_answers", scored.astype(ANSWER_TYPES))
        cur.execute(f"CREATE TABLE {answers} AS SELECT * FROM key_answers")  # noqa: S608
    finally:
        cur.unregister("key_answers")
    fresh = "e.key IS NOT NULL"
    picked = ", ".join(f"CASE WHEN {fresh} THEN s.{c} ELSE e.{c} END AS {c}" for c in RESULT_COLUMNS[1:])
    lookup = f"CASE WHEN e.key IN (SELECT key FROM {held_keys}) THEN e.address ELSE e.key END"  # noqa: S608
    cur.execute(
        f"""CREATE VIEW {table} AS
            SELECT e.address, {picked}, {fresh} AS fresh
            FROM {every} e LEFT JOIN {answers} s ON s.lookup = {lookup}"""  # noqa: S608
    )
    return scored


# the tables under a `stage_matches` view `table`, each named `table`_part: each address with its
# key (or its cached answer), the keys whose addresses are matched one by one, the answers
STAGED_PARTS = ("every", "held", "answers")


def drop_staged(cur: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop a `stage_matches` view and its tables (any that exist)."""
    cur.execute(f"DROP VIEW IF EXISTS {table}")
    for part in STAGED_PARTS:
        cur.execute(f"DROP TABLE IF EXISTS {table}_{part}")


# the statuses of fresh `stage_matches` rows an upload caches: those waiting for an analyst
CACHED_BY_UPLOADS = ("review", "unmatched")
# those rows of a `stage_matches` view (its one parameter: WAITING_PARAMS)
WAITING_ROWS = "fresh AND list_contains(?, status)"
WAITING_PARAMS = [list(CACHED_BY_UPLOADS)]


def remember_staged(cur: duckdb.DuckDBPyConnection, table: str) -> None:
    """Cache the fresh rows of a `stage_matches` table that wait for an analyst (status review
    or unmatched, CACHED_BY_UPLOADS) in address_matches, inside the caller's write transaction
    (`cur`). Writers queue on the store's write lock, so an address cached since
    `stage_matches` read the cache is seen here and left as it is.

    Addresses matched automatically are not cached by an upload: an export carries a distinct
    address per ticket, so caching them wrote a row per ticket, while the next upload answers
    them again from their few keys (`stage_matches`) at little cost and with the registry as it
    is then. The review queue, confirm / reject / settle and rematch_unmatched only ever read
    waiting and decided addresses, which are all still cached; `match_addresses` (one address
    at a time, outside uploads) still caches every answer."""
    cur.execute(
        f"""INSERT INTO address_matches (address, compound_id, match_score, match_method, status, candidates)
            SELECT address, compound_id, match_score, match_method, status, candidates FROM {table} s
            WHERE {WAITING_ROWS}
              AND NOT EXISTS (SELECT 1 FROM address_matches m WHERE m.address = s.address)""",  # noqa: S608 - a staging table's name
        WAITING_PARAMS,
    )


def remember_matches(cur: duckdb.DuckDBPyConnection, prepared: pd.DataFrame) -> None:
    """Cache the freshly scored rows of a prepare_matches answer in address_matches, inside the
    caller's write transaction (`cur`)."""
    _insert_matches(cur, prepared[prepared["fresh"].astype(bool)])


def public_matches(prepared: pd.DataFrame) -> pd.DataFrame:
    """address, compound_id, match_score, match_method of a prepare_matches answer (a compound
    only where the match was accepted automatically or confirmed)."""
    return _public(prepared).reset_index(drop=True)
