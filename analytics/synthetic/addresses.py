"""Ticket addresses: noisy, as callers give them, and the place the ticket text names.

A district prefix or not, the subdistrict sometimes (always where names repeat), the compound's
name or an alias, then a building, unit and room, a gate or a spot inside; some digits come
full-width. About 5% of the tickets came in without a compound: most of their addresses name only
a road, a crossing, a shop or market, the district alone, or nothing useful; the rest garble a
compound's name (analytics.synthetic.garbled), which an analyst can settle in the review queue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.synthetic import garbled
from analytics.synthetic.strings import choose, digits, join, pool, where

ALIAS_ADDRESS_SHARE = 0.2
FULLWIDTH_SHARE = 0.08
ROADS = (
    "沂蒙路",
    "通达路",
    "金雀山路",
    "银雀山路",
    "解放路",
    "兰山路",
    "北京路",
    "上海路",
    "沂州路",
    "涑河街",
    "新华路",
    "人民大街",
    "启阳路",
    "洗砚池街",
    "蒙山大道",
    "临西五路",
    "育才路",
    "宝丽街",
    "工业大道",
    "平安路",
)
DISTRICT_PREFIXES = ("兰山区", "临沂市兰山区", "山东省临沂市兰山区", "")
DISTRICT_PREFIX_P = (0.55, 0.2, 0.05, 0.2)
# landmarks on a road that callers give instead of a compound
SHOPS = (
    "华联超市",
    "农贸市场",
    "银座商城",
    "加油站",
    "公交站",
    "中心小学",
    "幼儿园",
    "卫生院",
    "建材市场",
    "烧烤城",
    "汽车站",
    "药店",
    "菜市场",
    "工地",
)
# the district alone
DISTRICT_ONLY = ("兰山区", "临沂市兰山区", "山东省临沂市兰山区")
GATES = ("东门", "西门", "南门", "北门", "门口", "东门对面", "北门口")
INSIDE = ("小区内", "物业办公室", "地下车库", "小区广场")


def addresses(
    rng: np.random.Generator,
    tickets: pd.DataFrame,
    compounds: pd.DataFrame,
    aliases: pd.DataFrame,
    side: np.random.Generator,
    garbled_table: pd.DataFrame,
) -> tuple[pa.Array, pa.Array]:
    """(address, place named in the ticket text) per ticket. The shops, the district alone and
    which tickets carry one of the `garbled_table` addresses (analytics.synthetic.garbled) draw
    from `side`."""
    total = len(tickets)
    comp = tickets["comp"].to_numpy()
    names = compounds["name"].tolist()
    duplicated = compounds["name"].duplicated(keep=False).to_numpy()
    first_alias = aliases.drop_duplicates("compound_id").set_index("compound_id")["alias"]
    alias_of = compounds["compound_id"].map(first_alias)
    use_alias = (rng.random(total) < ALIAS_ADDRESS_SHARE) & alias_of.notna().to_numpy()[comp]
    place = where(use_alias, pool(alias_of.fillna(""), comp), pool(names, comp))
    prefix = pool(DISTRICT_PREFIXES, rng.choice(len(DISTRICT_PREFIXES), total, p=DISTRICT_PREFIX_P))
    with_sub = (rng.random(total) < 0.35) | duplicated[comp]  # identical names need their subdistrict
    sub = where(with_sub, pool(compounds["subdistrict"], comp), "")
    buildings = np.maximum(1, compounds["households"].to_numpy() // 48)
    b_s = digits((rng.random(total) * buildings[comp]).astype(np.int64) + 1)
    u_s = digits(rng.integers(1, 5, total))
    room_s = digits(rng.integers(1, 19, total) * 100 + rng.integers(1, 5, total))
    kind = rng.choice(7, total, p=(0.25, 0.2, 0.15, 0.1, 0.15, 0.05, 0.1))
    tail = choose(
        kind,
        [
            join(b_s, "号楼", u_s, "单元", room_s, "室"),
            join(b_s, "号楼", u_s, "单元"),
            join(b_s, "号楼"),
            pool(GATES, rng.integers(len(GATES), size=total)),
            pa.array([""] * total, pa.string()),
            join(b_s, "栋"),
            pool(INSIDE, rng.integers(len(INSIDE), size=total)),
        ],
    )
    address = join(prefix, sub, place, tail)
    fullwidth = pa.array(rng.random(total) < FULLWIDTH_SHARE)
    wide = address.filter(fullwidth)
    for d in range(10):
        wide = pc.replace_substring(wide, str(d), chr(0xFF10 + d))
    address = pc.replace_with_mask(address, fullwidth, wide)
    # about 5% came in without a compound: a road, a crossing, a shop, the district alone, nothing
    unmatchable = ~tickets["matchable"].to_numpy()
    k = int(unmatchable.sum())
    r1 = pool(ROADS, rng.integers(len(ROADS), size=k))
    r2 = pool(ROADS, rng.integers(len(ROADS), size=k))
    prefix_k = prefix.filter(pa.array(unmatchable))
    vague_kind = rng.choice(4, k, p=(0.4, 0.3, 0.2, 0.1))
    numbers = digits(rng.integers(1, 300, k))
    # a third of the addresses that say nothing useful name the district alone
    vague_kind = np.where((vague_kind == 3) & (side.random(k) < 1 / 3), 4, vague_kind)
    vague = choose(
        vague_kind,
        [
            join(prefix_k, r1, "与", r2, "交汇处"),
            join(prefix_k, r1, numbers, "号"),
            join(prefix_k, r1, pool(SHOPS, side.integers(len(SHOPS), size=k))),
            pa.array(["未提供详细地址"] * k, pa.string()),
            pool(DISTRICT_ONLY, side.integers(len(DISTRICT_ONLY), size=k)),
        ],
    )
    # callers of some compounds garble its name: those addresses go to the review queue
    which = garbled.assign(side, comp[unmatchable], garbled_table)
    said = which >= 0
    garbled_address = pool([*garbled_table["address"], ""], np.where(said, which, len(garbled_table)))
    vague = where(said, garbled_address, vague)
    address = pc.replace_with_mask(address, pa.array(unmatchable), vague)
    text_place = where(kind < 3, join(place, b_s, "号楼"), place)
    # the text of a ticket without a compound names the place as the caller said it, or none
    said_place = where(said, garbled_address, "所在小区")
    text_place = pc.replace_with_mask(text_place, pa.array(unmatchable), said_place)
    return address, text_place


def sim_places(names: np.ndarray, building: np.ndarray) -> list[str]:
    """'<name><n>号楼': the place a simulated ticket names (its address after the district prefix)."""
    return [f"{a}{b}号楼" for a, b in zip(names, building, strict=True)]
