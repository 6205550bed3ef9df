"""CSV records, decoded, and the check that refuses a file in which an unclosed quote swallows
the rows after it.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from analytics.errors import FileRejected
from analytics.ingest.readers.detect import FileKind, _reject
from analytics.ingest.readers.encoding import TRANSCODE_CHUNK_BYTES

# a single CSV cell above this is damage, not data (the csv module's default is only 128 KiB)
MAX_CSV_FIELD_CHARS = 64 << 20

csv.field_size_limit(MAX_CSV_FIELD_CHARS)
# A stray opening quote (a cell typed as  "3号楼  and never closed) makes a CSV reader run on
# through line breaks to the next quote character, or to the end of the file: every row in between
# vanishes into one cell. A quote still open at the end of the file is always that. Closed further
# on, the cell's text after each line break is the start of a row: it begins with a first cell
# shaped like the row's own (T00017 like T00012: digits, letters and CJK runs alike), and every
# line swallowed whole holds a row's worth of delimiters (width - 1). A real multi-line cell (an
# address over two lines, a complaint in paragraphs, however many commas it has) does not look
# like that. Tables narrower than QUOTE_CHECK_MIN_WIDTH hold too little shape to tell.
# Such a file is refused, naming the line, rather than repaired: which quote was meant literally is
# the author's call, and a wrong guess would store shifted dates and contents that nobody notices.
END_MARK = "\uffff"  # a noncharacter, never in real text; swallowed when a quote is still open at the end
QUOTE_CHECK_MIN_WIDTH = 3
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def csv_records(path: str | Path, kind: FileKind, errors: str = "strict") -> Iterator[list[str]]:
    """Every record of a CSV (quoted cells with newlines included), decoded; FileRejected, naming
    the line, at a record that an unclosed quote has run on into the rows after it."""
    with open(path, encoding=kind.encoding, newline="", errors=errors) as fh:
        if kind.encoding == "utf-8":
            first = fh.read(1)
            if first != "\ufeff":
                fh.seek(0)
        yield from _checked_records(fh, kind.delimiter or ",", path)


def _line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _checked_records(lines: Iterable[str], delimiter: str, path: str | Path) -> Iterator[list[str]]:
    """csv.reader over `lines`, refusing the file at a record an unclosed quote ran on into the
    rows after it (see END_MARK). Line numbers are the file's text lines, counted from 1."""
    reader = csv.reader(itertools.chain(lines, [END_MARK]), delimiter=delimiter)
    width = 0
    ended = 0  # the text line the previous record ended on
    previous_first = ""  # the previous record's first cell
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            if reader.line_num - ended > 1:  # a cell grew past the size limit across many lines
                raise _unclosed_quote(path, ended + 1, "", reader.line_num - ended - 1) from None
            raise
        first, ended = ended + 1, reader.line_num
        if record and record[-1].endswith(END_MARK):
            if record == [END_MARK]:
                return
            # the quote opened in the last cell and nothing closed it before the end of the file
            opened = first + _line_breaks(delimiter.join(record[:-1]))
            raise _unclosed_quote(path, opened, record[0], ended - 1 - opened)
        if ended > first and width >= QUOTE_CHECK_MIN_WIDTH:
            pushed = max(0, len(record) - width)
            for i, cell in enumerate(record):
                row_start = _shape(record[0] if i else previous_first)
                if _swallows_rows(cell, delimiter, width, pushed, row_start):
                    opened = first + _line_breaks(delimiter.join(record[:i]))
                    raise _unclosed_quote(path, opened, record[0], _line_breaks(cell))
        width = max(width, len(record))
        previous_first = record[0] if record else ""
        yield record


def _shape(text: str) -> str:
    """Runs of digits, ASCII letters and other letters (CJK) as 9, a, C; other characters kept:
    'T00017' -> 'a9', '2023-07-01' -> '9-9-9', '翠华苑3号楼' -> 'C9C'."""
    out: list[str] = []
    for ch in text:
        c = "9" if ch.isdigit() else ("a" if ch.isascii() else "C") if ch.isalpha() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _swallows_rows(cell: str, delimiter: str, width: int, pushed: int, row_start: str) -> bool:
    """True when the text after each line break in `cell` is the start of a row (see END_MARK)."""
    parts = LINE_BREAK.split(cell)
    if len(parts) < 2:
        return False
    *whole, last = parts[1:]
    if any(line.count(delimiter) < width - 1 for line in whole):
        return False
    if any(_shape(line.split(delimiter, 1)[0]) != row_start for line in parts[1:]):
        return False
    # the opening row's tail and the closing row's head hold the rest of one row between them
    return parts[0].count(delimiter) + last.count(delimiter) + pushed >= width - 1


def _unclosed_quote(path: str | Path, line: int, first_cell: str, swallowed: int) -> FileRejected:
    cell = first_cell.removesuffix(END_MARK).splitlines()[0] if first_cell.strip() else ""
    cell = cell if len(cell) <= 20 else cell[:20] + "…"
    zh_cell = f"（该行第一格：{cell}）" if cell else ""
    en_cell = f" (its first cell: {cell})" if cell else ""
    return _reject(
        f"第 {line} 行{zh_cell}有一个没有闭合的引号：其后 {swallowed:,} 行会被并进同一个单元格，这些行就丢了。"
        "为免漏导，整个文件都没有导入。请在文本编辑器中删去或补全该行的引号后重新上传。",
        f"line {line}{en_cell} opens a quote that is never closed: the {swallowed:,} lines after it would "
        "be merged into one cell and lost. Nothing from this file was imported. Remove or close that "
        "quote and upload again.",
        path,
    )


def check_csv_quotes(path: str | Path, kind: FileKind) -> None:
    """FileRejected when an unclosed quote runs on into later rows anywhere in the CSV.

    One pass of the csv module over the whole file, skipped for
    a file without a single quote character. Bytes that do not decode are replaced: the quotes,
    delimiters and line breaks this looks at are ASCII, which the supported encodings never use
    inside a multi-byte character."""
    with open(path, "rb") as fh:
        if not any(b'"' in chunk for chunk in iter(lambda: fh.read(TRANSCODE_CHUNK_BYTES), b"")):
            return
    try:
        for _ in csv_records(path, kind, errors="replace"):
            pass
    except csv.Error:
        pass  # other damage: the reader that loads the file says what it is
