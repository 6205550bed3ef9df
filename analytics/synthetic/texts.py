"""Ticket text: fragments and titles per category, openers, details and appeals.

A ticket's content is opener + place + fragment + detail + appeal, its title the compound's name
+ a title fragment, "关于...的问题" or the fragment alone; all vectorised over Arrow string arrays.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from analytics.synthetic.strings import choose, join, pool

FRAGMENTS: dict[str, tuple[str, ...]] = {
    "物业服务": (
        "物业不作为，楼道卫生长期无人打扫",
        "物业费上涨未经业主同意",
        "物业人员服务态度恶劣",
        "小区门禁损坏物业一直不修",
        "物业公司撤出后小区无人管理",
        "物业未按合同提供保安服务",
        "公共区域照明损坏无人维修",
    ),
    "供暖": (
        "暖气不热，室温只有十几度",
        "供暖管道漏水",
        "暖气费收费不合理",
        "家中暖气片不热，已多次报修",
        "供暖单位未按时供暖",
        "楼内暖气管道老化跑冒滴漏",
    ),
    "供水": (
        "停水未提前通知",
        "自来水水压低，高层没水",
        "水质发黄有异味",
        "水管爆裂大量漏水",
        "二次供水设施长期未清洗",
        "频繁停水影响生活",
    ),
    "供电": (
        "小区频繁停电",
        "电压不稳，家电无法使用",
        "变压器噪音大",
        "停电未提前通知",
        "楼道电线老化存在隐患",
        "电动车充电桩无电",
    ),
    "燃气": (
        "闻到燃气异味",
        "燃气表故障",
        "燃气管道改造后未恢复供气",
        "燃气费计量异常",
        "燃气公司安检收费不合理",
    ),
    "电梯": (
        "电梯经常故障困人",
        "电梯年检过期",
        "电梯异响运行不稳",
        "电梯停运多日无人维修",
        "老楼加装电梯协调难",
    ),
    "停车": (
        "车位被占用无法停车",
        "停车收费不合理",
        "消防通道被车辆占用",
        "外来车辆随意进出",
        "地下车库积水",
        "小区停车位严重不足",
    ),
    "噪音扰民": (
        "夜间施工噪音扰民",
        "楼下商户音响声音太大",
        "广场舞噪音扰民",
        "楼上装修噪音持续",
        "空调外机噪音大",
        "烧烤摊深夜喧哗",
    ),
    "环境卫生": (
        "垃圾长期堆放无人清运",
        "化粪池堵塞污水外溢",
        "小区绿化带杂草丛生",
        "楼道堆放杂物",
        "下水道堵塞返味",
        "蚊蝇老鼠多",
    ),
    "违章搭建": (
        "楼顶私搭乱建",
        "一楼住户私自扩建院墙",
        "绿地被占用搭建棚子",
        "有人占用公共区域建车库",
        "楼道被改建成储物间",
    ),
    "房屋质量": (
        "房屋漏雨，墙面渗水",
        "外墙保温层脱落",
        "楼道墙皮脱落",
        "屋面防水层老化",
        "新房交付后墙体开裂",
        "窗户渗水",
    ),
    "安全隐患": (
        "楼道电动车充电存在火灾隐患",
        "消防设施损坏",
        "高空坠物隐患",
        "井盖缺失存在安全隐患",
        "围墙倾斜有倒塌危险",
        "消防栓无水",
    ),
    "其他": (
        "咨询相关政策",
        "路灯不亮",
        "小区内有流浪狗",
        "快递柜占用公共空间",
        "反映邻里纠纷",
        "咨询不动产证办理",
    ),
}
TITLES: dict[str, tuple[str, ...]] = {
    "物业服务": ("物业服务问题", "物业管理不到位", "物业收费问题"),
    "供暖": ("暖气不热", "供暖问题", "暖气漏水"),
    "供水": ("停水问题", "水压低", "水质问题"),
    "供电": ("停电问题", "电压不稳", "供电问题"),
    "燃气": ("燃气问题", "燃气异味", "燃气收费问题"),
    "电梯": ("电梯故障", "电梯安全问题"),
    "停车": ("停车难", "车位被占", "停车收费问题"),
    "噪音扰民": ("噪音扰民", "夜间噪音", "施工噪音"),
    "环境卫生": ("垃圾清运问题", "环境卫生差", "污水外溢"),
    "违章搭建": ("违章搭建", "私搭乱建"),
    "房屋质量": ("房屋漏水", "房屋质量问题", "外墙脱落"),
    "安全隐患": ("安全隐患", "消防隐患"),
    "其他": ("咨询", "其他问题", "路灯不亮"),
}
OPENERS = ("市民来电反映：", "来电人反映，", "业主来电称", "居民反映：", "来电人称其居住的", "市民反映")
DETAILS = (
    "",
    "，已持续一周",
    "，多次联系物业未果",
    "，家中有老人孩子",
    "，严重影响正常生活",
    "，已反映多次仍未解决",
    "，涉及多户居民",
)
APPEALS = (
    "，请相关部门尽快处理。",
    "，希望尽快解决。",
    "，要求给予答复。",
    "，请协调解决。",
    "。",
    "，诉求尽快维修。",
)


def _by_category(
    table: dict[str, tuple[str, ...]], categories: list[str]
) -> tuple[list, np.ndarray, np.ndarray]:
    """All of `table`'s texts in category order, each category's offset and count."""
    lists = [table[c] for c in categories]
    offset = np.cumsum([0] + [len(tl) for tl in lists])[:-1]
    length = np.array([len(tl) for tl in lists])
    return [t for tl in lists for t in tl], offset, length


def content(rng: np.random.Generator, cat: np.ndarray, place: pa.Array, categories: list[str]) -> pa.Array:
    """opener + place + fragment + detail + appeal; fragments indexed per category."""
    total = len(cat)
    texts, offset, length = _by_category(FRAGMENTS, categories)
    frag = pool(texts, offset[cat] + (rng.random(total) * length[cat]).astype(int))
    return join(
        pool(OPENERS, rng.integers(len(OPENERS), size=total)),
        place,
        frag,
        pool(DETAILS, rng.integers(len(DETAILS), size=total)),
        pool(APPEALS, rng.integers(len(APPEALS), size=total)),
    )


def titles(
    rng: np.random.Generator,
    cat: np.ndarray,
    compound_name: pa.Array,
    matchable: np.ndarray,
    categories: list[str],
) -> pa.Array:
    """The compound's name + a title fragment, '关于...的问题', or the fragment alone."""
    total = len(cat)
    texts, offset, length = _by_category(TITLES, categories)
    title_frag = pool(texts, offset[cat] + (rng.random(total) * length[cat]).astype(int))
    title_kind = rng.choice(3, total, p=(0.5, 0.3, 0.2))
    title_kind[~matchable & (title_kind == 0)] = 2  # no compound name where the address has none
    return choose(
        title_kind, [join(compound_name, title_frag), join("关于", title_frag, "的问题"), title_frag]
    )
