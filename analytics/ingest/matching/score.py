"""Scoring addresses against the registry: rapidfuzz on the stems (element-wise `cpdist`), plus
agreement of the generic word, the phase and the subdistrict / community; the best compound's
similarity, lowered when a second compound is nearly as good; and the threshold at which a
match is accepted, chosen on a precision-coverage curve.

A registry stem contained in a longer address stem counts PARTIAL_WEIGHT x partial_ratio, except
when the registry stem ends in a road word, or when the address is nothing but road text (a road,
a house number on it, a crossing: `normalise.names_road_only`), whose stems are the road's; and
the typed generic word right after the contained stem is the address's kind of place. Scores are
float64 rounded to 4 decimals, so a stored score is >= ACCEPT_THRESHOLD exactly when accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from analytics.ingest.matching.index import N_REVIEW_CANDIDATES, Registry, _code, _neighbours
from analytics.ingest.matching.normalise import (
    MIN_STEM,
    TYPED_GENERICS,
    ParsedAddress,
    _parse_found,
    name_parts,
    names_road_only,
    normalise_many,
    split_generic,
)

# Chosen on the simulated precision-coverage curve (tests/unit/ingest/test_matching.py prints
# it): ~1,200 noisy addresses for ~300 synthetic names plus distractors. `choose_threshold` at
# 98% precision picks 0.88 there: precision 0.999, coverage 0.918; at 0.84 precision falls to
# 0.955 (addresses more specific than the registry, e.g. 阳光家园 for 阳光小区, sit at 0.85).
ACCEPT_THRESHOLD = 0.88
TARGET_PRECISION = 0.98
# below this even the best candidate is not worth an analyst's look: status unmatched
REVIEW_FLOOR = 0.45


# a registry stem contained in a longer address core (road or landmark text around it) is good
# evidence but not as good as an equal stem
PARTIAL_WEIGHT = 0.92
# score adjustments (similarities are 0..1)
GENERIC_NEUTRAL_PENALTY = 0.04  # 阳光 for 阳光花园: a dropped generic word
# 阳光小区 for 阳光花园: a vague generic word said outright; 紫金小区 prefers a registered 紫金小区
# to 紫金苑 by this much (chosen on generator A of analytics.synthetic.hard_addresses, seeds 0-9)
GENERIC_VAGUE_PENALTY = 0.10
# 阳光家园 for a registry entry 阳光小区: the address is more specific than the registry, and may
# name another place that is not registered: an analyst should look
GENERIC_MORE_SPECIFIC_PENALTY = 0.15
GENERIC_CONFLICT_PENALTY = 0.35  # 阳光家园 for 阳光花园: another kind of place
PHASE_CONFLICT_PENALTY = 0.30  # 二期 named, registry entry is 一期
# one side names a phase, the other does not: 万科雅居3期 fits 万科雅居 less well than 万科雅居3期,
# and 万科雅居 fits the entry without a phase best (still accepted when it is the only entry)
PHASE_MISSING_PENALTY = 0.05
ADMIN_AGREE_BONUS = 0.03  # address names the compound's own subdistrict / community
SUBDISTRICT_CONFLICT_PENALTY = 0.30
COMMUNITY_CONFLICT_PENALTY = 0.20
# a runner-up compound within GAP_REF of the best lowers the score by the shortfall
GAP_REF = 0.15


# generic-word tokens: a typed word itself, NEUTRAL_TOKEN for 小区 and the like said outright,
# NO_GENERIC when the text has none. 龙湾 (nothing said) fits 龙湾小区 no better than 龙湾城.
NEUTRAL_TOKEN = "~"
NO_GENERIC = ""
VAGUE_TOKENS = (NEUTRAL_TOKEN, NO_GENERIC)
# a registry stem ending in a road word (北京路小区): the address must name more than the road
ROAD_END = re.compile(r"(?:路|街|大道|大街|巷)$")
ROAD_ONLY_PENALTY = 0.30
NUMBER = re.compile(r"\d+")
NUMBER_CONFLICT_PENALTY = 0.30
# a registry name (at least this long) that opens a longer address core counts this much
MIN_PREFIX_NAME = 3
PREFIX_NAME_WEIGHT = 0.97


def generic_tokens(cores: Sequence[str], split: Sequence[tuple[str, str]]) -> np.ndarray:
    """The generic-word token of each core given its (stem, generic) split."""
    return np.array(
        [
            g or (NEUTRAL_TOKEN if len(core) > len(stem) else NO_GENERIC)
            for core, (stem, g) in zip(cores, split, strict=True)
        ],
        dtype=object,
    )


# a typed generic word, longest first (花园 before 园)
TYPED_WORD = re.compile("|".join(sorted(TYPED_GENERICS, key=len, reverse=True)))


def _generic_after(core: str, stem: str) -> str | None:
    """The typed generic word right after the first `stem` in `core`, if any."""
    at = core.find(stem)
    m = TYPED_WORD.match(core, at + len(stem)) if at >= 0 else None
    return m.group(0) if m else None


RESULT_COLUMNS = ["address", "compound_id", "match_score", "match_method", "status", "candidates"]


def score_addresses(reg: Registry, addresses: Sequence[str]) -> pd.DataFrame:
    """Match distinct addresses: one row each with RESULT_COLUMNS (no store access).

    Each distinct name part is parsed once, and each distinct parse (core, phase, subdistrict,
    community) is scored once: an export's many distinct addresses come down to far fewer parses."""
    n = len(addresses)
    out = pd.DataFrame(
        {
            "address": list(addresses),
            "compound_id": None,
            "match_score": np.nan,
            "match_method": None,
            "status": "unmatched",
            "candidates": "[]",
        }
    )
    if n == 0 or reg.matrix is None:
        return out
    # index of each distinct name part, then of each distinct parse of those
    head_index: dict[tuple[str, str | None, str | None], int] = {}
    head_of = np.fromiter(
        (head_index.setdefault(h, len(head_index)) for h in name_parts(normalise_many(addresses), reg.admin)),
        np.int64,
        n,
    )
    parse_index: dict[ParsedAddress, int] = {}
    key_of_head = np.empty(len(head_index), dtype=np.int64)
    for (head, subdistrict, community), i in head_index.items():
        key_of_head[i] = parse_index.setdefault(_parse_found(head, subdistrict, community), len(parse_index))
    scored = _score_parsed(reg, list(parse_index))
    per_address = scored.iloc[key_of_head[head_of]].reset_index(drop=True)
    for col in RESULT_COLUMNS:
        if col != "address":
            out[col] = per_address[col].to_numpy()
    return out


