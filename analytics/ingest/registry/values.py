"""The value rules of registry files: each parser returns (value, reason or None)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# A compound built before this year counts as old (老旧小区) when the file gives no 新旧 column.
OLD_BEFORE_YEAR = 2000
EARLIEST_BUILT_YEAR = 1900
COMPOUND_TYPES: tuple[str, ...] = ("商开", "还建", "家属院", "混合")
# obvious variants seen in district spreadsheets -> canonical type
TYPE_SYNONYMS: dict[str, str] = {
    "商开": "商开",
    "商品房": "商开",
    "商业开发": "商开",
    "商品住宅": "商开",
    "开发商": "商开",
    "商业": "商开",
    "还建": "还建",
    "回迁": "还建",
    "安置": "还建",
    "拆迁安置": "还建",
    "还建房": "还建",
    "回迁房": "还建",
    "安置房": "还建",
    "家属院": "家属院",
    "单位家属院": "家属院",
    "家属区": "家属院",
    "家属楼": "家属院",
    "单位宿舍": "家属院",
    "职工宿舍": "家属院",
    "宿舍": "家属院",
    "混合": "混合",
    "混合型": "混合",
    "综合": "混合",
}
OLD_NEW_VALUES: dict[str, bool] = {
    "新": False,
    "新小区": False,
    "新建": False,
    "否": False,
    "旧": True,
    "老": True,
    "老旧": True,
    "旧小区": True,
    "老小区": True,
    "老旧小区": True,
    "是": True,
}
# China's extent, generously: a point outside is a typo or swapped columns
LAT_RANGE = (3.8, 53.6)
LON_RANGE = (73.5, 135.1)
ALIAS_SEPARATORS = r"[；;、,，|｜]"
STARS_RANGE = (1, 5)
SCORE_RANGE = (0.0, 100.0)
EVALUATION_LISTS: dict[str, str] = {"红榜": "红榜", "红": "红榜", "黑榜": "黑榜", "黑": "黑榜"}


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_households(text: str) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    cleaned = _nfkc(text).replace(",", "").removesuffix("户").strip()
    try:
        number = float(cleaned)
    except ValueError:
        return None, f"户数不是数字：“{text}”"
    if number != int(number) or number <= 0:
        return None, f"户数应为正整数：“{text}”"
    return int(number), None


def parse_type(text: str) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    key = _nfkc(text).replace(" ", "")
    for candidate in (key, key.removesuffix("小区"), key.removesuffix("类"), key.removesuffix("型")):
        if candidate in TYPE_SYNONYMS:
            return TYPE_SYNONYMS[candidate], None
    return None, f"小区类型无效：“{text}”（应为 {'/'.join(COMPOUND_TYPES)}）"


def parse_built_year(text: str, today: date | None = None) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    match = re.fullmatch(r"(\d{4})(?:\.0+)?\s*年?(?:代)?", _nfkc(text))
    latest = (today or date.today()).year
    if not match or not EARLIEST_BUILT_YEAR <= int(match.group(1)) <= latest:
        return None, f"建成年份无效：“{text}”（应为 {EARLIEST_BUILT_YEAR}–{latest} 的四位年份）"
    return int(match.group(1)), None


def parse_old_new(text: str, built_year: int | None) -> tuple[bool | None, str | None]:
    """新/旧/老 as given; else derived from the built year (old = built before OLD_BEFORE_YEAR)."""
    if text:
        key = _nfkc(text).replace(" ", "")
        if key in OLD_NEW_VALUES:
            return OLD_NEW_VALUES[key], None
        return None, f"新旧无效：“{text}”（应为 新/旧/老）"
    if built_year is not None:
        return built_year < OLD_BEFORE_YEAR, None
    return None, None


def _parse_coordinate(text: str, label: str, bounds: tuple[float, float]) -> tuple[float | None, str | None]:
    if not text:
        return None, None
    try:
        value = float(_nfkc(text))
    except ValueError:
        return None, f"{label}不是数字：“{text}”"
    if not bounds[0] <= value <= bounds[1]:
        return None, f"{label} {text} 超出中国范围（{bounds[0]}–{bounds[1]}），是否与经纬度填反？"
    return value, None


def split_aliases(text: str, name: str | None = None) -> list[str]:
    """Split on ；;、,| (full- or half-width); drop blanks, duplicates and the name itself."""
    out: list[str] = []
    for part in re.split(ALIAS_SEPARATORS, text or ""):
        alias = part.strip()
        if alias and alias != name and alias not in out:
            out.append(alias)
    return out


def parse_period(text: str) -> tuple[str | None, str | None]:
    """'2023上半年', '2023年下半年', '2023H1', '2023-h2' -> '2023H1' / '2023H2'."""
    key = _nfkc(text).upper().replace(" ", "").replace("年", "").replace("-", "")
    match = re.fullmatch(r"(\d{4})(H[12]|上半|下半|上半年|下半年)", key)
    if not match:
        return None, f"评定周期无效：“{text}”（应为 2023上半年 或 2023H1 这样的形式）"
    half = "H1" if match.group(2) in ("H1", "上半", "上半年") else "H2"
    return f"{match.group(1)}{half}", None


def parse_stars(text: str) -> tuple[int | None, str | None]:
    key = _nfkc(text).replace(" ", "")
    if key and set(key) <= {"★"}:
        key = str(len(key))
    key = key.removesuffix("星级").removesuffix("星")
    digits = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5"}
    key = digits.get(key, key)
    if key.isdigit() and STARS_RANGE[0] <= int(key) <= STARS_RANGE[1]:
        return int(key), None
    return None, f"星级无效：“{text}”（应为 {STARS_RANGE[0]}–{STARS_RANGE[1]}）"


_QUARTER_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}


def parse_quarter(text: str) -> tuple[str | None, str | None]:
    """'2023Q3', '2023年第三季度', '2023年3季度', '2023-q3' -> '2023Q3'."""
    key = _nfkc(text).upper().replace(" ", "").replace("-", "").replace("年", "").replace("第", "")
    for zh, digit in _QUARTER_DIGITS.items():
        key = key.replace(zh, digit)
    match = re.fullmatch(r"(\d{4})(?:Q([1-4])|([1-4])季度?)", key)
    if not match:
        return None, f"季度无效：“{text}”（应为 2023Q3 或 2023年第三季度 这样的形式）"
    return f"{match.group(1)}Q{match.group(2) or match.group(3)}", None
