"""A simulated district with a known truth, for tests and benchmarks.

Every compound has a persistent complaint rate per household (what a ranking should find), and on
top of it: district seasonality (heating in winter, summer complaints), transient half-year shocks
(a burst pipe, a dispute with the property company: real, but gone after six months), extra-Poisson
month-to-month noise, and compound-level propensities for repeat calls, unresolved and
unsatisfied tickets. Optionally a treatment `effect` (e.g. -0.3 = 30% fewer tickets) applies to
the `treated` compounds from month `start` on.

`simulate_district(con, ...)` writes compounds, communities, subdistricts, star ratings,
property-company evaluations and tickets straight into the store and returns a `SimTruth` with the
true rates. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analytics.store import db

DISTRICT_TICKETS_PER_YEAR = 350_000
SUBDISTRICTS = ("金雀山街道", "兰山街道", "银雀山街道", "柳青街道")
N_COMMUNITIES = 102
N_PROPERTY_COMPANIES = 150
TYPES = ("商开", "还建", "家属院", "混合")
TYPE_SHARES = (0.5, 0.2, 0.2, 0.1)
# persistent rate multipliers: resettlement and old compounds complain more
TYPE_RATE = {"商开": 1.0, "还建": 1.4, "家属院": 1.2, "混合": 1.1}
OLD_RATE = 1.3
# gamma shape of the persistent rate across compounds (CV = 1/sqrt(shape) ~ 0.7)
RATE_SHAPE = 2.0
# month-of-year multipliers (Jan..Dec): heating Nov-Mar, summer Jul-Aug
SEASONAL = (1.25, 1.05, 1.0, 0.9, 0.88, 0.95, 1.12, 1.15, 0.92, 0.9, 1.1, 1.28)
SHOCK_PROB = 0.12  # chance that a compound has a shock in a given half-year
SHOCK_RANGE = (1.8, 3.2)  # multiplier of a shock half-year
MONTH_NOISE_SHAPE = 25.0  # gamma noise per compound-month (CV 0.2)
VALID_SHARE = 0.95
REOPEN_SHARE = 0.03
SATISFACTION_ASKED = 0.6
DUE_DAYS = 7
MEAN_DAYS_TO_CLOSE = 3.0
COMPOUND_CHUNK = 1500  # compounds per insert, to bound memory at city scale

# category, base weight, heating-only flag, typical phrases
CATEGORIES: tuple[tuple[str, float, bool, tuple[str, ...]], ...] = (
    ("供暖", 0.16, True, ("暖气不热，室温只有十几度", "供暖管道漏水", "暖气费收费不合理")),
    ("物业管理", 0.20, False, ("物业不作为，楼道卫生无人打扫", "物业费上涨未公示", "物业人员态度恶劣")),
    ("噪音扰民", 0.08, False, ("夜间施工噪音扰民", "楼下商户音响声音太大", "广场舞噪音扰民")),
    ("环境卫生", 0.10, False, ("垃圾长期堆放无人清运", "化粪池堵塞污水外溢", "小区绿化带杂草丛生")),
    ("停车管理", 0.09, False, ("车位被占用无法停车", "停车收费不合理", "消防通道被车辆占用")),
    ("供水", 0.09, False, ("停水未提前通知", "自来水水压低，高层没水", "水质发黄有异味")),
    ("违章建筑", 0.06, False, ("楼顶私搭乱建", "一楼住户私自扩建院墙", "绿地被占用搭建棚子")),
    ("房屋质量", 0.08, False, ("房屋漏雨，墙面渗水", "外墙保温层脱落", "楼道墙皮脱落")),
    ("电梯", 0.06, False, ("电梯经常故障困人", "电梯年检过期", "电梯异响运行不稳")),
    ("其他", 0.08, False, ("咨询相关政策", "路灯不亮", "井盖缺失存在安全隐患")),
)
NAME_HEADS = ("锦绣", "阳光", "金色", "翠湖", "沂河", "凤凰", "兰亭", "书香", "和谐", "幸福", "银座", "滨河")
NAME_TAILS = ("花园", "家园", "小区", "名苑", "新村", "公馆", "华府", "雅居")


@dataclass
class SimTruth:
    """What the simulation knows and an estimator has to recover.

    `compounds` has one row per compound: compound_id, households, type, is_old,
    rate_per_100 (long-run expected *valid* tickets per 100 households per month, averaged over
    seasons and shocks), expected_monthly (= rate_per_100 x households / 100), repeat_share,
    unresolved_share, dissatisfaction (the per-ticket probabilities), treated.
    `shocks` lists each compound half-year with a transient shock and its multiplier.
    """

    compounds: pd.DataFrame
    shocks: pd.DataFrame
    months: list[str]
    seasonal: tuple[float, ...]
    n_tickets: int
    effect: float | None = None
    treated: list[str] = field(default_factory=list)
    start: str | None = None

    def true_components(self) -> pd.DataFrame:
        """The true values of the ranking components, indexed by compound_id."""
        c = self.compounds.set_index("compound_id")
        return pd.DataFrame(
            {
                "shrunk_rate": c["rate_per_100"],
                "volume": c["expected_monthly"],
                "repeat_share": c["repeat_share"],
                "unresolved_share": c["unresolved_share"],
                "dissatisfaction": c["dissatisfaction"],
                "trend": 0.0,
            }
        )

    def true_scores(
        self, weights: Mapping[str, float] | None = None, compound_ids: Sequence[str] | None = None
    ) -> pd.Series:
        """The ranking score computed on the true components (percentiles within `compound_ids`)."""
        from analytics.models.ranking.score import DEFAULT_WEIGHTS

        w = dict(weights or DEFAULT_WEIGHTS)
        comp = self.true_components()
        if compound_ids is not None:
            comp = comp.loc[list(compound_ids)]
        total = sum(w.values())
        score = pd.Series(0.0, index=comp.index)
        for name, weight in w.items():
            if weight and name in comp and comp[name].nunique() > 1:
                score += weight / total * comp[name].rank(pct=True)
        return score

    def true_ranks(
        self, weights: Mapping[str, float] | None = None, compound_ids: Sequence[str] | None = None
    ) -> pd.Series:
        return self.true_scores(weights, compound_ids).rank(ascending=False, method="first").astype(int)

    def true_top(
        self,
        n: int = 65,
        weights: Mapping[str, float] | None = None,
        compound_ids: Sequence[str] | None = None,
    ) -> set[str]:
        ranks = self.true_ranks(weights, compound_ids)
        return set(ranks[ranks <= n].index)


def _month_list(months: tuple[str, str]) -> list[pd.Period]:
    first, last = (pd.Period(m, freq="M") for m in months)
    if last < first:
        raise ValueError(f"months must be increasing: {months}")
    return list(pd.period_range(first, last, freq="M"))


def _compounds(rng: np.random.Generator, n: int, seed: int) -> pd.DataFrame:
    ids = [f"C{i + 1:05d}" for i in range(n)]
    heads = rng.integers(0, len(NAME_HEADS), n)
    tails = rng.integers(0, len(NAME_TAILS), n)
    names = [
        f"{NAME_HEADS[h]}{NAME_TAILS[t]}{i + 1}期" for i, (h, t) in enumerate(zip(heads, tails, strict=True))
    ]
    n_comm = max(1, round(n * N_COMMUNITIES / 1105))
    community_idx = rng.integers(0, n_comm, n)
    communities = [f"第{k + 1:03d}社区" for k in range(n_comm)]
    sub_of_comm = [SUBDISTRICTS[k % len(SUBDISTRICTS)] for k in range(n_comm)]
    ctype = rng.choice(len(TYPES), size=n, p=TYPE_SHARES)
    is_old = rng.random(n) < np.where(ctype == 2, 0.8, 0.3)
    households = np.clip(np.round(rng.lognormal(np.log(450), 0.7, n)), 30, 6000).astype(int)
    companies = np.array([f"物业公司{k + 1:03d}" for k in range(N_PROPERTY_COMPANIES)], dtype=object)
    company = companies[rng.integers(0, N_PROPERTY_COMPANIES, n)]
    # old work-unit compounds often have no property company
    company[(ctype == 2) & is_old & (rng.random(n) < 0.5)] = None
    return pd.DataFrame(
        {
            "compound_id": ids,
            "name": names,
            "community": [communities[k] for k in community_idx],
            "subdistrict": [sub_of_comm[k] for k in community_idx],
            "type": [TYPES[t] for t in ctype],
            "is_old": is_old,
            "built_year": np.where(is_old, rng.integers(1985, 2000, n), rng.integers(2000, 2020, n)),
            "households": households,
            "property_company": company,
        }
    )


def _parse_month(value: str | dt.date | None) -> pd.Period | None:
    if value is None:
        return None
    return pd.Period(value, freq="M")


def simulate_district(
    con: duckdb.DuckDBPyConnection,
    n_compounds: int = 1105,
    months: tuple[str, str] = ("2022-01", "2024-06"),
    seed: int = 0,
    effect: float | None = None,
    treated: Sequence[str] | None = None,
    start: str | dt.date | None = None,
    tickets_per_year: float = DISTRICT_TICKETS_PER_YEAR,
    shock_prob: float = SHOCK_PROB,
    shock_range: tuple[float, float] = SHOCK_RANGE,
    seasonal: Sequence[float] = SEASONAL,
    month_noise_shape: float | None = MONTH_NOISE_SHAPE,
    with_text: bool = True,
    surges: Mapping[str, float] | None = None,
    surge_month: str | None = None,
) -> SimTruth:
    """Write a simulated district into `con` and return its truth.

    - `tickets_per_year`: expected tickets a year over the whole district (350k for Lanshan).
    - `effect`, `treated`, `start`: multiply the treated compounds' rates by (1 + effect) from
      month `start` ('YYYY-MM' or a date) to the end.
    - `shock_prob=0` and `month_noise_shape=None` give pure Poisson data around the seasonal rate
      (a null district for surge false-alarm checks).
    - `surges`: {compound_id: multiplier} planted in `surge_month` only (surge detection tests).
    - `with_text=False` skips building ticket text (faster benchmarks of counts only).
    """
    rng = np.random.default_rng(seed)
    periods = _month_list(months)
    comp = _compounds(rng, n_compounds, seed)
    n = len(comp)
    # persistent rate per 100 households per month (before valid share)
    type_mult = comp["type"].map(TYPE_RATE).to_numpy()
    old_mult = np.where(comp["is_old"], OLD_RATE, 1.0)
    persistent = type_mult * old_mult * rng.gamma(RATE_SHAPE, 1.0 / RATE_SHAPE, n)
    season = np.asarray(seasonal, dtype=float)
    season = season / season.mean()
    month_of_year = np.array([p.month for p in periods])
    # half-year shocks: index of calendar half-year per month
    half_keys = sorted({(p.year, 1 if p.month <= 6 else 2) for p in periods})
    half_idx = np.array([half_keys.index((p.year, 1 if p.month <= 6 else 2)) for p in periods])
    shocked = rng.random((n, len(half_keys))) < shock_prob
    shock_mult = np.where(shocked, rng.uniform(*shock_range, (n, len(half_keys))), 1.0)
    mean_shock = 1.0 + shock_prob * (np.mean(shock_range) - 1.0)
    # scale so the district total matches tickets_per_year on average
    households = comp["households"].to_numpy(float)
    raw_total = float((persistent * households / 100.0).sum()) * mean_shock
    scale = tickets_per_year / 12.0 / raw_total
    base_rate = persistent * scale  # tickets per 100 households per month, all tickets
    lam = (base_rate * households / 100.0)[:, None] * season[month_of_year - 1][None, :]
    lam = lam * shock_mult[:, half_idx]
    if month_noise_shape:
        lam = lam * rng.gamma(month_noise_shape, 1.0 / month_noise_shape, lam.shape)
    treated_ids = list(treated or [])
    start_p = _parse_month(start)
    if effect is not None and treated_ids:
        if start_p is None:
            raise ValueError("start is required with effect")
        rows = comp["compound_id"].isin(treated_ids).to_numpy()
        cols = np.array([p >= start_p for p in periods])
        lam[np.ix_(rows, cols)] *= 1.0 + effect
    if surges:
        col = periods.index(pd.Period(surge_month, freq="M"))
        for cid, mult in surges.items():
            lam[comp.index[comp["compound_id"] == cid][0], col] *= mult
    counts = rng.poisson(lam)

    repeat_p = rng.beta(2, 18, n)
    unresolved_p = rng.beta(2, 10, n)
    dissat_p = rng.beta(2, 8, n)

    batch_id = _start_batch(con, seed)
    end_ts = (periods[-1] + 1).to_timestamp()
    n_tickets = 0
    for lo in range(0, n, COMPOUND_CHUNK):
        hi = min(n, lo + COMPOUND_CHUNK)
        frame = _tickets_chunk(
            rng, comp.iloc[lo:hi], counts[lo:hi], periods, repeat_p[lo:hi], unresolved_p[lo:hi],
            dissat_p[lo:hi], n_tickets, seed, end_ts, batch_id, with_text,
        )  # fmt: skip
        _insert(con, "tickets", frame)
        n_tickets += len(frame)
    _write_registry(con, comp, rng, base_rate, periods)
    with db.transaction(con) as cur:
        cur.execute(
            "UPDATE ingest_batches SET rows_read = ?, inserted = ? WHERE batch_id = ?",
            [n_tickets, n_tickets, batch_id],
        )

    truth_rate = base_rate * mean_shock * VALID_SHARE
    truth = comp[["compound_id", "households", "type", "is_old", "community", "property_company"]].copy()
    truth["rate_per_100"] = truth_rate
    truth["expected_monthly"] = truth_rate * households / 100.0
    truth["repeat_share"] = repeat_p
    truth["unresolved_share"] = unresolved_p
    truth["dissatisfaction"] = dissat_p
    truth["treated"] = truth["compound_id"].isin(treated_ids)
    si, sh = np.nonzero(shocked)
    shocks = pd.DataFrame(
        {
            "compound_id": comp["compound_id"].to_numpy()[si],
            "half": [f"{half_keys[h][0]}H{half_keys[h][1]}" for h in sh],
            "multiplier": shock_mult[si, sh],
        }
    )
    return SimTruth(
        compounds=truth,
        shocks=shocks,
        months=[str(p) for p in periods],
        seasonal=tuple(season),
        n_tickets=n_tickets,
        effect=effect,
        treated=treated_ids,
        start=str(start_p) if start_p is not None else None,
    )


def _start_batch(con: duckdb.DuckDBPyConnection, seed: int) -> int:
    with db.transaction(con) as cur:
        batch_id = db.next_id(cur, "seq_batch")
        cur.execute(
            "INSERT INTO ingest_batches (batch_id, kind, file_name, loaded_at) VALUES (?, 'demo', ?, now())",
            [batch_id, f"simulated district seed={seed}"],
        )
    return batch_id


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Append a DataFrame by column name (table names here are fixed literals)."""
    with db.transaction(con) as cur:
        cur.register("_sim_frame", frame)
        cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _sim_frame")  # noqa: S608 - fixed names
        cur.unregister("_sim_frame")


