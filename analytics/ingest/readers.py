"""Read an uploaded table (CSV in any common encoding, XLSX, XLS) without asking the user.

- `sniff(path)`: what the file is (kind, encoding, delimiter, sheets).
- `read_table(path, sheet, max_rows)`: a small table as strings, for registries and previews.
- `iter_sheet_rows(path, sheet)` and `transcode_to_utf8(...)`: the streaming pieces ingestion
  builds on, so a file of several hundred MB never has to sit in pandas whole.

Anything that is not a usable table raises FileRejected with a Chinese and English message
that says what was found and what to do.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import python_calamine

from analytics.errors import FileRejected

SAMPLE_BYTES = 1 << 20  # encoding and delimiter are decided on the first MiB
HEADER_SEARCH_ROWS = 20  # a header may sit below a few title rows
DELIMITERS = (",", "\t", ";", "|")
TRANSCODE_CHUNK_BYTES = 8 << 20
# encodings charset-normalizer reports for short Chinese samples (it often says cp949 for GBK)
CJK_GUESSES = re.compile(r"^(gb|cp936|cp949|euc_kr|big5|cp950|cp932|shift_jis|euc_jp|iso2022|hz)", re.I)
# characters invisible in Excel that break header matching
INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")
# a "header" made only of numbers and date punctuation is a data row: the file has no header
VALUE_LIKE = re.compile(r"^[\d\s\-/:.,+年月日时分秒T]+$")
MAGIC = (  # (prefix, what it is) for files that are clearly not tables
    (b"\x89PNG", "PNG 图片 / PNG image"),
    (b"\xff\xd8\xff", "JPEG 图片 / JPEG image"),
    (b"GIF8", "GIF 图片 / GIF image"),
    (b"%PDF", "PDF 文档 / PDF document"),
    (b"Rar!", "RAR 压缩包 / RAR archive"),
    (b"7z\xbc\xaf", "7z 压缩包 / 7z archive"),
    (b"\x1f\x8b", "gzip 压缩包 / gzip archive"),
)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"
# A file that is UTF-8 in some lines and GBK in others (two exports pasted together): decoded
# line by line, UTF-8 first (GBK text is almost never valid UTF-8), then GB18030; a line neither
# can decode keeps U+FFFD in place of the bad bytes, and ingestion rejects that row with a reason.
MIXED_ENCODING = "utf8_or_gb18030"
DAMAGED_CHAR = "\ufffd"
# Workbooks are ZIP archives: what they declare is checked before anything is inflated, so a
# "zip bomb" (a few MB that inflate to many GB) is refused in milliseconds, not after the fact.
MAX_UNCOMPRESSED_BYTES = 4 << 30  # a million-row export inflates to well under 1 GiB
MAX_INFLATE_RATIO = 200  # real sheets compress 5-30x; a stream of zeros 1000x
RATIO_CHECKED_ABOVE = 32 << 20  # small members may compress as well as they like
INFLATE_CHUNK = 1 << 20
ZIP_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra length
# Excel allows 16,384 columns; a ticket export has a few dozen. Wider files are a wrong delimiter
# or junk, and would make every later step (staging table, SQL) as wide as they are.
MAX_COLUMNS = 1_000
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


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("gb18030")
    except UnicodeDecodeError:
        return line.decode("utf-8", errors="replace")


class _MixedDecoder(codecs.IncrementalDecoder):
    """Incremental decoder for MIXED_ENCODING: whole lines at a time, a leading UTF-8 BOM dropped.

    Splitting on LF is safe in both encodings: byte 0x0A never occurs inside a UTF-8 or GBK
    character. Never raises; undecodable bytes become U+FFFD.
    """

    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self.pending = b""
        self.started = False

    def decode(self, data: bytes, final: bool = False) -> str:  # type: ignore[override]
        data = self.pending + bytes(data)
        if not self.started:
            if len(data) < len(codecs.BOM_UTF8) and not final:
                self.pending = data
                return ""
            data = data.removeprefix(codecs.BOM_UTF8)
            self.started = True
        cut = len(data) if final else data.rfind(b"\n") + 1
        lines, self.pending = data[:cut], data[cut:]
        return "".join(_decode_line(line) for line in lines.splitlines(keepends=True))

    def reset(self) -> None:
        self.pending, self.started = b"", False

    def getstate(self) -> tuple[bytes, int]:
        return self.pending, int(self.started)

    def setstate(self, state: tuple[bytes, int]) -> None:
        self.pending, self.started = state[0], bool(state[1])


def _mixed_codec(name: str) -> codecs.CodecInfo | None:
    if name != MIXED_ENCODING:
        return None
    utf8 = codecs.lookup("utf-8")

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return _MixedDecoder(errors).decode(data, final=True), len(data)

    return codecs.CodecInfo(
        name=MIXED_ENCODING,
        encode=utf8.encode,
        decode=decode,
        incrementalencoder=utf8.incrementalencoder,
        incrementaldecoder=_MixedDecoder,
        streamreader=utf8.streamreader,
        streamwriter=utf8.streamwriter,
    )


codecs.register(_mixed_codec)


@dataclass
class TableRead:
    frame: pd.DataFrame  # every value a str; missing -> ''
    encoding: str | None  # None for spreadsheets
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    headers: list[str] = field(default_factory=list)


@dataclass
class FileKind:
    kind: str  # csv / xlsx / xls
    encoding: str | None = None
    delimiter: str | None = None
    sheets: list[str] = field(default_factory=list)


def _reject(zh: str, en: str, path: str | Path) -> FileRejected:
    name = Path(path).name
    return FileRejected(f"文件「{name}」{zh}", f"File '{name}': {en}")


def clean_header(text: Any) -> str:
    """A header as the user sees it: no BOM / zero-width characters, whitespace collapsed."""
    return " ".join(INVISIBLE.sub("", str(text if text is not None else "")).split())


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text: 24.0 -> '24', datetimes ISO, None -> ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------- detection


def _decodes(sample: bytes, encoding: str, complete: bool) -> str | None:
    """The sample decoded strictly, tolerating a character cut at the sample's end."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return None


