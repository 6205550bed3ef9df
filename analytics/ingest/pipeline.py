"""Ticket uploads: read -> map -> validate -> dedup -> load, one batch, all or nothing.

How a file flows (so a 500 MB export never sits in pandas):

1. `readers` decides what the file is (encoding, delimiter, sheet) and finds the header row.
2. The rows are loaded as text into a private in-memory database attached to the store's
   DuckDB instance (it spills to disk when large): CSV through DuckDB's own reader (non-UTF-8
   files are transcoded to UTF-8 in chunks first), workbooks through calamine in chunks.
   Blank rows are not rows.
3. Cleaning, parsing, validation and in-file dedup are SQL over the staging table
   (columns.sql_* rules). While DuckDB parses, a side thread matches the distinct compound
   values and addresses once (`matching`) and, when a category model exists (loaded while the
   file was read), predicts the category of each distinct text of rows without one (not for
   tickets already stored with a category, which keep theirs). Distinct upload categories go
   once through `categories`. The result is materialised once as the staging table `final`.
4. One transaction classifies every staged row against the stored tickets (new / unchanged /
   changed), copies replaced versions to ticket_history, writes tickets, rejected rows, the
   batch row and the audit entry.

rows_read == inserted + updated + duplicates + rejected, always.

The same ticket id twice in one file: the later row (further down) is the version kept; each
earlier copy counts as a duplicate. A row is rejected, with its reason kept in rejected_rows,
when bytes in it could not be decoded (a file mixing encodings), a mapped cell is longer than
Excel allows (MAX_CELL_CHARS), or it fails a rule of REJECT_RULES.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import itertools
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from analytics import privacy
from analytics.errors import FileRejected, NotFound, ValidationError
from analytics.ingest import columns, matching, readers
from analytics.store import callerkey, db

try:  # the category module may not be present in every build of the store
    from analytics.ingest import categories
except ImportError:  # pragma: no cover - depends on the installation
    categories = None  # type: ignore[assignment]

Progress = Callable[[float, str], None]

XLSX_CHUNK_ROWS = 50_000
BLANK_CHARS_SQL = "' \t\n\r\x0b\x0c\u3000\u00a0'"  # a SQL literal: whitespace str.strip() removes
CSV_CHUNK_ROWS = 20_000  # rows per insert when a CSV is read by Python (DuckDB's reader gave up)
SPARE_COLUMNS = 8  # ragged CSVs: room for cells beyond the header before DuckDB gives up
MAX_LINE_BYTES = 4 << 20  # DuckDB buffers 16x this per thread
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

# Columns of `tickets` the upload decides; an existing ticket is "changed" when any differs.
COMPARED = (
    "created_at", "closed_at", "due_at", "title", "content", "category_raw", "address", "caller_hash",
    "satisfaction", "satisfied", "resolved", "status", "handling_unit", "is_valid", "reopened",
)  # fmt: skip
TICKET_COLUMNS = (
    "ticket_id", "created_at", "closed_at", "due_at", "title", "content", "category", "category_raw",
    "category_source", "category_confidence", "address", "compound_id", "match_score", "match_method",
    "caller_hash", "satisfaction", "satisfied", "resolved", "status", "handling_unit", "is_valid",
    "reopened", "batch_id", "updated_batch_id",
)  # fmt: skip
FINAL_COLUMNS = tuple(c for c in TICKET_COLUMNS if c not in ("batch_id", "updated_batch_id"))


@dataclass
class IngestResult:
    file: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0  # unchanged repeats of stored tickets, plus earlier copies within the file
    rejected: int = 0
    unmatched: int = 0  # kept rows with no compound
    batch_id: int | None = None
    encoding: str | None = None
    sheet: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    # columns left out as personal data (callers' names): read, never stored
    dropped_personal_columns: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The batch interface's line: an updated ticket is a re-sent ticket, so it counts among
        duplicates there and rows_read == inserted + duplicates + rejected still holds."""
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "duplicates": self.duplicates + self.updated,
            "rejected": self.rejected,
            "unmatched": self.unmatched,
            "batch_id": self.batch_id,
        }


@dataclass
class Preview:
    encoding: str | None
    sheets: list[str]
    sheet: str | None
    headers: list[str]
    mapping: dict[str, str]
    missing_required: list[str]
    unmapped_headers: list[str]
    rows: pd.DataFrame
    dropped_headers: list[str] = field(default_factory=list)  # caller names: never stored


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _noop(_fraction: float, _message: str) -> None:
    return None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- preview


def preview_file(
    path: str | Path, mapping: dict[str, str] | None = None, sheet: str | None = None, n: int = 20
) -> Preview:
    """What the upload page shows before anything is loaded: the suggested mapping and n rows."""
    table = readers.read_table(path, sheet=sheet, max_rows=n)
    merged = columns.resolve_mapping(table.headers, mapping, file_name=Path(path).name)
    dropped = columns.caller_name_headers(table.headers)
    used = set(merged.values())
    return Preview(
        encoding=table.encoding,
        sheets=table.sheets,
        sheet=table.sheet,
        headers=table.headers,
        mapping=merged,
        missing_required=columns.missing_required(merged),
        unmapped_headers=[h for h in table.headers if h not in used and h not in dropped],
        rows=table.frame.drop(columns=dropped),
        dropped_headers=dropped,
    )


