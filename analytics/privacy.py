"""Personal data inside free text: phone and resident-ID numbers, found by one table of patterns.

Callers dictate numbers to the hotline and operators type them into the ticket text in every
spelling: `138 1234 5678`, `+86-138…`, `（0531）8888 8888`, `幺三八…`, full-width digits, one
number after another. `PATTERNS` below is the one place that says what such a number looks
like; from it come

- `sql_mask_personal(expr)`: a DuckDB expression (ingest, the queries that hand text to pages);
- `mask_personal(text)`: the same rule in Python (pages, for text whatever its source);
- `remask_stored_text(cur)`: the rule over the text a store already holds (migration 004; a
  restore of a backup made before it should call it too).

Each pattern is a regular expression that DuckDB's RE2 and Python's `re` read identically: no
lookaround, no `\\d`/`\\s` shorthands, character classes of literal characters, and both
engines take the leftmost alternative that leads to a match. A number is a match of one
pattern standing between two non-digits; it becomes `MASK` whole (no digit survives).

Without lookaround the non-digits around a number are part of the match, so a number right
after another (`13812345678,13912345678`, one character between) would find its leading
non-digit already taken by its neighbour's match, and a later start inside it could match only
its tail (`0531-` left of `0531-66666666`). So a match is a whole list of numbers, each joined
to the next by one character, and the list becomes one MASK: every number of it masked, in
one pass.

Dates, times, amounts, house numbers and ticket ids are not numbers of these shapes: a mobile
is 11 digits starting 1[3-9]; a landline starts with an area code 0xx(x); a bare local number
is 7-8 digits starting 2-9 that is not an 8-digit date (20230701); ID numbers carry a birth
date. Ticket ids of 12+ digits (202307010001, LS2023070100001) match no length.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

# How each digit is written in ticket text: ASCII, full-width, and read aloud in Chinese
# (幺 for 1 and 两 for 2 as operators hear them on the phone; 〇 and 零 for 0).
_SPELLINGS: dict[int, str] = {
    0: "零〇",
    1: "一幺",
    2: "二两",
    3: "三",
    4: "四",
    5: "五",
    6: "六",
    7: "七",
    8: "八",
    9: "九",
}
# One character that may sit between two digits of a number: spaces (incl. NBSP, ideographic),
# hyphens and dashes, dots and middle dots; also characters that render as nothing (zero-width
# and bidirectional controls), so an invisible character cannot hide a number.
_SEPARATORS = (
    " \u00a0\u3000"
    "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
    ".\uff0e\u00b7\u30fb"
    "\u200b\u200c\u200d\u2060\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
S = f"[{_SEPARATORS}]?"  # at most one separator
NOT_DIGIT = "[^0-9\uff10-\uff19]"  # what may stand next to a number (a Chinese numeral may)
MASK = "********"


def digit(lo: int, hi: int | None = None) -> str:
    """A class of the digits lo..hi in every spelling, e.g. digit(3, 9) for a mobile's second."""
    hi = lo if hi is None else hi
    ascii_part = f"{lo}" if lo == hi else f"{lo}-{hi}"
    wide = chr(0xFF10 + lo) if lo == hi else f"{chr(0xFF10 + lo)}-{chr(0xFF10 + hi)}"
    spoken = "".join(_SPELLINGS[d] for d in range(lo, hi + 1))
    return f"[{ascii_part}{wide}{spoken}]"


D = digit(0, 9)


def _digits(n: int, sep: bool = False) -> str:
    """n digits; with `sep`, each may be preceded by one separator."""
    one = f"{S}{D}" if sep else D
    return f"(?:{one}){{{n}}}"


_EXTENSION = f"(?:{S}(?:转|分机){S}{D}{{1,6}}|[\\-\uff0d]{D}{{1,6}})?"
_LOCAL_TAIL = f"{S}{_digits(4)}"  # the last four digits of a local number, maybe set apart
# 8-digit local numbers that are not dates: anything not starting 20, and 20yy with an
# impossible month or day (20230701 is 2023-07-01; 20231301 cannot be a date)
_LOCAL8 = (
    f"{digit(3, 9)}{D}{{3}}{_LOCAL_TAIL}",
    f"{digit(2)}{digit(1, 9)}{D}{{2}}{_LOCAL_TAIL}",
    f"{digit(2)}{digit(0)}{D}{{2}}{S}(?:{digit(2, 9)}{D}|{digit(1)}{digit(3, 9)}|{digit(0)}{digit(0)}){D}{{2}}",
    f"{digit(2)}{digit(0)}{D}{{2}}{S}(?:{digit(0)}{digit(1, 9)}|{digit(1)}{digit(0, 2)})"
    f"(?:{digit(4, 9)}{D}|{digit(3)}{digit(2, 9)}|{digit(0)}{digit(0)})",
)
_MONTH = f"(?:{digit(0)}{digit(1, 9)}|{digit(1)}{digit(0, 2)})"
_DAY = f"(?:{digit(0)}{digit(1, 9)}|{digit(1, 2)}{D}|{digit(3)}{digit(0, 1)})"
_REGION = f"{digit(1, 9)}{D}{{5}}"