def _has_utf8_cjk_lines(sample: bytes, complete: bool) -> bool:
    """True when some non-ASCII lines of a sample that is not UTF-8 as a whole are valid UTF-8:
    the file mixes encodings line by line."""
    lines = sample.split(b"\n")
    if not complete:
        lines = lines[:-1]  # the last line of a sample may be cut
    return any(not line.isascii() and _decodes(line, "utf-8", True) is not None for line in lines)


def _detect_encoding(sample: bytes, complete: bool, path: str | Path) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        if _decodes(sample, "utf-8", complete) is not None:
            return "utf-8-sig"
        return MIXED_ENCODING  # a UTF-8 BOM in front of GBK text (or of mixed lines)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise _reject(
            "含有二进制内容，不是文本表格。请上传 CSV 或 Excel（.xlsx/.xls）文件。",
            "contains binary data, not a text table. Upload a CSV or Excel (.xlsx/.xls) file.",
            path,
        )
    if _decodes(sample, "utf-8", complete) is not None:
        return "utf-8"
    if _has_utf8_cjk_lines(sample, complete):
        return MIXED_ENCODING
    from charset_normalizer import from_bytes  # imported late: only non-UTF-8 files need it

    best = from_bytes(sample[:200_000]).best()
    guess = best.encoding if best is not None else None
    if (guess is None or CJK_GUESSES.match(guess)) and _decodes(sample, "gb18030", complete) is not None:
        # Chinese exports that are not UTF-8 are GBK; GB18030 is its superset
        return "gb18030"
    if guess is None:
        raise _reject(
            "无法识别文字编码，可能不是文本表格。请在 Excel 中另存为“CSV UTF-8”后重新上传。",
            "its text encoding cannot be recognised; it may not be a table. Save it from Excel "
            "as 'CSV UTF-8' and upload again.",
            path,
        )
    return guess


