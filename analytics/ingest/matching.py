"""Free-text address -> compound (小区).

Public interface used by ingestion (keep these signatures):

- `lookup_compounds(con, values)`: an explicit compound column (id, exact name or alias).
- `match_addresses(con, addresses)`: each distinct address matched once against the registry
  (cached in `address_matches`, so a re-upload does not recompute). An upload uses its parts:
  `prepare_matches` (read-only, beside the parsing), then `remember_matches` and
  `public_matches` for the addresses it keeps.

How an address is matched:

1. `parse_address` normalises it (full-width -> half-width, Chinese numerals -> digits), notes the
   subdistrict / community it names, strips province / city / district / subdistrict / community
   prefixes, cuts building / unit / room / gate suffixes and phase words (一期 -> phase 1), and
   splits what is left into a stem and a generic word (阳光|花园). Registry names and aliases
   (table compound_aliases) go through the same function.
2. Candidates: character 1-2-gram TF-IDF nearest neighbours of the address core among all
   names and aliases (one sparse matrix product per chunk of addresses).
3. Re-ranking with rapidfuzz on the stems (element-wise `cpdist`), plus agreement of the generic
   word (花园 vs 家园 is a different place; a dropped 小区/花园 is not), of the phase, and of the
   subdistrict / community when the address names one.
4. The score is the best compound's similarity, lowered when a second compound is nearly as good.
   At or above ACCEPT_THRESHOLD the match is taken (status auto); otherwise the address waits in
   the review queue with its top three candidates, where an analyst confirms or rejects it.

Work is shared: a batch of addresses is first cut to name parts (`name_part`: the registry's
subdistrict / community names taken out, building / unit / room numbers cut), each distinct name
part is parsed once and each distinct parse is scored once, which gives exactly what parsing every
address would (tests/test_matching.py checks it on generated addresses).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist
from sklearn.feature_extraction.text import TfidfVectorizer

from analytics import privacy
from analytics.errors import NotFound, ValidationError
from analytics.store.db import audit, query_df, query_one, transaction

# Chosen on the simulated precision-coverage curve (tests/test_matching.py prints it): ~1,200
# noisy addresses for ~300 synthetic names plus distractors. `choose_threshold` at 98% precision
# picks 0.88 there: precision 0.999, coverage 0.918; at 0.84 precision falls to 0.955 (addresses
# more specific than the registry, e.g. 阳光家园 for 阳光小区, sit at 0.85).
ACCEPT_THRESHOLD = 0.88
TARGET_PRECISION = 0.98
# below this even the best candidate is not worth an analyst's look: status unmatched
REVIEW_FLOOR = 0.45
# candidates per address from the TF-IDF stage, and candidates kept for review
N_NEIGHBOURS = 10
N_REVIEW_CANDIDATES = 3
# addresses per sparse product (memory: chunk x registry keys dense floats)
CHUNK = 4096
SCORE_CHUNK = 50_000  # addresses scored at a time by match_addresses (bounds memory)

# a registry stem contained in a longer address core (road or landmark text around it) is good
# evidence but not as good as an equal stem
PARTIAL_WEIGHT = 0.92
# score adjustments (similarities are 0..1)
GENERIC_NEUTRAL_PENALTY = 0.04  # 阳光 / 阳光小区 for 阳光花园: a dropped or vague generic word
# 阳光家园 for a registry entry 阳光小区: the address is more specific than the registry, and may
# name another place that is not registered: an analyst should look
GENERIC_MORE_SPECIFIC_PENALTY = 0.15
GENERIC_CONFLICT_PENALTY = 0.35  # 阳光家园 for 阳光花园: another kind of place
PHASE_CONFLICT_PENALTY = 0.30  # 二期 named, registry entry is 一期
# one side names a phase, the other does not: 万科雅居3期 fits 万科雅居 less well than 万科雅居3期,
# and 万科雅居 fits the entry without a phase best (still accepted when it is the only entry)
PHASE_MISSING_PENALTY = 0.05
ADMIN_AGREE_BONUS = 0.03  # address names the compound's own subdistrict / community
SUBDISTRICT_CONFLICT_PENALTY = 0.30
COMMUNITY_CONFLICT_PENALTY = 0.20
# a runner-up compound within GAP_REF of the best lowers the score by the shortfall
GAP_REF = 0.15

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
)

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
# everything from a building / unit / room / gate / direction marker on is not part of the name
SUFFIX_CUT = re.compile(
    r"(?:[A-Z]?\d+[A-Z]?(?:-\d+)*(?:号楼|号院|栋|幢|座|单元|室|层|楼|号|户|排|#)"
    r"|[A-Z](?:座|栋|幢|区)"
    r"|[东南西北](?:大门|门|侧|边|面)|正门|后门|侧门|门口|门前|附近|对面|旁边|院内|楼下|楼道|地下车库|车库|底商|沿街"
    r"|(?:" + "|".join(f"(?<={g})" for g in (*NEUTRAL_GENERICS, *TYPED_GENERICS)) + r")[东南西北中]区"
    r"|\d+区).*$"
)
# the part of SUFFIX_CUT that can never belong to a road or administrative prefix (a bare 号 can:
# 沂蒙路88号 is a road number), used to cut an address down to its name part before parsing
BUILDING_CUT = re.compile(
    r"(?:[A-Z]?\d+[A-Z]?(?:-\d+)*(?:号楼|号院|栋|幢|座|单元|室|层|楼|户|排|#)|[A-Z](?:座|栋|幢)).*$"
)
PHASE = re.compile(r"(\d+)期")
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
    for n, words in _NEUTRAL_BY_LENGTH:
        if len(core) - n >= MIN_STEM and core[-n:] in words:
            core = core[:-n]
            break
    for n, words in _TYPED_BY_LENGTH:
        if len(core) - n >= MIN_STEM and core[-n:] in words:
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


NO_ADMIN = AdminNames([], [])


def parse_address(text: str, admin: AdminNames = NO_ADMIN) -> ParsedAddress:
    """Break an address (or a registry name) into the parts the matcher compares."""
    return _parse_found(*admin.find(normalise(text)))


def _parse_found(s: str, subdistrict: str | None, community: str | None) -> ParsedAddress:
    """parse_address of a normalised text whose known subdistrict and community were taken out."""
    phase = 0
    m = PHASE.search(s)
    if m:
        phase = int(m.group(1))
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


# --- registry -------------------------------------------------------------------------------


@dataclass
class Registry:
    """Every name and alias of the registry, parsed once, with the TF-IDF index over them."""

    keys: pd.DataFrame  # compound_id, text, kind, core, stem, generic, phase, sub_code, com_code
    compound_names: dict[str, str]
    admin: AdminNames
    sub_codes: dict[str, int]
    com_codes: dict[str, int]
    vectorizer: TfidfVectorizer | None
    matrix: object  # sparse (n_keys x n_features), L2-normalised rows


def _code(values: Iterable[str | None], codes: dict[str, int]) -> np.ndarray:
    return np.array([codes.get(v, -1) if v else -1 for v in values], dtype=np.int64)


def load_registry(con: duckdb.DuckDBPyConnection) -> Registry:
    compounds = query_df(con, "SELECT compound_id, name, community, subdistrict FROM compounds")
    aliases = query_df(con, "SELECT compound_id, alias FROM compound_aliases")
    admin_sub = query_df(
        con, "SELECT subdistrict FROM subdistricts UNION SELECT subdistrict FROM communities"
    )["subdistrict"]
    admin_com = query_df(con, "SELECT community FROM communities")["community"]
    subdistricts = sorted({*compounds["subdistrict"].dropna(), *admin_sub.dropna()})
    communities = sorted({*compounds["community"].dropna(), *admin_com.dropna()})
    admin = AdminNames(subdistricts, communities)
    sub_codes = {name: i for i, name in enumerate(subdistricts)}
    com_codes = {name: i for i, name in enumerate(communities)}
    keys = pd.concat(
        [
            compounds[["compound_id", "name"]].rename(columns={"name": "text"}).assign(kind="name"),
            aliases.rename(columns={"alias": "text"}).assign(kind="alias"),
        ],
        ignore_index=True,
    )
    keys = keys[keys["text"].notna()].drop_duplicates(["compound_id", "text"]).reset_index(drop=True)
    # registry names are parsed without admin stripping by known names: a compound may be called
    # after its community
    parsed = [parse_address(t) for t in keys["text"]]
    keys["core"] = [p.core for p in parsed]
    keys["stem"] = [p.stem for p in parsed]
    keys["generic"] = [p.generic for p in parsed]
    keys["phase"] = np.array([p.phase for p in parsed], dtype=np.int64)
    info = compounds.set_index("compound_id")
    keys["sub_code"] = _code(keys["compound_id"].map(info["subdistrict"]), sub_codes)
    keys["com_code"] = _code(keys["compound_id"].map(info["community"]), com_codes)
    keys = keys[keys["core"].str.len() > 0].reset_index(drop=True)
    vectorizer, matrix = None, None
    if len(keys):
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
        matrix = vectorizer.fit_transform(keys["core"])
    return Registry(
        keys=keys,
        compound_names=dict(zip(compounds["compound_id"], compounds["name"], strict=True)),
        admin=admin,
        sub_codes=sub_codes,
        com_codes=com_codes,
        vectorizer=vectorizer,
        matrix=matrix,
    )


# --- scoring --------------------------------------------------------------------------------

RESULT_COLUMNS = ["address", "compound_id", "match_score", "match_method", "status", "candidates"]


def _neighbours(reg: Registry, cores: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(address index, key index) pairs: the N_NEIGHBOURS nearest keys by TF-IDF cosine."""
    n_keys = len(reg.keys)
    k = min(N_NEIGHBOURS, n_keys)
    rows, cols = [], []
    matrix_t = reg.matrix.T.tocsc()  # type: ignore[union-attr]
    for start in range(0, len(cores), CHUNK):
        block = reg.vectorizer.transform(cores[start : start + CHUNK])  # type: ignore[union-attr]
        sims = (block @ matrix_t).toarray()
        if k < n_keys:
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            top = np.tile(np.arange(n_keys), (len(sims), 1))
        hit = np.take_along_axis(sims, top, axis=1) > 0
        r = np.repeat(np.arange(start, start + len(sims)), k).reshape(len(sims), k)
        rows.append(r[hit])
        cols.append(top[hit])
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def name_part(text: str, admin: AdminNames = NO_ADMIN) -> tuple[str, str | None, str | None]:
    """(name part, subdistrict, community) of an address: normalised, the registry's subdistrict
    and community names taken out, and everything from the building / unit / room number on
    cut: 兰山区柳青街道翠华苑３号楼２单元 -> (兰山区翠华苑, 柳青街道, None). Addresses that differ
    only after the name part are the same place to the matcher, so it parses and scores each
    name part once."""
    return _name_part(normalise(text), admin)