# ---------------------------------------------------------------- staging


@dataclass
class _Staged:
    headers: list[str]
    encoding: str | None
    sheet: str | None
    rows_read: int


def _csv_error(path: Path, detail: str) -> FileRejected:
    return FileRejected(
        f"文件「{path.name}」无法按 CSV 读取：{detail}。请检查引号和分隔符，或另存为 Excel 后上传。",
        f"File '{path.name}' cannot be read as CSV: {detail}. Check quotes and delimiters, "
        "or save it as Excel and upload that.",
    )


def _load_csv(
    stg: duckdb.DuckDBPyConnection, path: Path, kind: readers.FileKind, workdir: Path
) -> tuple[list[str], str | None]:
    """Stage a CSV as table `raw`; returns (headers, the encoding actually used).

    DuckDB's reader first (fast, strict, then lenient about ragged rows); when it gives up (a
    line over its size limit, bytes in another encoding) the same rows go through Python's csv
    module instead, so one odd line never costs the analyst the whole file.
    """
    records = readers.csv_records(path, kind)
    head: list[list[str]] = []
    try:
        for rec in records:
            head.append(rec)
            if len(head) >= readers.HEADER_SEARCH_ROWS:
                break
    except UnicodeDecodeError:
        pass  # a later byte is in another encoding: transcoding below decodes line by line
    except csv.Error as exc:
        raise _csv_error(path, str(exc)) from None
    header_at = readers.find_header(head, path)
    headers = readers.table_headers(head[header_at], path)
    encoding = kind.encoding
    source = path
    if encoding not in ("utf-8", "utf-8-sig"):
        source = workdir / "utf8.csv"
        encoding = readers.transcode_to_utf8(path, encoding or "utf-8", source)
    width = len(headers)
    base = {
        "auto_detect": False,
        "header": False,
        "skip": header_at + 1,
        "delim": kind.delimiter or ",",
        "quote": '"',
        "escape": '"',
        "max_line_size": MAX_LINE_BYTES,
    }

    def read(n_cols: int, **extra: Any) -> None:
        cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n_cols)) + "}"
        opts = {**base, **extra}
        args = ", ".join(f"{k} = ?" for k in opts)
        stg.execute("DROP TABLE IF EXISTS raw_csv")
        stg.execute(
            f"CREATE TABLE raw_csv AS SELECT * FROM read_csv(?, columns = {cols}, {args})",  # noqa: S608
            [str(source), *opts.values()],
        )

    try:
        read(width, strict_mode=True)
    # DuckDB may also fail to build its own error message (a UTF-8 character cut in the quoted
    # line), which surfaces as UnicodeDecodeError
    except (duckdb.Error, UnicodeDecodeError) as exc:
        if "invalid unicode" in str(exc).lower() and source == path:
            # UTF-8 at the start, another encoding further down: decode line by line
            source = workdir / "utf8.csv"
            encoding = readers.transcode_to_utf8(path, readers.MIXED_ENCODING, source)
        try:
            # ragged rows: pad short ones, keep up to SPARE_COLUMNS extra cells (single-threaded)
            read(width + SPARE_COLUMNS, strict_mode=False, null_padding=True, parallel=False)
        except (duckdb.Error, UnicodeDecodeError):
            stg.execute("DROP TABLE IF EXISTS raw_csv")
            try:
                _load_csv_rows(stg, path, source, header_at, width, kind.delimiter or ",")
            except UnicodeDecodeError:
                if source != path:
                    raise _csv_error(path, "无法解码 / cannot be decoded") from None
                source = workdir / "utf8.csv"
                encoding = readers.transcode_to_utf8(path, readers.MIXED_ENCODING, source)
                stg.execute("DROP TABLE IF EXISTS raw")
                _load_csv_rows(stg, path, source, header_at, width, kind.delimiter or ",")
            return headers, encoding
    keep = ", ".join(f"c{i}" for i in range(width))
    stg.execute(f"CREATE TABLE raw AS SELECT CAST(rowid + 1 AS BIGINT) AS rn, {keep} FROM raw_csv")  # noqa: S608
    stg.execute("DROP TABLE raw_csv")
    return headers, encoding


def _load_csv_rows(
    stg: duckdb.DuckDBPyConnection, path: Path, source: Path, header_at: int, width: int, delimiter: str
) -> None:
    """The slow path: every record through Python's csv module into `raw`, in chunks.
    UnicodeDecodeError when `source` is not UTF-8 after all (the caller transcodes then)."""
    names = [f"c{i}" for i in range(width)]
    stg.execute("CREATE TABLE raw (rn BIGINT, " + ", ".join(f"{c} VARCHAR" for c in names) + ")")
    encoding = "utf-8-sig" if source == path else "utf-8"  # `source` is UTF-8 by now

    def flush(buf: list[list[str]], numbers: list[int]) -> None:
        chunk = pd.DataFrame(buf, columns=names, dtype=object).assign(rn=numbers)
        stg.register("chunk", chunk)
        stg.execute(f"INSERT INTO raw SELECT rn, {', '.join(names)} FROM chunk")  # noqa: S608
        stg.unregister("chunk")

    try:
        with open(source, encoding=encoding, newline="", errors="strict") as fh:
            buf: list[list[str]] = []
            numbers: list[int] = []
            for number, record in enumerate(
                itertools.islice(csv.reader(fh, delimiter=delimiter), header_at + 1, None), 1
            ):
                buf.append((record + [""] * width)[:width] if len(record) != width else record)
                numbers.append(number)
                if len(buf) >= CSV_CHUNK_ROWS:
                    flush(buf, numbers)
                    buf, numbers = [], []
            if buf:
                flush(buf, numbers)
    except csv.Error as exc:
        raise _csv_error(path, str(exc)) from None