def _detect_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the most, and most consistent, columns."""
    lines = text.splitlines()[:50]
    if lines and not text.endswith(("\n", "\r")) and len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
        except csv.Error:
            continue
        widths = [w for w in widths if w > 0]
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _refuse_bomb(infos: list[zipfile.ZipInfo], path: str | Path) -> None:
    """FileRejected when the declared sizes say the archive would inflate to far too much."""
    total = sum(i.file_size for i in infos)
    worst = max(infos, key=lambda i: i.file_size / max(i.compress_size, 1), default=None)
    ratio = worst.file_size / max(worst.compress_size, 1) if worst is not None else 0.0
    if total > MAX_UNCOMPRESSED_BYTES or (
        worst is not None and worst.file_size > RATIO_CHECKED_ABOVE and ratio > MAX_INFLATE_RATIO
    ):
        raise _reject(
            f"解压后将达到 {total / (1 << 30):.1f} GB（压缩比 {ratio:.0f} 倍），不是正常的 Excel 工作簿，"
            "已拒绝（可能是“压缩炸弹”）。请上传原始导出文件。",
            f"would inflate to {total / (1 << 30):.1f} GB (ratio {ratio:.0f}:1); that is not a normal "
            "Excel workbook and was refused (a possible zip bomb). Upload the original export.",
            path,
        )


def _member_is_sound(fh: Any, info: zipfile.ZipInfo) -> bool:
    """The member inflates to exactly its declared size with its declared CRC.

    Unlike ZipFile.testzip, output is capped at the declared size plus one chunk, and a stream
    that would go on past the declared size (a lying header, which the spreadsheet reader
    would follow to the end) is caught instead of trusted.
    """
    fh.seek(info.header_offset)
    header = fh.read(ZIP_LOCAL_HEADER.size)
    if len(header) < ZIP_LOCAL_HEADER.size:
        return False
    signature, name_len, extra_len = ZIP_LOCAL_HEADER.unpack(header)
    if signature != ZIP:
        return False
    fh.seek(info.header_offset + ZIP_LOCAL_HEADER.size + name_len + extra_len)
    if info.compress_type == zipfile.ZIP_STORED:
        inflate = None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    else:
        return True  # other methods (never used by Excel): left to the spreadsheet reader
    left, produced, crc = info.compress_size, 0, 0
    while left > 0:
        chunk = fh.read(min(left, INFLATE_CHUNK))
        if not chunk:
            return False  # truncated
        left -= len(chunk)
        while chunk:
            out = chunk if inflate is None else inflate.decompress(chunk, INFLATE_CHUNK)
            chunk = b"" if inflate is None else inflate.unconsumed_tail
            produced += len(out)
            if produced > info.file_size:
                return False  # more than declared: a lying header
            crc = zlib.crc32(out, crc)
    if inflate is not None:
        tail = inflate.flush()
        produced += len(tail)
        crc = zlib.crc32(tail, crc)
    return produced == info.file_size and crc == info.CRC


def _zip_kind(path: str | Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            infos = zf.infolist()
            _refuse_bomb(infos, path)
            with open(path, "rb") as fh:
                bad = next((i.filename for i in infos if not _member_is_sound(fh, i)), None)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error):
        raise _reject(
            "是损坏或不完整的 Excel/ZIP 文件（可能下载未完成）。请重新导出或重新下载后上传。",
            "is a damaged or incomplete Excel/ZIP file (perhaps a partial download). Export "
            "or download it again.",
            path,
        ) from None
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        what = "Word 文档 / a Word document" if "word/document.xml" in names else "ZIP 压缩包 / a ZIP archive"
        raise _reject(
            f"不是 Excel 工作簿，而是{what.split(' / ')[0]}。请上传 .xlsx、.xls 或 .csv 表格。",
            f"is not an Excel workbook but {what.split(' / ')[1]}. Upload an .xlsx, .xls or .csv table.",
            path,
        )
    if bad is not None:
        raise _reject(
            f"已损坏（{bad} 校验失败）。请重新导出后上传。",
            f"is damaged ({bad} fails its checksum). Export it again.",
            path,
        )
    return "xlsx"


def _file_kind(path: str | Path) -> FileKind:
    p = Path(path)
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
    except FileNotFoundError:
        raise _reject("不存在。请检查路径。", "does not exist. Check the path.", path) from None
    except OSError as exc:
        raise _reject(f"无法读取：{exc}", f"cannot be read: {exc}", path) from None
    if size == 0 or not sample.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _reject("是空文件，没有任何内容。", "is empty.", path)
    for prefix, what in MAGIC:
        if sample.startswith(prefix):
            zh, en = what.split(" / ")
            raise _reject(
                f"是{zh}，不是表格。请上传 .xlsx、.xls 或 .csv 文件。",
                f"is a {en}, not a table. Upload an .xlsx, .xls or .csv file.",
                path,
            )
    if sample.startswith(ZIP):
        return FileKind("xlsx")
    if sample.startswith(OLE2):
        return FileKind("xls")
    encoding = _detect_encoding(sample, complete=size <= SAMPLE_BYTES, path=path)
    text = _decodes(sample, encoding, complete=size <= SAMPLE_BYTES) or ""
    if _control_share(text) > 0.05:
        raise _reject(
            "含有大量控制字符，不是文本表格。请上传 CSV 或 Excel 文件。",
            "is mostly control characters, not a text table. Upload a CSV or Excel file.",
            path,
        )
    return FileKind("csv", encoding=encoding, delimiter=_detect_delimiter(text.lstrip("\ufeff")))


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:100_000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return bad / len(sample)


def _workbook(path: str | Path) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types for bad workbooks
        raise _reject(
            f"无法作为 Excel 打开（{type(exc).__name__}），可能已损坏或受密码保护。请在 Excel 中另存后重新上传。",
            f"cannot be opened as Excel ({type(exc).__name__}); it may be damaged or password "
            "protected. Save it again from Excel and upload.",
            path,
        ) from None


def sniff(path: str | Path) -> dict[str, Any]:
    """{'kind', 'encoding', 'delimiter', 'sheets'} of a file; FileRejected if it is no table."""
    kind = _file_kind(path)
    if kind.kind == "xlsx":
        _zip_kind(path)
    if kind.kind in ("xlsx", "xls"):
        kind.sheets = list(_workbook(path).sheet_names)
    return {"kind": kind.kind, "encoding": kind.encoding, "delimiter": kind.delimiter, "sheets": kind.sheets}


# ---------------------------------------------------------------- header row


def _is_blank(row: list[str]) -> bool:
    return not any(c.strip() for c in row)


def find_header(rows: list[list[str]], path: str | Path) -> int:
    """Index of the header among the first rows: the first with at least half as many filled
    cells as the widest row (title rows like '2023年7月工单明细' above it are skipped)."""
    window = rows[:HEADER_SEARCH_ROWS]
    counts = [sum(1 for c in r if c.strip()) for r in window]
    if not any(counts):
        raise _reject("没有任何数据（前几行都是空的）。", "has no data (its first rows are empty).", path)
    widest = max(counts)
    for i, n in enumerate(counts):
        if n and n >= max(1, (widest + 1) // 2):
            cells = [c.strip() for c in window[i] if c.strip()]
            if all(VALUE_LIKE.match(c) for c in cells):
                raise _reject(
                    f"没有表头行：第 {i + 1} 行是数据（{'、'.join(cells[:4])}）。请在第一行加上列名后重新上传。",
                    f"has no header row: row {i + 1} holds data ({', '.join(cells[:4])}). Add column "
                    "names in the first row and upload again.",
                    path,
                )
            return i
    return 0  # unreachable: the widest row always qualifies


def table_headers(raw: list[str], path: str | Path) -> list[str]:
    """The header row as unique names, at most MAX_COLUMNS wide: a too-wide row loses its
    trailing unnamed columns (an Excel sheet formatted out to column XFD); FileRejected when
    more than MAX_COLUMNS columns are named."""
    if len(raw) > MAX_COLUMNS:
        named = [i for i, cell in enumerate(raw) if clean_header(cell)]
        width = named[-1] + 1 if named else 0
        if width > MAX_COLUMNS:
            raise _reject(
                f"有 {width:,} 列，超过上限 {MAX_COLUMNS:,} 列（工单导出通常只有几十列）。"
                "请检查分隔符，或删去多余的列后重新上传。",
                f"has {width:,} columns, more than the limit of {MAX_COLUMNS:,} (a ticket export has a "
                "few dozen). Check the delimiter, or delete the extra columns and upload again.",
                path,
            )
        raw = raw[:width]
    return unique_headers(raw)


def unique_headers(raw: list[str]) -> list[str]:
    """Cleaned headers; blanks become 列N, repeats get ' (2)', ' (3)' so every column has a name."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(raw):
        name = clean_header(h) or f"列{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