def _name_part(normalised: str, admin: AdminNames) -> tuple[str, str | None, str | None]:
    s, subdistrict, community = admin.find(normalised)
    cut = BUILDING_CUT.sub("", s)
    return (cut if len(cut) >= MIN_STEM else s), subdistrict, community


def score_addresses(reg: Registry, addresses: Sequence[str]) -> pd.DataFrame:
    """Match distinct addresses: one row each with RESULT_COLUMNS (no store access).

    Each distinct name part is parsed once, and each distinct parse (core, phase, subdistrict,
    community) is scored once: a million tickets' 100,000 addresses come down to a few thousand."""
    n = len(addresses)
    out = pd.DataFrame(
        {
            "address": list(addresses),
            "compound_id": None,
            "match_score": np.nan,
            "match_method": None,
            "status": "unmatched",
            "candidates": "[]",
        }
    )
    if n == 0 or reg.matrix is None:
        return out
    # index of each distinct name part, then of each distinct parse of those
    head_index: dict[tuple[str, str | None, str | None], int] = {}
    head_of = np.fromiter(
        (head_index.setdefault(_name_part(a, reg.admin), len(head_index)) for a in normalise_many(addresses)),
        np.int64,
        n,
    )
    parse_index: dict[ParsedAddress, int] = {}
    key_of_head = np.empty(len(head_index), dtype=np.int64)
    for (head, subdistrict, community), i in head_index.items():
        key_of_head[i] = parse_index.setdefault(_parse_found(head, subdistrict, community), len(parse_index))
    scored = _score_parsed(reg, list(parse_index))
    per_address = scored.iloc[key_of_head[head_of]].reset_index(drop=True)
    for col in RESULT_COLUMNS:
        if col != "address":
            out[col] = per_address[col].to_numpy()
    return out


