"""Compound mentions in free text (title + content), for tickets whose address names no compound.

Method:

1. Each text is cut into clauses at punctuation and white space, and each clause is normalised
   like an address (`normalise_many`: full-width -> half-width, Chinese numerals -> digits).
2. Candidate spans come from one regular expression per registry, built once as a character
   trie (so matching is linear in the text): every registry name and alias core of at least
   MIN_CORE characters (阳光花园, 沂蒙路88号院), and every stem of at least MIN_STEM characters
   *only when a building number, a gate or a generic word follows it* (翠华3号楼, 翠华东门,
   翠华小区). A bare generic word (小区) is never a pattern, and a stem that is an everyday word
   (幸福, 阳光) never matches on its own: 希望幸福生活 names no compound.
3. Each span is scored exactly as an address (`score.score_addresses`), on the span plus what
   follows it in its clause (up to TAIL_CHARS characters: the building number, a phase), with
   the subdistrict and community the whole text names put in front, so the generic-word, phase,
   number and admin agreement rules and the ambiguity gap all apply.
4. A text's answer is its best-scoring span. When two spans of one text are accepted for
   different compounds the text goes to review with both.

`combine(address_rows, content_rows)` merges a ticket's address match and its content match:
the address wins when it is accepted; when both are accepted and disagree, the content match is
taken only if its score beats the address's by CONTENT_OVERRIDE_MARGIN, otherwise the ticket goes
to review with both candidates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from analytics.ingest.matching.index import Registry
from analytics.ingest.matching.normalise import GENERIC_WORDS, MIN_STEM, normalise_many
from analytics.ingest.matching.score import ACCEPT_THRESHOLD, REVIEW_FLOOR, score_addresses

MIN_CORE = 3  # a whole name shorter than this only counts like a stem
TAIL_CHARS = 12  # characters of the clause after a span that are scored with it
# what must follow a bare stem for it to count: a number, a gate, a generic word
STEM_FOLLOWERS = (
    r"(?=\d|[东南西北]门|[东南西北]大门|门口|地下车库|车库|停车场|底商|沿街|商铺|"
    + "|".join(sorted(GENERIC_WORDS, key=len, reverse=True))
    + ")"
)
CLAUSE_BREAK = re.compile(r"[^0-9A-Za-z\u3400-\u9fff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
# an address match is kept over a disagreeing content match unless the content one scores this
# much higher (chosen on generator A of analytics.synthetic.hard_addresses, seeds 0-9)
CONTENT_OVERRIDE_MARGIN = 0.08
CONTENT_COLUMNS = ["text_index", "compound_id", "match_score", "match_method", "status", "candidates"]
COMBINED_COLUMNS = ["compound_id", "match_score", "match_method", "status", "candidates", "source"]


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex alternation of `words` as a character trie, longest match preferred."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return build(trie)


class MentionFinder:
    """The span patterns of one registry, built once."""

    def __init__(self, reg: Registry) -> None:
        keys = reg.keys
        cores = {c for c in keys["core"] if len(c) >= MIN_CORE and c not in GENERIC_WORDS}
        stems = {s for s in keys["stem"] if len(s) >= MIN_STEM and s not in GENERIC_WORDS}
        parts = []
        if cores:
            parts.append(_trie_pattern(sorted(cores)))
        if stems:
            parts.append("(?:" + _trie_pattern(sorted(stems)) + ")" + STEM_FOLLOWERS)
        self.pattern = re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None
        self.admin = reg.admin

    def spans(self, clauses: list[str]) -> list[tuple[int, int, int]]:
        """(clause index, start, end) of every span, leftmost-longest, non-overlapping."""
        if self.pattern is None or not clauses:
            return []
        joined = "\n".join(clauses)
        starts = np.cumsum([0] + [len(c) + 1 for c in clauses[:-1]])
        found = [m.span() for m in self.pattern.finditer(joined) if m.end() > m.start()]
        if not found:
            return []
        at = np.array(found, dtype=np.int64)
        i = np.searchsorted(starts, at[:, 0], side="right") - 1
        base = starts[i]
        return list(zip(i.tolist(), (at[:, 0] - base).tolist(), (at[:, 1] - base).tolist(), strict=True))


_FINDERS: dict[int, tuple[Registry, MentionFinder]] = {}


def _finder(reg: Registry) -> MentionFinder:
    """The registry's MentionFinder, built on first use (the registry object is the key)."""
    cached = _FINDERS.get(id(reg))
    if cached is None or cached[0] is not reg:
        cached = (reg, MentionFinder(reg))
        _FINDERS.clear()
        _FINDERS[id(reg)] = cached
    return cached[1]


def _empty(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text_index": np.arange(n),
            "compound_id": pd.Series([None] * n, dtype=object),
            "match_score": np.nan,
            "match_method": pd.Series([None] * n, dtype=object),
            "status": "unmatched",
            "candidates": "[]",
        }
    )


