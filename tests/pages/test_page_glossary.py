"""名词解释: every role opens it in both languages, the search box filters the terms, and every
statistical term the 整治成效 and 排名 pages name is explained there."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from analytics.reports.text import CATALOGUE
from tests.fixtures.apptest import build_fixture_store, errors_of, login, new_app
from tests.fixtures.page_text import CJK, problems, store_values
from ui.i18n import LANG_KEY

PAGE = "pages/glossary.py"
ROLES = ("leader1", "analyst1", "tf1", "admin1")
GROUPS = {
    "zh": ["热线指标", "排名", "整治成效", "数据与隐私"],
    "en": ["Hotline measures", "Ranking", "Effects", "Data and privacy"],
}
# terms the effects and ranking pages use, in Chinese and English: when a page names one, the
# glossary must hold an entry whose heading names it too
VOCABULARY = (
    ("安慰剂", "placebo"),
    ("反事实", "counterfactual"),
    ("事件研究", "event study"),
    ("外溢", "spillover"),
    ("转移", "displacement"),
    ("均值回归", "regression to the mean"),
    ("q 值", "q value"),
    ("Benjamini-Hochberg", "Benjamini-Hochberg"),
    ("区间", "interval"),
    ("调整后效应", "adjusted effect"),
    ("简单同比", "naive"),
    ("对照", "comparison compounds"),
    ("分类别效应", "by category"),
    ("漏斗图", "funnel"),
    ("同类", "peer"),
    ("稳定性", "stability"),
    ("收缩", "shrinkage"),
    ("后验", "posterior"),
    ("进入前N名概率", "top N"),
    ("综合得分", "composite score"),
    ("快照", "snapshot"),
    ("每避免一件工单的费用", "cost per avoided complaint"),
    ("专班", "task force"),
    ("预期", "expected"),
)
HEADING = re.compile(r"^\*\*(.+?)\*\*")


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return build_fixture_store(tmp_path_factory.mktemp("glossary"))


@pytest.fixture(scope="module")
def data(fixture) -> list[str]:
    return store_values(fixture.path)


def open_glossary(fixture, monkeypatch, username: str, lang: str = "zh", query: str | None = None) -> AppTest:
    monkeypatch.setenv("HOTLINE_DB", str(fixture.path))
    at = login(new_app(), username)
    at.toggle(key=LANG_KEY).set_value(lang == "en").run()
    if query is not None:
        at.query_params["gl_q"] = query
    return at.switch_page(PAGE).run()


def headings(at: AppTest) -> list[str]:
    """The terms shown, as the reader sees them (Markdown escapes taken out)."""
    found = (HEADING.match(m.value) for m in at.main.markdown)
    return [re.sub(r"\\(.)", r"\1", h.group(1)) for h in found if h]


def search(at: AppTest, query: str) -> AppTest:
    return at.text_input(key="gl_q").input(query).run()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("username", ROLES)
def test_every_role_reads_the_glossary_in_both_languages(fixture, data, monkeypatch, username, lang):
    at = open_glossary(fixture, monkeypatch, username, lang)
    assert errors_of(at) == []
    assert at.title[0].value == ("名词解释" if lang == "zh" else "Glossary")
    assert [s.value for s in at.main.subheader] == GROUPS[lang]
    shown = headings(at)
    terms = [zh if lang == "zh" else en for key, (zh, en) in CATALOGUE.items() if key.startswith("gl_term_")]
    assert sorted(shown) == sorted(terms) and len(shown) >= 40
    assert problems(at, lang, data) == []
    if lang == "en":
        assert not any(CJK.search(m.value) for m in at.main.markdown)


@pytest.mark.parametrize(
    ("lang", "query", "expected"),
    [
        ("zh", "安慰剂", ["安慰剂检验"]),
        ("zh", "placebo", ["安慰剂检验"]),  # English words find the Chinese entry too
        ("zh", "q值", ["异常上升预警", "q 值"]),  # spaces do not matter
        ("zh", "Benjamini", ["异常上升预警", "Benjamini-Hochberg 方法"]),
        ("zh", "区间 名次", ["后验", "排名区间", "排名快照"]),  # every word must appear
        ("en", "interval", None),  # checked below: only entries that mention intervals
        ("en", "REGRESSION to the mean", None),
    ],
)
def test_search_filters_the_terms(fixture, monkeypatch, lang, query, expected):
    at = search(open_glossary(fixture, monkeypatch, "leader1", lang), query)
    assert errors_of(at) == []
    shown = headings(at)
    everything = len([k for k in CATALOGUE if k.startswith("gl_term_")])
    assert 0 < len(shown) < everything
    if expected is not None:
        assert shown == expected
    else:
        words = query.lower().split()
        for term in shown:
            key = next(k for k, (_, en) in CATALOGUE.items() if k.startswith("gl_term_") and en == term)
            explained = " ".join((*CATALOGUE[key], *CATALOGUE[key.replace("_term_", "_def_")])).lower()
            assert all(w in explained for w in words), term
    count = "共 {n} 条" if lang == "zh" else "{n} terms"
    assert count.format(n=len(shown)) in [c.value for c in at.main.caption]


def test_a_search_that_finds_nothing_says_so(fixture, monkeypatch):
    at = search(open_glossary(fixture, monkeypatch, "tf1"), "不存在的名词")
    assert headings(at) == [] and at.main.subheader == []
    assert [i.value for i in at.info] == ["没有找到包含“不存在的名词”的名词。"]


def test_a_link_with_a_search_opens_the_term(fixture, monkeypatch):
    """Another page links to ?gl_q=反事实 and the reader lands on that term."""
    at = open_glossary(fixture, monkeypatch, "analyst1", query="反事实")
    assert at.text_input(key="gl_q").value == "反事实"
    assert "反事实" in headings(at) and len(headings(at)) < 10


@pytest.fixture(scope="module")
def all_terms(fixture) -> dict[str, list[str]]:
    """The terms the glossary shows in each language, with no search."""
    shown = {}
    with pytest.MonkeyPatch.context() as mp:
        for lang in ("zh", "en"):
            shown[lang] = headings(open_glossary(fixture, mp, "leader1", lang))
    return shown


def named_by_the_pages() -> list[tuple[str, str]]:
    """The vocabulary the effects and ranking pages' text (ef_, rk_) names."""
    texts = [z for k, (z, _) in CATALOGUE.items() if k.startswith(("ef_", "rk_"))]
    return [(zh, en) for zh, en in VOCABULARY if any(zh in text for text in texts)]


def test_every_term_the_effects_and_ranking_pages_name_is_explained(all_terms):
    named = named_by_the_pages()
    assert len(named) >= 15, named  # the vocabulary is the pages' own
    missing = [
        (lang, word)
        for zh, en in named
        for lang, word in (("zh", zh), ("en", en))
        if not any(word.lower() in term.lower() for term in all_terms[lang])
    ]
    assert missing == []
