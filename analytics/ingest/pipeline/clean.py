"""Cleaning, parsing and validation as SQL over the staging tables: raw -> parsed in one pass
(each mapped cell cleaned once, in the final form the side work reads, then typed, with the
reason a row is rejected, the same ticket twice in one file marked), the keyed hash of each
distinct caller number, and the rejected rows as JSON.
"""

from __future__ import annotations

import duckdb

from analytics import privacy
from analytics.ingest import columns
from analytics.ingest.readers.encoding import DAMAGED_CHAR
from analytics.store import callerkey

EARLIEST_CREATED = "2000-01-01"
SQL_TIMESTAMP_LIMIT = "now()::TIMESTAMP + INTERVAL 1 DAY"
# Excel's own limit for one cell: a longer cell cannot have come from a spreadsheet, would not
# survive an export back to one, and in practice is a broken quote swallowing the rest of a file.
MAX_CELL_CHARS = 32_767
# what a rejected row keeps of one cell for review
MAX_REJECTED_CELL_CHARS = 2_000

# Validation rules in order: the first that applies is the row's reason (datasette-style table).
REJECT_RULES: tuple[tuple[str, str], ...] = (
    ("含无法解码的字符（文件中混有其他编码）", "damaged"),
    (f"单元格超过 {MAX_CELL_CHARS} 个字符（Excel 上限），疑似文件损坏", "oversized"),
    ("缺少工单编号", "ticket_id IS NULL"),
    ("缺少受理时间", "created_at IS NULL AND created_text IS NULL"),
    ("受理时间无法识别", "created_at IS NULL"),
    (
        "受理时间超出合理范围",
        f"created_at < TIMESTAMP '{EARLIEST_CREATED}' OR created_at > {SQL_TIMESTAMP_LIMIT}",
    ),
    ("办结时间早于受理时间", "closed_at IS NOT NULL AND closed_at < created_at"),
)
DUPLICATE_IN_FILE = "文件内重复（保留最后一条）"


