"""Dates as people type them or Excel writes them, in task-force lists and forms."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

# Excel day 0 is 1899-12-30 (Lotus 1900 leap-year bug); serials in this range are plausible dates
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (20000, 80000)


DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?(?:\s.*)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> dt.date | None:
    """A date from the forms people type or Excel writes; None when it is not a date.

    2023-03-01, 2023/3/1, 2023.3.1, 2023年3月1日, 20230301, '2023-03-01 00:00:00' and Excel
    serial day numbers (45000, 45000.0).
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for pattern in DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    try:
        serial = float(text)
    except ValueError:
        return None
    if EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1] and serial == int(serial):
        return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    return None