def _score_parsed(reg: Registry, parsed: list[ParsedAddress]) -> pd.DataFrame:
    """RESULT_COLUMNS but the address for each distinct parsed address."""
    n = len(parsed)
    out = pd.DataFrame(
        {
            "compound_id": pd.Series([None] * n, dtype=object),
            "match_score": np.nan,
            "match_method": pd.Series([None] * n, dtype=object),
            "status": "unmatched",
            "candidates": "[]",
        }
    )
    cores = [p.core for p in parsed]
    # candidates and name similarity depend only on the core (阳光花园), which many addresses
    # share (阳光花园3号楼, 阳光花园东门 ...): compute them once per distinct core
    uniq, inverse = np.unique(np.array(cores, dtype=object), return_inverse=True)
    u_idx, k_idx = _neighbours(reg, list(uniq))
    if len(u_idx) == 0:
        return out
    keys = reg.keys
    split = [split_generic(c) for c in uniq]
    u_stem = np.array([stem for stem, _ in split], dtype=object)
    u_generic = generic_tokens(list(uniq), split)
    k_stem = keys["stem"].to_numpy(dtype=object)
    k_generic = generic_tokens(keys["core"].tolist(), list(zip(keys["stem"], keys["generic"], strict=True)))
    k_road = np.fromiter((bool(ROAD_END.search(s)) for s in k_stem), dtype=bool, count=len(k_stem))
    qs, cs = u_stem[u_idx], k_stem[k_idx]
    # float64: rapidfuzz gives float32, in which a score of 0.88 is accepted at the threshold yet
    # reads as 0.8799999952 once stored, and every later comparison with the threshold disagrees
    base = cpdist(list(qs), list(cs), scorer=fuzz.ratio, workers=-1, dtype=np.float64) / 100.0
    q_len = np.fromiter((len(s) for s in qs), dtype=np.int64, count=len(qs))
    c_len = np.fromiter((len(s) for s in cs), dtype=np.int64, count=len(cs))
    # a road's name inside a longer address is where the place is, not which compound it is;
    # and an address that is only road text (新华路100号) names a place on the road, whatever
    # compound shares the road's stem (新华府): neither earns credit for containing a stem
    u_road_only = np.fromiter((names_road_only(c) for c in uniq), dtype=bool, count=len(uniq))
    longer = np.flatnonzero((q_len > c_len) & (c_len >= MIN_STEM) & ~k_road[k_idx] & ~u_road_only[u_idx])
    if len(longer):
        part = (
            cpdist(
                list(cs[longer]), list(qs[longer]), scorer=fuzz.partial_ratio, workers=-1, dtype=np.float64
            )
            / 100.0
        )
        base[longer] = np.maximum(base[longer], part * PARTIAL_WEIGHT)
    qg, cg = u_generic[u_idx], k_generic[k_idx]
    # the kind of place said right after a contained stem is the address's kind of place, however
    # the text goes on (东湖花园化粪池堵塞 is a 花园, not 东湖华庭)
    for i in longer[np.isin(qg[longer], VAGUE_TOKENS)]:
        after = _generic_after(qs[i], cs[i])
        if after:
            qg[i] = after
    q_vague, c_vague = np.isin(qg, VAGUE_TOKENS), np.isin(cg, VAGUE_TOKENS)
    # the whole registry name, kind of place included, opens a longer address core: what
    # follows is a spot the suffix rules do not know (绿地花园地下停车场 -> 绿地花园地下)
    k_core = keys["core"].to_numpy(dtype=object)
    opens = np.fromiter(
        (
            len(c) >= MIN_PREFIX_NAME and len(q) > len(c) and q.startswith(c)
            for q, c in zip(uniq[u_idx], k_core[k_idx], strict=True)
        ),
        dtype=bool,
        count=len(u_idx),
    ) & ((cg != NO_GENERIC) | np.fromiter((bool(NUMBER.search(c)) for c in k_core[k_idx]), bool, len(k_idx)))
    base = np.where(opens, np.maximum(base, PREFIX_NAME_WEIGHT), base)
    qg = np.where(opens, cg, qg)
    base -= np.select(
        [qg == cg, qg == NO_GENERIC, q_vague, c_vague],
        [0.0, GENERIC_NEUTRAL_PENALTY, GENERIC_VAGUE_PENALTY, GENERIC_MORE_SPECIFIC_PENALTY],
        GENERIC_CONFLICT_PENALTY,
    )
    # 北京路16号院 is not 北京路216号: a number in the registry name must be in the address
    q_numbers = [frozenset(NUMBER.findall(c)) for c in uniq]
    k_numbers = [frozenset(NUMBER.findall(c)) for c in keys["core"]]
    numbered = np.flatnonzero(np.fromiter((bool(k_numbers[k]) for k in k_idx), dtype=bool, count=len(k_idx)))
    missing = np.fromiter(
        (not k_numbers[k_idx[i]] <= q_numbers[u_idx[i]] for i in numbered), dtype=bool, count=len(numbered)
    )
    base[numbered[missing]] -= NUMBER_CONFLICT_PENALTY
    # 北京路 alone names a road, not the compound 北京路小区 named after it
    base -= np.where(k_road[k_idx] & (qg == NO_GENERIC), ROAD_ONLY_PENALTY, 0.0)
    exact_u = (qs == cs) & (qg == cg)
    # expand: address i gets the candidate rows of its core (u_idx is sorted by construction)
    first = np.searchsorted(u_idx, np.arange(len(uniq)))
    count = np.bincount(u_idx, minlength=len(uniq))[inverse]
    a_idx = np.repeat(np.arange(n), count)
    offset = np.arange(len(a_idx)) - np.repeat(np.cumsum(count) - count, count)
    rows = np.repeat(first[inverse], count) + offset
    k_idx, sim, exact = k_idx[rows], base[rows], exact_u[rows]
    a_phase = np.array([p.phase for p in parsed], dtype=np.int64)
    a_sub = _code((p.subdistrict for p in parsed), reg.sub_codes)
    a_com = _code((p.community for p in parsed), reg.com_codes)
    qp, cp = a_phase[a_idx], keys["phase"].to_numpy()[k_idx]
    # an address naming neither phase nor kind of place (书香3号楼) fits 书香府一期 as well as
    # 书香公寓: the missing phase is no evidence against the phased entry
    q_typed = ~np.isin(u_generic[inverse][a_idx], VAGUE_TOKENS)
    sim -= np.where(
        (qp > 0) & (cp > 0) & (qp != cp),
        PHASE_CONFLICT_PENALTY,
        np.where((qp > 0) & (cp == 0) | (qp == 0) & (cp > 0) & q_typed, PHASE_MISSING_PENALTY, 0.0),
    )
    for a_code, k_code, penalty in (
        (a_sub, keys["sub_code"].to_numpy(), SUBDISTRICT_CONFLICT_PENALTY),
        (a_com, keys["com_code"].to_numpy(), COMMUNITY_CONFLICT_PENALTY),
    ):
        qa, ca = a_code[a_idx], k_code[k_idx]
        known = (qa >= 0) & (ca >= 0)
        sim += np.where(known & (qa == ca), ADMIN_AGREE_BONUS, np.where(known, -penalty, 0.0))
    # not clipped yet: an admin bonus above 1 still separates 天泽小区 from 天泽嘉园

    pairs = pd.DataFrame(
        {
            "a": a_idx,
            "compound_id": keys["compound_id"].to_numpy()[k_idx],
            "kind": keys["kind"].to_numpy()[k_idx],
            "exact": exact,
            "sim": sim,
        }
    )
    # best key per (address, compound), then compounds ranked per address
    pairs = pairs.sort_values(["a", "sim", "exact"], ascending=[True, False, False], kind="stable")
    pairs = pairs.drop_duplicates(["a", "compound_id"])
    pairs["rank"] = pairs.groupby("a").cumcount()
    top = pairs[pairs["rank"] < N_REVIEW_CANDIDATES]
    best = top[top["rank"] == 0].set_index("a")
    second = top[top["rank"] == 1].set_index("a")["sim"].reindex(best.index).fillna(0.0)
    gap = best["sim"] - second
    score = (best["sim"].clip(upper=1.0) - np.maximum(0.0, GAP_REF - gap)).clip(lower=0.0).round(4)

    idx = best.index.to_numpy()
    accepted = score.to_numpy() >= ACCEPT_THRESHOLD
    method = np.where(
        best["exact"].to_numpy() & (best["sim"].to_numpy() >= 1.0), best["kind"].to_numpy(), "fuzzy"
    )
    out.loc[idx, "match_score"] = score.to_numpy()
    out.loc[idx, "status"] = np.where(
        accepted,
        "auto",
        np.where(best["sim"].to_numpy().clip(0.0, 1.0) >= REVIEW_FLOOR, "review", "unmatched"),
    )
    out.loc[idx[accepted], "compound_id"] = best["compound_id"].to_numpy()[accepted]
    out.loc[idx[accepted], "match_method"] = method[accepted]
    names = reg.compound_names
    listed: dict[int, list[dict[str, object]]] = {}
    for a, c, sc in zip(
        top["a"].tolist(),
        top["compound_id"].tolist(),
        top["sim"].clip(0.0, 1.0).round(4).tolist(),
        strict=True,
    ):
        listed.setdefault(a, []).append({"compound_id": c, "name": names.get(c), "score": sc})
    candidates = out["candidates"].to_numpy(dtype=object)
    candidates[list(listed)] = [json.dumps(v, ensure_ascii=False) for v in listed.values()]
    out["candidates"] = candidates
    return out