def _score_parsed(reg: Registry, parsed: list[ParsedAddress]) -> pd.DataFrame:
    """RESULT_COLUMNS but the address for each distinct parsed address."""
    n = len(parsed)
    out = pd.DataFrame(
        {
            "compound_id": pd.Series([None] * n, dtype=object),
            "match_score": np.nan,
            "match_method": pd.Series([None] * n, dtype=object),
            "status": "unmatched",
            "candidates": "[]",
        }
    )
    cores = [p.core for p in parsed]
    # candidates and name similarity depend only on the core (阳光花园), which many addresses
    # share (阳光花园3号楼, 阳光花园东门 ...): compute them once per distinct core
    uniq, inverse = np.unique(np.array(cores, dtype=object), return_inverse=True)
    u_idx, k_idx = _neighbours(reg, list(uniq))
    if len(u_idx) == 0:
        return out
    keys = reg.keys
    split = [split_generic(c) for c in uniq]
    u_stem = np.array([stem for stem, _ in split], dtype=object)
    u_generic = np.array([generic for _, generic in split], dtype=object)
    k_stem = keys["stem"].to_numpy(dtype=object)
    k_generic = keys["generic"].to_numpy(dtype=object)
    qs, cs = u_stem[u_idx], k_stem[k_idx]
    base = cpdist(list(qs), list(cs), scorer=fuzz.ratio, workers=-1) / 100.0
    q_len = np.fromiter((len(s) for s in qs), dtype=np.int64, count=len(qs))
    c_len = np.fromiter((len(s) for s in cs), dtype=np.int64, count=len(cs))
    longer = np.flatnonzero((q_len > c_len) & (c_len >= MIN_STEM))
    if len(longer):
        part = cpdist(list(cs[longer]), list(qs[longer]), scorer=fuzz.partial_ratio, workers=-1) / 100.0
        base[longer] = np.maximum(base[longer], part * PARTIAL_WEIGHT)
    qg, cg = u_generic[u_idx], k_generic[k_idx]
    base -= np.select(
        [qg == cg, qg == "", cg == ""],
        [0.0, GENERIC_NEUTRAL_PENALTY, GENERIC_MORE_SPECIFIC_PENALTY],
        GENERIC_CONFLICT_PENALTY,
    )
    exact_u = (qs == cs) & (qg == cg)
    # expand: address i gets the candidate rows of its core (u_idx is sorted by construction)
    first = np.searchsorted(u_idx, np.arange(len(uniq)))
    count = np.bincount(u_idx, minlength=len(uniq))[inverse]
    a_idx = np.repeat(np.arange(n), count)
    offset = np.arange(len(a_idx)) - np.repeat(np.cumsum(count) - count, count)
    rows = np.repeat(first[inverse], count) + offset
    k_idx, sim, exact = k_idx[rows], base[rows], exact_u[rows]
    a_phase = np.array([p.phase for p in parsed], dtype=np.int64)
    a_sub = _code((p.subdistrict for p in parsed), reg.sub_codes)
    a_com = _code((p.community for p in parsed), reg.com_codes)
    qp, cp = a_phase[a_idx], keys["phase"].to_numpy()[k_idx]
    sim -= np.where(
        (qp > 0) & (cp > 0) & (qp != cp),
        PHASE_CONFLICT_PENALTY,
        np.where((qp > 0) != (cp > 0), PHASE_MISSING_PENALTY, 0.0),
    )
    for a_code, k_code, penalty in (
        (a_sub, keys["sub_code"].to_numpy(), SUBDISTRICT_CONFLICT_PENALTY),
        (a_com, keys["com_code"].to_numpy(), COMMUNITY_CONFLICT_PENALTY),
    ):
        qa, ca = a_code[a_idx], k_code[k_idx]
        known = (qa >= 0) & (ca >= 0)
        sim += np.where(known & (qa == ca), ADMIN_AGREE_BONUS, np.where(known, -penalty, 0.0))
    sim = np.clip(sim, 0.0, 1.0)

    pairs = pd.DataFrame(
        {
            "a": a_idx,
            "compound_id": keys["compound_id"].to_numpy()[k_idx],
            "kind": keys["kind"].to_numpy()[k_idx],
            "exact": exact,
            "sim": sim,
        }
    )
    # best key per (address, compound), then compounds ranked per address
    pairs = pairs.sort_values(["a", "sim", "exact"], ascending=[True, False, False], kind="stable")
    pairs = pairs.drop_duplicates(["a", "compound_id"])
    pairs["rank"] = pairs.groupby("a").cumcount()
    top = pairs[pairs["rank"] < N_REVIEW_CANDIDATES]
    best = top[top["rank"] == 0].set_index("a")
    second = top[top["rank"] == 1].set_index("a")["sim"].reindex(best.index).fillna(0.0)
    gap = best["sim"] - second
    score = (best["sim"] - np.maximum(0.0, GAP_REF - gap)).clip(lower=0.0).round(4)

    idx = best.index.to_numpy()
    accepted = score.to_numpy() >= ACCEPT_THRESHOLD
    method = np.where(
        best["exact"].to_numpy() & (best["sim"].to_numpy() >= 1.0), best["kind"].to_numpy(), "fuzzy"
    )
    out.loc[idx, "match_score"] = score.to_numpy()
    out.loc[idx, "status"] = np.where(
        accepted, "auto", np.where(best["sim"].to_numpy() >= REVIEW_FLOOR, "review", "unmatched")
    )
    out.loc[idx[accepted], "compound_id"] = best["compound_id"].to_numpy()[accepted]
    out.loc[idx[accepted], "match_method"] = method[accepted]
    names = reg.compound_names
    listed: dict[int, list[dict[str, object]]] = {}
    for a, c, sc in zip(
        top["a"].tolist(), top["compound_id"].tolist(), top["sim"].round(4).tolist(), strict=True
    ):
        listed.setdefault(a, []).append({"compound_id": c, "name": names.get(c), "score": sc})
    candidates = out["candidates"].to_numpy(dtype=object)
    candidates[list(listed)] = [json.dumps(v, ensure_ascii=False) for v in listed.values()]
    out["candidates"] = candidates
    return out