# (name, pattern): the one table. Order matters where two could start at the same character
# (leftmost-first): the longer shapes come first.
PATTERNS: tuple[tuple[str, str], ...] = (
    # 18-digit resident ID: region, birth date yyyymmdd, sequence, check digit (or X); often
    # written 6-8-4
    (
        "id18",
        f"{_REGION}{S}(?:{digit(1)}{digit(8, 9)}|{digit(2)}{digit(0)}){D}{{2}}{_MONTH}{_DAY}{S}{D}{{3}}"
        f"[0-9\uff10-\uff19{''.join(_SPELLINGS.values())}Xx\uff38\uff58]",
    ),
    # 15-digit resident ID (before 1999): region, birth date yymmdd, sequence
    ("id15", f"{_REGION}{S}{D}{{2}}{_MONTH}{_DAY}{S}{D}{{3}}"),
    # mobile: 11 digits from 1[3-9], any one separator between digits, +86 / 0086 / 86 / (+86)
    (
        "mobile",
        f"(?:[(\uff08]?(?:[+\uff0b]|{digit(0)}{digit(0)})?{digit(8)}{digit(6)}[)\uff09]?{S})?"
        f"{digit(1)}{S}{digit(3, 9)}{_digits(9, sep=True)}",
    ),
    # landline with its area code: 0531-88888888, (0531)88888888, 010 1234 5678, extension
    (
        "landline",
        f"[(\uff08]?{digit(0)}{digit(1, 9)}{D}{{1,2}}(?:[)\uff09]{S}|{S}){D}{{3,4}}{_LOCAL_TAIL}{_EXTENSION}",
    ),
    # a local number without area code: 7 or 8 digits starting 2-9 (not an 8-digit date)
    ("local", f"(?:{digit(2, 9)}{D}{{2}}{_LOCAL_TAIL}|{'|'.join(_LOCAL8)}){_EXTENSION}"),
)

# every pattern holds 7 digits with at most one separator between neighbours: text without
# such a run is returned as it is, at the cost of one scan
PREFILTER = f"{D}(?:{S}{D}){{6}}"
_NUMBER = f"(?:{'|'.join(p for _, p in PATTERNS)})"
PATTERN = f"(^|{NOT_DIGIT}){_NUMBER}(?:{NOT_DIGIT}{_NUMBER})*({NOT_DIGIT}|$)"
REPLACEMENT = rf"\1{MASK}\2"

_PREFILTER_RE = re.compile(PREFILTER)
_PATTERN_RE = re.compile(PATTERN)


def mask_personal(text: Any) -> Any:
    """`text` with every phone and ID number replaced by MASK; anything not a str as it is."""
    if not isinstance(text, str) or not _PREFILTER_RE.search(text):
        return text
    return _PATTERN_RE.sub(REPLACEMENT, text)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_mask_personal(expr: str) -> str:
    """The DuckDB expression of `mask_personal(expr)` (NULL stays NULL)."""
    masked = f"regexp_replace({expr}, {_lit(PATTERN)}, {_lit(REPLACEMENT)}, 'g')"
    return f"CASE WHEN regexp_matches({expr}, {_lit(PREFILTER)}) THEN {masked} ELSE {expr} END"


# Where a store keeps text that came from an upload as it was written: (table, columns).
STORED_TEXT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tickets", ("title", "content", "address", "handling_unit", "category", "category_raw", "status",
                 "satisfaction")),
    ("ticket_history", ("title", "content", "address", "handling_unit", "category", "category_raw",
                        "status", "satisfaction")),
    ("rejected_rows", ("raw",)),
)  # fmt: skip
# which address_matches row survives when several addresses mask to the same one: an analyst's
# decision (confirmed, then rejected) over the matcher's
_STATUS_RANK = "CASE status WHEN 'confirmed' THEN 0 WHEN 'rejected' THEN 1 WHEN 'auto' THEN 2 WHEN 'review' THEN 3 ELSE 4 END"


def _candidate(column: str) -> str:
    return f"coalesce(regexp_matches({column}, {_lit(PREFILTER)}), FALSE)"


def remask_stored_text(cur: duckdb.DuckDBPyConnection) -> None:
    """Mask, with today's rule, the numbers in text already stored (inside the caller's
    transaction). Only rows holding a candidate are rewritten, so a store that is clean costs
    one scan. Addresses are also the key of `address_matches`, by which tickets find their
    match: two that differed only in a number become one, and those rows are merged."""
    for table, cols in STORED_TEXT:
        sets = ", ".join(f"{c} = {sql_mask_personal(c)}" for c in cols)
        where = " OR ".join(_candidate(c) for c in cols)
        cur.execute(f"UPDATE {table} SET {sets} WHERE {where}")  # noqa: S608 - constants
    masked = sql_mask_personal("address")
    cur.execute(
        f"""CREATE TEMP TABLE _remasked AS
            SELECT DISTINCT {masked} AS masked FROM address_matches
            WHERE {_candidate("address")} AND {masked} <> address"""  # noqa: S608 - constants
    )
    try:
        if not cur.execute("SELECT count(*) FROM _remasked").fetchone()[0]:
            return
        # every row that ends up under one of those addresses, raw or already masked; one kept
        cur.execute(
            f"""CREATE TEMP TABLE _merged AS
                SELECT * REPLACE ({masked} AS address) FROM address_matches
                WHERE {masked} IN (SELECT masked FROM _remasked)
                QUALIFY row_number() OVER (
                    PARTITION BY {masked}
                    ORDER BY {_STATUS_RANK}, match_score DESC NULLS LAST, reviewed_at DESC NULLS LAST, address
                ) = 1"""  # noqa: S608 - constants
        )
        cur.execute(f"DELETE FROM address_matches WHERE {masked} IN (SELECT masked FROM _remasked)")  # noqa: S608
        cur.execute("INSERT INTO address_matches BY NAME SELECT * FROM _merged")
        cur.execute("DROP TABLE _merged")
    finally:
        cur.execute("DROP TABLE IF EXISTS _remasked")
