"""Realistic synthetic 12345 ticket exports (Chinese headers and text), generated vectorised.

    python benchmarks/gen_tickets.py --rows 1000000 --out /tmp/tickets.csv [--encoding gbk] [--realistic]

`--realistic`: each address is a way callers write a registry name (a district or subdistrict
prefix or none, the name or its stem without the generic word) plus a building / unit / room
tail, so nearly every ticket has an address of its own while the name parts are few.

Also imported by tests: `make_compounds(n)`, `make_tickets(n, compounds)`, `write_csv(df, path)`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

STEMS = (
    "阳光", "金色", "翡翠", "幸福", "和谐", "锦绣", "东方", "滨河", "沂河", "蒙山", "书香", "紫荆", "银座",
    "凤凰", "祥和", "康居", "华府", "名门", "水岸", "怡景", "丽景", "恒大", "万科", "碧桂园", "鲁商",
    "城建", "兰亭", "御景", "盛世", "新华", "解放", "通达", "红旗", "人民", "工行", "电业", "纺织",
    "机械厂", "供销", "粮食局",
)  # fmt: skip
SUFFIXES = ("花园", "小区", "家园", "名苑", "新城", "公寓", "雅居", "家属院", "社区", "嘉园", "府", "湾")
ROADS = (
    "沂蒙路",
    "解放路",
    "通达路",
    "金雀山路",
    "银雀山路",
    "兰山路",
    "涑河街",
    "北京路",
    "上海路",
    "蒙山大道",
)
SUBDISTRICTS = ("兰山街道", "银雀山街道", "金雀山街道", "柳青街道")
CATEGORIES = (
    ("物业管理", "物业公司不作为，{x}长期无人处理", ("楼道垃圾", "电梯故障", "消防通道堵塞", "门禁损坏")),
    ("供暖", "冬季供暖温度不达标，室内只有{x}", ("十二度", "十四度", "十五度", "十度左右")),
    ("噪音扰民", "{x}噪音严重影响休息", ("夜间施工", "广场舞", "商铺喇叭", "装修")),
    ("停车管理", "小区{x}，车辆乱停乱放", ("车位不足", "消防通道被占", "外来车辆进入", "地锁私装")),
    ("供水", "家中{x}，影响正常生活", ("停水三天", "水压过低", "水质发黄", "水管爆裂")),
    ("环境卫生", "{x}，气味难闻", ("垃圾清运不及时", "化粪池外溢", "下水道堵塞", "绿化带堆放杂物")),
    ("房屋质量", "新房出现{x}，开发商拒不维修", ("墙体开裂", "屋顶漏水", "地面空鼓", "窗户渗水")),
    ("违章建筑", "{x}，存在安全隐患", ("一楼私搭乱建", "楼顶违建", "占用绿地建房", "违规开墙破洞")),
)  # fmt: skip
REQUESTS = ("请相关部门尽快处理。", "希望尽快解决。", "多次反映无果，请督促整改。", "请给予答复。", "")
UNITS = ("住建局", "城管局", "供热公司", "水务集团", "街道办事处", "公安分局", "生态环境局")
SATISFACTION = ("满意", "非常满意", "基本满意", "不满意", "未回访", "")
STATUS = ("已办结", "已办结", "已办结", "办理中", "退回重办")
HEADERS = (
    "工单编号", "受理时间", "来电号码", "诉求类型", "诉求地址", "工单标题", "诉求内容", "承办单位", "办结时间",
    "满意度", "工单状态",
)  # fmt: skip


def make_compounds(n: int = 1105, seed: int = 7) -> pd.DataFrame:
    """compound_id, name, subdistrict: unique names built from stems and suffixes."""
    rng = np.random.default_rng(seed)
    names: list[str] = []
    seen: set[str] = set()
    phase = 1
    while len(names) < n:
        for stem in rng.permutation(STEMS):
            for suffix in rng.permutation(SUFFIXES):
                name = f"{stem}{suffix}" if phase == 1 else f"{stem}{suffix}{phase}期"
                if name not in seen:
                    seen.add(name)
                    names.append(name)
                if len(names) >= n:
                    break
            if len(names) >= n:
                break
        phase += 1
    return pd.DataFrame(
        {
            "compound_id": [f"LS{i:04d}" for i in range(1, n + 1)],
            "name": names,
            "subdistrict": rng.choice(SUBDISTRICTS, n),
        }
    )


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


# how callers put a registry name: what comes before it, and whether the generic word is kept
NAME_PREFIXES = ("", "", "兰山区", "临沂市兰山区", "山东省临沂市兰山区", "{sub}", "兰山区{sub}")
DROPPED_GENERICS = ("花园", "小区", "社区")


def realistic_addresses(rng: np.random.Generator, names: np.ndarray, subdistricts: np.ndarray) -> np.ndarray:
    """<prefix><name variant><building>号楼<unit>单元<floor><room>室 for each ticket (or a shorter
    tail: the building alone, or building and unit): about 14 name parts per compound, and
    tails drawn independently, so nearly every address is distinct."""
    n = len(names)
    prefix = _pick(rng, NAME_PREFIXES, n)
    with_sub = np.char.find(prefix.astype(str), "{sub}") >= 0
    prefix[with_sub] = [
        p.replace("{sub}", s) for p, s in zip(prefix[with_sub], subdistricts[with_sub], strict=True)
    ]
    variant = names.copy()
    drop = rng.random(n) < 0.3
    for generic in DROPPED_GENERICS:
        cut = drop & pd.Series(names).str.endswith(generic).to_numpy()
        variant[cut] = [v[: -len(generic)] for v in variant[cut]]
    building = rng.integers(1, 40, n).astype(str).astype(object)
    unit = rng.integers(1, 7, n).astype(str).astype(object)
    room = (rng.integers(1, 19, n) * 100 + rng.integers(1, 5, n)).astype(str).astype(object)
    kind = rng.random(n)
    tail = np.where(
        kind < 0.75,
        building + "号楼" + unit + "单元" + room + "室",
        np.where(kind < 0.9, building + "号楼" + unit + "单元", building + "栋"),
    )
    return prefix + variant + tail


def make_tickets(
    n: int,
    compounds: pd.DataFrame | None = None,
    seed: int = 1,
    start: str = "2022-01-01",
    addresses: int | None = None,
    realistic: bool = False,
) -> pd.DataFrame:
    """n tickets with the district export's Chinese headers, all values text.

    addresses: None gives nearly every ticket its own address (road, house number, compound,
    building drawn independently); a number N draws each ticket's address from about N/compounds
    fixed addresses of its compound, so the file carries about N distinct addresses.
    realistic: addresses as `realistic_addresses` writes them (`addresses` is then ignored)."""
    rng = np.random.default_rng(seed)
    compounds = make_compounds() if compounds is None else compounds
    # a few compounds draw most tickets, as in the real district
    weights = rng.pareto(1.2, len(compounds)) + 0.05
    which = rng.choice(len(compounds), n, p=weights / weights.sum())
    names = compounds["name"].to_numpy(dtype=object)[which]
    cat = rng.integers(0, len(CATEGORIES), n)
    cat_names = np.asarray([c[0] for c in CATEGORIES], dtype=object)[cat]
    detail = np.empty(n, dtype=object)
    for i, (_, template, fills) in enumerate(CATEGORIES):
        mask = cat == i
        detail[mask] = [template.format(x=f) for f in _pick(rng, fills, int(mask.sum()))]
    building = rng.integers(1, 30, n).astype(str).astype(object)
    unit = rng.integers(1, 6, n).astype(str).astype(object)
    if addresses:
        # variant v of compound c: (building, road) differ for v < 29 * len(ROADS)
        v = rng.integers(0, max(addresses // len(compounds), 1), n)
        building = (1 + v % 29).astype(str).astype(object)
        road = np.asarray(ROADS, dtype=object)[(which + v // 29) % len(ROADS)]
        number = (1 + (which * 31 + v) % 300).astype(str).astype(object)
    else:
        road = _pick(rng, ROADS, n)
        number = rng.integers(1, 300, n).astype(str).astype(object)
    address = road + number + "号" + names + building + "号楼"
    if realistic:
        subs = compounds["subdistrict"].to_numpy(dtype=object)[which]
        address = realistic_addresses(rng, names, subs)
    content = (
        "来电人反映：" + names + building + "号楼" + unit + "单元" + detail + "。" + _pick(rng, REQUESTS, n)
    )
    base = np.datetime64(start, "s")
    created = base + rng.integers(0, 3 * 365 * 86400, n).astype("timedelta64[s]")
    closed = created + rng.integers(3600, 20 * 86400, n).astype("timedelta64[s]")
    status = _pick(rng, STATUS, n)
    # about a third as many callers as tickets: repeat callers are common
    caller = rng.integers(0, max(n // 3, 10), n)
    prefixes = np.asarray(("135", "138", "150", "159", "177", "186", "189"), dtype=object)
    phones = prefixes[caller % len(prefixes)] + pd.Series(caller * 7919 % 10**8).astype(str).str.zfill(
        8
    ).to_numpy(dtype=object)
    frame = pd.DataFrame(
        {
            "工单编号": pd.Series(np.arange(1, n + 1) + 20220000000).astype(str).radd("LS"),
            "受理时间": pd.Series(created).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "来电号码": phones,
            "诉求类型": cat_names,
            "诉求地址": address,
            "工单标题": names + detail.astype(str).astype(object),
            "诉求内容": content,
            "承办单位": _pick(rng, UNITS, n),
            "办结时间": pd.Series(closed).dt.strftime("%Y-%m-%d %H:%M:%S").where(status != "办理中", ""),
            "满意度": _pick(rng, SATISFACTION, n),
            "工单状态": status,
        }
    )
    return frame[list(HEADERS)]


def write_csv(df: pd.DataFrame, path: str | Path, encoding: str = "utf-8", sep: str = ",") -> Path:
    """CSV as an export system writes it (DuckDB writes UTF-8 fast; other encodings via pandas)."""
    path = Path(path)
    if encoding == "utf-8" and sep == ",":
        con = duckdb.connect()
        con.register("df", df)
        literal = "'" + str(path).replace("'", "''") + "'"
        con.execute(f"COPY df TO {literal} (FORMAT csv, HEADER true)")
        con.close()
    else:
        df.to_csv(path, index=False, encoding=encoding, sep=sep)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", default="tickets.csv")
    parser.add_argument("--encoding", default="utf-8")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--addresses", type=int, default=None, help="about this many distinct addresses")
    parser.add_argument("--no-category", action="store_true", help="leave out the 诉求类型 column")
    parser.add_argument("--realistic", action="store_true", help="registry name variants + building tails")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    chunk = 250_000  # bounded memory for large files: append chunk by chunk
    out = Path(args.out)
    out.unlink(missing_ok=True)
    compounds = make_compounds()
    for i, first in enumerate(range(0, args.rows, chunk)):
        df = make_tickets(
            min(chunk, args.rows - first),
            compounds,
            seed=args.seed + i,
            addresses=args.addresses,
            realistic=args.realistic,
        )
        if args.no_category:
            df = df.drop(columns=["诉求类型"])
        df["工单编号"] = (
            pd.Series(np.arange(first + 1, first + len(df) + 1) + 20220000000).astype(str).radd("LS")
        )
        df.to_csv(out, index=False, encoding=args.encoding, mode="a", header=i == 0)
    size = out.stat().st_size / 1e6
    print(
        f"wrote {args.rows} tickets, {size:.0f} MB, in {time.perf_counter() - t0:.1f} s -> {out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