def _load_workbook(
    stg: duckdb.DuckDBPyConnection, path: Path, sheet: str | None, progress: Progress
) -> tuple[str, list[str]]:
    name, headers, rows = readers.iter_sheet_rows(path, sheet)
    width = len(headers)
    names = [f"c{i}" for i in range(width)]
    stg.execute(
        "CREATE TABLE raw (rn BIGINT, " + ", ".join(f"{c} VARCHAR" for c in names) + ")"  # noqa: S608
    )

    def chunks() -> Iterator[pd.DataFrame]:
        buf: list[list[str]] = []
        numbers: list[int] = []
        for number, row in enumerate(rows, start=1):
            if readers._is_blank(row):  # noqa: SLF001 - shared rule for what a blank row is
                continue
            buf.append(row)
            numbers.append(number)
            if len(buf) >= XLSX_CHUNK_ROWS:
                yield pd.DataFrame(buf, columns=names).assign(rn=numbers)
                buf, numbers = [], []
        if buf:
            yield pd.DataFrame(buf, columns=names).assign(rn=numbers)

    loaded = 0
    for chunk in chunks():
        stg.register("chunk", chunk)
        stg.execute(f"INSERT INTO raw SELECT rn, {', '.join(names)} FROM chunk")  # noqa: S608
        stg.unregister("chunk")
        loaded += len(chunk)
        progress(0.1, f"已读取 {loaded} 行")
    return name, headers


def _stage(
    stg: duckdb.DuckDBPyConnection, path: Path, sheet: str | None, workdir: Path, progress: Progress
) -> _Staged:
    """The file's rows as text in staging table `raw` (rn, c0, c1, ...), blank rows removed."""
    kind = readers.file_kind(path)
    progress(0.02, "读取文件")
    encoding = kind.encoding
    if kind.kind == "csv":
        headers, encoding = _load_csv(stg, path, kind, workdir)
        sheet_name = None
    else:
        sheet_name, headers = _load_workbook(stg, path, sheet, progress)
    # the same notion of blank as readers._is_blank (str.strip), whichever reader staged the rows
    blank = " AND ".join(f"trim(coalesce(c{i}, ''), {BLANK_CHARS_SQL}) = ''" for i in range(len(headers)))
    stg.execute(f"DELETE FROM raw WHERE {blank}")  # noqa: S608 - generated identifiers
    rows_read = int(stg.execute("SELECT count(*) FROM raw").fetchone()[0])
    if rows_read == 0:
        raise FileRejected(
            f"文件「{path.name}」只有表头，没有数据行。", f"File '{path.name}' has a header but no data rows."
        )
    return _Staged(headers, encoding, sheet_name, rows_read)


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
    """raw -> clean: each mapped cell cleaned once, plus the damaged / oversized flags. Returns
    the fields present.

    `lossy`: the file was decoded line by line and some bytes may have become U+FFFD; such rows
    are rejected (reason 'damaged') rather than stored with broken text."""
    col = _column_of(headers, mapping)
    cleaned = ", ".join(
        f"{columns.sql_text(src) if name in TEXT_FIELDS else columns.sql_code(src)} AS {name}"
        for name, src in col.items()
    )
    damaged = (
        " OR ".join(f"contains(coalesce(c{i}, ''), '{readers.DAMAGED_CHAR}')" for i in range(len(headers)))
        if lossy
        else "FALSE"
    )
    oversized = (
        " OR ".join(f"length(coalesce({src}, '')) > {MAX_CELL_CHARS}" for src in col.values()) or "FALSE"
    )
    # the fields matching and prediction read get their final form here, once: the side work
    # reads them from `clean` while the rest is parsed, and its answers join back on them
    final_form = {
        "ticket_id": columns.sql_id("ticket_id", clean=True),
        **{name: privacy.sql_mask_personal(name) for name in MASKED_FIELDS},
    }
    finished = ", ".join(f"{final_form.get(name, name)} AS {name}" for name in col)
    stg.execute(
        f"""CREATE TABLE clean AS SELECT rn, {finished}, damaged, oversized FROM (
            SELECT rn, {cleaned}, ({damaged}) AS damaged, ({oversized}) AS oversized FROM raw)"""  # noqa: S608 - generated
    )
    return set(col)


def _field(present: set[str], name: str) -> str:
    """A clean field, or NULL when the file has no such column."""
    return name if name in present else "CAST(NULL AS VARCHAR)"