def choose_threshold(
    scores: Sequence[float], correct: Sequence[bool], target_precision: float = TARGET_PRECISION
) -> float:
    """Lowest score threshold whose accepted set (score >= threshold) is at least
    `target_precision` correct, i.e. the largest coverage at that precision.

    `correct[i]` says whether the top candidate of case i is the right compound (False for
    addresses of places not in the registry). Returns a value above every score when no
    threshold reaches the target.
    """
    s = np.asarray(scores, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    keep = ~np.isnan(s)
    s, ok = s[keep], ok[keep]
    if len(s) == 0:
        return 1.0
    order = np.argsort(-s, kind="stable")
    s, ok = s[order], ok[order]
    precision = np.cumsum(ok) / np.arange(1, len(s) + 1)
    # a threshold can only sit at a distinct score: look at the last position of each tie run
    last_of_run = np.append(s[1:] != s[:-1], True)
    good = np.flatnonzero(last_of_run & (precision >= target_precision))
    if len(good) == 0:
        return float(np.nextafter(s[0], np.inf))
    return float(s[good[-1]])


def precision_coverage(
    scores: Sequence[float], correct: Sequence[bool], in_registry: Sequence[bool], threshold: float
) -> tuple[float, float]:
    """(precision of accepted matches, share of in-registry addresses correctly accepted)."""
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=-1.0)
    ok = np.asarray(correct, dtype=bool)
    reg = np.asarray(in_registry, dtype=bool)
    accepted = s >= threshold
    precision = float(ok[accepted].mean()) if accepted.any() else 1.0
    coverage = float((accepted & ok & reg).sum() / max(reg.sum(), 1))
    return precision, coverage
