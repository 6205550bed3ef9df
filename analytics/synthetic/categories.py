"""Ticket categories: shares, month-of-year curves, urgency and handling units per category.

Each category of the demo has a base share, a month-of-year curve (heating Nov-Mar, water and
power in summer), an urgency (urgent tickets are due in a day) and a primary and a secondary
handling unit. Old buildings leak, new ones fight over parking: the shares shift with the
compound's age and type (`category_table`). Simulated districts and in-memory panels use shorter
taxonomies of their own (`SIM_CATEGORIES`, `PANEL_CATEGORIES`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.synthetic.registry import TYPES
from analytics.synthetic.seasons import normalised
from analytics.synthetic.texts import FRAGMENTS

# category, base share, month-of-year weights (Jan..Dec), urgent, (primary unit, secondary unit)
# '{街道}' stands for the ticket's subdistrict office.
CATEGORIES: tuple[tuple[str, float, tuple[float, ...], bool, tuple[str, str]], ...] = (
    (
        "物业服务",
        0.22,
        (1, 1, 1, 1, 1, 1, 1.05, 1.05, 1, 1, 1, 1),
        False,
        ("{街道}", "兰山区住房和城乡建设局"),
    ),
    (
        "供暖",
        0.10,
        (3.0, 2.4, 1.5, 0.15, 0.05, 0.05, 0.05, 0.05, 0.05, 0.3, 2.6, 3.3),
        True,
        ("临沂市热力集团", "{街道}"),
    ),
    (
        "供水",
        0.08,
        (0.8, 0.8, 0.9, 0.9, 1.0, 1.3, 1.6, 1.6, 1.1, 0.9, 0.8, 0.9),
        True,
        ("临沂市自来水公司", "{街道}"),
    ),
    (
        "供电",
        0.06,
        (0.9, 0.8, 0.8, 0.8, 0.9, 1.3, 1.7, 1.6, 1.0, 0.8, 0.8, 0.9),
        True,
        ("国网临沂供电公司兰山分公司", "{街道}"),
    ),
    (
        "燃气",
        0.04,
        (1.3, 1.2, 1, 0.9, 0.8, 0.8, 0.8, 0.8, 0.9, 1, 1.2, 1.4),
        True,
        ("临沂华润燃气有限公司", "{街道}"),
    ),
    ("电梯", 0.05, (1,) * 12, False, ("兰山区市场监督管理局", "{街道}")),
    ("停车", 0.08, (1,) * 12, False, ("{街道}", "兰山交警大队")),
    (
        "噪音扰民",
        0.08,
        (0.7, 0.7, 0.9, 1, 1.1, 1.3, 1.4, 1.3, 1.1, 1, 0.8, 0.7),
        False,
        ("兰山公安分局", "兰山区综合行政执法局"),
    ),
    (
        "环境卫生",
        0.09,
        (0.9, 0.9, 1, 1, 1.1, 1.2, 1.2, 1.2, 1, 1, 0.9, 0.9),
        False,
        ("兰山区环境卫生服务中心", "{街道}"),
    ),
    (
        "违章搭建",
        0.05,
        (0.8, 0.7, 1, 1.1, 1.2, 1.1, 1, 1, 1.1, 1.1, 1, 0.9),
        False,
        ("兰山区综合行政执法局", "{街道}"),
    ),
    (
        "房屋质量",
        0.07,
        (0.9, 0.9, 0.9, 1, 1, 1.3, 1.5, 1.3, 1, 0.9, 0.8, 0.8),
        False,
        ("兰山区住房和城乡建设局", "{街道}"),
    ),
    ("安全隐患", 0.03, (1.2, 1.1, 1, 1, 1, 1, 1, 1, 1, 1, 1.1, 1.2), True, ("兰山区应急管理局", "{街道}")),
    ("其他", 0.05, (1,) * 12, False, ("{街道}", "{街道}")),
)
# category share multipliers by compound kind: old buildings leak, new ones fight over parking
OLD_CATEGORY_FACTORS = {"房屋质量": 1.6, "供暖": 1.3, "安全隐患": 1.3, "电梯": 0.5, "违章搭建": 1.3}
NEW_CATEGORY_FACTORS = {"物业服务": 1.2, "停车": 1.3, "电梯": 1.5, "噪音扰民": 1.2}
TYPE_CATEGORY_FACTORS = {
    "商开": {"物业服务": 1.3},
    "还建": {"房屋质量": 1.3, "物业服务": 1.2, "违章搭建": 1.3},
    "家属院": {"物业服务": 0.7, "环境卫生": 1.3},
    "混合": {},
}

# simulated districts: category, base weight, heating-only flag, typical phrases
SIM_CATEGORIES: tuple[tuple[str, float, bool, tuple[str, ...]], ...] = (
    ("供暖", 0.16, True, FRAGMENTS["供暖"][:3]),
    ("物业管理", 0.20, False, ("物业不作为，楼道卫生无人打扫", "物业费上涨未公示", "物业人员态度恶劣")),
    ("噪音扰民", 0.08, False, FRAGMENTS["噪音扰民"][:3]),
    ("环境卫生", 0.10, False, FRAGMENTS["环境卫生"][:3]),
    ("停车管理", 0.09, False, FRAGMENTS["停车"][:3]),
    ("供水", 0.09, False, FRAGMENTS["供水"][:3]),
    ("违章建筑", 0.06, False, FRAGMENTS["违章搭建"][:3]),
    ("房屋质量", 0.08, False, FRAGMENTS["房屋质量"][:3]),
    ("电梯", 0.06, False, FRAGMENTS["电梯"][:3]),
    ("其他", 0.08, False, (*FRAGMENTS["其他"][:2], FRAGMENTS["安全隐患"][3])),
)
HEATING_MONTHS = (11, 12, 1, 2, 3)

# in-memory panels: categories and their shares, the same in every month
PANEL_CATEGORIES = ("物业管理", "供暖供水", "噪音扰民", "停车管理", "环境卫生", "房屋质量")
PANEL_CATEGORY_WEIGHTS = np.array([0.30, 0.20, 0.15, 0.15, 0.12, 0.08])


def category_table(compounds: pd.DataFrame, n_months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group of each compound, cumulative category probabilities [group, month, cat],
    monthly multiplier [group, month] with mean 1 over a year)."""
    names = [c[0] for c in CATEGORIES]
    share = np.array([c[1] for c in CATEGORIES])
    season = normalised([c[2] for c in CATEGORIES])  # [cat, 12]
    groups = [(t, old) for t in TYPES for old in (False, True)]
    group_index = {g: i for i, g in enumerate(groups)}
    comp_group = np.array(
        [group_index[(t, bool(o))] for t, o in zip(compounds["type"], compounds["is_old"], strict=True)]
    )
    moy = np.arange(n_months) % 12
    probs = np.empty((len(groups), n_months, len(names)))
    mult = np.empty((len(groups), n_months))
    for gi, (t, old) in enumerate(groups):
        factors = {**(OLD_CATEGORY_FACTORS if old else NEW_CATEGORY_FACTORS)}
        for k, v in TYPE_CATEGORY_FACTORS[t].items():
            factors[k] = factors.get(k, 1.0) * v
        g_share = share * np.array([factors.get(n, 1.0) for n in names])
        g_share /= g_share.sum()
        weights = g_share[None, :] * season[:, moy].T  # [month, cat]
        mult[gi] = weights.sum(axis=1)
        probs[gi] = weights / weights.sum(axis=1, keepdims=True)
    mult /= mult[:, :12].mean(axis=1, keepdims=True)
    return comp_group, np.cumsum(probs, axis=2), mult


def sim_category_cum(periods: list[pd.Period]) -> np.ndarray:
    """Cumulative category probabilities [month, cat] of a simulated district (heating only Nov-Mar)."""
    weights = np.array(
        [
            [0.0 if (heat and p.month not in HEATING_MONTHS) else w for _, w, heat, _ in SIM_CATEGORIES]
            for p in periods
        ]
    )
    return np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
