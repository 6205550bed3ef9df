"""The deterministic demo district: a Lanshan-like district with a known truth.

`build_demo(con, seed=0)` fills an empty store with 4 subdistricts, 102 communities, 1,105
compounds, about 120 property companies, half-year star ratings, quarterly property evaluations,
about 350,000 tickets a year from 2022-01-01 to 2024-06-30, 65 task forces led by 38 leaders, and
one account per role (`DEMO_ACCOUNTS`). Same seed, same store content.

How the tickets come about (so every page has something true to show):

- every compound has a persistent complaint rate per household (gamma distributed, higher for
  old and resettlement compounds) - what a ranking should find;
- on top of it, transient half-year shocks (a burst pipe, a fight with the property company) and
  month-to-month noise - real but gone after six months, so regression to the mean is real;
- seasonality by category (heating Nov-Mar, water and power in summer), fewer calls on weekends
  and holidays, and a Spring Festival dip taken from the `holidays` package's China calendar;
- the 65 compounds with most tickets in 2023H1 get task forces from 2023-07 (a few 2023-08) and a
  modest true effect: their tickets afterwards are thinned to `TRUE_EFFECT` (x0.85). The naive
  before/after drop is much larger, because they were picked in a bad half-year. 2022 has no
  task forces, so the same rule applied one year earlier (2022H1) gives an honest placebo.

Ticket text, titles and addresses are built from templates x fragments, all vectorised with numpy.
Addresses are noisy (district prefix or not, phases, gates, full-width digits); about 5% name
only a road and stay unmatched. Callers are synthetic numbers hashed inside DuckDB exactly as
ingestion does, HMAC(store's caller key, sha256(salt || digits)) (analytics.callerkey); no number is
stored, and with the store's key the same seed gives the same hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable

import duckdb
import holidays
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import callerkey, db
from analytics.auth import hash_password, insert_user
from analytics.errors import ValidationError

# --- the district -----------------------------------------------------------------------------
SUBDISTRICTS: tuple[str, ...] = ("兰山街道", "银雀山街道", "金雀山街道", "柳青街道")
COMMUNITIES_PER_SUBDISTRICT = (28, 24, 24, 26)  # 102 communities
N_COMPOUNDS = 1105
N_NEW = 446
N_OLD = N_COMPOUNDS - N_NEW  # 659
MIN_COMPOUNDS_PER_COMMUNITY = 3
N_PROPERTY_COMPANIES = 120
NO_PROPERTY_SHARE_OLD = 0.15  # old compounds without a property company
N_DUPLICATE_NAMES = 5  # deliberately identical names in different subdistricts
ALIAS_SHARE = 0.3
TYPES = ("商开", "还建", "家属院", "混合")
TYPE_SHARES_NEW = (0.70, 0.15, 0.03, 0.12)
TYPE_SHARES_OLD = (0.30, 0.25, 0.30, 0.15)
# median households by type (lognormal); clipped to a plausible range
HOUSEHOLDS_MEDIAN = {"商开": 520, "还建": 780, "家属院": 110, "混合": 380}
HOUSEHOLDS_SIGMA = 0.6
HOUSEHOLDS_RANGE = (12, 6000)
SUBDISTRICT_CENTRES = {
    "兰山街道": (35.065, 118.345),
    "银雀山街道": (35.050, 118.365),
    "金雀山街道": (35.040, 118.330),
    "柳青街道": (35.095, 118.320),
}
OLD_BUILT = (1975, 1999)  # old = built before registry.OLD_BEFORE_YEAR (2000)
NEW_BUILT = (2000, 2020)

# --- tickets ----------------------------------------------------------------------------------
START = dt.date(2022, 1, 1)
END = dt.date(2024, 6, 30)  # last day with tickets
N_MONTHS = 30
TICKETS_PER_YEAR = 350_000
YEARLY_GROWTH = 0.02  # the hotline gets a little busier every year
RATE_SHAPE = 2.0  # gamma shape of the persistent per-household rate (CV ~0.7)
TYPE_RATE = {"商开": 1.0, "还建": 1.4, "家属院": 1.25, "混合": 1.1}
OLD_RATE = 1.35
SHOCK_PROB = 0.15  # chance that a compound has a shock in a given half-year
SHOCK_RANGE = (2.0, 3.5)
MONTH_NOISE_SHAPE = 20.0  # gamma noise per compound-month (CV ~0.22)
WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 0.97, 0.8, 0.75)  # Mon..Sun
HOLIDAY_WEIGHT = 0.75
SPRING_FESTIVAL_WEIGHT = 0.35  # eve + 7 holiday days: people are away or visiting family
HOUR_WEIGHT = (1, 0.5, 0.3, 0.3, 0.3, 0.6, 2, 5, 9, 10, 10, 9, 7, 7, 9, 10, 10, 9, 8, 7, 6, 5, 3, 2)
INVALID_SHARE = 0.03
UNMATCHABLE_SHARE = 0.05
FULLWIDTH_SHARE = 0.08
ALIAS_ADDRESS_SHARE = 0.2
SATISFACTION_ASKED = 0.65
REPEAT_BETA = (2.0, 8.0)  # per-compound share of tickets from its frequent callers (mean 0.2)
FREQUENT_CALLERS = 8  # pool of frequent callers per compound
OPEN_AT_END_DAYS = 10  # tickets this close to END may still be open
URGENT_DUE_HOURS = 24
NORMAL_DUE_HOURS = 120

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
GATES = ("东门", "西门", "南门", "北门", "门口", "东门对面", "北门口")
INSIDE = ("小区内", "物业办公室", "地下车库", "小区广场")
PHASES = ("一期", "二期", "三期")
ZONES = ("东区", "西区", "南区", "北区")
SATISFACTION_LABELS = ("满意", "基本满意", "不满意")
PHONE_PREFIXES = (
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    155,
    156,
    157,
    158,
    159,
    177,
    180,
    186,
    188,
)

# --- task forces --------------------------------------------------------------------------------
SELECTION_WINDOW = (dt.date(2023, 1, 1), dt.date(2023, 6, 30))
TASKFORCE_START = dt.date(2023, 7, 1)
TASKFORCE_LATE_START = dt.date(2023, 8, 1)
N_LATE_STARTS = 10
N_TASKFORCES = 65
N_LEADERS = 38
# how many compounds each of the 38 leaders leads: 16 x 1 + 17 x 2 + 5 x 3 = 65
LEADER_LOADS = (1,) * 16 + (2,) * 17 + (3,) * 5
TRUE_EFFECT = 0.85  # tickets in treated compounds after start x this (15% fewer)
TARGET_SHARE = 0.5  # exit target: half the monthly mean in the selection window
EXIT_MONTHS = 3
WITHDRAWN_SHARE = 0.5  # of the task forces that met the exit rule, share already withdrawn
ACTIONS: tuple[tuple[str, float, float], ...] = (  # action, cost range (yuan)
    ("召开居民议事会，梳理诉求清单", 0, 0),
    ("专班入户走访，登记问题", 0, 0),
    ("约谈物业公司负责人，限期整改", 0, 0),
    ("更换老化供暖管道", 80_000, 350_000),
    ("维修屋面防水", 50_000, 260_000),
    ("清理楼道堆物和小广告", 2_000, 12_000),
    ("增设停车位并划线", 30_000, 150_000),
    ("更换小区物业服务企业", 0, 20_000),
    ("维修二次供水设施", 40_000, 180_000),
    ("拆除违章搭建", 10_000, 60_000),
    ("加装楼道照明和监控", 15_000, 90_000),
    ("电梯大修及安全评估", 60_000, 300_000),
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN_NAMES = (
    "建国",
    "志强",
    "永刚",
    "海涛",
    "秀英",
    "丽华",
    "国庆",
    "卫东",
    "红梅",
    "振华",
    "德明",
    "学军",
    "玉兰",
    "春生",
    "立新",
    "保国",
    "文杰",
    "晓东",
    "桂芳",
    "新民",
    "洪涛",
    "建华",
    "爱民",
    "宏伟",
)


def _words(text: str) -> tuple[str, ...]:
    """A space-separated pool of words (easier to read and edit than a long tuple)."""
    return tuple(text.split())


# --- names ------------------------------------------------------------------------------------
NAME_FIRSTS = _words(
    "翠华 金雀山 沂河 银雀 兰亭 凤凰 锦绣 阳光 滨河 书香 和谐 幸福 柳青 蒙山 琅琊 祊河 新华 东方 明珠 紫金 "
    "御景 水岸 朝阳 向阳 红旗 建设 光明 文化 育才 启阳 洗砚 羲之 聚才 沂州 南坊 北园 涑河 双岭 古城 孝友 "
    "九曲 杏园 桃源 丽都 华庭 盛世 泰和 万象 富贵 开元 锦华 天成 银河 金色 翡翠 香榭 春晖 学府 康乐 颐和 "
    "龙泉 凤栖 荣盛 鲁商 齐鲁 怡景 瑞泽 嘉禾"
)
NAME_SUFFIXES = _words(
    "苑 花园 家园 小区 新村 公馆 华府 雅居 名都 嘉园 佳苑 丽景 城 府 雅苑 花苑 名邸 国际 首府 庄园"
)
UNITS = _words(
    "供电公司 自来水公司 第一中学 第三中学 人民医院 中医院 粮食局 纺织厂 化肥厂 机械厂 棉纺厂 木材公司 邮电局 "
    "税务局 工商银行 水利局 交通局 烟草公司 百货大楼 运输公司 食品公司 啤酒厂 造纸厂 电业局 师范学校 卫生局 "
    "公安局 法院 检察院 农机公司 物资局 建筑公司 二轻局 供销社 农业局 林业局 广播电视局 地质队 武装部 财政局"
)
UNIT_SUFFIXES = ("家属院", "宿舍", "家属楼", "职工宿舍", "宿舍楼", "家属区")
VILLAGES = _words(
    "前园 后园 大官庄 小官庄 西关 东关 南关 北关 马厂湖 后湖 前湖 杨家庄 李家庄 张家庄 王家庄 赵家庄 刘家庄 "
    "陈家庄 孙家庄 徐家庄 周家庄 朱家庄 大岭 小岭 宋王庄 沈家庄 高都 柳庄 花园村 涑河村 金雀村 银雀村 南坊村 "
    "北园村 双岭村 前十里堡 后十里堡 沙岭 苗庄 枣园"
)
VILLAGE_SUFFIXES = ("安置区", "还建小区", "新村", "回迁楼", "安置小区", "回迁小区", "佳苑")
COMMUNITY_WORDS = _words(
    "兰山 银雀 金雀 柳青 沂河 蒙山 兰亭 凤凰 锦绣 阳光 滨河 书香 和谐 幸福 琅琊 祊河 新华 东方 明珠 紫金 "
    "朝阳 向阳 红旗 建设 光明 文化 育才 启阳 洗砚 聚才 沂州 南坊 北园 涑河 双岭 古城 孝友 九曲 杏园 桃园 "
    "丽都 盛世 泰和 开元 锦华 天成 银河 春晖 学府 康乐 颐和 龙泉 荣盛 齐鲁 嘉禾 前园 后园 官庄 西关 东关 "
    "南关 北关 马厂湖 后湖 前湖 杨庄 李庄 张庄 王庄 赵庄 刘庄 陈庄 孙庄 大岭 小岭 宋王 沈庄 高都 柳庄 "
    "花园 金坛 银坛 平安 和平 胜利 友谊 团结 红星 东岳 西岳 沂北 沂南 王羲之 宝丽 通达 解放 人民 工业 "
    "青年 华夏 振兴 富民 安康 永安 长春 金山 银山 凤山"
)
COMPANY_PLACES = _words("临沂 沂蒙 兰山 鲁南 琅琊 沂州 蒙山 沂河 祊河 银雀 金雀 启阳")
COMPANY_WORDS = _words("华信 安居 恒泰 万家 金盾 康居 和顺 嘉诚 福瑞 宏达 盛安 惠民")

# One account per role, shown on the login page in demo mode: role -> (username, password).
DEMO_PASSWORD = "demo1234"
DEMO_ACCOUNTS: dict[str, tuple[str, str]] = {
    "leader": ("demo_leader", DEMO_PASSWORD),
    "analyst": ("demo_analyst", DEMO_PASSWORD),
    "taskforce": ("demo_head", DEMO_PASSWORD),
    "admin": ("demo_admin", DEMO_PASSWORD),
}

Progress = Callable[[float, str], None]


# --- registry -----------------------------------------------------------------------------------


def _communities(rng: np.random.Generator) -> pd.DataFrame:
    words = rng.permutation(np.array(COMMUNITY_WORDS))
    names = [f"{w}社区" for w in dict.fromkeys(words)][: sum(COMMUNITIES_PER_SUBDISTRICT)]
    subs = np.repeat(SUBDISTRICTS, COMMUNITIES_PER_SUBDISTRICT)
    return pd.DataFrame({"community": names, "subdistrict": subs})


def _name_pools(rng: np.random.Generator) -> dict[str, list[str]]:
    commercial = [f + s for f in NAME_FIRSTS for s in NAME_SUFFIXES]
    unit = [u + s for u in UNITS for s in UNIT_SUFFIXES]
    village = [v + s for v in VILLAGES for s in VILLAGE_SUFFIXES]
    return {
        "commercial": rng.permutation(commercial).tolist(),
        "unit": rng.permutation(unit).tolist(),
        "village": rng.permutation(village).tolist(),
    }


def _compounds(rng: np.random.Generator, communities: pd.DataFrame, companies: list[str]) -> pd.DataFrame:
    n_comm = len(communities)
    extra = rng.multinomial(
        N_COMPOUNDS - MIN_COMPOUNDS_PER_COMMUNITY * n_comm, rng.dirichlet(np.full(n_comm, 3.0))
    )
    per_comm = MIN_COMPOUNDS_PER_COMMUNITY + extra
    comm_idx = np.repeat(np.arange(n_comm), per_comm)
    is_old = np.zeros(N_COMPOUNDS, dtype=bool)
    is_old[rng.choice(N_COMPOUNDS, N_OLD, replace=False)] = True
    types = np.where(
        is_old,
        rng.choice(len(TYPES), N_COMPOUNDS, p=TYPE_SHARES_OLD),
        rng.choice(len(TYPES), N_COMPOUNDS, p=TYPE_SHARES_NEW),
    )
    type_names = np.array(TYPES)[types]
    pools = _name_pools(rng)
    names = []
    for t in type_names:
        pool = {"家属院": "unit", "还建": "village"}.get(t, "commercial")
        names.append(pools[pool].pop())
    names = np.array(names, dtype=object)
    subdistricts = communities["subdistrict"].to_numpy()[comm_idx]
    # a few identical names in different subdistricts (the matcher must not guess between them)
    touched: set[int] = set()
    while len(touched) < 2 * N_DUPLICATE_NAMES:
        a = int(rng.integers(N_COMPOUNDS))
        others = np.flatnonzero((subdistricts != subdistricts[a]) & (type_names == type_names[a]))
        b = int(rng.choice(others))
        if a in touched or b in touched:
            continue
        names[b] = names[a]
        touched |= {a, b}
    median = np.array([HOUSEHOLDS_MEDIAN[t] for t in type_names], dtype=float)
    households = np.clip(
        np.round(median * rng.lognormal(0.0, HOUSEHOLDS_SIGMA, N_COMPOUNDS)), *HOUSEHOLDS_RANGE
    ).astype(int)
    built = np.where(
        is_old,
        rng.integers(OLD_BUILT[0], OLD_BUILT[1] + 1, N_COMPOUNDS),
        rng.integers(*NEW_BUILT, N_COMPOUNDS),
    )
    company = np.array(companies, dtype=object)[rng.integers(len(companies), size=N_COMPOUNDS)]
    company[is_old & (rng.random(N_COMPOUNDS) < NO_PROPERTY_SHARE_OLD)] = None
    centres = np.array([SUBDISTRICT_CENTRES[s] for s in communities["subdistrict"]])
    comm_xy = centres + rng.normal(0, 0.008, (n_comm, 2))
    xy = comm_xy[comm_idx] + rng.normal(0, 0.003, (N_COMPOUNDS, 2))
    return pd.DataFrame(
        {
            "compound_id": [f"LS{i + 1:04d}" for i in range(N_COMPOUNDS)],
            "name": names,
            "community": communities["community"].to_numpy()[comm_idx],
            "subdistrict": subdistricts,
            "type": type_names,
            "is_old": is_old,
            "built_year": built.astype("int32"),
            "households": households.astype("int64"),
            "property_company": company,
            "lat": np.round(xy[:, 0], 6),
            "lon": np.round(xy[:, 1], 6),
        }
    )


def _aliases(rng: np.random.Generator, compounds: pd.DataFrame) -> pd.DataFrame:
    """Phases for big compounds, zones for others; only aliases that name a single compound."""
    rows = []
    for cid, name, hh in compounds[["compound_id", "name", "households"]].itertuples(index=False):
        if rng.random() >= ALIAS_SHARE:
            continue
        if hh > 600:
            k = int(rng.integers(2, 4))
            rows += [(name + p, cid) for p in PHASES[:k]]
        else:
            rows.append((name + ZONES[int(rng.integers(len(ZONES)))], cid))
    aliases = pd.DataFrame(rows, columns=["alias", "compound_id"])
    counts = aliases.groupby("alias")["compound_id"].transform("nunique")
    return aliases[counts == 1].drop_duplicates().reset_index(drop=True)


def _people(rng: np.random.Generator, n: int, exclude: set[str] = frozenset()) -> list[str]:
    names = [s + g for s in SURNAMES for g in GIVEN_NAMES if s + g not in exclude]
    return rng.choice(names, n, replace=False).tolist()


# --- calendar -----------------------------------------------------------------------------------


def _calendar() -> pd.DataFrame:
    """One row per day: month index, day weight (weekday x holidays, Spring Festival dip)."""
    days = pd.date_range(START, END, freq="D")
    cn = holidays.China(years=range(START.year, END.year + 1), language="en_US")
    weight = np.array([WEEKDAY_WEIGHT[d.weekday()] for d in days])
    is_holiday = np.array([d.date() in cn for d in days])
    weight[is_holiday] = np.minimum(weight[is_holiday], HOLIDAY_WEIGHT)
    festival_firsts = sorted(
        {
            min(d for d, name in cn.items() if d.year == year and "Spring Festival" in name)
            for year in range(START.year, END.year + 1)
        }
    )
    for first in festival_firsts:  # the eve plus the seven-day holiday
        span = (days >= pd.Timestamp(first) - pd.Timedelta(days=1)) & (
            days <= pd.Timestamp(first) + pd.Timedelta(days=6)
        )
        weight[span] = SPRING_FESTIVAL_WEIGHT
    month = (days.year - START.year) * 12 + days.month - 1
    return pd.DataFrame({"day": days, "month": month, "weight": weight})


# --- tickets ------------------------------------------------------------------------------------


def _category_table(compounds: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group of each compound, cumulative category probabilities [group, month, cat],
    monthly multiplier [group, month] with mean 1 over a year)."""
    names = [c[0] for c in CATEGORIES]
    share = np.array([c[1] for c in CATEGORIES])
    season = np.array([c[2] for c in CATEGORIES])  # [cat, 12]
    season = season / season.mean(axis=1, keepdims=True)
    groups = [(t, old) for t in TYPES for old in (False, True)]
    group_index = {g: i for i, g in enumerate(groups)}
    comp_group = np.array(
        [group_index[(t, bool(o))] for t, o in zip(compounds["type"], compounds["is_old"], strict=True)]
    )
    moy = np.arange(N_MONTHS) % 12
    probs = np.empty((len(groups), N_MONTHS, len(names)))
    mult = np.empty((len(groups), N_MONTHS))
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


