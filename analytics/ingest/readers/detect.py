"""What an uploaded file is: its kind (CSV, XLSX, XLS), encoding and delimiter, decided on its
first MiB. A file that is clearly not a table is refused with a message naming it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from analytics.errors import FileRejected
from analytics.ingest.readers.encoding import MIXED_ENCODING

SAMPLE_BYTES = 1 << 20  # encoding and delimiter are decided on the first MiB


DELIMITERS = (",", "\t", ";", "|")


# encodings charset-normalizer reports for short Chinese samples (it often says cp949 for GBK)
CJK_GUESSES = re.compile(r"^(gb|cp936|cp949|euc_kr|big5|cp950|cp932|shift_jis|euc_jp|iso2022|hz)", re.I)


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


@dataclass
class FileKind:
    kind: str  # csv / xlsx / xls
    encoding: str | None = None
    delimiter: str | None = None
    sheets: list[str] = field(default_factory=list)


def _reject(zh: str, en: str, path: str | Path) -> FileRejected:
    name = Path(path).name
    return FileRejected(f"文件「{name}」{zh}", f"File '{name}': {en}")


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