def choose_threshold(
    scores: Sequence[float], correct: Sequence[bool], target_precision: float = TARGET_PRECISION
) -> float:
    """Lowest score threshold whose accepted set (score >= threshold) is at least
    `target_precision` correct, i.e. the largest coverage at that precision.

    `correct[i]` says whether the top candidate of case i is the right compound (False for
    addresses of places not in the registry). Returns a value above every score when no
    threshold reaches the target.
    """
    s = np.asarray(scores, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    keep = ~np.isnan(s)
    s, ok = s[keep], ok[keep]
    if len(s) == 0:
        return 1.0
    order = np.argsort(-s, kind="stable")
    s, ok = s[order], ok[order]
    precision = np.cumsum(ok) / np.arange(1, len(s) + 1)
    # a threshold can only sit at a distinct score: look at the last position of each tie run
    last_of_run = np.append(s[1:] != s[:-1], True)
    good = np.flatnonzero(last_of_run & (precision >= target_precision))
    if len(good) == 0:
        return float(np.nextafter(s[0], np.inf))
    return float(s[good[-1]])


def precision_coverage(
    scores: Sequence[float], correct: Sequence[bool], in_registry: Sequence[bool], threshold: float
) -> tuple[float, float]:
    """(precision of accepted matches, share of in-registry addresses correctly accepted)."""
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=-1.0)
    ok = np.asarray(correct, dtype=bool)
    reg = np.asarray(in_registry, dtype=bool)
    accepted = s >= threshold
    precision = float(ok[accepted].mean()) if accepted.any() else 1.0
    coverage = float((accepted & ok & reg).sum() / max(reg.sum(), 1))
    return precision, coverage


