"""Hostile data never renders as Markdown, HTML or LaTeX anywhere in the dashboard.

The store is a small simulated district whose registry is then re-imported through the real
import path with every compound, a community, a subdistrict and the property company named
with an attack payload (links, external images, emphasis, LaTeX, colour directives, HTML, a
bidi override, a table pipe, a heading); tickets uploaded through the real parser carry the
payloads in their address and category, the task forces have a hostile leader, and the
task-force head's user name is a Markdown link. Every page is opened as admin, leader,
analyst and that head; every text Streamlit renders as Markdown (bodies, headings, captions,
alerts, metric labels and values, widget labels and help, radio and segmented-control options,
tab and expander labels) must hold the payloads only in escaped form, and every plotly figure
must hold no HTML tag from the data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from google.protobuf.message import Message

from analytics.safe_text import markdown_literal, plotly_literal
from analytics.services import auth
from tests.fixtures.apptest import errors_of, login, new_app
from tests.fixtures.hostile import (
    CATEGORY,
    COMMUNITY,
    HEAD,
    MARKDOWN_FIELDS,
    MARKDOWN_OPTIONS,
    PAGES,
    PAYLOADS,
    REVIEW_ADDRESSES,
    UNESCAPED,
    USERS,
    Hostile,
    build_hostile_store,
)


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Hostile:
    return build_hostile_store(tmp_path_factory.mktemp("hostile"))


def proto_strings(message: Message, field: str = "") -> Iterator[tuple[str, str]]:
    """(field name, text) of every string field of a proto message, nested ones included."""
    for descriptor, value in message.ListFields():
        values = value if descriptor.is_repeated else [value]
        for item in values:
            if isinstance(item, Message):
                yield from proto_strings(item, descriptor.name)
            elif isinstance(item, str):
                yield descriptor.name or field, item


def nodes(node) -> Iterator:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from nodes(child)


def rendered_texts(at) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(element type, field, text) of everything rendered as Markdown, and every plotly spec."""
    markdown: list[tuple[str, str, str]] = []
    specs: list[str] = []
    for node in nodes(at._tree):  # noqa: SLF001 - the whole tree, sidebar and tabs included
        proto = getattr(node, "proto", None)
        if not isinstance(proto, Message):
            continue
        kind = getattr(node, "type", "")
        for field, text in proto_strings(proto):
            if field == "spec":
                specs.append(text)
            elif field in MARKDOWN_FIELDS or (field == "options" and kind in MARKDOWN_OPTIONS):
                markdown.append((kind, field, text))
    return markdown, specs


def json_strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def allowed_pages(username: str) -> list[str]:
    role = USERS[username]
    user = auth.User(username, role, ("C00001",) if role == "taskforce" else None)
    return [page for page in PAGES if auth.can(user, page)]


def unescaped_payloads(texts: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [(kind, field, text) for kind, field, text in texts if any(p.search(text) for p in UNESCAPED)]


def html_in_figures(specs: list[str]) -> list[str]:
    tags = re.compile(r"<\s*(?:a|img)\b|\u202e", re.IGNORECASE)
    return [s for spec in specs for s in json_strings(json.loads(spec)) if tags.search(s)]


@pytest.mark.parametrize("username", list(USERS))
def test_every_page_shows_hostile_data_literally(app, district, username: str) -> None:
    login(app, username)
    shown: dict[str, tuple[list[tuple[str, str, str]], list[str]]] = {}
    for page in allowed_pages(username):
        app.switch_page(f"pages/{page}.py")
        at = app.run()
        assert errors_of(at) == [], (page, errors_of(at))
        shown[page] = rendered_texts(at)
        assert unescaped_payloads(shown[page][0]) == [], page
        assert html_in_figures(shown[page][1]) == [], page

    def texts(page: str) -> str:
        return "\n".join(text for _, _, text in shown[page][0])

    def figures(page: str) -> str:
        return "\n".join(s for spec in shown[page][1] for s in json_strings(json.loads(spec)))

    # the payloads are on screen, escaped: the check above saw them rather than an empty page
    assert markdown_literal(username) in texts(allowed_pages(username)[0])  # sidebar: signed in as
    assert any(markdown_literal(district.names[c]) in texts("taskforces") for c in district.treated)
    assert any(markdown_literal(name) in texts("profile") for name in district.names.values())
    if "overview" in shown:
        assert plotly_literal(COMMUNITY) in figures("overview")  # the treemap
        assert plotly_literal(district.names["C00007"]) in figures("overview")
    if "ranking" in shown:
        assert plotly_literal(district.names["C00008"]) in figures("ranking")
    assert plotly_literal(CATEGORY) in figures("profile")  # the category mix
    if "effects" in shown:  # a treated compound's counterfactual
        assert any(plotly_literal(district.names[c]) in figures("effects") for c in district.treated)
    if "upload" in shown:
        assert markdown_literal(REVIEW_ADDRESSES[0]) in texts("upload")  # the address review


def test_a_hostile_compound_id_in_the_address_is_shown_literally(app, district) -> None:
    login(app, HEAD)
    app.query_params["compound"] = PAYLOADS[1]
    at = app.switch_page("pages/profile.py").run()
    assert [e.value for e in at.error] == [
        f"小区 {markdown_literal(PAYLOADS[1])} 不在您负责的范围内，无法查看。"
    ]


@pytest.mark.parametrize(("language", "message"), [(False, "用户“{}”已创建。"), (True, "User “{}” created.")])
def test_a_hostile_user_name_is_confirmed_literally(
    district, tmp_path, monkeypatch, language, message
) -> None:
    private = tmp_path / "store.duckdb"
    private.write_bytes(district.path.read_bytes())  # this test writes: keep the shared store as it is
    monkeypatch.setenv("HOTLINE_DB", str(private))
    at = new_app()
    login(at, "admin1")
    at.toggle(key="ui_lang_en").set_value(language).run()
    at.switch_page("pages/admin.py").run()
    at.text_input(key="ad_new_name").input(PAYLOADS[2])
    at.text_input(key="ad_new_password").input("long-enough-1")
    at.selectbox(key="ad_new_role").set_value("leader")
    submit = next(b for b in at.form_submit_button if b.label in ("新增", "Add"))
    at = submit.click().run()
    assert [s.value for s in at.success] == [message.format(markdown_literal(PAYLOADS[2]))]