def _tickets(
    rng: np.random.Generator, compounds: pd.DataFrame, scale: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All tickets (before the task forces' effect) and the compound truth table."""
    n = len(compounds)
    cal = _calendar()
    month_weight = cal.groupby("month")["weight"].sum().to_numpy()
    rate = rng.gamma(RATE_SHAPE, 1.0 / RATE_SHAPE, n)
    rate *= compounds["type"].map(TYPE_RATE).to_numpy() * np.where(compounds["is_old"], OLD_RATE, 1.0)
    comp_group, cum_probs, season_mult = _category_table(compounds)
    half = np.arange(N_MONTHS) // 6
    shocked = rng.random((n, half.max() + 1)) < SHOCK_PROB
    shock = np.where(shocked, rng.uniform(*SHOCK_RANGE, shocked.shape), 1.0)
    noise = rng.gamma(MONTH_NOISE_SHAPE, 1.0 / MONTH_NOISE_SHAPE, (n, N_MONTHS))
    growth = (1 + YEARLY_GROWTH) ** (np.arange(N_MONTHS) / 12)
    lam = (
        compounds["households"].to_numpy()[:, None]
        * rate[:, None]
        * season_mult[comp_group]
        * shock[:, half]
        * noise
        * growth[None, :]
        * month_weight[None, :]
    )
    lam *= scale * TICKETS_PER_YEAR * N_MONTHS / 12 / lam.sum()
    counts = rng.poisson(lam)
    comp = np.repeat(np.arange(n), counts.sum(axis=1))
    month = np.concatenate([np.repeat(np.arange(N_MONTHS), row) for row in counts])
    total = len(comp)
    # day within the month, in proportion to the day weights (weekends, holidays, Spring Festival)
    cum_w = np.concatenate([[0.0], np.cumsum(cal["weight"].to_numpy())])
    first_day = cal.groupby("month").head(1).index.to_numpy()
    last_day = np.append(first_day[1:], len(cal))
    lo, hi = cum_w[first_day[month]], cum_w[last_day[month]]
    day = np.searchsorted(cum_w, lo + rng.random(total) * (hi - lo), side="right") - 1
    day = np.clip(day, first_day[month], last_day[month] - 1)
    hour_cum = np.cumsum(HOUR_WEIGHT) / np.sum(HOUR_WEIGHT)
    hour = np.searchsorted(hour_cum, rng.random(total), side="right")
    seconds = hour * 3600 + rng.integers(0, 3600, total)
    created = cal["day"].to_numpy()[day] + seconds.astype("timedelta64[s]")
    u = rng.random(total)
    category = (u[:, None] > cum_probs[comp_group[comp], month]).sum(axis=1)
    category = np.minimum(category, len(CATEGORIES) - 1)
    tickets = pd.DataFrame(
        {
            "comp": comp,
            "month": month,
            "created_at": created,
            "category": category,
            "is_valid": rng.random(total) >= INVALID_SHARE,
            "matchable": rng.random(total) >= UNMATCHABLE_SHARE,
        }
    )
    truth = compounds[["compound_id"]].assign(rate=rate)
    return tickets, truth


def _select_taskforces(
    rng: np.random.Generator, compounds: pd.DataFrame, tickets: pd.DataFrame
) -> pd.DataFrame:
    """Rank by valid matched tickets in the selection window; the top N_TASKFORCES get one."""
    window = (
        tickets["is_valid"]
        & tickets["matchable"]
        & (tickets["created_at"] >= pd.Timestamp(SELECTION_WINDOW[0]))
        & (tickets["created_at"] < pd.Timestamp(SELECTION_WINDOW[1]) + pd.Timedelta(days=1))
    )
    counts = np.bincount(tickets.loc[window, "comp"], minlength=len(compounds))
    order = np.lexsort((np.arange(len(compounds)), -counts))
    top = order[:N_TASKFORCES]
    start = np.full(N_TASKFORCES, np.datetime64(TASKFORCE_START), dtype="datetime64[D]")
    start[rng.choice(N_TASKFORCES, N_LATE_STARTS, replace=False)] = np.datetime64(TASKFORCE_LATE_START)
    n_months = 6
    return pd.DataFrame(
        {
            "comp": top,
            "compound_id": compounds["compound_id"].to_numpy()[top],
            "window_tickets": counts[top],
            "start_date": start,
            "target_monthly": np.round(TARGET_SHARE * counts[top] / n_months, 2),
        }
    )


def _apply_effect(rng: np.random.Generator, tickets: pd.DataFrame, treated: pd.DataFrame) -> pd.DataFrame:
    """Thin the treated compounds' tickets after their start to TRUE_EFFECT (a Poisson thinning)."""
    start_of = np.full(tickets["comp"].max() + 1, np.datetime64("NaT"), dtype="datetime64[s]")
    start_of[treated["comp"].to_numpy()] = treated["start_date"].to_numpy().astype("datetime64[s]")
    starts = start_of[tickets["comp"].to_numpy()]
    after = ~np.isnat(starts) & (tickets["created_at"].to_numpy() >= starts)
    keep = ~after | (rng.random(len(tickets)) < TRUE_EFFECT)
    return tickets[keep].reset_index(drop=True)


def _pool(values, idx: np.ndarray) -> pa.Array:
    """values[idx] as an Arrow string array."""
    return pa.array(list(values), pa.string()).take(pa.array(idx))


def _join(*parts) -> pa.Array:
    """Element-wise concatenation of Arrow string arrays and plain strings."""
    return pc.binary_join_element_wise(*parts, "")


def _digits(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def _choose(kind: np.ndarray, options: list[pa.Array]) -> pa.Array:
    return pc.choose(pa.array(kind.astype(np.int8)), *options)


def _where(mask: np.ndarray, a, b) -> pa.Array:
    return pc.if_else(pa.array(mask), a, b)


NULL_STRING = pa.scalar(None, pa.string())


def _addresses(
    rng: np.random.Generator, tickets: pd.DataFrame, compounds: pd.DataFrame, aliases: pd.DataFrame
) -> tuple[pa.Array, pa.Array]:
    """(address, place named in the ticket text) per ticket."""
    total = len(tickets)
    comp = tickets["comp"].to_numpy()
    names = compounds["name"].tolist()
    duplicated = compounds["name"].duplicated(keep=False).to_numpy()
    first_alias = aliases.drop_duplicates("compound_id").set_index("compound_id")["alias"]
    alias_of = compounds["compound_id"].map(first_alias)
    use_alias = (rng.random(total) < ALIAS_ADDRESS_SHARE) & alias_of.notna().to_numpy()[comp]
    place = _where(use_alias, _pool(alias_of.fillna(""), comp), _pool(names, comp))
    prefix = _pool(DISTRICT_PREFIXES, rng.choice(len(DISTRICT_PREFIXES), total, p=DISTRICT_PREFIX_P))
    with_sub = (rng.random(total) < 0.35) | duplicated[comp]  # identical names need their subdistrict
    sub = _where(with_sub, _pool(compounds["subdistrict"], comp), "")
    buildings = np.maximum(1, compounds["households"].to_numpy() // 48)
    b_s = _digits((rng.random(total) * buildings[comp]).astype(np.int64) + 1)
    u_s = _digits(rng.integers(1, 5, total))
    room_s = _digits(rng.integers(1, 19, total) * 100 + rng.integers(1, 5, total))
    kind = rng.choice(7, total, p=(0.25, 0.2, 0.15, 0.1, 0.15, 0.05, 0.1))
    tail = _choose(
        kind,
        [
            _join(b_s, "号楼", u_s, "单元", room_s, "室"),
            _join(b_s, "号楼", u_s, "单元"),
            _join(b_s, "号楼"),
            _pool(GATES, rng.integers(len(GATES), size=total)),
            pa.array([""] * total, pa.string()),
            _join(b_s, "栋"),
            _pool(INSIDE, rng.integers(len(INSIDE), size=total)),
        ],
    )
    address = _join(prefix, sub, place, tail)
    fullwidth = pa.array(rng.random(total) < FULLWIDTH_SHARE)
    wide = address.filter(fullwidth)
    for d in range(10):
        wide = pc.replace_substring(wide, str(d), chr(0xFF10 + d))
    address = pc.replace_with_mask(address, fullwidth, wide)
    # about 5% name only a road or nothing useful: no compound can be read from them
    unmatchable = ~tickets["matchable"].to_numpy()
    k = int(unmatchable.sum())
    r1 = _pool(ROADS, rng.integers(len(ROADS), size=k))
    r2 = _pool(ROADS, rng.integers(len(ROADS), size=k))
    prefix_k = prefix.filter(pa.array(unmatchable))
    vague = _choose(
        rng.choice(4, k, p=(0.4, 0.3, 0.2, 0.1)),
        [
            _join(prefix_k, r1, "与", r2, "交汇处"),
            _join(prefix_k, r1, _digits(rng.integers(1, 300, k)), "号"),
            _join(_pool(compounds["subdistrict"], comp[unmatchable]), r1, "附近"),
            pa.array(["未提供详细地址"] * k, pa.string()),
        ],
    )
    address = pc.replace_with_mask(address, pa.array(unmatchable), vague)
    text_place = _where(kind < 3, _join(place, b_s, "号楼"), place)
    text_place = _where(unmatchable, "所在小区", text_place)
    return address, text_place


def _ticket_table(
    rng: np.random.Generator,
    tickets: pd.DataFrame,
    compounds: pd.DataFrame,
    aliases: pd.DataFrame,
    batch_id: int,
) -> pa.Table:
    """The tickets table rows (with the caller's digits in `phone`, hashed on insert)."""
    tickets = tickets.sort_values(["created_at", "comp"], kind="stable").reset_index(drop=True)
    total = len(tickets)
    comp = tickets["comp"].to_numpy()
    cat = tickets["category"].to_numpy()
    created = tickets["created_at"].to_numpy().astype("datetime64[s]")
    # ids like LS2023030100042: date + running number within the day
    day = created.astype("datetime64[D]")
    first_of_day = np.searchsorted(day, day, side="left")
    months = day.astype("datetime64[M]")
    yyyymmdd = (
        (months.astype("datetime64[Y]").astype(np.int64) + 1970) * 10000
        + (months.astype(np.int64) % 12 + 1) * 100
        + (day - months).astype(np.int64)
        + 1
    )
    ticket_id = _join("LS", _digits(yyyymmdd * 100000 + np.arange(total) - first_of_day + 1))

    address, text_place = _addresses(rng, tickets, compounds, aliases)
    # text: opener + place + fragment + detail + appeal; fragments indexed per category
    frag_lists = [FRAGMENTS[c[0]] for c in CATEGORIES]
    frag_offset = np.cumsum([0] + [len(fl) for fl in frag_lists])[:-1]
    frag_len = np.array([len(fl) for fl in frag_lists])
    frag = _pool(
        [f for fl in frag_lists for f in fl],
        frag_offset[cat] + (rng.random(total) * frag_len[cat]).astype(int),
    )
    content = _join(
        _pool(OPENERS, rng.integers(len(OPENERS), size=total)),
        text_place,
        frag,
        _pool(DETAILS, rng.integers(len(DETAILS), size=total)),
        _pool(APPEALS, rng.integers(len(APPEALS), size=total)),
    )
    title_lists = [TITLES[c[0]] for c in CATEGORIES]
    title_offset = np.cumsum([0] + [len(tl) for tl in title_lists])[:-1]
    title_len = np.array([len(tl) for tl in title_lists])
    title_frag = _pool(
        [t for tl in title_lists for t in tl],
        title_offset[cat] + (rng.random(total) * title_len[cat]).astype(int),
    )
    matchable = tickets["matchable"].to_numpy()
    title_kind = rng.choice(3, total, p=(0.5, 0.3, 0.2))
    title_kind[~matchable & (title_kind == 0)] = 2  # no compound name where the address has none
    title = _choose(
        title_kind,
        [_join(_pool(compounds["name"], comp), title_frag), _join("关于", title_frag, "的问题"), title_frag],
    )

    # closing, due, satisfaction, resolution: compound propensities + category urgency
    n_comp = len(compounds)
    resolve_p = rng.beta(9, 2, n_comp)  # mean ~0.82
    repeat_p = rng.beta(*REPEAT_BETA, n_comp)
    urgent = np.array([c[3] for c in CATEGORIES])[cat]
    due = created + np.where(urgent, URGENT_DUE_HOURS, NORMAL_DUE_HOURS).astype("timedelta64[h]")
    close_hours = rng.gamma(1.4, np.where(urgent, 14.0, 55.0))
    closed = created + (close_hours * 3600).astype("timedelta64[s]")
    end = np.datetime64(END) + np.timedelta64(1, "D")
    still_open = (closed >= end) & (created >= end - np.timedelta64(OPEN_AT_END_DAYS, "D"))
    resolved = rng.random(total) < resolve_p[comp]
    asked = (rng.random(total) < SATISFACTION_ASKED) & ~still_open
    u = rng.random(total)
    sat_idx = np.where(
        resolved,
        np.searchsorted([0.7, 0.92], u, side="right"),
        np.searchsorted([0.15, 0.45], u, side="right"),
    )
    reopened = ~resolved & (rng.random(total) < 0.1) & ~still_open
    status = np.where(still_open, 1, np.where(reopened, 2, 0))

    # handling unit: the category's primary unit (70%) or its secondary; '{街道}' -> the office
    units = [c[4] for c in CATEGORIES]
    unit_list = [u[0] for u in units] + [u[1] for u in units]
    unit_idx = np.where(rng.random(total) < 0.7, cat, cat + len(CATEGORIES))
    is_office = np.array([u == "{街道}" for u in unit_list])[unit_idx]
    handling_unit = _where(
        is_office, _pool([f"{s}办事处" for s in compounds["subdistrict"]], comp), _pool(unit_list, unit_idx)
    )

    # callers: a compound's frequent callers, or someone new (numbers never leave this function)
    prefixes = np.array(PHONE_PREFIXES, dtype=np.int64)
    frequent = prefixes[rng.integers(len(prefixes), size=(n_comp, FREQUENT_CALLERS))] * 10**8 + rng.integers(
        0, 10**8, (n_comp, FREQUENT_CALLERS)
    )
    k_frequent = rng.integers(2, FREQUENT_CALLERS + 1, n_comp)
    is_frequent = rng.random(total) < repeat_p[comp]
    which = (rng.random(total) * k_frequent[comp]).astype(int)
    fresh = prefixes[rng.integers(len(prefixes), size=total)] * 10**8 + rng.integers(0, 10**8, total)
    phone = np.where(is_frequent, frequent[comp, which], fresh)

    return pa.table(
        {
            "ticket_id": ticket_id,
            "created_at": pa.array(created, pa.timestamp("s")),
            "closed_at": pa.array(closed, pa.timestamp("s"), mask=still_open),
            "due_at": pa.array(due, pa.timestamp("s")),
            "title": title,
            "content": content,
            "category": _pool([c[0] for c in CATEGORIES], cat),
            "address": address,
            "compound_id": _where(matchable, _pool(compounds["compound_id"], comp), NULL_STRING),
            "match_score": pa.array(np.ones(total), mask=~matchable),
            "match_method": _where(matchable, "demo", NULL_STRING),
            "phone": _digits(phone),
            "satisfaction": _where(asked, _pool(SATISFACTION_LABELS, sat_idx), NULL_STRING),
            "satisfied": pa.array(sat_idx < 2, mask=~asked),
            "resolved": pa.array(resolved, mask=still_open),
            "status": _pool(("已办结", "办理中", "重办后办结"), status),
            "handling_unit": handling_unit,
            "is_valid": pa.array(tickets["is_valid"].to_numpy()),
            "reopened": pa.array(reopened),
            "batch_id": pa.array(np.full(total, batch_id, dtype=np.int64)),
        }
    )


# --- ratings, evaluations, task forces ---------------------------------------------------------

RATING_PERIODS = ("2022H1", "2022H2", "2023H1", "2023H2", "2024H1")
EVALUATION_QUARTERS = tuple(f"{y}Q{q}" for y in (2022, 2023) for q in (1, 2, 3, 4)) + ("2024Q1", "2024Q2")


def _ratings(rng: np.random.Generator, truth: pd.DataFrame, treated_ids: set[str]) -> pd.DataFrame:
    """Stars: compounds with fewer complaints per household tend to rate higher; noise per period."""
    quality = pd.Series(-truth["rate"].to_numpy()).rank(pct=True).to_numpy()
    base = np.digitize(quality, [0.1, 0.3, 0.6, 0.85]) + 1  # 1..5
    rows = []
    treated = truth["compound_id"].isin(treated_ids).to_numpy()
    for i, period in enumerate(RATING_PERIODS):
        jitter = rng.choice([-1, 0, 1], len(truth), p=(0.12, 0.76, 0.12))
        boost = np.where(treated & (i >= 3), 1, 0)  # task forces also rebuild the party branch
        stars = np.clip(base + jitter + boost, 1, 5)
        rows.append(
            pd.DataFrame(
                {"compound_id": truth["compound_id"], "period": period, "stars": stars.astype("int32")}
            )
        )
    return pd.concat(rows, ignore_index=True)


def _evaluations(
    rng: np.random.Generator, compounds: pd.DataFrame, truth: pd.DataFrame, companies: list[str]
) -> pd.DataFrame:
    """Quarterly scores: companies whose compounds complain more score lower; top/bottom 10% listed."""
    per = pd.DataFrame({"company": compounds["property_company"], "rate": truth["rate"]}).dropna()
    mean_rate = per.groupby("company")["rate"].mean().reindex(companies).fillna(per["rate"].mean())
    base = 92 - 12 * (mean_rate.to_numpy() / per["rate"].mean() - 1)
    rows = []
    for quarter in EVALUATION_QUARTERS:
        score = np.clip(np.round(base + rng.normal(0, 3, len(companies)), 1), 40, 100)
        lo, hi = np.quantile(score, [0.1, 0.9])
        listed = np.where(score >= hi, "红榜", np.where(score <= lo, "黑榜", None))
        rows.append(pd.DataFrame({"company": companies, "quarter": quarter, "score": score, "list": listed}))
    return pd.concat(rows, ignore_index=True)


def _month_start(year: int, month: int) -> dt.date:
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _taskforce_rows(
    rng: np.random.Generator, treated: pd.DataFrame, tickets: pd.DataFrame
) -> tuple[pd.DataFrame, str]:
    """task_forces rows (ids 1..65) and the demo head's username; status from the exit rule."""
    loads = rng.permutation(np.array(LEADER_LOADS))
    leaders = _people(rng, N_LEADERS)
    heads = _people(rng, N_LEADERS, exclude=set(leaders))
    order = rng.permutation(N_TASKFORCES)
    group = np.repeat(np.arange(N_LEADERS), loads)[np.argsort(order)]
    # the demo head account leads the group with the most compounds (a three-compound group)
    demo_group = int(np.flatnonzero(loads == loads.max())[0])
    head_names = np.array(heads, dtype=object)
    head_names[demo_group] = DEMO_ACCOUNTS["taskforce"][0]
    valid = tickets[tickets["is_valid"] & tickets["matchable"]]
    monthly = valid.groupby(["comp", "month"]).size()
    statuses, end_dates = [], []
    last_month = N_MONTHS - 1
    for tf in treated.itertuples(index=False):
        start = pd.Timestamp(tf.start_date)
        start_m = (start.year - START.year) * 12 + start.month - 1
        series = [int(monthly.get((tf.comp, m), 0)) for m in range(start_m, last_month + 1)]
        run, exit_at = 0, None
        for i, n in enumerate(series):
            run = run + 1 if n < tf.target_monthly else 0
            if run >= EXIT_MONTHS:
                exit_at = start_m + i
                break
        # met the exit rule: about half have been withdrawn (the leader decides), half not yet
        if exit_at is not None and exit_at < last_month and rng.random() < WITHDRAWN_SHARE:
            statuses.append("撤出")
            end_dates.append(_month_start(START.year, exit_at + 2))
        elif exit_at is not None:
            statuses.append("已转化")
            end_dates.append(None)
        else:
            statuses.append("整改中")
            end_dates.append(None)
    rows = pd.DataFrame(
        {
            "taskforce_id": np.arange(1, N_TASKFORCES + 1, dtype=np.int64),
            "compound_id": treated["compound_id"].to_numpy(),
            "leader": np.array(leaders, dtype=object)[group],
            "head": head_names[group],
            "start_date": pd.to_datetime(treated["start_date"]).dt.date,
            "end_date": end_dates,
            "status": statuses,
            "snapshot_id": pd.Series([None] * N_TASKFORCES, dtype="Int64"),
            "selection_start": SELECTION_WINDOW[0],
            "selection_end": SELECTION_WINDOW[1],
            "target_monthly": treated["target_monthly"].to_numpy(),
            "exit_months": np.int32(EXIT_MONTHS),
        }
    )
    return rows, DEMO_ACCOUNTS["taskforce"][0]


def _actions(rng: np.random.Generator, taskforces: pd.DataFrame) -> pd.DataFrame:
    rows = []
    action_id = 1
    for tf in taskforces.itertuples(index=False):
        start = pd.Timestamp(tf.start_date)
        stop = pd.Timestamp(tf.end_date) if tf.end_date is not None else pd.Timestamp(END)
        span = max(1, (stop - start).days)
        for _ in range(int(rng.integers(2, 7))):
            text, lo, hi = ACTIONS[int(rng.integers(len(ACTIONS)))]
            cost = float(round(rng.uniform(lo, hi), -2)) if hi else 0.0
            when = (start + pd.Timedelta(days=int(rng.integers(0, span)))).date()
            rows.append((action_id, tf.taskforce_id, when, text, cost, tf.head))
            action_id += 1
    frame = pd.DataFrame(rows, columns=["action_id", "taskforce_id", "date", "action", "cost", "user"])
    return frame.sort_values(["taskforce_id", "date", "action_id"]).reset_index(drop=True)


# --- build --------------------------------------------------------------------------------------


def _insert(cur: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    cur.register("demo_frame", frame)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM demo_frame")  # noqa: S608 - our names
    cur.unregister("demo_frame")


def _demo_salt(seed: int) -> str:
    """A fixed salt per seed, so the same seed gives the same caller hashes in every demo store."""
    return hashlib.sha256(f"hotline-demo-{seed}".encode()).hexdigest()[:32]


def build_demo(
    con: duckdb.DuckDBPyConnection,
    seed: int = 0,
    progress: Progress | None = None,
    scale: float = 1.0,
) -> dict:
    """Fill an empty store with the demo district; returns summary counts and the build time.

    `scale` multiplies the ticket volume (1.0 = ~350,000 a year); smaller values make quick
    test stores with the same registry and task forces. Raises ValidationError when the store
    already holds tickets or compounds.
    """
    began = time.perf_counter()
    report = progress or (lambda _f, _m: None)
    if db.query_one(con, "SELECT count(*) FROM tickets") or db.query_one(
        con, "SELECT count(*) FROM compounds"
    ):
        raise ValidationError(
            "数据库中已有工单或小区名册，演示数据只能生成到空库中。请指定新的数据库路径（--db）。",
            "The store already holds tickets or compounds; the demo can only be built into an empty "
            "store. Give a new store path (--db).",
        )
    rng = np.random.default_rng(seed)
    report(0.02, "生成街道、社区与小区 / registry")
    communities = _communities(rng)
    companies = list(
        rng.choice(
            [p + w for p in COMPANY_PLACES for w in COMPANY_WORDS], N_PROPERTY_COMPANIES, replace=False
        )
    )
    companies = [f"{c}物业服务有限公司" for c in companies]
    compounds = _compounds(rng, communities, companies)
    aliases = _aliases(rng, compounds)
    report(0.1, "生成工单 / tickets")
    raw, truth = _tickets(rng, compounds, scale)
    treated = _select_taskforces(rng, compounds, raw)
    raw = _apply_effect(rng, raw, treated)
    report(0.3, "生成工单文本与地址 / ticket text and addresses")
    salt = db.get_setting(con, "caller_salt") or _demo_salt(seed)
    caller_keys = callerkey.caller_keys(con)
    caller_hash, key_params = callerkey.sql_keyed("sha256(? || phone)", caller_keys)
    ratings = _ratings(rng, truth, set(treated["compound_id"]))
    evaluations = _evaluations(rng, compounds, truth, companies)
    taskforces, head = _taskforce_rows(rng, treated, raw)
    actions = _actions(rng, taskforces)
    head_scope = ",".join(sorted(taskforces.loc[taskforces["head"] == head, "compound_id"]))
    password_hash = hash_password(DEMO_PASSWORD)
    with db.transaction(con) as cur:
        batch_id = db.next_id(cur, "seq_batch")
        frame = _ticket_table(rng, raw, compounds, aliases, batch_id)
        report(0.6, "写入数据库 / writing the store")
        db.set_setting(cur, "caller_salt", salt)
        db.set_setting(cur, "demo", "1")
        db.set_setting(cur, "demo_seed", str(seed))
        _insert(cur, "subdistricts", pd.DataFrame({"subdistrict": list(SUBDISTRICTS)}))
        _insert(cur, "communities", communities)
        _insert(cur, "compounds", compounds)
        _insert(cur, "compound_aliases", aliases.assign(source="registry"))
        _insert(cur, "compound_ratings", ratings)
        _insert(cur, "property_evaluations", evaluations)
        cur.execute(
            'INSERT INTO ingest_batches (batch_id, kind, file_name, "user", loaded_at, rows_read, inserted, '
            "updated, duplicates, rejected, unmatched, mapping) VALUES (?, 'demo', ?, 'demo', now(), ?, ?, 0, 0, 0, ?, NULL)",
            [batch_id, f"demo(seed={seed})", len(frame), len(frame), frame.column("compound_id").null_count],
        )
        cur.register("demo_tickets", frame)
        cur.execute(
            f"""
            INSERT INTO tickets (ticket_id, created_at, closed_at, due_at, title, content, category, category_raw,
                category_source, address, compound_id, match_score, match_method, caller_hash, satisfaction,
                satisfied, resolved, status, handling_unit, is_valid, reopened, batch_id)
            SELECT ticket_id, created_at, closed_at, due_at, title, content, category, category, 'given', address,
                compound_id, match_score, match_method, {caller_hash}, satisfaction, satisfied, resolved,
                status, handling_unit, is_valid, reopened, batch_id
            FROM demo_tickets
            """,  # noqa: S608 - the keyed-hash expression is built from constants
            [*key_params, salt],
        )
        cur.unregister("demo_tickets")
        report(0.85, "专班与账号 / task forces and accounts")
        # the review queue: addresses no compound could be read from
        cur.execute(
            "INSERT INTO address_matches (address, status) "
            "SELECT DISTINCT address, 'unmatched' FROM tickets WHERE compound_id IS NULL AND address IS NOT NULL"
        )
        _insert(cur, "task_forces", taskforces)
        _insert(cur, "taskforce_actions", actions.assign(logged_at=pd.Timestamp(END)))
        for _ in range(N_TASKFORCES):  # keep the sequences past the ids used here
            db.next_id(cur, "seq_taskforce")
        for _ in range(len(actions)):
            db.next_id(cur, "seq_action")
        for role, (username, _password) in DEMO_ACCOUNTS.items():
            insert_user(
                cur, username, password_hash, role, head_scope if role == "taskforce" else None, "demo"
            )
        seconds = round(time.perf_counter() - began, 1)
        summary = {
            "seed": seed,
            "batch_id": batch_id,
            "subdistricts": len(SUBDISTRICTS),
            "communities": len(communities),
            "compounds": len(compounds),
            "new": int((~compounds["is_old"]).sum()),
            "old": int(compounds["is_old"].sum()),
            "property_companies": len(companies),
            "aliases": len(aliases),
            "tickets": len(frame),
            "tickets_per_year": round(len(frame) * 12 / N_MONTHS),
            "unmatched_tickets": frame.column("compound_id").null_count,
            "task_forces": len(taskforces),
            "leaders": int(taskforces["leader"].nunique()),
            "ratings": len(ratings),
            "property_evaluations": len(evaluations),
            "taskforce_actions": len(actions),
            "users": len(DEMO_ACCOUNTS),
            "seconds": seconds,
        }
        db.audit(cur, "demo", "build_demo", summary)
    report(1.0, "完成 / done")
    return summary
