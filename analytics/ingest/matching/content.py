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

import itertools
import json
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from analytics.ingest.matching.index import Registry
from analytics.ingest.matching.normalise import GENERIC_WORDS, MIN_STEM, normalise_many
from analytics.ingest.matching.score import ACCEPT_THRESHOLD, REVIEW_FLOOR, score_addresses

MIN_CORE = 3  # a whole name shorter than this only counts like a stem
SPLIT_CHUNK = 50_000  # texts cut into clauses at a time (bounds memory); snippets are scored at once
TAIL_CHARS = 12  # characters of the clause after a span that are scored with it
# what must follow a bare stem for it to count: a number, a gate, a generic word
STEM_FOLLOWERS = (
    r"(?=\d|[东南西北]门|[东南西北]大门|门口|地下车库|车库|停车场|底商|沿街|商铺|"
    + "|".join(sorted(GENERIC_WORDS, key=len, reverse=True))
    + ")"
)
CLAUSE_CHARS = "0-9A-Za-z\u3400-\u9fff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
CLAUSE_BREAK = re.compile(f"[^{CLAUSE_CHARS}]+")
# between texts joined to be cut or searched at once: a clause break, so neither a clause nor a
# normalised name holds it (the record separator: numpy drops a trailing NUL when comparing)
TEXT_END = "\x1e"
# the clauses of texts joined by TEXT_END, and each TEXT_END: what CLAUSE_BREAK.split leaves but
# the empty strings (an empty clause has no span and adds nothing to the text's admin names)
CLAUSE_OR_END = re.compile(f"[{CLAUSE_CHARS}]+|{TEXT_END}")
# a building, unit or room number (3号楼, 12栋, 2单元, 401室) as the text writes it: it never
# decides which compound a text names (the name part ends before it: normalise.BUILDING_CUT), so
# the clauses 和谐湾19号楼3单元漏水 and 和谐湾2号楼1单元漏水 are matched as one (a number right after
# a road word is a house number, which can: 沂蒙路88号楼 keeps its 88)
BUILDING_NUMBER = re.compile(
    "(?<![路街巷道0-9\uff10-\uff19])[0-9\uff10-\uff19]+(?=号楼|单元|栋|幢|座|室|层|楼|户|排)"
)
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
        # every span starts with the first character of a name: the lookahead lets the regex
        # engine skip the other positions at once instead of trying the trie at each (4x faster)
        names = cores | stems
        first = "".join(sorted({w[0] for w in names}))
        guard = f"(?=[{re.escape(first)}])"
        self.pattern = (
            re.compile(guard + "(?:" + "|".join(f"(?:{p})" for p in parts) + ")") if parts else None
        )
        self.admin = reg.admin
        # no name holds a building number, so such numbers may be set aside (`_snippets`)
        self.numbers_apart = not any(BUILDING_NUMBER.search(w) for w in names)

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
    (JSON list of {compound_id, name, score}, as for addresses).

    The work is done once per distinct piece, which gives the same answers as doing it text by
    text (each step is a function of its piece alone): each distinct clause of a slice of
    SPLIT_CHUNK texts is normalised and searched for spans once (来电人反映 opens many texts), and
    each distinct snippet of all the texts is scored once, in one call."""
    n = len(texts)
    out = _empty(n)
    if n == 0 or reg.matrix is None:
        return out
    finder = _finder(reg)
    found = [_snippets(finder, texts[lo : lo + SPLIT_CHUNK], lo) for lo in range(0, n, SPLIT_CHUNK)]
    span_text = np.concatenate([t for t, _ in found])
    if not len(span_text):
        return out
    snippet_of, distinct = pd.factorize(np.concatenate([s for _, s in found]))
    _pick(out, span_text, score_addresses(reg, distinct.tolist()), snippet_of)
    return out


def _snippets(finder: MentionFinder, texts: Sequence[str], first: int) -> tuple[np.ndarray, np.ndarray]:
    """(text index, snippet) of every span of `texts` (the first is text `first`), in order: the
    span and TAIL_CHARS characters after it in its clause, normalised, behind the subdistrict and
    community the whole text names."""
    n = len(texts)
    flat, counts = _clauses(texts)
    code, uniques = pd.factorize(flat)  # each clause's distinct index, in order of appearance
    if finder.numbers_apart:
        # clauses that differ only in a building, unit or room number are one clause here
        same, uniques = pd.factorize(
            np.array([BUILDING_NUMBER.sub("1", c) for c in uniques.tolist()], dtype=object)
        )
        code = same[code]
    distinct = normalise_many(uniques.tolist())
    clause, start, end = _clause_spans(finder.spans(distinct), code)
    if not len(clause):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    owner = np.repeat(np.arange(n), counts)
    span_text = owner[clause]
    admin_of = _admin_of(finder, np.asarray(distinct, dtype=object)[code], counts, np.unique(span_text))
    snippets = np.fromiter(
        (
            admin_of.get(t, "") + distinct[u][s : e + TAIL_CHARS]
            for t, u, s, e in zip(
                span_text.tolist(), code[clause].tolist(), start.tolist(), end.tolist(), strict=True
            )
        ),
        dtype=object,
        count=len(clause),
    )
    return span_text + first, snippets


def _clauses(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The non-empty clauses of every text in order (CLAUSE_BREAK cuts them), and how many each
    text has: all the texts are cut at once, joined by TEXT_END (each on its own when a text
    holds TEXT_END itself)."""
    strings = [str(t) if t is not None and t == t else "" for t in texts]
    joined = TEXT_END.join(strings)
    if joined.count(TEXT_END) != len(strings) - 1:
        pieces = [[c for c in CLAUSE_BREAK.split(t) if c] for t in strings]
        counts = np.fromiter(map(len, pieces), np.int64, len(pieces))
        flat = np.empty(int(counts.sum()), dtype=object)
        flat[:] = list(itertools.chain.from_iterable(pieces))
        return flat, counts
    tokens = np.array(CLAUSE_OR_END.findall(joined), dtype=object)
    ends = tokens == TEXT_END
    # a clause's text is the number of TEXT_END before it
    counts = np.bincount(np.cumsum(ends)[~ends], minlength=len(strings))
    return tokens[~ends], counts


