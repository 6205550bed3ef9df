"""An address (or a registry name) broken into the parts the matcher compares.

`parse_address` normalises it (full-width -> half-width, Chinese numerals -> digits), notes the
subdistrict / community it names, strips province / city / district / subdistrict / community
prefixes, cuts building / unit / room / gate suffixes and phase words (一期 -> phase 1), and
splits what is left into a stem and a generic word (阳光|花园). `name_part` cuts an address
down to the part that names a place, so addresses that differ only after it are parsed once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMBER = re.compile("[零〇一二两三四五六七八九十百千]+")
# anything that is not a CJK character, ASCII letter or digit is noise in an address
NOISE = re.compile(r"[^0-9A-Z\u3400-\u9fff]+")

# generic words: neutral ones say nothing about the kind of place, typed ones do
NEUTRAL_GENERICS = ("小区", "社区", "住宅区", "生活区")
TYPED_GENERICS = (
    "家属院",
    "家属楼",
    "花园",
    "家园",
    "花苑",
    "公寓",
    "新村",
    "新城",
    "宿舍",
    "大厦",
    "广场",
    "山庄",
    "名苑",
    "雅苑",
    "华庭",
    "苑",
    "庭",
    "府",
    "城",
    "园",
    "院",
    # two-character words that end in a shorter one (嘉园 / 园): the longer word is the kind of place
    "嘉园",
    "佳园",
    "佳苑",
    "嘉苑",
    "家苑",
    "华苑",
    "雅园",
    "雅居",
    "名邸",
    "名都",
    "首府",
    "华府",
    "公馆",
    "庄园",
    "国际",
    "丽景",
    "新苑",
    "职工宿舍",
    "宿舍楼",
    "家属区",
    "安置区",
    "回迁楼",
)

# institutions whose last character is a generic word: 人民医院 is a stem, not 人民医 + 院
INSTITUTIONS = frozenset(("医院", "学院", "法院", "察院", "剧院", "影院", "究院", "计院", "党校", "学校"))

GENERIC_WORDS = frozenset((*NEUTRAL_GENERICS, *TYPED_GENERICS))

# province / city / district / subdistrict / community prefixes (applied from the start, repeatedly)
ADMIN_PREFIX = re.compile(
    r"^(?:[\u4e00-\u9fff]{2,6}?(?:省|自治区)"
    r"|[\u4e00-\u9fff]{2,4}?市"
    r"|[\u4e00-\u9fff]{1,2}[^小园东南西北中校厂矿\d][区县]"
    r"|[\u4e00-\u9fff]{2,6}?(?:街道办事处|街道办|街道|镇|乡)"
    r"|[\u4e00-\u9fff]{2,6}?(?:社区居委会|居委会|村委会|社区))"
)
# road + house number or a crossing before the compound name: 沂蒙路88号 / 北京路与沂蒙路交汇处
ROAD_PREFIX = re.compile(
    r"^(?:[\u4e00-\u9fff0-9]{1,8}?(?:路|街|大道|大街|巷)(?:与[\u4e00-\u9fff0-9]{1,8}?(?:路|街|大道|大街))?"
    r"(?:交汇处|交叉口|路口|\d+号(?!楼|院)|东段|西段|南段|北段|中段)?)"
)


def names_road_only(core: str) -> bool:
    """Whether a core is nothing but road text: a road (新华路), a house number on it (新华路100号),
    a crossing (北京路与沂蒙路交汇处) or a segment (新华路东段). Such a core names a place on the
    road; a compound's stem inside it (新华 of 新华府, 银雀 of 银雀苑 in 银雀山路) is the road's
    name, not the compound."""
    return ROAD_PREFIX.fullmatch(core) is not None


# a number right after a road word is a house number that names the place (沂蒙路88号院), and a
# number is cut from its first digit only
ROAD_NUMBER_GUARD = r"(?<![路街巷道\d])"
# everything from a building / unit / room / gate / direction marker on is not part of the name
SUFFIX_CUT = re.compile(
    r"(?:" + ROAD_NUMBER_GUARD + r"[A-Z]?\d+[A-Z]?(?:-\d+)*(?:号楼|号院|栋|幢|座|单元|室|层|楼|号|户|排|#)"
    r"|[A-Z](?:座|栋|幢|区)"
    r"|[东南西北](?:大门|门|侧|边|面|邻)|正门|后门|侧门|门口|门前|附近|对面|对过|旁边|隔壁|院内|楼下|楼道"
    r"|地下|车库|停车场|车位|底商|沿街|商铺|门面|门市|超市|岗亭|物业办|小区内|(?<=[园苑院庭府城村寓居])内"
    r"|(?:" + "|".join(f"(?<={g})" for g in (*NEUTRAL_GENERICS, *TYPED_GENERICS)) + r")(?:[东南西北中]|\d+)区"
    r").*$"
)
# the part of SUFFIX_CUT that can never belong to a road or administrative prefix (a bare 号 can:
# 沂蒙路88号 is a road number), used to cut an address down to its name part before parsing
BUILDING_CUT = re.compile(
    r"(?:"
    + ROAD_NUMBER_GUARD
    + r"[A-Z]?\d+[A-Z]?(?:-\d+)*(?:号楼|号院|栋|幢|座|单元|室|层|楼|户|排|#)|[A-Z](?:座|栋|幢)).*$"
)
PHASE = re.compile(r"(\d+|IV|I{1,3})期")
ROMAN_PHASES = {"I": 1, "II": 2, "III": 3, "IV": 4}
MIN_STEM = 2  # a prefix is stripped only if at least this much name is left
MAX_PREFIXES = 5  # province, city, district, subdistrict, community


@dataclass(frozen=True)
class ParsedAddress:
    core: str  # stem + generic, e.g. 阳光花园
    stem: str  # 阳光
    generic: str  # 花园 ('' when none)
    phase: int  # 0 when none
    subdistrict: str | None  # named in the text, e.g. 银雀山街道
    community: str | None


def _cn_to_int(text: str) -> int:
    if not any(ch in CN_UNITS for ch in text):
        return int("".join(str(CN_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        else:
            total += (current or 1) * CN_UNITS[ch]
            current = 0
    return total + current


def normalise(text: str) -> str:
    """Full-width -> half-width, upper case, Chinese numerals -> digits, punctuation removed."""
    text = unicodedata.normalize("NFKC", str(text)).upper()
    text = CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group(0))), text)
    return NOISE.sub("", text)


# generic words by length, longest first: no word ends with another of the same length, so a
# core ends with at most one word of each length
_NEUTRAL_BY_LENGTH = tuple(
    (n, frozenset(w for w in NEUTRAL_GENERICS if len(w) == n))
    for n in sorted({len(w) for w in NEUTRAL_GENERICS}, reverse=True)
)
_TYPED_BY_LENGTH = tuple(
    (n, frozenset(w for w in TYPED_GENERICS if len(w) == n))
    for n in sorted({len(w) for w in TYPED_GENERICS}, reverse=True)
)


# NOISE that keeps line breaks: normalise_many joins its texts with them
NOISE_BUT_BREAKS = re.compile(r"[^0-9A-Z\u3400-\u9fff\n]+")


def normalise_many(texts: Iterable[object]) -> list[str]:
    """normalise of each text, in one pass of each step over all of them joined by line breaks.
    The answers are the same: a line break inside a text is noise either way, no character
    normalises or upper-cases to one, and no step joins characters across one."""
    texts = [str(t).replace("\n", " ") for t in texts]
    if not texts:
        return []
    joined = "\n".join(texts)
    joined = unicodedata.normalize("NFKC", joined).upper()
    joined = CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group(0))), joined)
    return NOISE_BUT_BREAKS.sub("", joined).split("\n")


def split_generic(core: str) -> tuple[str, str]:
    """阳光花园小区 -> (阳光, 花园); 小区 alone is neutral and dropped; the stem is never emptied.
    The longest generic word that leaves a stem of MIN_STEM characters wins."""
    stripped = True
    while stripped:  # 阳光小区小区: every trailing neutral word
        stripped = False
        for n, words in _NEUTRAL_BY_LENGTH:
            if len(core) - n >= MIN_STEM and core[-n:] in words:
                core, stripped = core[:-n], True
                break
    for n, words in _TYPED_BY_LENGTH:
        if len(core) - n >= MIN_STEM and core[-n:] in words and core[-2:] not in INSTITUTIONS:
            return core[:-n], core[-n:]
    return core, ""


def _admin_pattern(
    names: Iterable[str], suffixes: Sequence[str]
) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """Regex for known subdistrict / community names; a bare name must carry its suffix."""
    forms: dict[str, str] = {}
    for name in names:
        if not name:
            continue
        full = normalise(name)
        bare = full
        for suffix in suffixes:
            if full.endswith(suffix) and len(full) > len(suffix):
                bare = full[: -len(suffix)]
                break
        if len(bare) < 2:
            continue
        forms[full] = name
        for suffix in suffixes:
            forms[bare + suffix] = name
        if suffixes is SUBDISTRICT_SUFFIXES:  # 白沙埠镇办事处
            forms[full + "办事处"] = name
    if not forms:
        return None, {}
    ordered = sorted(forms, key=len, reverse=True)
    return re.compile("|".join(re.escape(f) for f in ordered)), forms


SUBDISTRICT_SUFFIXES = ("街道办事处", "街道办", "街道", "办事处", "镇", "乡")
COMMUNITY_SUFFIXES = ("社区居委会", "居委会", "社区", "村委会", "村")


class AdminNames:
    """Known subdistricts and communities, to notice them in an address and strip them."""

    def __init__(self, subdistricts: Iterable[str], communities: Iterable[str]) -> None:
        self.sub_re, self.sub_forms = _admin_pattern(subdistricts, SUBDISTRICT_SUFFIXES)
        self.com_re, self.com_forms = _admin_pattern(communities, COMMUNITY_SUFFIXES)

    def find(self, text: str) -> tuple[str, str | None, str | None]:
        """(text without the names, subdistrict, community) — the first mention of each."""
        subdistrict = community = None
        if self.sub_re is not None:
            m = self.sub_re.search(text)
            if m and len(text) - len(m.group(0)) >= MIN_STEM:
                subdistrict = self.sub_forms[m.group(0)]
                text = text[: m.start()] + text[m.end() :]
        if self.com_re is not None:
            m = self.com_re.search(text)
            if m and len(text) - len(m.group(0)) >= MIN_STEM:
                community = self.com_forms[m.group(0)]
                text = text[: m.start()] + text[m.end() :]
        return text, subdistrict, community

    def named_in(self, joined: str, starts: np.ndarray) -> set[int]:
        """The texts, joined into `joined` (text i from `starts`[i], ascending), in which a
        subdistrict or community name occurs: each pattern searched once over all of them. The
        separator between the texts must be in no name."""
        return {
            int(np.searchsorted(starts, m.start(), side="right")) - 1
            for pattern in (self.sub_re, self.com_re)
            if pattern is not None
            for m in pattern.finditer(joined)
        }


NO_ADMIN = AdminNames([], [])


def parse_address(text: str, admin: AdminNames = NO_ADMIN) -> ParsedAddress:
    """Break an address (or a registry name) into the parts the matcher compares."""
    return _parse_found(*admin.find(normalise(text)))


def _parse_found(s: str, subdistrict: str | None, community: str | None) -> ParsedAddress:
    """parse_address of a normalised text whose known subdistrict and community were taken out."""
    phase = 0
    m = PHASE.search(s)
    if m:
        phase = ROMAN_PHASES.get(m.group(1)) or int(m.group(1))
        s = s[: m.start()] + s[m.end() :]
    core, stem, generic = _finish(_strip_prefixes(s))
    return ParsedAddress(core, stem, generic, phase, subdistrict, community)


# Addresses differ in their road prefixes and house numbers far more than in what follows
# (通达路170号 / 沂蒙路48号 + 兰亭社区): the steps after the first prefix are cached on the text
# they see, so each distinct rest is cut and split once. Pure functions of their arguments.
PREFIX_PATTERNS = (ADMIN_PREFIX, ROAD_PREFIX)


def _strip_prefixes(s: str, pattern: int = 0, stripped: int = 0) -> str:
    """s without its administrative, then road, prefixes (up to MAX_PREFIXES of each), each
    stripped only while enough of a name is left after the cut."""
    while pattern < len(PREFIX_PATTERNS):
        m = PREFIX_PATTERNS[pattern].match(s) if stripped < MAX_PREFIXES else None
        if m:
            rest = _cut_suffix(s[m.end() :])
            if len(rest) >= MIN_STEM and rest not in GENERIC_WORDS:
                return _strip_rest(s[m.end() :], pattern, stripped + 1)
        pattern, stripped = pattern + 1, 0
    return s


@functools.lru_cache(maxsize=1 << 16)
def _strip_rest(s: str, pattern: int, stripped: int) -> str:
    """_strip_prefixes of what follows a stripped prefix (cached: few distinct rests)."""
    return _strip_prefixes(s, pattern, stripped)


@functools.lru_cache(maxsize=1 << 16)
def _cut_suffix(s: str) -> str:
    return SUFFIX_CUT.sub("", s)


@functools.lru_cache(maxsize=1 << 16)
def _finish(s: str) -> tuple[str, str, str]:
    """(core, stem, generic) of a text whose prefixes are stripped: the building / gate suffix
    cut while enough is left, then split_generic."""
    cut = _cut_suffix(s)
    if len(cut) >= MIN_STEM:
        s = cut
    return (s, *split_generic(s))


def name_part(text: str, admin: AdminNames = NO_ADMIN) -> tuple[str, str | None, str | None]:
    """(name part, subdistrict, community) of an address: normalised, the registry's subdistrict
    and community names taken out, and everything from the building / unit / room number on
    cut: 兰山区柳青街道翠华苑３号楼２单元 -> (兰山区翠华苑, 柳青街道, None). Addresses that differ
    only after the name part are the same place to the matcher, so it parses and scores each
    name part once."""
    return _name_part(normalise(text), admin)


# BUILDING_CUT for many texts at once, one per line (`.` never takes the line break)
_BUILDING_CUT_LINES = re.compile(BUILDING_CUT.pattern, re.MULTILINE)


def name_parts(normalised: list[str], admin: AdminNames) -> list[tuple[str, str | None, str | None]]:
    """`_name_part` of each normalised text (none holds a line break: normalise_many's answers),
    in a few passes over all of them joined. The texts where a known subdistrict or community
    name occurs (few) go through `_name_part` one by one; in the others `admin.find` changes
    nothing, and the building cut is done on all of them at once."""
    if not normalised:
        return []
    joined = "\n".join(normalised)
    lengths = np.fromiter(map(len, normalised), np.int64, len(normalised))
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    named = admin.named_in(joined, starts)
    cut = _BUILDING_CUT_LINES.sub("", joined).split("\n")
    return [
        _name_part(text, admin) if i in named else (_kept(text, c), None, None)
        for i, (text, c) in enumerate(zip(normalised, cut, strict=True))
    ]


def _name_part(normalised: str, admin: AdminNames) -> tuple[str, str | None, str | None]:
    s, subdistrict, community = admin.find(normalised)
    return _kept(s, BUILDING_CUT.sub("", s)), subdistrict, community


def _kept(text: str, cut: str) -> str:
    """`text` cut at its building number (`cut`), unless that leaves less than a name."""
    return cut if len(cut) >= MIN_STEM else text