# --- store ----------------------------------------------------------------------------------


def _distinct(values: Iterable[object]) -> list[str]:
    """Sorted distinct non-blank values, stripped (hashing first: a million tickets carry far
    fewer distinct addresses)."""
    series = pd.Series(
        values if isinstance(values, pd.Series | np.ndarray | list) else list(values), dtype=object
    )
    unique = pd.unique(series.dropna())
    return sorted({(v if isinstance(v, str) else str(v)).strip() for v in unique} - {""})


def lookup_compounds(con: duckdb.DuckDBPyConnection, values: Iterable[str]) -> pd.DataFrame:
    """Explicit compound values -> compound_id by id, then exact name / alias, then the same
    name after normalisation (full-width, spaces, 小区 dropped).

    A name shared by two compounds is ambiguous and left unmatched.
    """
    distinct = _distinct(values)
    out = pd.DataFrame({"value": distinct})
    if out.empty:
        return out.assign(compound_id=None, match_score=None, match_method=None)
    ids = set(query_df(con, "SELECT compound_id FROM compounds")["compound_id"])
    names = query_df(
        con,
        """
        SELECT compound_id, name, 'name' AS kind FROM compounds
        UNION ALL
        SELECT compound_id, alias AS name, 'alias' AS kind FROM compound_aliases
        """,
    ).drop_duplicates(["name", "compound_id"])
    names["norm"] = [parse_address(n).core for n in names["name"]]
    by: dict[str, dict[str, tuple[str, str]]] = {"name": {}, "norm": {}}
    for column in by:
        counts = names.groupby(column)["compound_id"].nunique()
        unique = names[names[column].map(counts) == 1]
        by[column] = dict(
            zip(unique[column], zip(unique["compound_id"], unique["kind"], strict=True), strict=True)
        )
    rows = []
    for value in distinct:
        if value in ids:
            rows.append((value, value, 1.0, "id"))
        elif value in by["name"]:
            cid, kind = by["name"][value]
            rows.append((value, cid, 1.0, kind))
        elif (norm := parse_address(value).core) in by["norm"]:
            cid, kind = by["norm"][norm]
            rows.append((value, cid, 1.0, kind))
        else:
            rows.append((value, None, None, None))
    return pd.DataFrame(rows, columns=["value", "compound_id", "match_score", "match_method"])


