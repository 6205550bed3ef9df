"""名词解释 Glossary: every statistical and hotline term the dashboard uses, in plain words.

The terms are grouped as a district official meets them (hotline measures, the ranking, the
effects, data and privacy); their words live in the catalogue (`gl_term_<id>`, `gl_def_<id>`).
The search box filters on the term and its explanation in both languages, so a reader may type
either; it is bound to the address (`?gl_q=安慰剂`), so another page can link straight to a term.
"""

from __future__ import annotations

import streamlit as st

from analytics.reports.text import CATALOGUE
from analytics.safe_text import markdown_literal
from ui import session
from ui.i18n import t

SEARCH_KEY = "gl_q"  # also the query parameter another page links with
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "gl_group_hotline",
        ("three_rates", "response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "valid",
         "repeat", "mom", "yoy", "per_100", "surge"),
    ),
    (
        "gl_group_ranking",
        ("score", "expected", "persistence", "shrinkage", "posterior", "p_top", "rank_interval", "funnel",
         "peers", "stability", "snapshot"),
    ),
    (
        "gl_group_effects",
        ("taskforce", "controls", "counterfactual", "rtm", "naive", "placebo", "adjusted", "net", "eb", "interval",
         "event_study", "displacement", "by_category", "q_value", "bh", "cost"),
    ),
    ("gl_group_data", ("matching", "review", "rejected", "batch", "predicted", "registry", "masking", "caller_hash")),
)  # fmt: skip


def searchable(term: str) -> str:
    """The text a search looks in: the term and its explanation in both languages, lower case."""
    words = " ".join((*CATALOGUE[f"gl_term_{term}"], *CATALOGUE[f"gl_def_{term}"])).lower()
    return words + " " + "".join(words.split())  # "q值" finds "q 值"


def matches(term: str, query: str) -> bool:
    """Every word of `query` appears in the term or its explanation (either language)."""
    haystack = searchable(term)
    return all(word in haystack for word in query.lower().split())


session.require("glossary")
st.title(t("page_glossary"))
st.caption(t("gl_intro"))

query = st.text_input(
    t("gl_search"),
    key=SEARCH_KEY,
    placeholder=t("gl_search_placeholder"),
    help=t("gl_search_help"),
    type="search",
    live=True,
    bind="query-params",
)
query = (query or "").strip()
shown = [(group, [term for term in terms if matches(term, query)]) for group, terms in GROUPS]
total = sum(len(terms) for _, terms in shown)
if total == 0:
    st.info(t("gl_no_match", q=markdown_literal(query)))
    st.stop()
st.caption(t("gl_count", n=total))

for group, terms in shown:
    if not terms:
        continue
    st.subheader(t(group))
    for term in terms:
        st.markdown(
            f"**{markdown_literal(t(f'gl_term_{term}'))}**  \n{markdown_literal(t(f'gl_def_{term}'))}"
        )
