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

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from google.protobuf.message import Message

from analytics import auth, columns, db, ingest, ranking, registry, simulate, taskforces
from analytics.safe_text import markdown_literal, plotly_literal
from tests.apptest_helpers import PASSWORD, entry_navigation, errors_of, login, new_app  # noqa: F401

PAYLOADS = (
    "[x](http://evil.example/a)",
    "![i](http://evil.example/i.png)",
    "**b**",
    "$x$",
    "$$x$$",
    ":red[x]",
    '<a href="http://evil.example">y</a>',
    "<img src=x onerror=alert(1)>",
    "\u202eevil",
    "a|b",
    "# h",
)
HEAD = "[x](http://evil.example/a)"  # the task-force head's user name (no spaces allowed)
LEADER = "**b**$x$:red[x]"
COMMUNITY = "![i](http://evil.example/i.png)社区"
SUBDISTRICT = "# h街道"
COMPANY = '<a href="http://evil.example">y</a>物业'
ADDRESS = "<img src=x onerror=alert(1)>路[x](http://evil.example/a)"
CATEGORY = "$$x$$:red[x]"
REVIEW_ADDRESSES = tuple(f"{payload}东门" for payload in PAYLOADS[:4])  # match no compound: reviewed
N_COMPOUNDS = 24
MONTHS = ("2022-01", "2024-06")
SELECTION = (dt.date(2022, 7, 1), dt.date(2022, 12, 31))
START = dt.date(2023, 3, 1)
TOP = 4
PAGES = ("overview", "ranking", "taskforces", "effects", "profile", "upload", "admin")
USERS = {"admin1": "admin", "leader1": "leader", "analyst1": "analyst", HEAD: "taskforce"}

# Raw payload fragments that must never reach a Markdown renderer unescaped.
UNESCAPED = [
    re.compile(p) for p in (r"(?<!\\)\]\(http", r"(?<!\\)!\[", r"(?<!\\)<(?:a|img)\b", r"(?<!\\)# h")
] + [re.compile(re.escape(p)) for p in ("**b**", "$x$", ":red[", "a|b", "\u202e")]
# Proto fields Streamlit renders as Markdown, and the element types whose options are Markdown.
MARKDOWN_FIELDS = {"body", "label", "help", "caption", "title", "delta"}
MARKDOWN_OPTIONS = {"radio", "button_group", "select_slider"}


@dataclass(frozen=True)
class Hostile:
    path: Path
    names: dict[str, str]  # compound_id -> stored name
    treated: tuple[str, ...]


def hostile_name(i: int) -> str:
    return f"{PAYLOADS[i % len(PAYLOADS)]}{i}"


def write_registry(path: Path, ids: list[str]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["小区编号", "小区名称", "所属社区", "所属街道", "物业公司"])
        for i, cid in enumerate(ids):
            hostile_community = i % 3 == 0
            w.writerow(
                [
                    cid,
                    hostile_name(i),
                    COMMUNITY if hostile_community else "",
                    SUBDISTRICT if hostile_community else "",
                    COMPANY,
                ]
            )
    return path


def write_tickets(path: Path, names: list[str], month: str = "2024-06", count: int = 60) -> Path:
    """`count` tickets of `month` whose address and category carry payloads, each naming one of
    the compounds, and a few with only a hostile address (left for review)."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["工单编号", "受理时间", "诉求内容", "诉求类型", "诉求地址", "小区"])
        for i in range(count):
            name = names[i % len(names)]
            w.writerow(
                [
                    f"H{i:04d}",
                    f"{month}-{1 + i % 28:02d} 10:00",
                    f"{PAYLOADS[i % 11]}漏水",
                    CATEGORY,
                    ADDRESS,
                    name,
                ]
            )
        for i, address in enumerate(REVIEW_ADDRESSES):
            w.writerow([f"HU{i:03d}", f"{month}-10 10:00", "楼道堆物", PAYLOADS[i], address, ""])
    return path


def add_hostile_compounds(path: Path, folder: Path, month: str, n: int = len(PAYLOADS)) -> dict[str, str]:
    """Add `n` compounds with hostile names, and enough tickets in `month` for each to be ranked,
    to the store at `path` through the real registry import and upload; returns id -> name."""
    con = db.connect(path)
    try:
        ids = [f"X{i + 1:03d}" for i in range(n)]
        registry.import_compounds(con, write_registry(folder / "hostile_registry.csv", ids), user="fixture")
        names = registry.compounds_df(con).set_index("compound_id").loc[ids, "name"].to_dict()
        names_in_order = [names[cid] for cid in ids]
        tickets = write_tickets(
            folder / "hostile_tickets.csv", names_in_order, month, n * (ranking.MIN_TICKETS + 2)
        )
        ingest.ingest_file(con, tickets, user="fixture")
    finally:
        con.close()
    return names


def build_hostile_store(folder: Path) -> Hostile:
    path = folder / "hostile.duckdb"
    con = db.connect(path)
    try:
        simulate.simulate_district(con, n_compounds=N_COMPOUNDS, months=MONTHS, seed=5, tickets_per_year=5000)
        ids = sorted(registry.compounds_df(con)["compound_id"])
        registry.import_compounds(con, write_registry(folder / "registry.csv", ids), user="fixture")
        names = dict(registry.compounds_df(con)[["compound_id", "name"]].itertuples(index=False))
        ingest.ingest_file(con, write_tickets(folder / "**b**.csv", list(names.values())), user="fixture")
        ranked = ranking.rank_compounds(con, window=SELECTION, top=TOP, n_draws=200)
        snapshot_id = ranking.save_snapshot(
            con, ranked, *SELECTION, {"top": TOP}, user="fixture", note=PAYLOADS[0]
        )
        treated = tuple(ranked["compound_id"].head(TOP))
        assignments = pd.DataFrame({"compound_id": treated, "leader": LEADER, "head": HEAD})
        tf_ids = taskforces.create_from_snapshot(con, snapshot_id, assignments, START, user="fixture")
        taskforces.log_action(con, tf_ids[0], "2023-04-01", PAYLOADS[1], 5000.0, user="fixture")
        columns.save_profile(
            con, PAYLOADS[6], {"ticket_id": "工单编号", "created_at": "受理时间"}, user="fixture"
        )
        for username, role in USERS.items():
            scope = list(treated) if role == "taskforce" else None
            auth.add_user(con, username, PASSWORD, role, compounds=scope)
    finally:
        con.close()
    return Hostile(path, names, treated)


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
