"""The header row: where it sits among a table's first rows, and its cells as unique, clean
column names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analytics.ingest.readers.detect import _reject

HEADER_SEARCH_ROWS = 20  # a header may sit below a few title rows


# characters invisible in Excel that break header matching
INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")
# a "header" made only of numbers and date punctuation is a data row: the file has no header
VALUE_LIKE = re.compile(r"^[\d\s\-/:.,+年月日时分秒T]+$")


# Excel allows 16,384 columns; a ticket export has a few dozen. Wider files are a wrong delimiter
# or junk, and would make every later step (staging table, SQL) as wide as they are.
MAX_COLUMNS = 1_000


def clean_header(text: Any) -> str:
    """A header as the user sees it: no BOM / zero-width characters, whitespace collapsed."""
    return " ".join(INVISIBLE.sub("", str(text if text is not None else "")).split())


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