# ---------------------------------------------------------------- reading


def _pick_sheet(wb: python_calamine.CalamineWorkbook, sheet: str | None, path: str | Path) -> str:
    names = list(wb.sheet_names)
    if sheet is not None:
        if sheet not in names:
            raise _reject(
                f"没有名为「{sheet}」的工作表；现有工作表：{'、'.join(names)}。",
                f"has no sheet '{sheet}'; its sheets are: {', '.join(names)}.",
                path,
            )
        return sheet
    for name in names:  # default: the first sheet that holds any data
        try:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=True)
        except Exception:  # noqa: S112 - a chart sheet or broken sheet is skipped, not fatal
            continue
        if any(any(cell_text(c).strip() for c in r) for r in rows[:HEADER_SEARCH_ROWS]):
            return name
    raise _reject("所有工作表都是空的。", "has no sheet with data.", path)


def iter_sheet_rows(path: str | Path, sheet: str | None = None) -> tuple[str, list[str], Iterator[list[str]]]:
    """(sheet name, headers, iterator over data rows as lists of str) of a workbook.

    Rows after the header are yielded as they come, blank rows included (the caller numbers
    rows as the analyst sees them in Excel and then skips blanks); the empty tail some exports
    declare (65,203 rows of which 496 hold data) is not yielded.
    """
    kind = _file_kind(path)
    if kind.kind == "xlsx":
        _zip_kind(path)
    elif kind.kind != "xls":
        raise ValueError("iter_sheet_rows is for workbooks")
    wb = _workbook(path)
    name = _pick_sheet(wb, sheet, path)
    try:
        rows = wb.get_sheet_by_name(name).iter_rows()
        head: list[list[str]] = []
        for row in rows:
            head.append([cell_text(c) for c in row])
            if len(head) >= HEADER_SEARCH_ROWS:
                break
    except Exception as exc:
        raise _reject(
            f"工作表「{name}」无法读取（{type(exc).__name__}），文件可能不完整。",
            f"sheet '{name}' cannot be read ({type(exc).__name__}); the file may be incomplete.",
            path,
        ) from None
    h = find_header(head, path)
    headers = table_headers(head[h], path)
    width = len(headers)

    def data() -> Iterator[list[str]]:
        pending: list[list[str]] = []  # blank rows held back until a filled row follows them
        for row in head[h + 1 :]:
            yield from _flush(pending, row, width)
        try:
            for raw in rows:
                yield from _flush(pending, [cell_text(c) for c in raw[:width]], width)
        except Exception as exc:  # calamine raises its own types for a sheet damaged further down
            raise _reject(
                f"工作表「{name}」在读取途中出错（{type(exc).__name__}），文件可能已损坏或不完整。请重新导出后上传。",
                f"sheet '{name}' failed part-way through ({type(exc).__name__}); the file may be damaged "
                "or incomplete. Export it again.",
                path,
            ) from None

    return name, headers, data()


