"""Compound names as callers garble them: what fills an analyst's address review queue.

Callers type on a pinyin keyboard, or an operator types what they hear: a homophone for one
character (锦绣花园 -> 锦秀花园), a wrong generic word (翠湖名苑 -> 翠湖名院), a short form
(供电公司家属院 -> 供电局宿舍, 大官庄安置区 -> 大官庄村), then a building, a gate or nothing.
In the demo a few hundred such addresses, each said by several callers, stand among the tickets
no compound was taken from; the real matching later puts most of them in the review queue with
the right compound among its suggestions.

`demo_addresses(seed, compounds, aliases, registry)` picks the compounds whose names are garbled
and the addresses their callers use, from its own random stream of the demo's seed (so a test can
name the compound each address means). A garbled form that is exactly another compound's name or
alias is skipped, and so is an address the real matching would accept outright for another
compound: either would be a wrong match nobody reviews, not a question for the analyst, and would
quietly move tickets the demo's truth gives to one compound onto another.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analytics.ingest.matching.index import Registry
from analytics.ingest.matching.score import score_addresses
from analytics.synthetic.names import NAME_SUFFIXES, UNIT_SUFFIXES, VILLAGE_SUFFIXES

STREAM = 2  # np.random.default_rng((seed, STREAM)) draws the garbled addresses of a demo
N_GARBLED_COMPOUNDS = 200  # compounds whose names callers get wrong
SECOND_FORM_SHARE = 0.4  # of those, share with a second garbled form in circulation
MAX_TAILS = 3  # addresses per garbled form (a gate, a building, nothing ...)
# share of a garbled compound's unmatched tickets that carry one of its garbled addresses
GARBLED_TICKET_SHARE = 0.7


def _pairs(text: str) -> dict[str, str]:
    """'a:b c:d' -> {'a': 'b', 'c': 'd'} (a long table reads better as one string)."""
    return dict(pair.split(":") for pair in text.split())


# one character heard or typed as another (pinyin homophones and near-homophones)
HOMOPHONES = _pairs(
    "万:湾 世:士 东:冬 丽:莉 九:久 书:舒 亭:庭 元:园 光:广 兰:蓝 凤:峰 凰:皇 华:花 友:有 双:爽 "
    "向:象 启:琪 和:合 商:尚 嘉:佳 园:源 坊:芳 城:成 孝:晓 学:雪 富:福 岭:领 岸:安 州:洲 幸:兴 "
    "府:富 庭:亭 建:健 开:凯 御:裕 怡:宜 成:城 才:材 文:闻 新:欣 方:芳 明:名 春:椿 晖:辉 景:锦 "
    "朝:潮 杏:兴 柳:刘 栖:溪 桃:陶 榭:谢 沂:宜 河:和 泉:全 泰:太 泽:择 源:园 滨:宾 珠:株 琅:朗 "
    "瑞:锐 盛:胜 砚:燕 福:富 禾:和 紫:子 红:宏 绣:秀 羲:曦 翠:萃 翡:菲 聚:巨 育:玉 荣:融 蒙:孟 "
    "贵:桂 金:今 锦:景 阳:洋 雀:鹊 青:清 颐:怡 香:湘 鲁:路 齐:奇 龙:隆 枣:早 苗:描 沙:纱 官:关 "
    "湖:胡 堡:宝 庄:装 杨:扬 徐:许 陈:程 周:舟"
)
# a generic word heard or written as a similar one
GENERIC_SWAPS = {
    "苑": ("院", "园"),
    "花园": ("华园", "花苑"),
    "家园": ("佳园", "嘉园"),
    "名都": ("明都", "名城"),
    "嘉园": ("佳园", "家园"),
    "佳苑": ("家苑", "嘉苑"),
    "雅居": ("雅苑", "雅筑"),
    "丽景": ("丽锦", "丽晶"),
    "公馆": ("公寓",),
    "华府": ("华苑", "华庭"),
    "名邸": ("名第", "名苑"),
    "首府": ("首付",),
    "庄园": ("庄苑",),
    "府": ("府邸", "苑"),
    "城": ("城小区", "成"),
    "国际": ("国际花园", "国际小区"),
    "小区": ("新区", "花园"),
    "新村": ("新邨", "小区"),
    "花苑": ("华苑", "花园"),
    "雅苑": ("雅院", "雅园"),
    "家属院": ("宿舍", "家属楼"),
    "宿舍": ("家属院", "宿舍楼"),
    "家属楼": ("家属院", "宿舍"),
    "职工宿舍": ("宿舍", "家属院"),
    "宿舍楼": ("宿舍", "家属楼"),
    "家属区": ("家属院", "宿舍"),
    "安置区": ("安置房", "村"),
    "还建小区": ("还建房", "村"),
    "回迁楼": ("回迁房", "村"),
    "安置小区": ("安置房", "村"),
    "回迁小区": ("回迁房", "村"),
}
# the short forms people use for a work unit
UNIT_SHORT = {
    "供电公司": "供电局",
    "自来水公司": "自来水厂",
    "第一中学": "一中",
    "第三中学": "三中",
    "人民医院": "人医",
    "中医院": "中医",
    "工商银行": "工行",
    "广播电视局": "广电局",
    "邮电局": "邮局",
    "百货大楼": "百货",
    "师范学校": "师范",
    "烟草公司": "烟草局",
}
SUFFIXES = tuple(sorted({*NAME_SUFFIXES, *UNIT_SUFFIXES, *VILLAGE_SUFFIXES}, key=len, reverse=True))
TAILS = ("", "东门", "西门", "南门", "北门口", "小区门口", "{b}号楼", "{b}号楼{u}单元", "{b}号楼东侧")
PREFIXES = ("兰山区", "临沂市兰山区", "")


def split_name(name: str) -> tuple[str, str]:
    """(stem, generic word) of a demo compound name: 锦绣花园 -> (锦绣, 花园)."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def garbled_forms(name: str) -> list[str]:
    """Every garbled form of `name` this module knows, in a fixed order."""
    stem, generic = split_name(name)
    forms = []
    for i, ch in enumerate(stem):
        if ch in HOMOPHONES:
            forms.append(stem[:i] + HOMOPHONES[ch] + stem[i + 1 :] + generic)
    # 涑河村 + 村 is not a name anyone says
    forms += [stem + other for other in GENERIC_SWAPS.get(generic, ()) if stem[-1] != other[0]]
    for unit, short in UNIT_SHORT.items():
        if stem == unit:
            forms.append(short + generic)
    return [f for f in dict.fromkeys(forms) if f != name]