def _tickets_chunk(
    rng: np.random.Generator,
    comp: pd.DataFrame,
    counts: np.ndarray,
    periods: list[pd.Period],
    repeat_p: np.ndarray,
    unresolved_p: np.ndarray,
    dissat_p: np.ndarray,
    offset: int,
    seed: int,
    end_ts: pd.Timestamp,
    batch_id: int,
    with_text: bool,
) -> pd.DataFrame:
    n_c, n_m = counts.shape
    flat = counts.ravel()
    total = int(flat.sum())
    c_idx = np.repeat(np.repeat(np.arange(n_c), n_m), flat)
    m_idx = np.repeat(np.tile(np.arange(n_m), n_c), flat)
    month_start = np.array([p.to_timestamp().value for p in periods], dtype=np.int64)
    month_len = np.array(
        [(p + 1).to_timestamp().value - p.to_timestamp().value for p in periods], dtype=np.int64
    )
    created = month_start[m_idx] + (rng.random(total) * month_len[m_idx]).astype(np.int64)
    created = (created // 1_000_000_000) * 1_000_000_000  # whole seconds
    order = np.lexsort((created, c_idx))
    c_idx, m_idx, created = c_idx[order], m_idx[order], created[order]

    # category by month of year (heating only Nov-Mar)
    weights = np.array(
        [
            [0.0 if (heat and p.month not in (11, 12, 1, 2, 3)) else w for _, w, heat, _ in CATEGORIES]
            for p in periods
        ]
    )
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    cat = (rng.random(total)[:, None] > cum[m_idx]).sum(axis=1)
    cat = np.minimum(cat, len(CATEGORIES) - 1)
    phrase = rng.integers(0, 3, total)
    building = rng.integers(1, 21, total)

    # repeat calls: a repeat ticket copies caller, category and text of the compound's previous root
    first_of_compound = np.r_[True, c_idx[1:] != c_idx[:-1]]
    is_rep = (rng.random(total) < repeat_p[c_idx]) & ~first_of_compound
    root = np.where(is_rep, -1, np.arange(total))
    root = np.maximum.accumulate(root)
    cat, phrase, building = cat[root], phrase[root], building[root]
    global_idx = offset + np.arange(total)
    caller = np.char.add(f"s{seed}h", (offset + root).astype(str))

    closed_delay = rng.exponential(MEAN_DAYS_TO_CLOSE * 86400, total).astype(np.int64) * 1_000_000_000
    closed = created + closed_delay
    still_open = (closed >= end_ts.value) | (rng.random(total) < 0.01)
    due = created + DUE_DAYS * 86400 * 1_000_000_000
    resolved = np.where(still_open, None, rng.random(total) >= unresolved_p[c_idx]).astype(object)
    asked = ~still_open & (rng.random(total) < SATISFACTION_ASKED)
    sat = rng.random(total) >= dissat_p[c_idx]
    satisfied = np.where(asked, sat, None).astype(object)
    label = np.where(asked, np.where(sat, "满意", "不满意"), None).astype(object)
    cat_names = np.array([c[0] for c in CATEGORIES], dtype=object)

    frame = pd.DataFrame(
        {
            "ticket_id": np.char.add(f"S{seed}-", np.char.zfill(global_idx.astype(str), 8)),
            "created_at": pd.to_datetime(created),
            "closed_at": pd.to_datetime(closed),
            "due_at": pd.to_datetime(due),
            "category": cat_names[cat],
            "category_raw": cat_names[cat],
            "category_source": "given",
            "compound_id": comp["compound_id"].to_numpy()[c_idx],
            "match_method": "id",
            "match_score": 1.0,
            "caller_hash": caller,
            "satisfaction": label,
            "satisfied": satisfied,
            "resolved": resolved,
            "status": np.where(still_open, "办理中", "已办结"),
            "is_valid": rng.random(total) < VALID_SHARE,
            "reopened": rng.random(total) < REOPEN_SHARE,
            "batch_id": batch_id,
        }
    )
    frame.loc[still_open, "closed_at"] = pd.NaT
    if with_text:
        names = comp["name"].to_numpy()[c_idx]
        phrases = np.array([[p for p in c[3]] for c in CATEGORIES], dtype=object)[cat, phrase]
        frame["content"] = [f"{a}{b}号楼{c}" for a, b, c in zip(names, building, phrases, strict=True)]
        frame["title"] = cat_names[cat]
        frame["address"] = [f"兰山区{a}{b}号楼" for a, b in zip(names, building, strict=True)]
    return frame


def _write_registry(
    con: duckdb.DuckDBPyConnection,
    comp: pd.DataFrame,
    rng: np.random.Generator,
    base_rate: np.ndarray,
    periods: list[pd.Period],
) -> None:
    communities = comp[["community", "subdistrict"]].drop_duplicates("community")
    subs = pd.DataFrame({"subdistrict": sorted(comp["subdistrict"].unique())})
    # star ratings fall with the compound's complaint rate (noisy): 5 stars = best
    halves = sorted({f"{p.year}H{1 if p.month <= 6 else 2}" for p in periods})
    z = (np.log(base_rate) - np.log(base_rate).mean()) / np.log(base_rate).std()
    ratings = []
    for half in halves:
        stars = np.clip(np.round(3 - 0.8 * z + rng.normal(0, 0.8, len(comp))), 1, 5).astype(int)
        ratings.append(pd.DataFrame({"compound_id": comp["compound_id"], "period": half, "stars": stars}))
    quarters = sorted({f"{p.year}Q{(p.month - 1) // 3 + 1}" for p in periods})
    companies = sorted(comp["property_company"].dropna().unique())
    evals = []
    for q in quarters:
        score = rng.normal(80, 8, len(companies))
        lst = np.where(score >= 92, "红榜", np.where(score <= 68, "黑榜", None))
        evals.append(pd.DataFrame({"company": companies, "quarter": q, "score": score, "list": lst}))
    _insert(con, "subdistricts", subs)
    _insert(con, "communities", communities)
    _insert(con, "compounds", comp)
    aliases = pd.DataFrame({"alias": comp["name"], "compound_id": comp["compound_id"], "source": "demo"})
    _insert(con, "compound_aliases", aliases)
    _insert(con, "compound_ratings", pd.concat(ratings, ignore_index=True))
    if companies:
        _insert(con, "property_evaluations", pd.concat(evals, ignore_index=True))
