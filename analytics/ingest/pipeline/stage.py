"""Staging: the file's rows as text (`raw`: rn, c0, c1, ...; a view over the table DuckDB's
CSV reader filled, else a table; `drop_raw` frees it) in a private in-memory
database attached to the store's DuckDB instance. CSV through DuckDB's own reader (non-UTF-8
files transcoded to UTF-8 in chunks first, Python's csv module when DuckDB's reader gives up),
workbooks through calamine in chunks. Blank rows are not rows.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import FileRejected
from analytics.ingest.readers.csvfile import csv_records
from analytics.ingest.readers.detect import FileKind
from analytics.ingest.readers.encoding import MIXED_ENCODING, transcode_to_utf8
from analytics.ingest.readers.excel import iter_sheet_rows
from analytics.ingest.readers.headers import HEADER_SEARCH_ROWS, _is_blank, find_header, table_headers
from analytics.ingest.readers.table import file_kind
from analytics.store import db

Progress = Callable[[float, str], None]

XLSX_CHUNK_ROWS = 50_000
BLANK_CHARS_SQL = "' \t\n\r\x0b\x0c\u3000\u00a0'"  # a SQL literal: whitespace str.strip() removes
CSV_CHUNK_ROWS = 20_000  # rows per insert when a CSV is read by Python (DuckDB's reader gave up)
SPARE_COLUMNS = 8  # ragged CSVs: room for cells beyond the header before DuckDB gives up
MAX_LINE_BYTES = 4 << 20  # DuckDB buffers 16x this per thread


@dataclass
class _Staged:
    headers: list[str]
    encoding: str | None
    sheet: str | None
    rows_read: int
    # the header's row as a spreadsheet shows the file: data row `rn` is file row header_row + rn
    header_row: int = 1
    # a CSV read by DuckDB's reader, which passes over empty lines without counting them: rn of a
    # file with empty lines between its rows must be renumbered (`renumber_rows`)
    csv_source: Path | None = None
    csv_delimiter: str = ","


def _csv_error(path: Path, detail: str) -> FileRejected:
    return FileRejected(
        f"文件「{path.name}」无法按 CSV 读取：{detail}。请检查引号和分隔符，或另存为 Excel 后上传。",
        f"File '{path.name}' cannot be read as CSV: {detail}. Check quotes and delimiters, "
        "or save it as Excel and upload that.",
    )


def _load_csv(
    stg: duckdb.DuckDBPyConnection, path: Path, kind: FileKind, workdir: Path
) -> tuple[list[str], str | None, int, Path | None]:
    """Stage a CSV as table `raw`; returns (headers, the encoding actually used, the header's
    record number, the UTF-8 source DuckDB read or None when Python's csv module numbered the rows).

    DuckDB's reader first (fast, strict, then lenient about ragged rows); when it gives up (a
    line over its size limit, bytes in another encoding) the same rows go through Python's csv
    module instead, so one odd line never costs the analyst the whole file.
    """
    records = csv_records(path, kind)
    head: list[list[str]] = []
    try:
        for rec in records:
            head.append(rec)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
    except UnicodeDecodeError:
        pass  # a later byte is in another encoding: transcoding below decodes line by line
    except csv.Error as exc:
        raise _csv_error(path, str(exc)) from None
    header_at = find_header(head, path)
    headers = table_headers(head[header_at], path)
    encoding = kind.encoding
    source = path
    if encoding not in ("utf-8", "utf-8-sig"):
        source = workdir / "utf8.csv"
        encoding = transcode_to_utf8(path, encoding or "utf-8", source)
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
            encoding = transcode_to_utf8(path, MIXED_ENCODING, source)
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
                encoding = transcode_to_utf8(path, MIXED_ENCODING, source)
                stg.execute("DROP TABLE IF EXISTS raw")
                _load_csv_rows(stg, path, source, header_at, width, kind.delimiter or ",")
            return headers, encoding, header_at + 1, None
    # `raw` is a view: the rows are not copied once more to number them (a row's rowid stays
    # what it was when read, whatever is deleted around it)
    keep = ", ".join(f"c{i}" for i in range(width))
    stg.execute(f"CREATE VIEW raw AS SELECT CAST(rowid + 1 AS BIGINT) AS rn, {keep} FROM raw_csv")  # noqa: S608
    return headers, encoding, header_at + 1, source


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
) -> tuple[str, list[str], int]:
    name, headers, rows, header_row = iter_sheet_rows(path, sheet)
    width = len(headers)
    names = [f"c{i}" for i in range(width)]
    stg.execute(
        "CREATE TABLE raw (rn BIGINT, " + ", ".join(f"{c} VARCHAR" for c in names) + ")"  # noqa: S608
    )

    def chunks() -> Iterator[pd.DataFrame]:
        buf: list[list[str]] = []
        numbers: list[int] = []
        for number, row in enumerate(rows, start=1):
            if _is_blank(row):  # shared rule for what a blank row is
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
    return name, headers, header_row


def _stage(
    stg: duckdb.DuckDBPyConnection, path: Path, sheet: str | None, workdir: Path, progress: Progress
) -> _Staged:
    """The file's rows as text in staging table `raw` (rn, c0, c1, ...), blank rows removed."""
    kind = file_kind(path)
    progress(0.02, "读取文件")
    encoding = kind.encoding
    csv_source = None
    if kind.kind == "csv":
        headers, encoding, header_row, csv_source = _load_csv(stg, path, kind, workdir)
        sheet_name = None
    else:
        sheet_name, headers, header_row = _load_workbook(stg, path, sheet, progress)
    # the same notion of blank as _is_blank (str.strip), whichever reader staged the rows
    # (a cell that does not open with white space is not blank: trim, slow with a character set,
    # runs only on the cells that do)
    blank = " AND ".join(
        f"(c{i} IS NULL OR contains({BLANK_CHARS_SQL}, left(c{i}, 1)) AND trim(c{i}, {BLANK_CHARS_SQL}) = '')"
        for i in range(len(headers))
    )
    rows = "raw_csv" if csv_source is not None else "raw"  # the table under the view `raw`
    stg.execute(f"DELETE FROM {rows} WHERE {blank}")  # noqa: S608 - generated identifiers
    rows_read = int(stg.execute("SELECT count(*) FROM raw").fetchone()[0])
    if rows_read == 0:
        raise FileRejected(
            f"文件「{path.name}」只有表头，没有数据行。", f"File '{path.name}' has a header but no data rows."
        )
    return _Staged(headers, encoding, sheet_name, rows_read, header_row, csv_source, kind.delimiter or ",")


