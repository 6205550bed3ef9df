"""A harder address world for the matcher: registries and tickets it was not tuned on.

Two generators (`WORLDS["A"]`, `WORLDS["B"]`) differ in their name pools, roads, administrative
names, prefix habits and noise mixes; each is seeded (`hard_world(world, seed)`).

The registry (`registry` frame: compound_id, name, community, subdistrict, aliases as a list of
strings; `alias_rows` gives the (alias, compound_id) rows the store takes) holds:

- stems shared by two or three compounds that differ only in the generic word
  (翠华小区 / 翠华花园 / 翠华苑), often in the same subdistrict;
- compounds registered per phase (翠华苑一期 / 翠华苑二期), identical names in two subdistricts;
- names with digits or roads (沂蒙路88号院, 三和十区, 北京路小区), work-unit compounds with a
  short-form alias (供电公司家属院 / 供电局宿舍), phase and zone aliases.

The cases (`cases` frame: address, title, content, compound_id, kind, decidable) are what callers
and operators write. Each case has one primary `kind` (the breakdown label) and the background
noise every case may carry: a prefix from nothing to province level, the subdistrict or community
named, full-width digits, a building / unit / room, a gate, a garage or a shop.

`compound_id` is the compound the caller means (None for places not in the registry, road
junctions, house numbers on a road named like a compound (kind `road_number`: 翠华路100号 where
翠华苑 is registered), other cities and content that names no compound). `decidable` says whether the
registry and what the text gives pin that compound down: a stem shared by several compounds,
said without its generic word and without a subdistrict or community that separates them, has
no right answer to accept, and the matcher should send it to review. A decidable case's
`compound_id` is the one right answer; an undecidable one counts as wrong whenever accepted.

Content-only cases (kind prefix `content_`) have an empty address and name the compound inside
the complaint text among other words; their negatives name no compound, only the word 小区, a
common word that is also a registered stem, another city, or a house number on a road named like
a compound.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pandas as pd

CN_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")
ROMAN = ("I", "II", "III", "IV")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class World:
    """Vocabulary and habits of one generator."""

    province: str
    city: str
    district: str
    subdistricts: tuple[str, ...]
    community_words: tuple[str, ...]
    stems: tuple[str, ...]  # 2-3 character name stems
    common_stems: tuple[str, ...]  # stems that are also everyday words (幸福, 阳光)
    generics: tuple[str, ...]
    roads: tuple[str, ...]
    units: tuple[tuple[str, str], ...]  # (work unit, short form)
    zone_stems: tuple[str, ...]  # stems of numbered zones: 三和 -> 三和十区
    homophones: dict[str, str]
    other_cities: tuple[str, ...]  # other cities and their districts, for negatives
    # prefix habits: probabilities of no prefix, district, city + district, province + city + district
    prefix_p: tuple[float, float, float, float]
    sub_p: float  # subdistrict named
    com_p: float  # community named
    fullwidth_p: float
    # primary kinds of address cases and their weights
    kinds: dict[str, float] = field(default_factory=dict)
    tails: tuple[str, ...] = ()


def _w(text: str) -> tuple[str, ...]:
    return tuple(text.split())


WORLDS: dict[str, World] = {
    "A": World(
        province="山东省",
        city="临沂市",
        district="兰山区",
        subdistricts=_w("兰山街道 银雀山街道 金雀山街道 柳青街道 白沙埠镇"),
        community_words=_w(
            "府右 南坊 西关 东关 沂河 涑河 洗砚 启阳 琅琊 双岭 大岭 沂州 北园 孝友 九曲 杏园 宝丽 通达 金坛 "
            "银坛 平安 和平 胜利 友谊 团结 红星 东岳 沂北 华夏 振兴 富民 安康 永安 长春 金山 银山 凤山 聚才"
        ),
        stems=_w(
            "翠华 锦绣 兰亭 凤凰 书香 滨河 明珠 紫金 御景 水岸 朝阳 红旗 育才 羲之 聚贤 九曲 桃源 丽都 "
            "盛世 泰和 万象 富贵 开元 锦华 天成 银河 翡翠 香榭 春晖 学府 康乐 颐和 龙泉 凤栖 荣盛 鲁商 齐鲁 "
            "怡景 瑞泽 嘉禾 金沂 沂蒙 蓝海 恒泰 福润 润泽 天泽 翰林 君临 璟园 和顺 东方红 金色港湾 "
            "府右 紫薇 星河湾 海棠 玉兰 银杏 梧桐 枫林 柏林 松涛 碧水 青山 龙湾 凤鸣 麒麟 金鼎 盛和 "
            "鑫源 华信 瑞丰 佳和 德润 福瑞 泓德 博雅 睿城 悦府 澜山 观澜 尚城 名仕"
        ),
        common_stems=_w("幸福 阳光 和谐 建设 文化 光明 平安 团结"),
        generics=_w("小区 花园 苑 家园 新村 公寓 雅居 名苑 华府 山庄 城 府 嘉园 花苑"),
        roads=_w(
            "沂蒙路 通达路 金雀山路 银雀山路 解放路 兰山路 北京路 上海路 沂州路 涑河街 新华路 人民大街 启阳路 "
            "洗砚池街 蒙山大道 临西五路 育才路 宝丽街 工业大道 平安路"
        ),
        units=(
            ("供电公司", "供电局"),
            ("自来水公司", "自来水厂"),
            ("第一中学", "一中"),
            ("人民医院", "人医"),
            ("烟草公司", "烟草局"),
            ("纺织厂", "纺织"),
            ("粮食局", "粮局"),
            ("邮电局", "邮局"),
        ),
        zone_stems=_w("三和 华能 铁路 化肥厂 金属"),
        homophones={
            "翠": "萃",
            "华": "花",
            "锦": "景",
            "绣": "秀",
            "亭": "庭",
            "凤": "峰",
            "凰": "皇",
            "书": "舒",
            "滨": "宾",
            "明": "名",
            "珠": "株",
            "紫": "子",
            "御": "裕",
            "朝": "潮",
            "育": "玉",
            "盛": "胜",
            "泰": "太",
            "富": "福",
            "开": "凯",
            "成": "城",
            "翡": "菲",
            "香": "湘",
            "晖": "辉",
            "学": "雪",
            "颐": "怡",
            "龙": "隆",
            "荣": "融",
            "鲁": "路",
            "齐": "奇",
            "瑞": "锐",
            "泽": "择",
            "嘉": "佳",
            "蒙": "孟",
            "恒": "横",
            "润": "闰",
            "林": "琳",
            "园": "源",
            "源": "园",
            "海": "凯",
            "兰": "蓝",
        },  # fmt: skip
        other_cities=("济南市历下区", "青岛市市南区", "潍坊市奎文区", "日照市东港区"),
        prefix_p=(0.25, 0.45, 0.2, 0.1),
        sub_p=0.3,
        com_p=0.2,
        fullwidth_p=0.1,
        kinds={
            "plain": 0.24,
            "dropped_generic": 0.12,
            "typo": 0.07,
            "phase": 0.08,
            "gate_shop": 0.1,
            "admin": 0.08,
            "road_prefix": 0.08,
            "alias": 0.06,
            "digits_name": 0.05,
            "not_registered": 0.07,
            "junction": 0.05,
            "road_number": 0.04,
        },
        tails=(
            "{b}号楼{u}单元{r}室",
            "{b}号楼{u}单元",
            "{b}号楼",
            "{b}栋",
            "",
            "东门",
            "北门口",
            "南门对面",
            "地下车库",
            "底商",
            "门口超市",
            "{b}号商铺",
            "小区内",
        ),
    ),
    "B": World(
        province="江苏省",
        city="徐州市",
        district="鼓楼区",
        subdistricts=_w("黄楼街道 丰财街道 牌楼街道 琵琶街道 九里街道 大庙镇"),
        community_words=_w(
            "下洪 民主 牌楼 黄河 建国 煤建 东苑 琵琶 九里 李庄 王场 沈场 丁万河 庆丰 郭庄 环城 大马路 "
            "复兴 北园 西苑 振兴 朝阳 新城 康宁 和信 铜沛 中山 解放 淮海 矿山"
        ),
        stems=_w(
            "绿地 碧桂 恒大 万科 美的 中南 保利 翠屏 九龙 云龙 彭城 汉城 楚园 泉山 铜山 皇城 状元 福禄 "
            "水木 清华 南湖 北湖 东湖 西湖 荷风 柳岸 芳草 春江 秋月 花溪 溪岸 兰桂 桂香 松园 竹园 梅园 "
            "金地 银座 星光 世纪 时代 海天 天一 中环 环宇 华润 华夏 东坡 黄河 淮海 故黄河 奥体 "
            "汉风 楚韵 桃李 杏坛 书院 文苑 锦苑 紫荆 玫瑰 丁香 青年 金鹰 苏宁 鑫城 宏图 鼎盛 汇金 万达 苏堤"
        ),
        common_stems=_w("和平 友谊 光明 幸福 胜利 温馨"),
        generics=_w("小区 花园 苑 家园 新村 公寓 名邸 佳苑 华庭 庄园 国际 广场 城 首府"),
        roads=_w(
            "中山路 淮海路 复兴路 解放路 建国路 黄河路 民主路 三环北路 煤港路 平山路 金山桥路 和平大道 "
            "下淀路 牌楼街 马市街 彭城路"
        ),
        units=(
            ("矿务局", "矿局"),
            ("铁路分局", "铁路"),
            ("第二人民医院", "二院"),
            ("师范大学", "师大"),
            ("电厂", "电厂"),
            ("化工厂", "化工"),
            ("公交公司", "公交"),
        ),
        zone_stems=_w("煤建 矿山 西苑 电厂"),
        homophones={
            "绿": "律",
            "碧": "必",
            "桂": "贵",
            "恒": "横",
            "万": "湾",
            "保": "宝",
            "翠": "脆",
            "屏": "平",
            "龙": "隆",
            "彭": "鹏",
            "汉": "翰",
            "楚": "础",
            "泉": "全",
            "皇": "黄",
            "禄": "路",
            "清": "青",
            "湖": "胡",
            "荷": "和",
            "柳": "刘",
            "芳": "方",
            "春": "椿",
            "溪": "希",
            "兰": "岚",
            "松": "淞",
            "竹": "筑",
            "梅": "媚",
            "星": "新",
            "纪": "记",
            "海": "凯",
            "环": "寰",
            "润": "闰",
            "坡": "波",
            "奥": "澳",
            "韵": "运",
            "桃": "陶",
            "紫": "梓",
            "玫": "枚",
            "鹰": "英",
            "宁": "凝",
            "鼎": "顶",
        },  # fmt: skip
        other_cities=("南京市玄武区", "苏州市姑苏区", "连云港市海州区", "宿迁市宿城区"),
        prefix_p=(0.4, 0.25, 0.25, 0.1),
        sub_p=0.25,
        com_p=0.3,
        fullwidth_p=0.15,
        kinds={
            "plain": 0.2,
            "dropped_generic": 0.14,
            "typo": 0.06,
            "phase": 0.08,
            "gate_shop": 0.12,
            "admin": 0.1,
            "road_prefix": 0.06,
            "alias": 0.05,
            "digits_name": 0.05,
            "not_registered": 0.08,
            "junction": 0.06,
            "road_number": 0.04,
        },
        tails=(
            "{b}幢{u}单元{r}室",
            "{b}号楼{r}",
            "{b}#楼",
            "{b}幢",
            "",
            "西门",
            "南大门",
            "北门旁边",
            "车库",
            "地下停车场",
            "沿街商铺",
            "门口菜店",
            "{b}号门面房",
            "院内",
        ),
    ),
}

N_COMMUNITIES = 36
SHARED_STEM_P = (0.5, 0.33, 0.17)  # a stem used by 1, 2 or 3 compounds
SAME_SUBDISTRICT_SIBLINGS = 0.5  # compounds sharing a stem placed in one subdistrict
N_PHASED = 8  # names registered per phase (…一期 / …二期 as two compounds)
N_SAME_NAME = 4  # identical names in two subdistricts
N_ROAD_NUMBERED = 12  # 沂蒙路88号院
N_ROAD_NAMED = 5  # 北京路小区
N_ZONES = 8  # 三和十区
PHASE_ALIAS_P = 0.12
ZONE_ALIAS_P = 0.08
PHASE_FORMS = ("{cn}期", "{d}期", "{roman}期")
# roads named like a compound (翠华 -> 翠华路, 翠华山路): callers give a house number on them
STEM_ROAD_WORDS = ("路", "街", "大道", "东路", "山路")
# address kinds that name no registered compound
NEGATIVE_KINDS = ("not_registered", "junction", "road_number")
CASES_PER_COMPOUND = 6
CONTENT_PER_COMPOUND = 3

# content
OPENERS = ("来电人反映", "市民来电称", "业主反映", "居民来电：", "来电人称其居住的", "反映人住", "")
PROBLEMS = (
    "暖气不热，室温只有十几度",
    "电梯经常故障困人",
    "物业不作为，垃圾多日未清运",
    "夜间施工噪音扰民",
    "停车位不足，消防通道被占",
    "自来水发黄，水压低",
    "楼道灯不亮，无人维修",
    "楼顶违建，多次反映无果",
    "化粪池堵塞污水外溢",
    "小区门禁损坏，保安不在岗",
)
APPEALS = ("希望相关部门尽快处理。", "请求协调解决。", "要求给个说法。", "")
CONTENT_NEGATIVES = (
    "来电人反映小区停水未提前通知，希望尽快恢复供水。",
    "我们小区物业不作为，垃圾堆积无人管理。",
    "市民反映所在小区电梯故障，请求维修。",
    "来电人咨询公积金提取政策。",
    "来电人反映路边烧烤摊油烟扰民。",
    "业主反映新买的房子墙体开裂，开发商不予处理。",
    "来电人表扬社区工作人员服务热情。",
    "来电人反映{road}与{road2}路口红绿灯故障。",
    "来电人反映{road}{n}号门前井盖缺失。",
)
COMMON_WORD_NEGATIVES = (
    "来电人希望{w}生活有保障，反映低保审批太慢。",
    "来电人称创建{w}社会需要大家努力，反映噪音扰民。",
    "市民来电说{w}路上路灯不亮。",
)
OTHER_CITY_NEGATIVES = (
    "来电人反映其在{city}购买的房屋存在质量问题。",
    "来电人称从{city}来此务工，工资被拖欠。",
    "来电人反映{city}{place}物业乱收费。",
)


@dataclass
class _Compound:
    cid: str
    name: str  # as registered
    stem: str
    generic: str
    community: str
    subdistrict: str
    aliases: list[str]
    phase: int = 0  # registered per phase
    family: str = ""  # what a caller says without phase / generic (the stem)
    buildings: int = 20


def _compound_rows(rng: random.Random, w: World, n: int) -> list[_Compound]:
    words = list(w.community_words)
    rng.shuffle(words)
    communities = [(f"{c}社区", w.subdistricts[i % len(w.subdistricts)]) for i, c in enumerate(words)]
    communities = communities[:N_COMMUNITIES]
    out: list[_Compound] = []

    def add(name: str, stem: str, generic: str, comm: tuple[str, str], **extra) -> _Compound:
        c = _Compound(
            f"{'HW'}{len(out):04d}", name, stem, generic, comm[0], comm[1], [], family=stem, **extra
        )
        c.buildings = rng.randint(3, 40)
        out.append(c)
        return c

    stems = list(w.stems) + list(w.common_stems)
    rng.shuffle(stems)
    for stem in stems:
        if len(out) >= n:
            break
        k = rng.choices((1, 2, 3), SHARED_STEM_P)[0]
        generics = rng.sample(w.generics, k)
        home = rng.choice(communities)
        for g in generics:
            same = rng.random() < SAME_SUBDISTRICT_SIBLINGS
            comm = (
                rng.choice([c for c in communities if c[1] == home[1]]) if same else rng.choice(communities)
            )
            add(stem + g, stem, g, comm)
    # phases registered as separate compounds
    for c in rng.sample(out[: len(out)], N_PHASED):
        base = c.name
        c.name, c.phase = base + "一期", 1
        sibling = add(base + "二期", c.stem, c.generic, (c.community, c.subdistrict), phase=2)
        sibling.family = c.stem
    # identical names in two subdistricts
    for c in rng.sample(out, N_SAME_NAME):
        other = rng.choice([x for x in communities if x[1] != c.subdistrict])
        add(c.name, c.stem, c.generic, other, phase=c.phase)
    for i in range(N_ROAD_NUMBERED):
        road = w.roads[i % len(w.roads)]
        number = rng.randint(2, 199)
        add(f"{road}{number}号院", f"{road}{number}号", "院", rng.choice(communities))
    for road in rng.sample(w.roads, N_ROAD_NAMED):
        add(f"{road}{rng.choice(('小区', '宿舍', '家属院'))}", road, "", rng.choice(communities))
    zones = rng.sample(range(len(CN_NUMERALS)), N_ZONES)
    for i, z in enumerate(zones):
        stem = w.zone_stems[i % len(w.zone_stems)]
        add(f"{stem}{CN_NUMERALS[z]}区", f"{stem}{CN_NUMERALS[z]}区", "", rng.choice(communities))
    for unit, short in w.units:
        c = add(f"{unit}家属院", unit, "家属院", rng.choice(communities))
        c.aliases.append(f"{short}宿舍")
    names = {c.name for c in out}
    for c in out:
        if c.phase == 0 and rng.random() < PHASE_ALIAS_P:
            c.aliases.append(c.name + rng.choice(("一期", "二期")))
        elif rng.random() < ZONE_ALIAS_P:
            c.aliases.append(c.name + rng.choice(("东区", "西区", "南区", "北区")))
    counts: dict[str, int] = {}
    for c in out:
        for a in c.aliases:
            counts[a] = counts.get(a, 0) + 1
    for c in out:
        c.aliases = [a for a in c.aliases if counts[a] == 1 and a not in names]
    return out


def _prefix(rng: random.Random, w: World, c: _Compound | None) -> tuple[str, str | None, str | None]:
    """(prefix text, subdistrict named, community named)."""
    level = rng.choices(range(4), w.prefix_p)[0]
    text = ("", w.district, w.city + w.district, w.province + w.city + w.district)[level]
    sub = com = None
    if c is not None and rng.random() < w.sub_p:
        sub = c.subdistrict
        text += sub if rng.random() < 0.8 else sub.removesuffix("街道") + "办事处"
    if c is not None and rng.random() < w.com_p:
        com = c.community
        text += com if rng.random() < 0.7 else com.removesuffix("社区") + "居委会"
    return text, sub, com


def _tail(rng: random.Random, w: World, c: _Compound | None) -> str:
    b = rng.randint(1, c.buildings if c else 30)
    return rng.choice(w.tails).format(
        b=b, u=rng.randint(1, 4), r=rng.randint(1, 18) * 100 + rng.randint(1, 4)
    )


def _typo(rng: random.Random, w: World, stem: str) -> str | None:
    spots = [i for i, ch in enumerate(stem) if ch in w.homophones]
    if spots:
        i = rng.choice(spots)
        return stem[:i] + w.homophones[stem[i]] + stem[i + 1 :]
    return None


class _Truth:
    """Which compounds fit what a text gives: the decidability of a case."""

    def __init__(self, comps: list[_Compound]) -> None:
        self.comps = comps

    def fits(self, said: str, exact: bool, sub: str | None, com: str | None, phase: int) -> list[_Compound]:
        """Compounds a caller saying `said` (a full name / alias when `exact`, else a stem) may mean."""
        if exact:
            found = [c for c in self.comps if c.name == said or said in c.aliases]
            if not found:  # a registered name + phase word not registered per phase
                found = [c for c in self.comps if said.startswith(c.name) and c.phase == 0]
        else:
            found = [c for c in self.comps if c.stem == said or c.family == said]
        if sub:
            found = [c for c in found if c.subdistrict == sub] or found
        if com:
            found = [c for c in found if c.community == com] or found
        if phase and any(c.phase for c in found):
            found = [c for c in found if c.phase == phase] or found
        return found


def _address_case(
    rng: random.Random, w: World, c: _Compound, truth: _Truth, kind: str
) -> tuple[str, str | None, bool] | None:
    """(address, compound meant, decidable) of one case of `kind` for compound c."""
    prefix, sub, com = _prefix(rng, w, c)
    if kind == "admin" and not (sub or com):
        com = c.community
        prefix += com
    said, exact, phase = c.name, True, 0
    if kind == "alias":
        if not c.aliases:
            return None
        said = rng.choice(c.aliases)
    elif kind == "dropped_generic":
        if not c.generic:
            return None
        said, exact = c.stem, False
    elif kind == "typo":
        typo = _typo(rng, w, c.stem)
        if typo is None or any(typo in x.name for x in truth.comps):
            return None
        place = c.name.replace(c.stem, typo, 1)
        fit = truth.fits(c.name, True, sub, com, phase)
        return prefix + place + _tail(rng, w, c), c.cid, len(fit) == 1
    elif kind == "phase":
        phase = c.phase or rng.randint(1, 3)
        form = rng.choice(PHASE_FORMS).format(cn=CN_NUMERALS[phase - 1], d=phase, roman=ROMAN[phase - 1])
        base = c.name.removesuffix(("一期", "二期")[c.phase - 1]) if c.phase else c.name
        fit = truth.fits(base + CN_NUMERALS[phase - 1] + "期", True, sub, com, 0)
        if not fit or fit[0].name == base:  # no entry for the phase: the unphased name covers it
            fit = truth.fits(base, True, sub, com, 0)
        return prefix + base + form + _tail(rng, w, c), c.cid, len(fit) == 1
    elif kind == "digits_name" and not any(ch.isdigit() or ch in "十九八七" for ch in c.name):
        return None
    elif kind == "road_prefix":
        prefix += f"{rng.choice(w.roads)}{rng.randint(1, 300)}号"
    elif kind == "gate_shop":
        tail = rng.choice([t for t in w.tails if "{" not in t and t])
        return prefix + c.name + tail, c.cid, len(truth.fits(c.name, True, sub, com, phase)) == 1
    if c.phase and kind != "alias" and rng.random() < 0.5:
        # phased compounds said without their phase: the family name only
        said, exact, phase = c.name[:-2], True, 0
        fit = [x for x in truth.comps if x.name.startswith(said) and x.stem == c.stem]
        fit = [x for x in fit if (not sub or x.subdistrict == sub) and (not com or x.community == com)]
        return prefix + said + _tail(rng, w, c), c.cid, len(fit) == 1
    fit = truth.fits(said, exact, sub, com, phase)
    return prefix + said + _tail(rng, w, c), c.cid, len(fit) == 1


def _negative_address(rng: random.Random, w: World, comps: list[_Compound], kind: str) -> str:
    prefix, _, _ = _prefix(rng, w, None)
    if kind == "road_number":
        return prefix + _stem_road_number(rng, w, comps)
    if kind == "junction":
        r1, r2 = rng.sample(w.roads, 2)
        return prefix + rng.choice((f"{r1}与{r2}交汇处", f"{r1}{r2}路口", f"{r1}{rng.randint(1, 400)}号"))
    names = {c.name for c in comps}
    stems = {c.stem for c in comps if c.stem in w.stems}
    while True:
        if rng.random() < 0.5:  # a registered stem with a generic word none of its compounds has
            stem = rng.choice(sorted(stems - set(w.common_stems)))
            taken = {c.generic for c in comps if c.stem == stem}
            free = [g for g in w.generics if g not in taken and g != "小区"]
            place = stem + rng.choice(free)
        else:  # a wholly new name
            place = rng.choice(w.stems)[0] + rng.choice(w.stems)[-1] + rng.choice(w.generics)
            if any(place.startswith(c.stem) for c in comps):
                continue
        if place not in names:
            return prefix + place + _tail(rng, w, None)


def _stem_road_number(rng: random.Random, w: World, comps: list[_Compound]) -> str:
    """A house number on a road named like a registered stem (翠华路100号, maybe 东门 after it):
    a place on the road, not a compound; no registered name starts with it."""
    stems = sorted({c.stem for c in comps if c.stem in w.stems or c.stem in w.common_stems})
    gates = [t for t in w.tails if "门" in t and "{" not in t]
    while True:
        place = f"{rng.choice(stems)}{rng.choice(STEM_ROAD_WORDS)}{rng.randint(1, 300)}号"
        if not any(c.name.startswith(place) for c in comps):
            return place + (rng.choice(gates) if rng.random() < 0.3 else "")


def _content(rng: random.Random, place: str) -> tuple[str, str]:
    problem = rng.choice(PROBLEMS)
    title = problem.split("，")[0]
    body = f"{rng.choice(OPENERS)}{place}{problem}，{rng.choice(APPEALS)}"
    return title, body


def _content_cases(
    rng: random.Random, w: World, comps: list[_Compound], truth: _Truth
) -> list[tuple[str, str, str, str | None, str, bool]]:
    rows = []
    for c in comps:
        for _ in range(CONTENT_PER_COMPOUND):
            kind = rng.choices(("plain", "dropped_generic", "alias", "typo"), (0.6, 0.2, 0.1, 0.1))[0]
            made = _address_case(rng, w, c, truth, kind)
            if made is None:
                made = _address_case(rng, w, c, truth, "plain")
            address, cid, decidable = made  # type: ignore[misc]
            if rng.random() < 0.5:  # most texts carry a shorter prefix than addresses
                address = address.replace(w.province, "").replace(w.city, "")
            title, body = _content(rng, address)
            rows.append(("", title, body, cid, f"content_{kind}", decidable))
    n_neg = len(rows) // 3
    for _ in range(n_neg):
        kind = rng.choices(
            ("none", "common_word", "other_city", "not_registered", "road_number"),
            (0.4, 0.2, 0.15, 0.15, 0.1),
        )[0]
        if kind == "road_number":
            body = rng.choice(OPENERS) + _stem_road_number(rng, w, comps) + rng.choice(PROBLEMS)
        elif kind == "none":
            r1, r2 = rng.sample(w.roads, 2)
            body = rng.choice(CONTENT_NEGATIVES).format(road=r1, road2=r2, n=rng.randint(1, 300))
        elif kind == "common_word":
            body = rng.choice(COMMON_WORD_NEGATIVES).format(w=rng.choice(w.common_stems))
        elif kind == "other_city":
            place = rng.choice(w.stems)[-1] + rng.choice(("湖", "桥", "山")) + rng.choice(w.generics)
            body = rng.choice(OTHER_CITY_NEGATIVES).format(city=rng.choice(w.other_cities), place=place)
        else:
            body = (
                rng.choice(OPENERS)
                + _negative_address(rng, w, comps, "not_registered")
                + rng.choice(PROBLEMS)
            )
        rows.append(("", "反映问题", body, None, f"content_neg_{kind}", True))
    return rows


def hard_world(world: str, seed: int, n_compounds: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(registry, cases) of generator `world` ('A' or 'B') drawn with `seed`.

    registry: compound_id, name, community, subdistrict, aliases (list of str).
    cases: address, title, content, compound_id (None: no registered compound), kind, decidable.
    """
    w = WORLDS[world]
    rng = random.Random(f"{world}-{seed}")
    comps = _compound_rows(rng, w, n_compounds)
    truth = _Truth(comps)
    kinds, weights = list(w.kinds), list(w.kinds.values())
    rows: list[tuple[str, str, str, str | None, str, bool]] = []
    for c in comps:
        for _ in range(CASES_PER_COMPOUND):
            kind = rng.choices(kinds, weights)[0]
            if kind in NEGATIVE_KINDS:
                address = _negative_address(rng, w, comps, kind)
                rows.append((address, "", "", None, kind, True))
                continue
            made = _address_case(rng, w, c, truth, kind) or _address_case(rng, w, c, truth, "plain")
            address, cid, decidable = made  # type: ignore[misc]
            if not decidable:
                kind = "ambiguous"
            rows.append((address, "", "", cid, kind, decidable))
    rows += _content_cases(rng, w, comps, truth)
    cases = pd.DataFrame(rows, columns=["address", "title", "content", "compound_id", "kind", "decidable"])
    wide = [rng.random() < w.fullwidth_p for _ in range(len(cases))]
    cases["address"] = [
        a.translate(FULL_WIDTH) if f else a for a, f in zip(cases["address"], wide, strict=True)
    ]
    registry = pd.DataFrame(
        {
            "compound_id": [c.cid for c in comps],
            "name": [c.name for c in comps],
            "community": [c.community for c in comps],
            "subdistrict": [c.subdistrict for c in comps],
            "aliases": [list(c.aliases) for c in comps],
        }
    )
    return registry, cases


def alias_rows(registry: pd.DataFrame) -> pd.DataFrame:
    """(alias, compound_id) rows of a hard registry, as the store's compound_aliases takes them."""
    pairs = [
        (a, cid)
        for cid, aliases in zip(registry["compound_id"], registry["aliases"], strict=True)
        for a in aliases
    ]
    return pd.DataFrame(pairs, columns=["alias", "compound_id"])