def _flush(pending: list[list[str]], row: list[str], width: int) -> Iterator[list[str]]:
    row = (row + [""] * width)[:width] if len(row) != width else row
    if _is_blank(row):
        pending.append(row)
        return
    yield from pending
    pending.clear()
    yield row


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

    One pass of the csv module over the whole file (about a second per million rows), skipped for
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


def read_table(path: str | Path, sheet: str | None = None, max_rows: int | None = None) -> TableRead:
    """A whole (small) table as strings; `max_rows` stops early for previews."""
    kind = _file_kind(path)
    if kind.kind in ("xlsx", "xls"):
        name, headers, rows = iter_sheet_rows(path, sheet)
        kind.sheets = list(_workbook(path).sheet_names)
        data = _take(rows, len(headers), max_rows)
        frame = pd.DataFrame(data, columns=headers, dtype=str)
        return TableRead(frame=frame, encoding=None, sheets=kind.sheets, sheet=name, headers=headers)
    try:
        try:
            headers, data = _read_csv_table(path, kind, max_rows)
        except UnicodeDecodeError:
            # a later part is in another encoding than the first MiB: decode line by line
            kind.encoding = MIXED_ENCODING
            headers, data = _read_csv_table(path, kind, max_rows)
    except csv.Error as exc:
        raise _reject(f"CSV 格式错误：{exc}", f"is not valid CSV: {exc}", path) from None
    frame = pd.DataFrame(data, columns=headers, dtype=str)
    return TableRead(frame=frame, encoding=kind.encoding, sheets=[], sheet=None, headers=headers)