def _public(rows: pd.DataFrame) -> pd.DataFrame:
    """Only auto / confirmed matches give a compound to tickets."""
    taken = rows["status"].isin(["auto", "confirmed"])
    return pd.DataFrame(
        {
            "address": rows["address"].to_numpy(),
            "compound_id": rows["compound_id"].where(taken, None).to_numpy(),
            "match_score": rows["match_score"].where(taken, None).to_numpy(),
            "match_method": rows["match_method"].where(taken, None).to_numpy(),
        }
    )


def _store_matches(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, replace: bool = False) -> None:
    if rows.empty:
        return
    with transaction(con) as cur:
        _insert_matches(cur, rows, replace)


def _insert_matches(cur: duckdb.DuckDBPyConnection, rows: pd.DataFrame, replace: bool = False) -> None:
    """Write match rows to address_matches on a cursor inside the caller's transaction."""
    if rows.empty:
        return
    conflict = (
        """DO UPDATE SET compound_id = excluded.compound_id, match_score = excluded.match_score,
        match_method = excluded.match_method, status = excluded.status,
        candidates = excluded.candidates"""
        if replace
        else "DO NOTHING"
    )
    cur.register("new_matches", rows[RESULT_COLUMNS])
    try:
        cur.execute(
            f"""
            INSERT INTO address_matches (address, compound_id, match_score, match_method, status, candidates)
            SELECT address, compound_id, match_score, match_method, status, candidates FROM new_matches
            ON CONFLICT (address) {conflict}
            """  # noqa: S608 - fixed text, no values
        )
    finally:
        cur.unregister("new_matches")