def _keys_sql(present: set[str]) -> dict[str, str]:
    """The clean columns (already in final form) that matching and prediction read."""
    return {
        "ticket_id": _field(present, "ticket_id"),
        "title": _field(present, "title"),
        "content": _field(present, "content"),
        "category_raw": _field(present, "category"),
        "address": _field(present, "address"),
        "compound_value": _field(present, "compound"),
    }


def _parse_clean(
    stg: duckdb.DuckDBPyConnection, present: set[str], salt: str, caller_keys: callerkey.Keys
) -> None:
    """clean -> parsed (typed, with its rejection reason); the same ticket twice in one file
    marked. `clean` stays (the side work may still read it)."""

    def c(name: str) -> str:
        return _field(present, name)

    keys = _keys_sql(present)
    label, satisfied = columns.sql_satisfaction(c("satisfaction"), clean=True)
    valid = (
        f"coalesce({columns.sql_flag(c('is_valid'), clean=True)}, "
        f"NOT {columns.sql_flag(c('is_invalid'), clean=True)}, TRUE)"
    )
    caller = columns.sql_caller_key(c("caller_phone"), clean=True)
    # keyed: the salted hash alone can be reversed by trying every number (callerkey)
    caller_hash, key_params = callerkey.sql_keyed(f"sha256(? || {caller})", caller_keys)
    reason = "CASE " + " ".join(f"WHEN {cond} THEN '{why}'" for why, cond in REJECT_RULES) + " END"
    stg.execute(
        f"""
        CREATE TABLE parsed AS
        SELECT *, {reason} AS reason FROM (
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
               CASE WHEN {c("caller_phone")} IS NOT NULL THEN {caller_hash} END AS caller_hash,
               {label} AS satisfaction,
               {satisfied} AS satisfied,
               {columns.sql_flag(c("resolved"), clean=True)} AS resolved,
               {c("status")} AS status,
               {c("handling_unit")} AS handling_unit,
               {valid} AS is_valid,
               {columns.sql_reopened(c("status"))} AS reopened
        FROM clean)
        """,  # noqa: S608 - expressions built from constants and generated identifiers
        [*key_params, salt],
    )
    # the same ticket twice in one file: the later row is the later version (few rows: UPDATE)
    stg.execute(
        f"""
        UPDATE parsed SET reason = '{DUPLICATE_IN_FILE}'
        WHERE rn IN (SELECT rn FROM (SELECT rn, max(rn) OVER (PARTITION BY ticket_id) AS last_rn
                                     FROM parsed WHERE reason IS NULL)
                     WHERE rn < last_rn)
        """  # noqa: S608 - constant
    )


def _rejected_json(stg: duckdb.DuckDBPyConnection, headers: list[str], mapping: dict[str, str]) -> None:
    """rejected rows as JSON objects of the raw cells: name columns left out, phone columns
    masked whole, phone and ID numbers in every other cell masked."""
    names = set(columns.caller_name_headers(headers))
    phones = set(columns.phone_headers(headers, mapping))
    parts: list[str] = []
    params: list[str] = []
    for i, h in enumerate(headers):
        if h in names:
            continue
        value = f"r.c{i}"
        if h in phones:  # whatever its spelling, a phone cell is a phone: none of it is kept
            value = f"CASE WHEN trim(coalesce(r.c{i}, '')) = '' THEN r.c{i} ELSE '{privacy.MASK}' END"
        else:
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


