"""Workbooks (XLSX, XLS): the ZIP checks that refuse damaged files and zip bombs before anything
is inflated, the sheet to read, and its rows streamed as text.
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import python_calamine

from analytics.ingest.readers.detect import ZIP, _file_kind, _reject
from analytics.ingest.readers.headers import HEADER_SEARCH_ROWS, _is_blank, find_header, table_headers

# Workbooks are ZIP archives: what they declare is checked before anything is inflated, so a
# "zip bomb" (a few MB that inflate to many GB) is refused in milliseconds, not after the fact.
MAX_UNCOMPRESSED_BYTES = 4 << 30  # a million-row export inflates to well under 1 GiB
MAX_INFLATE_RATIO = 200  # real sheets compress 5-30x; a stream of zeros 1000x
RATIO_CHECKED_ABOVE = 32 << 20  # small members may compress as well as they like
INFLATE_CHUNK = 1 << 20
ZIP_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra length


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


def iter_sheet_rows(
    path: str | Path, sheet: str | None = None
) -> tuple[str, list[str], Iterator[list[str]], int]:
    """(sheet name, headers, iterator over data rows as lists of str, the header's row number as
    Excel shows it) of a workbook.

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

    # calamine's rows start at the sheet's first row, blank or not
    return name, headers, data(), h + 1


def _flush(pending: list[list[str]], row: list[str], width: int) -> Iterator[list[str]]:
    row = (row + [""] * width)[:width] if len(row) != width else row
    if _is_blank(row):
        pending.append(row)
        return
    yield from pending
    pending.clear()
    yield row
