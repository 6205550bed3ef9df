"""Time address matching and category prediction at district scale.

    .venv/bin/python benchmarks/matching.py [--tickets 1000000] [--addresses 100000]
        [--compounds 1105] [--db PATH] [--seed 1]

1. A synthetic registry of 1,105 compounds (4 subdistricts, 102 communities) and 100,000
   distinct noisy addresses (90% variants of registered names, 10% unknown places), spread
   over 1,000,000 tickets with a skewed (Zipf-like) frequency.
2. `match_addresses` on the tickets' address column (first upload: everything is scored), the
   mapping back onto 1M tickets, and the same call again (re-upload: answered from the cache).
3. A category model trained on 20,000 labelled synthetic tickets, then the model alone on
   1,000,000 texts (one thread), then `predict_missing` for 1,000,000 stored tickets without a
   category (read, featurise and predict on two threads, write back).

Prints one JSON object with times (s) and throughputs (rows/s). Compare with a bare ingest of
the same number of rows.

    .venv/bin/python benchmarks/matching.py --hard [--seeds 100,101,102] [--content-texts 200000]

`--hard` instead prints the precision-coverage curve (threshold, precision, coverage) of the
address matcher and of content matching on the harder worlds of
analytics.synthetic.hard_addresses, per generator and per case kind, and the time content
matching takes for `--content-texts` texts. Precision is over accepted cases (an accepted
undecidable or unregistered case is wrong); coverage is over decidable cases whose compound is
registered.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.ingest import matching
from analytics.ingest.categories.predict import PREDICT_CHUNK, predict_frame
from analytics.ingest.categories.store import load_model
from analytics.ingest.categories.tickets import predict_missing
from analytics.ingest.categories.train import train_model
from analytics.ingest.matching.content import match_content
from analytics.ingest.matching.index import Registry, load_registry
from analytics.ingest.matching.score import ACCEPT_THRESHOLD, score_addresses
from analytics.store import db
from analytics.synthetic.hard_addresses import WORLDS, alias_rows, hard_world

SYLLABLES = list(
    "金银阳光翠湖绿锦华盛世御景龙凤明珠泰和康宁福安兴国书香名滨河湾水岸丽紫荆桂兰亭瑞祥嘉禾鑫源恒昌泉松柏枫林"
    "江山海天云星月东西南北中新城府园春秋雅静澜庭悦泓博睿"
)
GENERICS = ["花园", "家园", "小区", "苑", "公寓", "新村", "家属院", "山庄", "华庭", "城", "名苑", "大厦"]
SUBDISTRICTS = ["银雀山街道", "兰山街道", "金雀山街道", "柳青街道"]
BUILDINGS = ["{}号楼{}单元{}室", "{}栋", "{}号楼", "东门", "南门附近", "{}号楼{}单元", "北区{}号楼"]
PREFIXES = ["山东省", "临沂市", "兰山区"]
TOPICS = {
    "供暖": ["暖气不热", "室温不达标", "供热管道漏水", "暖气片冰凉"],
    "电梯": ["电梯故障", "电梯困人", "电梯停运", "电梯异响"],
    "噪音扰民": ["夜间施工噪音", "广场舞扰民", "烧烤摊噪音", "装修噪音"],
    "物业服务": ["物业不作为", "物业乱收费", "门禁损坏无人修", "保安不在岗"],
    "停车": ["车位不足", "乱停车", "消防通道被占", "停车收费"],
    "供水": ["停水", "水压低", "自来水发黄", "水管爆裂"],
    "供电": ["频繁停电", "电压不稳", "楼道灯不亮", "电表问题"],
    "燃气": ["燃气泄漏", "天然气停供", "燃气费", "燃气管道老化"],
    "环境卫生": ["垃圾清运不及时", "楼道脏乱", "化粪池堵塞", "蚊虫多"],
    "违章搭建": ["私搭乱建", "楼顶违建", "占用绿地建房", "违规圈地"],
    "房屋质量": ["房屋漏水", "墙体开裂", "外墙脱落", "地面塌陷"],
    "安全隐患": ["消防设施损坏", "电动车楼道充电", "井盖缺失", "树木倾倒"],
    "其他": ["咨询政策", "表扬工作人员", "反映其他问题", "建议增加公交"],
}
FILLER = [
    "您好",
    "本人是小区业主",
    "已多次反映",
    "一直没有解决",
    "希望相关部门尽快处理",
    "严重影响居民生活",
    "谢谢",
    "情况持续一个月",
]


def make_registry(rng: random.Random, n: int) -> pd.DataFrame:
    communities = [f"{SUBDISTRICTS[i % 4][:2]}{i}号社区" for i in range(102)]
    seen: set[str] = set()
    rows = []
    while len(rows) < n:
        name = "".join(rng.sample(SYLLABLES, rng.choice([2, 2, 3, 3, 4]))) + rng.choice(GENERICS)
        if name in seen:
            continue
        seen.add(name)
        c = rng.randrange(102)
        rows.append((f"LS{len(rows):04d}", name, communities[c], SUBDISTRICTS[c % 4]))
    return pd.DataFrame(rows, columns=["compound_id", "name", "community", "subdistrict"])


def make_addresses(rng: random.Random, registry: pd.DataFrame, n: int) -> list[str]:
    out: set[str] = set()
    names = registry.to_dict("records")
    while len(out) < n:
        if rng.random() < 0.1:
            core = "".join(rng.sample(SYLLABLES, 3)) + rng.choice(GENERICS)
            row = None
        else:
            row = rng.choice(names)
            core = row["name"]
        parts = [p for p in PREFIXES if rng.random() < 0.5]
        if row and rng.random() < 0.3:
            parts.append(row["subdistrict"])
        parts.append(core)
        parts.append(
            rng.choice(BUILDINGS).format(rng.randrange(1, 40), rng.randrange(1, 6), rng.randrange(101, 2600))
        )
        out.add("".join(parts))
    return sorted(out)


def make_texts(rng: random.Random, n: int) -> pd.DataFrame:
    topics = list(TOPICS)
    cats = [rng.choice(topics) for _ in range(n)]
    titles, contents = [], []
    for c in cats:
        phrase = rng.choice(TOPICS[c])
        titles.append(f"{phrase}问题")
        body = [rng.choice(FILLER) for _ in range(rng.randrange(3, 7))] + [phrase, rng.choice(TOPICS[c])]
        rng.shuffle(body)
        contents.append("，".join(body) + "。")
    return pd.DataFrame({"title": titles, "content": contents, "category": cats})


HARD_THRESHOLDS = (0.80, 0.84, 0.88, 0.92, 0.96)


def store_hard_registry(con, registry: pd.DataFrame) -> Registry:
    """Write a hard_addresses registry (with its aliases) to an empty store; its matching index."""
    con.register("hard_reg", registry.drop(columns="aliases"))
    con.execute("INSERT INTO subdistricts SELECT DISTINCT subdistrict FROM hard_reg")
    con.execute("INSERT INTO communities SELECT DISTINCT community, subdistrict FROM hard_reg")
    con.execute(
        "INSERT INTO compounds (compound_id, name, community, subdistrict) "
        "SELECT compound_id, name, community, subdistrict FROM hard_reg"
    )
    con.unregister("hard_reg")
    aliases = alias_rows(registry)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute("INSERT INTO compound_aliases SELECT alias, compound_id, 'registry' FROM aliases")
    return load_registry(con)


def hard_results(world: str, seeds: list[int]) -> pd.DataFrame:
    """Every case of the hard world `world` for `seeds`, matched: kind, part ('address' or
    'content'), score (NaN when no candidate), accepted_id (the top candidate), correct and
    in_registry (decidable and registered)."""
    frames = []
    for seed in seeds:
        registry, cases = hard_world(world, seed)
        con = db.connect(str(Path(tempfile.mkdtemp()) / "hard.duckdb"))
        reg = store_hard_registry(con, registry)
        con.close()
        for part, rows in (("address", cases["address"] != ""), ("content", cases["address"] == "")):
            sub = cases[rows].reset_index(drop=True)
            if part == "address":
                got = score_addresses(reg, sub["address"].tolist())
            else:
                got = match_content(reg, (sub["title"] + "。" + sub["content"]).tolist())
            top = [json.loads(c)[0]["compound_id"] if c != "[]" else None for c in got["candidates"]]
            # a text whose best spans disagree lists several: its top is not one answer
            top = [
                t if s != "review" or part == "address" else None
                for t, s in zip(top, got["status"], strict=True)
            ]
            frames.append(
                pd.DataFrame(
                    {
                        "world": world,
                        "seed": seed,
                        "part": part,
                        "kind": sub["kind"],
                        "score": got["match_score"].astype(float).to_numpy(),
                        "top": top,
                        "correct": (pd.Series(top, dtype=object) == sub["compound_id"]).to_numpy()
                        & sub["decidable"].to_numpy(),
                        "in_registry": (sub["compound_id"].notna() & sub["decidable"]).to_numpy(),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def hard_curve(
    results: pd.DataFrame, thresholds=HARD_THRESHOLDS, by: list[str] | None = None
) -> pd.DataFrame:
    """(groups..., threshold, n, precision, coverage) rows of `hard_results`."""
    rows = []
    groups = results.groupby(by) if by else [((), results)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        for t in thresholds:
            accepted = g["score"].fillna(-1.0).to_numpy() >= t
            ok = g["correct"].to_numpy()
            reg = g["in_registry"].to_numpy()
            precision = float(ok[accepted].mean()) if accepted.any() else 1.0
            coverage = float((accepted & ok & reg).sum() / reg.sum()) if reg.any() else float("nan")
            rows.append((*key, t, len(g), round(precision, 4), round(coverage, 4)))
    return pd.DataFrame(rows, columns=[*(by or []), "threshold", "n", "precision", "coverage"])


def time_content(world: str, seed: int, n_texts: int) -> float:
    """Seconds match_content takes for n_texts texts (the world's content cases, repeated)."""
    registry, cases = hard_world(world, seed)
    con = db.connect(str(Path(tempfile.mkdtemp()) / "hard.duckdb"))
    reg = store_hard_registry(con, registry)
    con.close()
    content = cases[cases["address"] == ""]
    texts = (content["title"] + "。" + content["content"]).tolist()
    texts = (texts * (n_texts // len(texts) + 1))[:n_texts]
    start = time.perf_counter()
    match_content(reg, texts)
    return time.perf_counter() - start


def hard_main(seeds: list[int], n_texts: int) -> None:
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    for world in WORLDS:
        results = hard_results(world, seeds)
        for part in ("address", "content"):
            mine = results[results["part"] == part]
            print(f"\n== generator {world}, {part}, seeds {seeds}, threshold in use {ACCEPT_THRESHOLD}")
            print(hard_curve(mine).to_string(index=False))
            print(hard_curve(mine, (ACCEPT_THRESHOLD,), ["kind"]).to_string(index=False))
    if n_texts:
        print(f"\ncontent matching, {n_texts} texts: {time_content('A', seeds[0], n_texts):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--compounds", type=int, default=1105)
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hard", action="store_true", help="precision-coverage on the hard worlds")
    parser.add_argument("--seeds", default="100,101,102")
    parser.add_argument("--content-texts", type=int, default=200_000)
    args = parser.parse_args()
    if args.hard:
        hard_main([int(s) for s in args.seeds.split(",")], args.content_texts)
        return
    rng = random.Random(args.seed)
    nrng = np.random.default_rng(args.seed)
    path = args.db or str(Path(tempfile.mkdtemp()) / "bench.duckdb")
    con = db.connect(path)
    report: dict[str, float | int | str] = {"tickets": args.tickets, "distinct_addresses": args.addresses}

    registry = make_registry(rng, args.compounds)
    con.register("reg", registry)
    con.execute("INSERT INTO subdistricts SELECT DISTINCT subdistrict FROM reg")
    con.execute("INSERT INTO communities SELECT DISTINCT community, subdistrict FROM reg")
    con.execute("INSERT INTO compounds (compound_id, name, community, subdistrict) SELECT * FROM reg")
    con.unregister("reg")
    addresses = make_addresses(rng, registry, args.addresses)
    # Zipf-like: a few addresses carry many tickets, every address at least one
    weights = 1.0 / np.arange(1, len(addresses) + 1) ** 0.8
    extra = nrng.choice(len(addresses), args.tickets - len(addresses), p=weights / weights.sum())
    ticket_address = np.array(addresses, dtype=object)[np.concatenate([np.arange(len(addresses)), extra])]

    t = time.perf_counter()
    result = matching.match_addresses(con, ticket_address)
    report["match_first_upload_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    compound = pd.Series(ticket_address).map(dict(zip(result["address"], result["compound_id"], strict=True)))
    report["map_to_tickets_s"] = round(time.perf_counter() - t, 2)
    report["matched_share"] = round(float(compound.notna().mean()), 4)
    report["match_rows_per_s"] = int(
        args.tickets / (report["match_first_upload_s"] + report["map_to_tickets_s"])
    )
    t = time.perf_counter()
    matching.match_addresses(con, ticket_address)
    report["match_reupload_cached_s"] = round(time.perf_counter() - t, 2)

    labelled = make_texts(rng, args.train)
    labelled.insert(0, "ticket_id", [f"L{i:07d}" for i in range(len(labelled))])
    con.register("lab", labelled)
    con.execute(
        "INSERT INTO tickets (ticket_id, created_at, title, content, category, category_source, batch_id) "
        "SELECT ticket_id, TIMESTAMP '2024-01-01', title, content, category, 'given', 1 FROM lab"
    )
    con.unregister("lab")
    t = time.perf_counter()
    scores = train_model(con)
    report["train_s"] = round(time.perf_counter() - t, 2)
    report["train_rows"] = args.train
    report["cv_macro_f1"] = scores["macro_f1"]

    texts = make_texts(rng, args.tickets)
    unlabelled = pd.DataFrame(
        {
            "ticket_id": [f"T{i:07d}" for i in range(args.tickets)],
            "title": texts["title"],
            "content": texts["content"],
            "address": ticket_address,
            "compound_id": compound.to_numpy(),
        }
    )
    report["mean_text_chars"] = round(
        float((texts["title"].str.len() + texts["content"].str.len()).mean()), 1
    )
    t = time.perf_counter()
    con.register("unl", unlabelled)
    con.execute(
        "INSERT INTO tickets (ticket_id, created_at, title, content, address, compound_id, batch_id) "
        "SELECT ticket_id, TIMESTAMP '2024-02-01', title, content, address, compound_id, 2 FROM unl"
    )
    con.unregister("unl")
    report["bare_insert_s"] = round(time.perf_counter() - t, 2)
    model = load_model(con)
    t = time.perf_counter()
    for start in range(0, args.tickets, PREDICT_CHUNK):
        predict_frame(
            model,
            texts["title"].iloc[start : start + PREDICT_CHUNK],
            texts["content"].iloc[start : start + PREDICT_CHUNK],
        )
    report["predict_compute_single_thread_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    n = predict_missing(con)
    report["predict_s"] = round(time.perf_counter() - t, 2)
    report["predicted"] = n
    report["predict_rows_per_s"] = int(n / report["predict_s"])
    truth = texts["category"].to_numpy()
    got = db.query_df(con, "SELECT category FROM tickets WHERE batch_id = 2 ORDER BY ticket_id")["category"]
    report["predict_accuracy"] = round(float((got.to_numpy() == truth).mean()), 4)
    report["match_plus_predict_s"] = round(
        report["match_first_upload_s"] + report["map_to_tickets_s"] + report["predict_s"], 2
    )
    con.close()
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