def _score_in_chunks(registry: Registry, addresses: list[str]) -> pd.DataFrame:
    """score_addresses over slices of SCORE_CHUNK addresses, so memory stays bounded when an
    export carries a distinct address per ticket (building and room numbers)."""
    if not addresses:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    parts = [
        score_addresses(registry, addresses[i : i + SCORE_CHUNK])
        for i in range(0, len(addresses), SCORE_CHUNK)
    ]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def match_addresses(con: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> pd.DataFrame:
    """Distinct addresses -> compound. Cached addresses are answered from address_matches; new
    ones are scored and cached (status auto / review / unmatched).

    Returns address, compound_id, match_score, match_method; compound_id is None unless the
    match was accepted automatically or confirmed by an analyst.
    """
    prepared = prepare_matches(con, addresses)
    _store_matches(con, prepared[prepared["fresh"].astype(bool)])
    return public_matches(prepared)


def prepare_matches(con: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> pd.DataFrame:
    """match_addresses without writing: RESULT_COLUMNS for each distinct address, from the cache
    or freshly scored (column `fresh`), sorted by address. Reads the store only, so an upload
    can run it beside other work and cache only the addresses it keeps (`remember_matches`)."""
    distinct = _distinct(addresses)
    if not distinct:
        return pd.DataFrame(columns=[*RESULT_COLUMNS, "fresh"])
    wanted = pd.DataFrame({"address": distinct})  # noqa: F841 - read by DuckDB's replacement scan
    cur = con.cursor()
    cur.register("wanted_addresses", wanted)
    cached = cur.execute(
        """
        SELECT m.address, m.compound_id, m.match_score, m.match_method, m.status, m.candidates
        FROM address_matches m JOIN wanted_addresses w USING (address)
        """
    ).df()
    cur.unregister("wanted_addresses")
    cur.close()
    known = set(cached["address"])
    new = [a for a in distinct if a not in known] if known else distinct  # still sorted
    fresh = _score_in_chunks(load_registry(con), new) if new else pd.DataFrame(columns=RESULT_COLUMNS)
    if cached.empty:
        return fresh.assign(fresh=True)
    parts = [cached.assign(fresh=False)] + ([fresh.assign(fresh=True)] if len(fresh) else [])
    return pd.concat(parts, ignore_index=True).sort_values("address").reset_index(drop=True)


def remember_matches(cur: duckdb.DuckDBPyConnection, prepared: pd.DataFrame) -> None:
    """Cache the freshly scored rows of a prepare_matches answer in address_matches, inside the
    caller's write transaction (`cur`)."""
    _insert_matches(cur, prepared[prepared["fresh"].astype(bool)])


def public_matches(prepared: pd.DataFrame) -> pd.DataFrame:
    """address, compound_id, match_score, match_method of a prepare_matches answer (a compound
    only where the match was accepted automatically or confirmed)."""
    return _public(prepared).reset_index(drop=True)


def review_queue(
    con: duckdb.DuckDBPyConnection, limit: int = 100, include_unmatched: bool = False
) -> pd.DataFrame:
    """Addresses waiting for an analyst, the ones with most tickets first.

    Columns: address, tickets, match_score, status, candidates (list of
    {compound_id, name, score}, best first).
    """
    statuses = ["review", "unmatched"] if include_unmatched else ["review"]
    # masked as shown; stored addresses are masked already (ingest, migration 004), so the
    # address still names its row for confirm_match / reject_match
    frame = query_df(
        con,
        f"""
        SELECT {privacy.sql_mask_personal("address")} AS address, tickets, match_score, status, candidates
        FROM (
            SELECT m.address, count(t.ticket_id) AS tickets, m.match_score, m.status, m.candidates
            FROM address_matches m LEFT JOIN tickets t ON trim(t.address) = m.address
            WHERE list_contains(?, m.status)
            GROUP BY ALL
            ORDER BY tickets DESC, m.match_score DESC NULLS LAST, m.address
            LIMIT ?
        )
        ORDER BY tickets DESC, match_score DESC NULLS LAST, address
        """,  # noqa: S608 - the masking expression is built from constants
        [statuses, int(limit)],
    )
    frame["tickets"] = frame["tickets"].astype("int64")
    frame["candidates"] = [json.loads(c) if c else [] for c in frame["candidates"]]
    return frame


def _alias_for(address: str) -> str:
    """The name part of a confirmed address, so other addresses of the same place match too."""
    parsed = parse_address(address)
    if len(parsed.stem) >= MIN_STEM and parsed.core not in TYPED_GENERICS:
        return parsed.core
    return address


def confirm_match(
    con: duckdb.DuckDBPyConnection, address: str, compound_id: str, user: str | None = None
) -> int:
    """An analyst says `address` is `compound_id`: remember it (address_matches confirmed, plus an
    alias with source 'confirmed') and move every ticket with that address to the compound.
    Returns the number of tickets updated."""
    address = str(address).strip()
    if not address:
        raise ValidationError("地址不能为空。", "The address must not be empty.")
    if query_one(con, "SELECT count(*) FROM compounds WHERE compound_id = ?", [compound_id]) == 0:
        raise NotFound(
            f"小区编号 {compound_id} 不存在，请先在小区名册中添加。",
            f"Compound {compound_id} does not exist; add it to the registry first.",
        )
    alias = _alias_for(address)
    with transaction(con) as cur:
        cur.execute(
            """
            INSERT INTO address_matches (address, compound_id, match_score, match_method, status,
                                         candidates, reviewed_by, reviewed_at)
            VALUES (?, ?, 1.0, 'confirmed', 'confirmed', '[]', ?, now())
            ON CONFLICT (address) DO UPDATE SET compound_id = excluded.compound_id, match_score = 1.0,
                match_method = 'confirmed', status = 'confirmed', reviewed_by = excluded.reviewed_by,
                reviewed_at = excluded.reviewed_at
            """,
            [address, compound_id, user],
        )
        cur.execute(
            "INSERT INTO compound_aliases (alias, compound_id, source) VALUES (?, ?, 'confirmed') "
            "ON CONFLICT DO NOTHING",
            [alias, compound_id],
        )
        n = cur.execute(
            """
            UPDATE tickets SET compound_id = ?, match_score = 1.0, match_method = 'confirmed'
            WHERE trim(address) = ?
            """,
            [compound_id, address],
        ).fetchone()[0]
        audit(
            cur,
            user,
            "confirm_match",
            {"address": address, "compound_id": compound_id, "alias": alias, "tickets": n},
        )
    return int(n)


def reject_match(con: duckdb.DuckDBPyConnection, address: str, user: str | None = None) -> int:
    """An analyst says `address` is none of the candidates: it stays unmatched (and tickets that
    had been matched to a compound automatically lose it). Returns tickets changed."""
    address = str(address).strip()
    if query_one(con, "SELECT count(*) FROM address_matches WHERE address = ?", [address]) == 0:
        raise NotFound(f"地址“{address}”不在匹配记录中。", f"The address '{address}' has no match record.")
    with transaction(con) as cur:
        cur.execute(
            """
            UPDATE address_matches SET compound_id = NULL, match_method = NULL, status = 'rejected',
                reviewed_by = ?, reviewed_at = now()
            WHERE address = ?
            """,
            [user, address],
        )
        n = cur.execute(
            """
            UPDATE tickets SET compound_id = NULL, match_score = NULL, match_method = NULL
            WHERE trim(address) = ? AND compound_id IS NOT NULL
              AND coalesce(match_method, '') NOT IN ('id', 'name', 'alias')
            """,
            [address],
        ).fetchone()[0]
        audit(cur, user, "reject_match", {"address": address, "tickets": n})
    return int(n)


def rematch_unmatched(con: duckdb.DuckDBPyConnection, user: str | None = None) -> int:
    """Re-run matching for the addresses of tickets without a compound (after the registry or
    its aliases changed). Confirmed and rejected addresses keep the analyst's decision.
    Returns the number of tickets that gained a compound."""
    todo = query_df(
        con,
        """
        SELECT DISTINCT trim(t.address) AS address
        FROM tickets t LEFT JOIN address_matches m ON m.address = trim(t.address)
        WHERE t.compound_id IS NULL AND t.address IS NOT NULL AND trim(t.address) <> ''
          AND coalesce(m.status, '') NOT IN ('confirmed', 'rejected')
        """,
    )["address"].tolist()
    if not todo:
        return 0
    fresh = score_addresses(load_registry(con), todo)
    _store_matches(con, fresh, replace=True)
    taken = fresh[fresh["status"] == "auto"][["address", "compound_id", "match_score", "match_method"]]
    if taken.empty:
        return 0
    with transaction(con) as cur:
        cur.register("rematched", taken)
        n = cur.execute(
            """
            UPDATE tickets SET compound_id = r.compound_id, match_score = r.match_score,
                match_method = r.match_method
            FROM rematched r
            WHERE trim(tickets.address) = r.address AND tickets.compound_id IS NULL
            """
        ).fetchone()[0]
        cur.unregister("rematched")
        audit(cur, user, "rematch_unmatched", {"addresses": len(todo), "tickets": n})
    return int(n)
