"""The compound registry: subdistricts, communities, compounds, property companies, aliases.

The demo district has 4 subdistricts, 102 communities and 1,105 compounds (446 new, 659 old),
about 120 property companies and coordinates around each subdistrict's centre. Compound types
and households follow the compound's age; a few names are deliberately identical in different
subdistricts, and about a third of the compounds have phase or zone aliases. Simulated districts
(`sim_compounds`) and in-memory panels (`panel_*`) use plainer registries of any size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.synthetic.names import (
    COMMUNITY_WORDS,
    COMPANY_PLACES,
    COMPANY_WORDS,
    NAME_FIRSTS,
    NAME_SUFFIXES,
    SIM_NAME_HEADS,
    SIM_NAME_TAILS,
    UNIT_SUFFIXES,
    UNITS,
    VILLAGE_SUFFIXES,
    VILLAGES,
)

SUBDISTRICTS: tuple[str, ...] = ("兰山街道", "银雀山街道", "金雀山街道", "柳青街道")
COMMUNITIES_PER_SUBDISTRICT = (28, 24, 24, 26)  # 102 communities
N_COMMUNITIES = sum(COMMUNITIES_PER_SUBDISTRICT)
N_COMPOUNDS = 1105
N_NEW = 446
N_OLD = N_COMPOUNDS - N_NEW  # 659
MIN_COMPOUNDS_PER_COMMUNITY = 3
N_PROPERTY_COMPANIES = 120
NO_PROPERTY_SHARE_OLD = 0.15  # old compounds without a property company
N_DUPLICATE_NAMES = 5  # deliberately identical names in different subdistricts
ALIAS_SHARE = 0.3
PHASES = ("一期", "二期", "三期")
ZONES = ("东区", "西区", "南区", "北区")
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
OLD_BUILT = (1975, 1999)  # old = built before analytics.ingest.registry.values.OLD_BEFORE_YEAR (2000)
NEW_BUILT = (2000, 2020)

# simulated districts: communities in proportion to the demo district's, assigned to the
# subdistricts in turn (in this order), one type mix for all, numbered property companies
SIM_SUBDISTRICTS = tuple(SUBDISTRICTS[k] for k in (2, 0, 1, 3))
SIM_N_PROPERTY_COMPANIES = 150
SIM_TYPE_SHARES = (0.5, 0.2, 0.2, 0.1)

# in-memory panels: compounds numbered in communities of this size
PANEL_COMPOUNDS_PER_COMMUNITY = 11


# --- the demo district ---------------------------------------------------------------------------


def communities(rng: np.random.Generator) -> pd.DataFrame:
    words = rng.permutation(np.array(COMMUNITY_WORDS))
    names = [f"{w}社区" for w in dict.fromkeys(words)][: sum(COMMUNITIES_PER_SUBDISTRICT)]
    subs = np.repeat(SUBDISTRICTS, COMMUNITIES_PER_SUBDISTRICT)
    return pd.DataFrame({"community": names, "subdistrict": subs})


def property_companies(rng: np.random.Generator) -> list[str]:
    companies = list(
        rng.choice(
            [p + w for p in COMPANY_PLACES for w in COMPANY_WORDS], N_PROPERTY_COMPANIES, replace=False
        )
    )
    return [f"{c}物业服务有限公司" for c in companies]


def name_pools(rng: np.random.Generator) -> dict[str, list[str]]:
    commercial = [f + s for f in NAME_FIRSTS for s in NAME_SUFFIXES]
    unit = [u + s for u in UNITS for s in UNIT_SUFFIXES]
    village = [v + s for v in VILLAGES for s in VILLAGE_SUFFIXES]
    return {
        "commercial": rng.permutation(commercial).tolist(),
        "unit": rng.permutation(unit).tolist(),
        "village": rng.permutation(village).tolist(),
    }


def compounds(rng: np.random.Generator, communities: pd.DataFrame, companies: list[str]) -> pd.DataFrame:
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
    pools = name_pools(rng)
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


def aliases(rng: np.random.Generator, compounds: pd.DataFrame) -> pd.DataFrame:
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


# --- simulated districts -------------------------------------------------------------------------


def sim_compounds(rng: np.random.Generator, n: int) -> pd.DataFrame:
    ids = [f"C{i + 1:05d}" for i in range(n)]
    heads = rng.integers(0, len(SIM_NAME_HEADS), n)
    tails = rng.integers(0, len(SIM_NAME_TAILS), n)
    names = [
        f"{SIM_NAME_HEADS[h]}{SIM_NAME_TAILS[t]}{i + 1}期"
        for i, (h, t) in enumerate(zip(heads, tails, strict=True))
    ]
    n_comm = max(1, round(n * N_COMMUNITIES / N_COMPOUNDS))
    community_idx = rng.integers(0, n_comm, n)
    communities = [f"第{k + 1:03d}社区" for k in range(n_comm)]
    sub_of_comm = [SIM_SUBDISTRICTS[k % len(SIM_SUBDISTRICTS)] for k in range(n_comm)]
    ctype = rng.choice(len(TYPES), size=n, p=SIM_TYPE_SHARES)
    is_old = rng.random(n) < np.where(ctype == 2, 0.8, 0.3)
    households = np.clip(np.round(rng.lognormal(np.log(450), 0.7, n)), 30, 6000).astype(int)
    companies = np.array([f"物业公司{k + 1:03d}" for k in range(SIM_N_PROPERTY_COMPANIES)], dtype=object)
    company = companies[rng.integers(0, SIM_N_PROPERTY_COMPANIES, n)]
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


# --- in-memory panels ----------------------------------------------------------------------------


def panel_compound_ids(n: int) -> list[str]:
    return [f"C{i + 1:04d}" for i in range(n)]


def panel_communities(n: int) -> list[str]:
    return [f"社区{i // PANEL_COMPOUNDS_PER_COMMUNITY + 1:03d}" for i in range(n)]


def panel_registry(compound_ids: list[str], community: list[str]) -> pd.DataFrame:
    """Compounds of an in-memory panel as registry rows (names and subdistricts by number)."""
    n = len(compound_ids)
    return pd.DataFrame(
        {
            "compound_id": compound_ids,
            "name": [f"模拟小区{i + 1:04d}" for i in range(n)],
            "community": community,
            "subdistrict": [f"街道{(i // 300) + 1}" for i in range(n)],
        }
    )
