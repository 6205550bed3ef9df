"""Name vocabularies: compounds, communities, property companies and people.

Compound names of the demo district are first word x suffix (commercial), work unit x suffix
(work-unit compounds) or village x suffix (resettlement); simulated districts use a short
head x tail list. People (task-force leaders and heads) are surname + given name.
"""

from __future__ import annotations

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    """A space-separated pool of words (easier to read and edit than a long tuple)."""
    return tuple(text.split())


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

# simulated districts: head x tail + a running phase number
SIM_NAME_HEADS = (
    "锦绣",
    "阳光",
    "金色",
    "翠湖",
    "沂河",
    "凤凰",
    "兰亭",
    "书香",
    "和谐",
    "幸福",
    "银座",
    "滨河",
)
SIM_NAME_TAILS = ("花园", "家园", "小区", "名苑", "新村", "公馆", "华府", "雅居")

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


def people(rng: np.random.Generator, n: int, exclude: set[str] = frozenset()) -> list[str]:
    names = [s + g for s in SURNAMES for g in GIVEN_NAMES if s + g not in exclude]
    return rng.choice(names, n, replace=False).tolist()