def _read_csv_table(
    path: str | Path, kind: FileKind, max_rows: int | None
) -> tuple[list[str], list[list[str]]]:
    records = csv_records(path, kind)
    head = []
    for rec in records:
        head.append(rec)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    h = find_header(head, path)
    headers = table_headers(head[h], path)

    def rest() -> Iterator[list[str]]:
        yield from head[h + 1 :]
        yield from records

    return headers, _take(rest(), len(headers), max_rows)


def _take(rows: Iterator[list[str]], width: int, max_rows: int | None) -> list[list[str]]:
    """Rows padded/cut to the header width, blank rows dropped, at most max_rows."""
    out: list[list[str]] = []
    for row in rows:
        if _is_blank(row):
            continue
        out.append((row + [""] * width)[:width] if len(row) != width else row)
        if max_rows is not None and len(out) >= max_rows:
            break
    return out


def transcode_to_utf8(path: str | Path, encoding: str, out_path: str | Path) -> str:
    """Copy a text file to UTF-8 in chunks (DuckDB reads UTF-8 only); memory stays flat.

    Returns the encoding used: `encoding`, or MIXED_ENCODING when a later part of the file
    does not decode as `encoding` (the copy is then redone line by line, never refused)."""
    try:
        _transcode(path, encoding, out_path)
        return encoding
    except UnicodeDecodeError:
        _transcode(path, MIXED_ENCODING, out_path)
        return MIXED_ENCODING


def _transcode(path: str | Path, encoding: str, out_path: str | Path) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    first = True
    with open(path, "rb") as src, open(out_path, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(TRANSCODE_CHUNK_BYTES):
            text = decoder.decode(chunk)
            dst.write(text.lstrip("\ufeff") if first else text)
            first = first and not text
        dst.write(decoder.decode(b"", final=True))


def file_kind(path: str | Path) -> FileKind:
    """Public form of the detection ingestion uses (validates ZIP workbooks, and CSV quoting)."""
    kind = _file_kind(path)
    if kind.kind == "xlsx":
        _zip_kind(path)
    if kind.kind in ("xlsx", "xls"):
        kind.sheets = list(_workbook(path).sheet_names)
    if kind.kind == "csv":
        check_csv_quotes(path, kind)
    return kind


def sheet_report(path: str | Path, sheet: str | None = None) -> tuple[str | None, list[str]]:
    """(the sheet read, the workbook's other sheets) for a file that has already been read, so is
    known to be sound; (None, []) for a CSV. With `sheet` None, the sheet `read_table` and
    ingestion pick: the first that holds data."""
    if _file_kind(path).kind == "csv":
        return None, []
    wb = _workbook(path)
    chosen = _pick_sheet(wb, sheet, path)
    return chosen, [name for name in wb.sheet_names if name != chosen]