def _clause_spans(
    spans: list[tuple[int, int, int]], code: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spans of the distinct clauses (distinct index, start, end; in order) laid out on
    every clause (`code`: each clause's distinct index): clause, start and end arrays, in the
    order of the clauses and, within one, of the spans."""
    if not spans:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    at = np.array(spans, dtype=np.int64)
    count = np.bincount(at[:, 0], minlength=int(code.max()) + 1)[code]
    first = np.searchsorted(at[:, 0], code)
    clause = np.repeat(np.arange(len(code)), count)
    offset = np.arange(len(clause)) - np.repeat(np.cumsum(count) - count, count)
    rows = np.repeat(first, count) + offset
    return clause, at[rows, 1], at[rows, 2]


def _admin_of(
    finder: MentionFinder, clauses: np.ndarray, counts: np.ndarray, wanted: np.ndarray
) -> dict[int, str]:
    """{text: the registry's names of the subdistrict and community it names} for the `wanted`
    texts that name one (`_admin_words` of its clauses; the others name none). `clauses` holds
    every text's normalised clauses in order, `counts` how many each text has.

    A text can name one only where the subdistrict or community pattern matches its clauses
    joined; both are searched once over all the texts joined (TEXT_END between them, in no
    name), and `_admin_words` runs on the few texts with a match."""
    admin = finder.admin
    patterns = [p for p in (admin.sub_re, admin.com_re) if p is not None]
    forms = [*admin.sub_forms, *admin.com_forms]
    if not patterns or not len(wanted):
        return {}
    bounds = np.concatenate([[0], np.cumsum(counts)])  # text t's clauses: bounds[t]:bounds[t + 1]
    if any(TEXT_END in f for f in forms):  # never for normalised names: kept for safety
        named = wanted.tolist()
    else:
        lengths = np.fromiter(map(len, clauses), np.int64, len(clauses))
        # where text t starts in the joined string: its clauses' characters and one separator
        # before each text but the first
        starts = np.concatenate([[0], np.cumsum(lengths)])[bounds[:-1]] + np.arange(len(counts))
        pieces = np.insert(clauses, bounds[1:-1], TEXT_END)
        joined = "".join(pieces.tolist())
        named = sorted(admin.named_in(joined, starts).intersection(wanted.tolist()))
    return {t: _admin_words(finder, clauses[bounds[t] : bounds[t + 1]].tolist()) for t in named}


def _admin_words(finder: MentionFinder, clauses: list[str]) -> str:
    """The registry's names of the subdistrict and community a text names (first of each)."""
    _, sub, com = finder.admin.find("".join(clauses))
    return (sub or "") + (com or "")


def _pick(out: pd.DataFrame, span_text: np.ndarray, scored: pd.DataFrame, snippet_of: np.ndarray) -> None:
    """Each text's best span into `out`; two accepted spans naming different compounds: review.
    Span i is of text span_text[i] and scored in row snippet_of[i] of `scored`; a text's best
    span is its first by score (NaN last), the earlier span among equals."""
    score = scored["match_score"].to_numpy(dtype=float)[snippet_of]
    status = scored["status"].to_numpy(dtype=object)[snippet_of]
    compound = scored["compound_id"].to_numpy(dtype=object)[snippet_of]
    listed = scored["candidates"].to_numpy(dtype=object)[snippet_of]
    # by text, then score down; np.lexsort is stable, so equals keep the order of their spans
    order = np.lexsort((-np.where(np.isnan(score), -1.0, score), span_text))
    text = span_text[order]
    best = order[np.r_[True, text[1:] != text[:-1]]]
    accepted = order[status[order] == "auto"]  # in the same order
    named = pd.DataFrame({"t": span_text[accepted], "c": compound[accepted]}).dropna().drop_duplicates()
    per_text = named["t"].value_counts()
    disputed = np.sort(per_text.index[per_text > 1].to_numpy())
    idx = span_text[best]
    best_status, best_compound, best_listed = status[best], compound[best], listed[best]
    if len(disputed):
        at = np.searchsorted(idx, disputed)
        best_status[at], best_compound[at] = "review", None
        for j, t in zip(at.tolist(), disputed.tolist(), strict=True):
            rows = accepted[span_text[accepted] == t]
            best_listed[j] = json.dumps([json.loads(c)[0] for c in listed[rows]], ensure_ascii=False)
    out.loc[idx, "match_score"] = score[best]
    out.loc[idx, "status"] = best_status
    out.loc[idx, "compound_id"] = best_compound
    out.loc[idx, "match_method"] = np.where(best_status == "auto", "content", None)
    out.loc[idx, "candidates"] = best_listed


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