def match_content(reg: Registry, texts: Sequence[str]) -> pd.DataFrame:
    """One row per text: text_index, compound_id (None unless accepted), match_score,
    match_method ('content' when accepted), status (auto / review / unmatched), candidates
    (JSON list of {compound_id, name, score}, as for addresses)."""
    n = len(texts)
    out = _empty(n)
    if n == 0 or reg.matrix is None:
        return out
    finder = _finder(reg)
    raw = [CLAUSE_BREAK.split(str(t)) if t is not None and t == t else [] for t in texts]
    owner = np.repeat(np.arange(n), [len(r) for r in raw])
    clauses = normalise_many([c for r in raw for c in r])
    spans = finder.spans(clauses)
    if not spans:
        return out
    # the subdistrict / community a text names anywhere, put in front of each of its spans
    bounds = np.searchsorted(owner, np.arange(n + 1))  # text t's clauses: bounds[t]:bounds[t + 1]
    admin_of: dict[int, str] = {}
    snippets, span_text = [], []
    for clause, start, end in spans:
        t = int(owner[clause])
        if t not in admin_of:
            admin_of[t] = _admin_words(finder, clauses[bounds[t] : bounds[t + 1]])
        snippets.append(admin_of[t] + clauses[clause][start : end + TAIL_CHARS])
        span_text.append(t)
    scored = score_addresses(reg, snippets)
    scored["text_index"] = span_text
    _pick(out, scored)
    return out


def _admin_words(finder: MentionFinder, clauses: list[str]) -> str:
    """The registry's names of the subdistrict and community a text names (first of each)."""
    _, sub, com = finder.admin.find("".join(clauses))
    return (sub or "") + (com or "")


def _pick(out: pd.DataFrame, scored: pd.DataFrame) -> None:
    """Each text's best span into `out`; two accepted spans naming different compounds: review."""
    scored = scored.assign(s=scored["match_score"].fillna(-1.0))
    scored = scored.sort_values(["text_index", "s"], ascending=[True, False], kind="stable")
    accepted = scored[scored["status"] == "auto"]
    disputed = set(accepted.groupby("text_index")["compound_id"].nunique().loc[lambda c: c > 1].index)
    best = scored.drop_duplicates("text_index").set_index("text_index")
    idx = best.index.to_numpy()
    status = best["status"].to_numpy(dtype=object).copy()
    compound = best["compound_id"].to_numpy(dtype=object).copy()
    candidates = best["candidates"].to_numpy(dtype=object).copy()
    for j, t in enumerate(idx):
        if t in disputed:
            status[j], compound[j] = "review", None
            rows = accepted[accepted["text_index"] == t]
            listed = [json.loads(c)[0] for c in rows["candidates"]]
            candidates[j] = json.dumps(listed, ensure_ascii=False)
    out.loc[idx, "match_score"] = best["match_score"].to_numpy()
    out.loc[idx, "status"] = status
    out.loc[idx, "compound_id"] = compound
    out.loc[idx, "match_method"] = np.where(status == "auto", "content", None)
    out.loc[idx, "candidates"] = candidates


def combine(address_rows: pd.DataFrame, content_rows: pd.DataFrame) -> pd.DataFrame:
    """A ticket's address match and content match (two frames row-aligned, each with
    compound_id, match_score, match_method, status, candidates) -> one row each with
    COMBINED_COLUMNS; `source` says which match the compound came from ('address', 'content',
    or None when nothing was accepted).

    The accepted address match is kept; the content match fills in where the address has none;
    when both are accepted and disagree, the content match is taken only if it scores at least
    CONTENT_OVERRIDE_MARGIN higher, otherwise the ticket goes to review with both candidates."""
    a = address_rows.reset_index(drop=True)
    c = content_rows.reset_index(drop=True)
    a_ok = (a["status"] == "auto").to_numpy()
    c_ok = (c["status"] == "auto").to_numpy()
    a_score = a["match_score"].astype(float).fillna(0.0).to_numpy()
    c_score = c["match_score"].astype(float).fillna(0.0).to_numpy()
    differ = a_ok & c_ok & (a["compound_id"].to_numpy() != c["compound_id"].to_numpy())
    take_content = (c_ok & ~a_ok) | (differ & (c_score >= a_score + CONTENT_OVERRIDE_MARGIN))
    conflict = differ & ~take_content
    take_address = a_ok & ~take_content & ~conflict
    # nothing accepted: the address's review wins over the content's, then the content's
    a_review = (a["status"] == "review").to_numpy()
    c_review = (c["status"] == "review").to_numpy()
    show_content = take_content | (~a_ok & ~c_ok & ~a_review & c_review)
    out = pd.DataFrame(
        {
            col: np.where(show_content, c[col].to_numpy(dtype=object), a[col].to_numpy(dtype=object))
            for col in ("compound_id", "match_score", "match_method", "status", "candidates")
        }
    )
    out["source"] = np.where(take_content, "content", np.where(take_address, "address", None))
    if conflict.any():
        both = [
            json.dumps(json.loads(x)[:1] + json.loads(y)[:1], ensure_ascii=False)
            for x, y in zip(a["candidates"][conflict], c["candidates"][conflict], strict=True)
        ]
        out.loc[conflict, "compound_id"] = None
        out.loc[conflict, "match_method"] = None
        out.loc[conflict, "status"] = "review"
        out.loc[conflict, "candidates"] = both
    out["match_score"] = pd.to_numeric(out["match_score"], errors="coerce")
    return out[COMBINED_COLUMNS]


__all__ = ["ACCEPT_THRESHOLD", "REVIEW_FLOOR", "combine", "match_content"]