def _side_matching(
    cur: duckdb.DuckDBPyConnection, alias: str, present: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The compounds of the explicit compound values and the prepared matches of the addresses
    (matching.prepare_matches) of the cleaned rows.

    This and `_side_prediction` run one after the other on a thread beside the parsing: DuckDB
    releases the GIL while it parses, so the matcher's Python and the featuriser's many short
    numpy calls get a core and the GIL without waiting (run beside each other, each would wait
    for the other's GIL at every call). Both only read: the rows a rejection rule will drop are
    matched and predicted too, and `_compounds` / `_final` keep what the kept rows use. `cur`
    is a cursor of its own (a connection is not shared between threads)."""
    try:
        keys = _keys_sql(present)
        clean = f"{alias}.clean"
        # no registry yet: nothing can match, and the matcher need not be asked
        has_registry = bool(db.query_one(cur, "SELECT count(*) FROM compounds"))
        looked = None
        if has_registry and "compound" in present:
            values = cur.execute(f"SELECT DISTINCT compound FROM {clean} WHERE compound IS NOT NULL").df()  # noqa: S608
            looked = matching.lookup_compounds(cur, values["compound"].tolist())
        looked = _frame(looked, ["value", "compound_id", "match_score", "match_method"])
        if not has_registry or "address" not in present:
            return looked, None
        taken = pd.DataFrame({"value": looked.loc[looked["compound_id"].notna(), "value"].astype(object)})
        cur.register("taken_values", taken)
        addresses = cur.execute(
            f"""SELECT DISTINCT {keys["address"]} AS address FROM {clean}
                WHERE {keys["address"]} IS NOT NULL
                AND ({keys["compound_value"]} IS NULL
                     OR {keys["compound_value"]} NOT IN (SELECT value FROM taken_values))"""  # noqa: S608
        ).df()
        cur.unregister("taken_values")
        return looked, matching.prepare_matches(cur, addresses["address"].tolist())
    finally:
        cur.close()


def _side_prediction(
    cur: duckdb.DuckDBPyConnection, alias: str, present: set[str], loading: Future[Any]
) -> pa.Table:
    """The predicted category and confidence of each distinct text of the cleaned rows that
    arrive without a category (see _side_matching); empty without a model or in a dry run.
    `loading` gives the model (categories.load_predictor, or None)."""
    try:
        model = loading.result()
        if model is None:
            return PREDICTED_SCHEMA.empty_table()
        texts = _texts_to_predict(cur, f"{alias}.clean", _keys_sql(present))
        if not texts.num_rows:
            return PREDICTED_SCHEMA.empty_table()
        return _predict_texts(model, texts)
    finally:
        cur.close()


def _load_predictor(cur: duckdb.DuckDBPyConnection, enabled: bool) -> Any:
    """The category model ready to predict, or None (no model, or a dry run)."""
    try:
        return categories.load_predictor(cur) if enabled and categories is not None else None
    finally:
        cur.close()


def _texts_to_predict(cur: duckdb.DuckDBPyConnection, clean: str, keys: dict[str, str]) -> pa.Table:
    """The distinct (title, content) of rows without a category, each once, and only of rows
    that will take the prediction: a ticket already stored with a category keeps it (see
    _commit). (Should that ticket be removed by another writer before this upload commits, it
    is stored without a category, which `categories predict` fills.)"""
    return cur.execute(
        f"""SELECT DISTINCT title, content FROM (
                SELECT {keys["ticket_id"]} AS ticket_id, coalesce({keys["title"]}, '') AS title,
                       coalesce({keys["content"]}, '') AS content
                FROM {clean} WHERE {keys["category_raw"]} IS NULL) c
            WHERE NOT EXISTS (SELECT 1 FROM tickets t
                              WHERE t.ticket_id = c.ticket_id AND nullif(trim(t.category), '') IS NOT NULL)"""  # noqa: S608
    ).fetch_arrow_table()


def _predict_texts(model: Any, texts: pa.Table) -> pa.Table:
    """The distinct (title, content) pairs with their category and confidence."""
    category, confidence = categories.predicted_columns(model, texts["title"], texts["content"])
    return texts.append_column("category", category).append_column("confidence", confidence)


PREDICTED_SCHEMA = pa.schema(
    [
        ("title", pa.string()),
        ("content", pa.string()),
        ("category", pa.string()),
        ("confidence", pa.float64()),
    ]
)


def _compounds(
    stg: duckdb.DuckDBPyConnection,
    con: duckdb.DuckDBPyConnection,
    looked: pd.DataFrame,
    matches: pd.DataFrame | None,
) -> None:
    """Tables by_value and by_address: the compound of explicit compound values and of the
    addresses of kept rows; the fresh matches of those addresses are cached (a check before an
    upload caches them too, so the upload does not score them again)."""
    stg.register("looked", looked)
    stg.execute(
        "CREATE TABLE by_value AS SELECT value, compound_id, CAST(match_score AS DOUBLE) AS match_score, "
        "match_method FROM looked WHERE compound_id IS NOT NULL"
    )
    stg.unregister("looked")
    matched = None
    if (
        matches is not None
        and stg.execute("SELECT count(*) FROM parsed WHERE reason IS NOT NULL").fetchone()[0]
    ):
        # some rows are rejected: keep the matches of the kept rows' addresses only
        kept = stg.execute(
            """SELECT DISTINCT address FROM parsed WHERE reason IS NULL AND address IS NOT NULL
               AND (compound_value IS NULL OR compound_value NOT IN (SELECT value FROM by_value))"""
        ).df()["address"]
        matches = matches[matches["address"].isin(set(kept.str.strip()))]
    if matches is not None:
        with db.transaction(con) as cur:
            matching.remember_matches(cur, matches)
        matched = matching.public_matches(matches)
    matched = _frame(matched, ["address", "compound_id", "match_score", "match_method"])
    stg.register("matched", matched)
    stg.execute(
        "CREATE TABLE by_address AS SELECT address, compound_id, CAST(match_score AS DOUBLE) AS match_score, "
        "match_method FROM matched WHERE compound_id IS NOT NULL"
    )
    stg.unregister("matched")


def _final(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection, predicted: pa.Table) -> int:
    """The table `final` with the predicted categories; returns the number of rows predicted."""
    stg.register("predicted", predicted)
    try:
        _category_map_and_final(stg, con)
    finally:
        stg.unregister("predicted")
    return int(stg.execute("SELECT count(*) FROM final WHERE category_source = 'predicted'").fetchone()[0])


def _category_map_and_final(stg: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection) -> None:
    """Table category_map (upload labels -> taxonomy) and the table `final` of the rows to store
    (materialised once: the counts, the classification against the store and the insert all read
    it, and its joins are the costly part)."""
    kept = "FROM parsed WHERE reason IS NULL"
    raws = stg.execute(f"SELECT DISTINCT category_raw {kept} AND category_raw IS NOT NULL").df()[
        "category_raw"
    ]  # noqa: S608
    if categories is not None and hasattr(categories, "map_category_series") and len(raws):
        mapped = pd.Series(categories.map_category_series(con, raws.reset_index(drop=True)), dtype=object)
        cat = pd.DataFrame({"raw": raws.reset_index(drop=True), "category": mapped.reset_index(drop=True)})
    else:
        cat = pd.DataFrame({"raw": raws, "category": raws})
    stg.register("cat", cat.astype({"raw": "string", "category": "string"}))
    stg.execute("CREATE TABLE category_map AS SELECT raw, category FROM cat")
    stg.unregister("cat")

    stg.execute(
        """
        CREATE TABLE final AS
        SELECT p.ticket_id, p.created_at, p.closed_at, p.due_at, p.title, p.content,
               CASE WHEN p.category_raw IS NOT NULL THEN coalesce(cm.category, p.category_raw)
                    ELSE pr.category END AS category,
               p.category_raw,
               CASE WHEN p.category_raw IS NOT NULL THEN 'given'
                    WHEN pr.category IS NOT NULL THEN 'predicted' END AS category_source,
               CASE WHEN p.category_raw IS NULL THEN pr.confidence END AS category_confidence,
               p.address,
               coalesce(v.compound_id, a.compound_id) AS compound_id,
               CASE WHEN v.compound_id IS NOT NULL THEN v.match_score ELSE a.match_score END AS match_score,
               CASE WHEN v.compound_id IS NOT NULL THEN v.match_method ELSE a.match_method END AS match_method,
               p.caller_hash, p.satisfaction, p.satisfied, p.resolved, p.status, p.handling_unit,
               p.is_valid, p.reopened
        FROM parsed p
        LEFT JOIN by_value v ON v.value = p.compound_value
        LEFT JOIN by_address a ON a.address = p.address
        LEFT JOIN category_map cm ON cm.raw = p.category_raw
        LEFT JOIN predicted pr ON pr.title = coalesce(p.title, '') AND pr.content = coalesce(p.content, '')
        WHERE p.reason IS NULL
        """
    )


def _frame(df: pd.DataFrame | None, cols: list[str]) -> pd.DataFrame:
    """A matcher answer with exactly `cols` as text/number columns (empty answers included)."""
    df = pd.DataFrame(columns=cols) if df is None or df.empty else df.rename(columns={"value": cols[0]})[cols]
    return df.astype(
        {cols[0]: "string", "compound_id": "string", "match_score": "float64", "match_method": "string"}
    )


# ---------------------------------------------------------------- loading


def _classify_sql(alias: str) -> str:
    differs = " OR ".join(f"f.{c} IS DISTINCT FROM t.{c}" for c in COMPARED)
    return f"""
        SELECT f.ticket_id,
               CASE WHEN t.ticket_id IS NULL THEN 'new' WHEN {differs} THEN 'changed' ELSE 'same' END AS kind
        FROM {alias}.final f LEFT JOIN tickets t ON t.ticket_id = f.ticket_id
    """  # noqa: S608 - alias generated here


def _counts(stg: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], int, int]:
    reasons = dict(
        stg.execute("SELECT reason, count(*) FROM parsed WHERE reason IS NOT NULL GROUP BY 1").fetchall()
    )
    in_file_dups = int(reasons.pop(DUPLICATE_IN_FILE, 0))
    unmatched = int(stg.execute("SELECT count(*) FROM final WHERE compound_id IS NULL").fetchone()[0])
    return {k: int(v) for k, v in reasons.items()}, in_file_dups, unmatched


@contextlib.contextmanager
def _staging(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """A private in-memory database attached to the store's instance (it spills to the store's
    temporary folder when large) and a cursor whose default catalog it is. Being in the same
    instance, the write transaction reads the staged rows directly; DETACH frees them."""
    alias = f"stg_{uuid.uuid4().hex[:12]}"
    cur = con.cursor()
    try:
        cur.execute(f"ATTACH ':memory:' AS {alias}")
        cur.execute(f"USE {alias}")
    except duckdb.Error as exc:
        cur.close()
        raise db.translate(exc) from None
    try:
        yield cur, alias
    finally:
        cur.close()
        with contextlib.suppress(duckdb.Error), con.cursor() as other:
            other.execute(f"DETACH {alias}")


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    mapping: dict[str, str] | None = None,
    user: str | None = None,
    sheet: str | None = None,
    file_name: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> IngestResult:
    """Load one ticket export as one batch. FileRejected (nothing written) when the file as a
    whole cannot be used; otherwise every row is inserted, updated, a duplicate or rejected."""
    path = Path(path)
    progress = progress or _noop
    name = file_name or path.name
    workdir = Path(tempfile.mkdtemp(prefix="hotline-ingest-"))
    try:
        with _staging(con) as (stg, alias), ThreadPoolExecutor(1, thread_name_prefix="ingest-side") as side:
            # the category model loads while the file is read; matching, then prediction, run
            # beside the parsing (see _side_matching)
            loading = side.submit(_load_predictor, con.cursor(), not dry_run)
            staged = _stage(stg, path, sheet, workdir, progress)
            merged = columns.resolve_mapping(staged.headers, mapping, file_name=name)
            columns.require_fields(staged.headers, merged, file_name=name)
            salt = db.get_setting(con, "caller_salt") if dry_run else db.caller_salt(con)
            caller_keys = callerkey.caller_keys(con, record=not dry_run)  # refuses a key not the store's
            progress(0.3, "解析与校验")
            present = _clean(stg, staged.headers, merged, lossy=staged.encoding == readers.MIXED_ENCODING)
            matched = side.submit(_side_matching, con.cursor(), alias, present)
            prediction_cursor = con.cursor()
            predicting = side.submit(_side_prediction, prediction_cursor, alias, present, loading)
            try:
                _parse_clean(stg, present, salt or "", caller_keys)
                _rejected_json(stg, staged.headers, merged)
                stg.execute("DROP TABLE raw")  # every later step reads parsed rows only
                progress(0.5, "匹配小区与分类")
                _compounds(stg, con, *matched.result())  # while the prediction runs
                texts = predicting.result()
                stg.execute("DROP TABLE clean")  # the side work is done with it
                # the futures hold the matches and predictions: let them go before the commit
                matched = predicting = None
                predicted = _final(stg, con, texts)
                del texts
            except BaseException:
                if predicting is not None and predicting.cancel():  # not started: the upload fails anyway
                    prediction_cursor.close()
                raise
            reasons, in_file_dups, unmatched = _counts(stg)
            for table in ("parsed", "by_value", "by_address", "category_map"):  # all in `final`
                stg.execute(f"DROP TABLE {table}")
            result = IngestResult(
                file=name,
                rows_read=staged.rows_read,
                rejected=sum(reasons.values()),
                unmatched=unmatched,
                encoding=staged.encoding,
                sheet=staged.sheet,
                mapping=merged,
                reasons=reasons,
                dry_run=dry_run,
                dropped_personal_columns=columns.caller_name_headers(staged.headers),
            )
            progress(0.7, "写入数据库")
            if dry_run:
                sql = f"SELECT kind, count(*) AS n FROM ({_classify_sql(alias)}) GROUP BY 1"  # noqa: S608
                _fill(result, dict(db.query_df(con, sql).values), in_file_dups)
            else:
                _commit(con, alias, result, in_file_dups, path, user, predicted)
        _check_balance(result)
        progress(1.0, "完成")
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _fill(result: IngestResult, kinds: dict[str, int], in_file_dups: int) -> None:
    result.inserted = int(kinds.get("new", 0))
    result.updated = int(kinds.get("changed", 0))
    result.duplicates = int(kinds.get("same", 0)) + in_file_dups


def _check_balance(result: IngestResult) -> None:
    total = result.inserted + result.updated + result.duplicates + result.rejected
    if total != result.rows_read:  # a bug, never the user's fault: fail loudly rather than lose rows
        raise RuntimeError(f"row accounting broken: {dataclasses.asdict(result)}")


def _commit(
    con: duckdb.DuckDBPyConnection,
    alias: str,
    result: IngestResult,
    in_file_dups: int,
    path: Path,
    user: str | None,
    predicted_rows: int = 0,
) -> None:
    sha = file_sha256(path)
    set_cols = ", ".join(
        f"{c} = f.{c}"
        for c in FINAL_COLUMNS
        if c not in ("ticket_id", "category", "category_source", "category_confidence")
    )
    # a changed ticket keeps the category it has unless the upload gives one; a prediction only
    # fills a ticket that has none
    keep = "f.category_raw IS NULL AND nullif(trim(tickets.category), '') IS NOT NULL"
    with db.transaction(con) as cur:
        batch_id = db.next_id(cur, "seq_batch")
        cur.execute(f"CREATE TEMP TABLE kinds AS {_classify_sql(alias)}")
        try:
            _fill(
                result,
                dict(cur.execute("SELECT kind, count(*) FROM kinds GROUP BY 1").fetchall()),
                in_file_dups,
            )
            cols = ", ".join(TICKET_COLUMNS)
            cur.execute(
                f"""INSERT INTO ticket_history (replaced_by_batch, {cols})
                    SELECT ?, {", ".join("t." + c for c in TICKET_COLUMNS)} FROM tickets t
                    JOIN kinds k ON k.ticket_id = t.ticket_id AND k.kind = 'changed'""",  # noqa: S608
                [batch_id],
            )
            cur.execute(
                f"""UPDATE tickets SET {set_cols},
                        category = CASE WHEN {keep} THEN tickets.category ELSE f.category END,
                        category_source = CASE WHEN {keep} THEN tickets.category_source
                                               ELSE f.category_source END,
                        category_confidence = CASE WHEN {keep} THEN tickets.category_confidence
                                                   ELSE f.category_confidence END,
                        updated_batch_id = ?
                    FROM {alias}.final f JOIN kinds k ON k.ticket_id = f.ticket_id AND k.kind = 'changed'
                    WHERE tickets.ticket_id = f.ticket_id""",  # noqa: S608
                [batch_id],
            )
            final_cols = ", ".join(FINAL_COLUMNS)
            cur.execute(
                f"""INSERT INTO tickets ({final_cols}, batch_id)
                    SELECT {", ".join("f." + c for c in FINAL_COLUMNS)}, ? FROM {alias}.final f
                    JOIN kinds k ON k.ticket_id = f.ticket_id AND k.kind = 'new'""",  # noqa: S608
                [batch_id],
            )
        finally:
            cur.execute("DROP TABLE IF EXISTS kinds")
        cur.execute(
            f"INSERT INTO rejected_rows SELECT ?, row_number, reason, raw FROM {alias}.rejected",  # noqa: S608
            [batch_id],
        )
        cur.execute(
            """INSERT INTO ingest_batches (batch_id, kind, file_name, sha256, "user", loaded_at, rows_read,
                   inserted, updated, duplicates, rejected, unmatched, mapping, encoding, sheet, status)
               VALUES (?, 'tickets', ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, 'committed')""",
            [
                batch_id, result.file, sha, user, result.rows_read, result.inserted, result.updated,
                result.duplicates, result.rejected, result.unmatched,
                json.dumps(result.mapping, ensure_ascii=False), result.encoding, result.sheet,
            ],
        )  # fmt: skip
        result.batch_id = batch_id
        detail = {
            **result.as_json(),
            "updated": result.updated,
            "sha256": sha,
            "predicted": predicted_rows,
        }
        db.audit(cur, user, "tickets.ingest", detail)


# ---------------------------------------------------------------- history and undo


def batches(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Upload history, newest first (the upload page's table)."""
    return db.query_df(
        con,
        """SELECT batch_id, kind, file_name, "user", loaded_at, rows_read, inserted, updated, duplicates,
                  rejected, unmatched, encoding, sheet, status, mapping, sha256
           FROM ingest_batches ORDER BY batch_id DESC""",
    )


def rejected_rows(con: duckdb.DuckDBPyConnection, batch_id: int) -> pd.DataFrame:
    """row_number, reason, raw (JSON, phones masked) of one batch's rejected rows."""
    return db.query_df(
        con,
        f"SELECT row_number, reason, {privacy.sql_mask_personal('raw')} AS raw FROM rejected_rows "  # noqa: S608
        "WHERE batch_id = ? ORDER BY row_number",
        [batch_id],
    )


def undo_batch(con: duckdb.DuckDBPyConnection, batch_id: int, user: str | None = None) -> dict[str, Any]:
    """Remove what a batch inserted and restore what it updated; the batch is marked 'undone'."""
    row = db.query_df(
        con, "SELECT kind, status, file_name FROM ingest_batches WHERE batch_id = ?", [batch_id]
    )
    if row.empty:
        raise NotFound(f"没有编号为 {batch_id} 的导入批次。", f"There is no upload batch {batch_id}.")
    if row.loc[0, "status"] == "undone":
        raise ValidationError(f"批次 {batch_id} 已经撤销过。", f"Batch {batch_id} has already been undone.")
    if row.loc[0, "kind"] != "tickets":
        raise ValidationError(
            f"批次 {batch_id} 不是工单导入，不能在这里撤销。", f"Batch {batch_id} is not a ticket upload."
        )
    with db.transaction(con) as cur:
        later = cur.execute(
            """SELECT DISTINCT h.replaced_by_batch FROM ticket_history h
               JOIN ingest_batches b ON b.batch_id = h.replaced_by_batch AND b.status = 'committed'
               WHERE h.replaced_by_batch > ? AND h.ticket_id IN (
                   SELECT ticket_id FROM tickets WHERE batch_id = ?
                   UNION SELECT ticket_id FROM ticket_history WHERE replaced_by_batch = ?)
               ORDER BY 1""",
            [batch_id, batch_id, batch_id],
        ).fetchall()
        if later:
            ids = ", ".join(str(r[0]) for r in later)
            raise ValidationError(
                f"不能撤销批次 {batch_id}：之后的批次（{ids}）又修改了其中的工单。请先撤销这些批次。",
                f"Cannot undo batch {batch_id}: later batch(es) {ids} changed the same tickets. "
                "Undo those first.",
            )
        removed = cur.execute("SELECT count(*) FROM tickets WHERE batch_id = ?", [batch_id]).fetchone()[0]
        restored = cur.execute(
            "SELECT count(*) FROM ticket_history WHERE replaced_by_batch = ?", [batch_id]
        ).fetchone()[0]
        cur.execute("DELETE FROM tickets WHERE batch_id = ?", [batch_id])
        restore = ", ".join(f"{c} = h.{c}" for c in TICKET_COLUMNS if c != "ticket_id")
        cur.execute(
            f"""UPDATE tickets SET {restore} FROM ticket_history h
                WHERE h.replaced_by_batch = ? AND tickets.ticket_id = h.ticket_id""",  # noqa: S608
            [batch_id],
        )
        cur.execute("DELETE FROM ticket_history WHERE replaced_by_batch = ?", [batch_id])
        cur.execute("UPDATE ingest_batches SET status = 'undone' WHERE batch_id = ?", [batch_id])
        detail = {"batch_id": int(batch_id), "removed": int(removed), "restored": int(restored)}
        db.audit(cur, user, "tickets.undo", detail)
    return detail