def _column_of(headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """field -> staging column (c0, c1, ...)."""
    index = {h: i for i, h in enumerate(headers)}
    return {f: f"c{index[h]}" for f, h in mapping.items()}


# fields cleaned as free text; every other mapped field is cleaned as a short code
TEXT_FIELDS = ("title", "content", "address", "handling_unit")
# fields stored as the file gives them: phone and ID numbers in them are masked (privacy)
MASKED_FIELDS = (*TEXT_FIELDS, "category", "status", "satisfaction")


def _clean(
    stg: duckdb.DuckDBPyConnection, headers: list[str], mapping: dict[str, str], lossy: bool
) -> set[str]:
    """raw -> parsed in one pass: each mapped cell cleaned once (`_cleaned_sql`), then typed, with
    its rejection reason (`_parsed_sql`); the same ticket twice in one file marked. Returns the
    fields present. `parsed` keeps the cleaned caller number (caller_phone) for `_caller_hashes`;
    the hash joins the rows in `final`.

    `lossy`: the file was decoded line by line and some bytes may have become U+FFFD; such rows
    are rejected (reason 'damaged') rather than stored with broken text."""
    cleaned, present = _cleaned_sql(headers, mapping, lossy)
    stg.execute(f"CREATE TABLE parsed AS WITH clean AS ({cleaned}) {_parsed_sql(present)}")  # noqa: S608
    # the same ticket twice in one file: the later row is the later version (few rows: UPDATE)
    # (grouped, not windowed: a file without such tickets costs one hash aggregate, not a sort)
    stg.execute(
        f"""
        UPDATE parsed SET reason = '{DUPLICATE_IN_FILE}'
        FROM (SELECT ticket_id, max(rn) AS last_rn FROM parsed WHERE reason IS NULL
              GROUP BY ticket_id HAVING count(*) > 1) d
        WHERE parsed.ticket_id = d.ticket_id AND parsed.rn < d.last_rn AND parsed.reason IS NULL
        """  # noqa: S608 - constant
    )
    return present


def _cleaned_sql(headers: list[str], mapping: dict[str, str], lossy: bool) -> tuple[str, set[str]]:
    """The query of the cleaned rows (`clean`: rn, each mapped field cleaned once, in the final
    form the side work reads, damaged, oversized) and the fields present.

    A masked field (MASKED_FIELDS) is looked at by one regular expression first, which finds
    both what cleaning rewrites and what masking may: most cells need neither, and pass with one
    scan instead of two (`_screen`)."""
    col = _column_of(headers, mapping)
    screened = [name for name in col if name in MASKED_FIELDS]
    screens = "".join(f", {_screen(col[name], name in TEXT_FIELDS)} AS {_flag(name)}" for name in screened)

    def cleaned(name: str, src: str) -> str:
        expr = columns.sql_text(src) if name in TEXT_FIELDS else columns.sql_code(src)
        return f"CASE WHEN {_flag(name)} THEN {expr} ELSE NULLIF({src}, '') END" if name in screened else expr

    damaged = (
        " OR ".join(f"contains(coalesce(c{i}, ''), '{DAMAGED_CHAR}')" for i in range(len(headers)))
        if lossy
        else "FALSE"
    )
    oversized = (
        " OR ".join(f"length(coalesce({src}, '')) > {MAX_CELL_CHARS}" for src in col.values()) or "FALSE"
    )
    # the fields matching and prediction read get their final form here, once: the side work
    # reads them from `parsed`, and its answers join back on them
    final_form = {
        "ticket_id": columns.sql_id("ticket_id", clean=True),
        **{
            name: f"CASE WHEN {_flag(name)} THEN {privacy.sql_mask_personal(name)} ELSE {name} END"
            for name in screened
        },
    }
    finished = ", ".join(f"{final_form.get(name, name)} AS {name}" for name in col)
    flags = "".join(f", {_flag(name)}" for name in screened)
    sql = f"""SELECT rn, {finished}, damaged, oversized FROM (
            SELECT rn, {", ".join(f"{cleaned(name, src)} AS {name}" for name, src in col.items())}{flags},
                   ({damaged}) AS damaged, ({oversized}) AS oversized
            FROM (SELECT *{screens} FROM raw))"""  # noqa: S608 - generated
    return sql, set(col)


def _flag(name: str) -> str:
    return f"{name}__screened"


def _screen(src: str, text: bool) -> str:
    """TRUE where cleaning (columns.sql_text / sql_code) or masking (privacy.sql_mask_personal)
    could change the cell: the union of their own prefilters, as one expression. Where it is
    FALSE, both would give the cell back as it is ('' as NULL)."""
    needs = columns.TEXT_NEEDS_WORK if text else columns.CODE_NEEDS_WORK
    return f"coalesce(regexp_matches({src}, {privacy._lit(needs + '|' + privacy.PREFILTER)}), FALSE)"


def _field(present: set[str], name: str) -> str:
    """A clean field, or NULL when the file has no such column."""
    return name if name in present else "CAST(NULL AS VARCHAR)"


def _keys_sql(present: set[str]) -> dict[str, str]:
    """The clean columns (already in final form) that the parsed rows take as they are."""
    return {
        "ticket_id": _field(present, "ticket_id"),
        "title": _field(present, "title"),
        "content": _field(present, "content"),
        "category_raw": _field(present, "category"),
        "address": _field(present, "address"),
        "compound_value": _field(present, "compound"),
    }


# the columns of `parsed` that matching and prediction read (always there: NULL when absent)
PARSED_KEYS = {
    "ticket_id": "ticket_id",
    "title": "title",
    "content": "content",
    "category_raw": "category_raw",
    "address": "address",
    "compound_value": "compound_value",
}


def _caller_hashes(
    stg: duckdb.DuckDBPyConnection, present: set[str], salt: str, caller_keys: callerkey.Keys
) -> None:
    """Table caller_hashes (phone, caller_hash): the keyed hash of each distinct caller cell of
    `parsed` (its caller_phone), once (a caller calls again and again, and the keyed hash is the
    costly part)."""
    c = "caller_phone"
    caller = columns.sql_caller_key("phone", clean=True)
    # keyed: the salted hash alone can be reversed by trying every number (callerkey)
    caller_hash, key_params = callerkey.sql_keyed(f"sha256(? || {caller})", caller_keys)
    # a number masked whole is no caller: left out once per distinct cell, not once per row
    stg.execute(
        f"""CREATE TABLE caller_hashes AS
            SELECT phone, {caller_hash} AS caller_hash FROM (
                SELECT DISTINCT {c} AS phone FROM parsed WHERE {c} IS NOT NULL)
            WHERE NOT {columns.sql_is_mask("phone")}""",  # noqa: S608 - generated
        [*key_params, salt],
    )


def _parsed_sql(present: set[str]) -> str:
    """The query of the parsed rows over `clean` (typed, with its rejection reason; what the
    reason is decided by and nothing else reads, damaged, oversized and the created_at text, is
    not kept)."""

    def c(name: str) -> str:
        return _field(present, name)

    keys = _keys_sql(present)
    label, satisfied = columns.sql_satisfaction(c("satisfaction"), clean=True)
    valid = (
        f"coalesce({columns.sql_flag(c('is_valid'), clean=True)}, "
        f"NOT {columns.sql_flag(c('is_invalid'), clean=True)}, TRUE)"
    )
    reason = "CASE " + " ".join(f"WHEN {cond} THEN '{why}'" for why, cond in REJECT_RULES) + " END"
    return f"""
        SELECT * EXCLUDE (damaged, oversized, created_text), {reason} AS reason FROM (
        SELECT rn, damaged, oversized,
               {keys["ticket_id"]} AS ticket_id,
               {columns.sql_datetime(c("created_at"), clean=True)} AS created_at,
               {c("created_at")} AS created_text,
               {columns.sql_datetime(c("closed_at"), clean=True)} AS closed_at,
               {columns.sql_datetime(c("due_at"), clean=True)} AS due_at,
               {keys["title"]} AS title,
               {keys["content"]} AS content,
               {keys["category_raw"]} AS category_raw,
               {keys["address"]} AS address,
               {keys["compound_value"]} AS compound_value,
               {c("caller_phone")} AS caller_phone,
               {label} AS satisfaction,
               {satisfied} AS satisfied,
               {columns.sql_flag(c("resolved"), clean=True)} AS resolved,
               {c("status")} AS status,
               {c("handling_unit")} AS handling_unit,
               {valid} AS is_valid,
               {columns.sql_reopened(c("status"))} AS reopened
        FROM clean)
        """  # noqa: S608 - expressions built from constants and generated identifiers


def _rejected_json(stg: duckdb.DuckDBPyConnection, headers: list[str], mapping: dict[str, str]) -> None:
    """rejected rows as JSON objects of the raw cells: name columns left out, phone columns
    masked whole, ticket ids and times as the file has them (the analyst finds and fixes the row
    by them), phone and ID numbers in every other cell masked."""
    names = set(columns.caller_name_headers(headers))
    phones = set(columns.phone_headers(headers, mapping))
    verbatim = set(columns.verbatim_headers(headers, mapping))
    parts: list[str] = []
    params: list[str] = []
    for i, h in enumerate(headers):
        if h in names:
            continue
        value = f"r.c{i}"
        if h in phones:  # whatever its spelling, a phone cell is a phone: none of it is kept
            value = f"CASE WHEN trim(coalesce(r.c{i}, '')) = '' THEN r.c{i} ELSE '{privacy.MASK}' END"
        elif h not in verbatim:
            value = privacy.sql_mask_personal(value)
        cut = MAX_REJECTED_CELL_CHARS
        value = f"CASE WHEN length({value}) > {cut} THEN left({value}, {cut}) || '…' ELSE {value} END"
        parts.append(f"?, {value}")
        # a header can be a number too: a file without a header row has its first row there
        params.append(privacy.mask_personal(h))
    stg.execute(
        f"""
        CREATE TABLE rejected AS
        SELECT p.rn AS row_number, p.reason, json_object({", ".join(parts)})::VARCHAR AS raw
        FROM parsed p JOIN raw r USING (rn)
        WHERE p.reason IS NOT NULL AND p.reason <> '{DUPLICATE_IN_FILE}'
        ORDER BY p.rn
        """,  # noqa: S608
        params,
    )
