"""The district's 13 categories (TAXONOMY) and how an upload's own labels map onto them
(`map_category_series`): the analysts' table category_map first, then exact synonyms, then
keywords found in the label. A label that maps to nothing is kept as it came (so labelled data
with another scheme, e.g. the Teddy Cup's 城乡建设 / 环境保护 / ..., stays trainable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.errors import ValidationError
from analytics.store.db import audit, merge, query_df, transaction

WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Category:
    name: str
    en: str
    # upload labels that mean exactly this category (compared case-insensitively)
    synonyms: tuple[str, ...] = ()
    # words that, found inside an upload label, mean this category; specific enough that a
    # label from another scheme (卫生计生, 环境保护, 交通运输) does not hit them by accident
    keywords: tuple[str, ...] = ()


TAXONOMY: tuple[Category, ...] = (
    Category(
        "物业服务",
        "property management",
        ("物业管理", "物业", "物业纠纷", "物业收费", "property management"),
        ("物业", "保安", "门禁"),
    ),
    Category(
        "供暖",
        "heating",
        ("暖气", "集中供热", "供热", "采暖", "HEAT/HOT WATER", "heating", "non-residential heat"),
        ("暖气", "供热", "供暖", "采暖", "heat"),
    ),
    Category(
        "供水",
        "water supply",
        ("自来水", "停水", "水压", "water system", "plumbing", "water leak", "water conservation"),
        ("供水", "自来水", "停水", "水压", "plumbing", "water system"),
    ),
    Category(
        "供电",
        "electricity",
        ("停电", "电力", "electric", "electrical", "street light condition"),
        ("供电", "停电", "电力", "electric"),
    ),
    Category("燃气", "gas", ("天然气", "煤气", "gas"), ("燃气", "天然气", "煤气")),
    Category("电梯", "lifts", ("elevator", "电梯故障"), ("电梯", "elevator")),
    Category(
        "停车",
        "parking",
        ("停车难", "乱停车", "车位", "illegal parking", "blocked driveway", "broken parking meter"),
        ("停车", "车位", "parking", "driveway"),
    ),
    Category(
        "噪音扰民",
        "noise",
        ("噪音", "噪声", "扰民", "noise", "collection truck noise"),
        ("噪音", "噪声", "扰民", "noise"),
    ),
    Category(
        "环境卫生",
        "sanitation",
        (
            "卫生",
            "垃圾",
            "环卫",
            "unsanitary condition",
            "sanitation condition",
            "dirty conditions",
            "missed collection (all materials)",
            "rodent",
            "graffiti",
            "request large bulky item collection",
        ),
        ("垃圾", "环卫", "保洁", "sanitation", "sanitary", "rodent", "graffiti"),
    ),
    Category(
        "违章搭建",
        "illegal construction",
        ("违建", "违法建设", "私搭乱建", "building/use"),
        ("违建", "违章", "私搭", "乱建", "违法建设"),
    ),
    Category(
        "房屋质量",
        "building quality",
        (
            "房屋漏水",
            "墙体开裂",
            "door/window",
            "paint/plaster",
            "flooring/stairs",
            "general construction/plumbing",
        ),
        ("漏水", "渗水", "开裂", "房屋质量", "paint", "plaster"),
    ),
    Category(
        "安全隐患",
        "safety hazards",
        ("消防", "安全", "safety", "hazardous materials", "asbestos", "lead"),
        ("隐患", "消防", "safety", "hazard"),
    ),
    Category("其他", "other", ("其它", "other", "general", "question"), ()),
)
CATEGORY_NAMES = tuple(c.name for c in TAXONOMY)


def _norm_label(label: str) -> str:
    return WHITESPACE.sub(" ", str(label)).strip().lower()


def _builtin_map(label: str) -> str:
    """Taxonomy name, exact synonym, keyword inside the label; else the label itself."""
    key = _norm_label(label)
    for category in TAXONOMY:
        if key == category.name or key in (s.lower() for s in category.synonyms):
            return category.name
    for category in TAXONOMY:
        if any(k.lower() in key for k in category.keywords):
            return category.name
    return str(label).strip()


def map_category_series(con: duckdb.DuckDBPyConnection, raw: pd.Series) -> pd.Series:
    """Upload category labels -> district categories, computed once per distinct label.

    Missing / blank labels give None. Same index as `raw`.
    """
    text = raw.astype("string").str.strip()
    distinct = [v for v in text.dropna().unique() if v]
    table = dict(
        query_df(con, "SELECT source_category, category FROM category_map").itertuples(index=False, name=None)
    )
    mapping = {v: table.get(v) or _builtin_map(v) for v in distinct}
    out = text.map(mapping)
    return out.astype(object).where(out.notna(), None)


def set_category_mapping(
    con: duckdb.DuckDBPyConnection, source: str, category: str, user: str | None = None
) -> int:
    """Save `source` label -> `category` and re-map stored tickets that came with that label.
    Returns the number of tickets changed."""
    source, category = str(source).strip(), str(category).strip()
    if not source or not category:
        raise ValidationError(
            "原始分类和目标分类都不能为空。", "Both the source label and the category are required."
        )
    with transaction(con) as cur:
        merge(
            cur,
            "category_map",
            ["source_category", "category"],
            ["source_category"],
            "VALUES (?, ?)",
            [source, category],
        )
        n = cur.execute(
            "UPDATE tickets SET category = ? WHERE trim(category_raw) = ? AND category_source = 'given'",
            [category, source],
        ).fetchone()[0]
        audit(cur, user, "set_category_mapping", {"source": source, "category": category, "tickets": n})
    return int(n)