def drop_raw(stg: duckdb.DuckDBPyConnection, staged: _Staged) -> None:
    """Free the staged file rows (`raw`, and the table under it when it is a view)."""
    if staged.csv_source is not None:
        stg.execute("DROP VIEW raw")
        stg.execute("DROP TABLE raw_csv")
    else:
        stg.execute("DROP TABLE raw")


# an empty line anywhere (in a quoted cell too: then the count below finds none), in LF, CRLF or
# CR files; bytes.find is a fast substring search, far quicker than a regular expression here
_EMPTY_LINES = (b"\n\n", b"\n\r\n", b"\r\r")
_SCAN_BYTES = 8 << 20


def _has_empty_line(path: Path) -> bool:
    with open(path, "rb") as fh:
        tail = b""
        while chunk := fh.read(_SCAN_BYTES):
            window = tail + chunk
            if any(mark in window for mark in _EMPTY_LINES):
                return True
            tail = chunk[-2:]
    return False


def renumber_rows(staged: _Staged, numbers: list[int]) -> dict[int, int]:
    """{rn: the data row as the file counts it} for the given rn of a CSV that DuckDB read.

    DuckDB's reader passes over empty lines, so its k-th row is the k-th record that is not an
    empty line, while a spreadsheet (and the analyst) counts every line. Only the rows asked for
    (rejected ones, so few) are looked up, and only when the file has an empty line at all.
    """
    wanted = set(numbers)
    if staged.csv_source is None or not wanted or not _has_empty_line(staged.csv_source):
        return {n: n for n in wanted}
    found: dict[int, int] = {}
    last = max(wanted)
    with open(staged.csv_source, encoding="utf-8-sig", newline="", errors="replace") as fh:
        records = csv.reader(fh, delimiter=staged.csv_delimiter)
        for _ in itertools.islice(records, staged.header_row):
            pass
        k = 0
        for number, record in enumerate(records, 1):
            if not record:  # an empty line: a spreadsheet row, not a DuckDB row
                continue
            k += 1
            if k in wanted:
                found[k] = number
            if k >= last:
                break
    return {n: found.get(n, n) for n in wanted}


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