def garbled_addresses(
    rng: np.random.Generator, compounds: pd.DataFrame, taken: Iterable[str]
) -> pd.DataFrame:
    """The garbled addresses in circulation: one row per address with `comp` (the row of the
    compound it means in `compounds`) and `address`."""
    taken = set(taken)
    chosen = np.sort(rng.choice(len(compounds), N_GARBLED_COMPOUNDS, replace=False))
    names = compounds["name"].to_numpy()
    households = compounds["households"].to_numpy()
    rows: list[tuple[int, str]] = []
    for comp in chosen:
        forms = [f for f in garbled_forms(names[comp]) if f not in taken]
        if not forms:
            continue
        k = min(len(forms), 1 + int(rng.random() < SECOND_FORM_SHARE))
        for form in rng.choice(forms, k, replace=False):
            n_tails = int(rng.integers(1, MAX_TAILS + 1))
            buildings = max(1, int(households[comp]) // 48)
            for tail in rng.choice(TAILS, n_tails, replace=False):
                filled = tail.format(b=int(rng.integers(1, buildings + 1)), u=int(rng.integers(1, 4)))
                prefix = PREFIXES[int(rng.integers(len(PREFIXES)))]
                rows.append((int(comp), f"{prefix}{form}{filled}"))
    return pd.DataFrame(rows, columns=["comp", "address"]).drop_duplicates("address", ignore_index=True)


def demo_addresses(
    seed: int, compounds: pd.DataFrame, aliases: pd.DataFrame, registry: Registry
) -> pd.DataFrame:
    """The garbled addresses of the demo built with `seed` (`compounds` and `aliases` as
    registered, `registry` the matching's index of them): comp, compound_id, address."""
    taken = {*compounds["name"], *aliases["alias"]}
    table = garbled_addresses(np.random.default_rng((seed, STREAM)), compounds, taken)
    table["compound_id"] = compounds["compound_id"].to_numpy()[table["comp"]]
    scored = score_addresses(registry, table["address"].tolist())
    wrong = (scored["status"] == "auto").to_numpy() & (
        scored["compound_id"] != table["compound_id"]
    ).to_numpy()
    return table[~wrong].reset_index(drop=True)


def assign(rng: np.random.Generator, comp: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """A garbled address (index into `table`) for each ticket of compound `comp`, or -1: a share
    GARBLED_TICKET_SHARE of the tickets of garbled compounds, spread evenly over their addresses."""
    out = np.full(len(comp), -1, dtype=np.int64)
    if table.empty:
        return out
    order = table.sort_values("comp", kind="stable")
    t_comp = order["comp"].to_numpy()
    firsts = np.searchsorted(t_comp, comp, side="left")
    counts = np.searchsorted(t_comp, comp, side="right") - firsts
    pick = (counts > 0) & (rng.random(len(comp)) < GARBLED_TICKET_SHARE)
    offset = (rng.random(len(comp)) * np.maximum(counts, 1)).astype(np.int64)
    out[pick] = order.index.to_numpy()[firsts[pick] + offset[pick]]
    return out
