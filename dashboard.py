"""Entry point: `streamlit run dashboard.py`.

Opens the store (building the demo district on a first start), signs the user in (or in again,
from a remembered session after a reload), draws the shared sidebar and a menu holding only the
pages the user's role may open, then runs the page.

Every page address answers: a page the user's role may not open says which roles may, and an
address that is no page says so, on the address itself (Streamlit would otherwise run the
default page, silently or with a notice in English).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.safe_text import markdown_literal
from analytics.services import auth, freshness
from ui import session, shell, store
from ui.i18n import error_text, init_language, language_switch, role_name, t
from ui.widgets import unexpected_error

ROOT = Path(__file__).resolve().parent  # pages/ is found from here, whichever script Streamlit started

# (page key for auth.can, script). The order is the menu order; the first allowed page is
# where a user lands after logging in.
PAGES: tuple[tuple[str, str], ...] = (
    ("overview", "pages/overview.py"),
    ("ranking", "pages/ranking.py"),
    ("taskforces", "pages/taskforces.py"),
    ("effects", "pages/effects.py"),
    ("profile", "pages/profile.py"),
    ("upload", "pages/upload.py"),
    ("admin", "pages/admin.py"),
    ("glossary", "pages/glossary.py"),
    ("account", "pages/account.py"),
)
# Streamlit draws an expander's arrow and the sidebar's collapse buttons with an icon font's
# ligatures: their names ("keyboard_arrow_right") are text that screen readers, copy and paste
# and text extraction see. The arrows are drawn by CSS instead (generated content is not text).
CHROME_STYLE = """<style>
[data-testid="stExpander"] summary [data-testid="stIconMaterial"],
[data-testid="stSidebarCollapseButton"] [data-testid="stIconMaterial"],
[data-testid="stExpandSidebarButton"] [data-testid="stIconMaterial"] { display: none; }
[data-testid="stExpander"] summary :has(> [data-testid="stIconMaterial"])::before {
  content: "▸"; font-size: 1.25rem; line-height: 1;
}
[data-testid="stExpander"] details[open] > summary :has(> [data-testid="stIconMaterial"])::before {
  content: "▾";
}
[data-testid="stSidebarCollapseButton"] button::before { content: "«"; font-size: 1.3em; }
[data-testid="stExpandSidebarButton"]::before { content: "»"; font-size: 1.3em; }
</style>"""
LOGIN_PATH = "login"
HOME_PATH = "home"  # registered for the root while signed in; the root itself is its address


def allowed_pages(user: auth.User) -> list[st.Page]:
    return [
        st.Page(ROOT / script, title=t(f"page_{key}"), url_path=key)
        for key, script in PAGES
        if auth.can(user, key)
    ]


def refused_page(key: str) -> Callable[[], None]:
    """What a signed-in user sees at the address of a page their role may not open."""

    def refused() -> None:
        roles = t("roles_sep").join(role_name(role) for role in auth.roles_for(key))
        st.error(t("page_forbidden", page=t(f"page_{key}"), roles=roles))

    return refused


def unknown_page(path: str) -> Callable[[], None]:
    def unknown() -> None:
        st.error(t("page_unknown", path=markdown_literal(f"/{path}")))

    return unknown


def unknown_login(path: str) -> Callable[[], None]:
    def unknown() -> None:
        unknown_page(path)()
        login_page()

    return unknown


def to_landing(landing: st.Page) -> Callable[[], None]:
    """The login address, typed or reloaded while signed in: on to the landing page. Registered
    only then: right after a login the session still points at the login address, and with no
    page there Streamlit runs the landing page itself, keeping the sidebar's switches (which
    st.switch_page would reset)."""

    def go() -> None:
        st.switch_page(landing)

    return go


def landing_here(script: str) -> Callable[[], None]:
    """The site root while signed in: the landing page's script, run in place (Streamlit lets
    only the page st.navigation returned run)."""

    def show() -> None:
        shell.run_script(ROOT / script)

    return show


def unknown_address(known: set[str]) -> str | None:
    """The address the browser asked for when it is no page of ours and can be answered at."""
    path = shell.requested_path()
    return None if not path or path in known else shell.page_address(path)


def login_page() -> None:
    st.title(t("app_title"))
    st.subheader(t("login_title"))
    notice = st.session_state.get(session.NOTICE_KEY)
    if notice:
        st.warning(notice)
    con = store.get_connection()
    if session.oidc_configured():
        st.button(t("oidc_login"), on_click=st.login, type="primary")
        return
    # cleared on submit: a typed password never lingers in the session
    with st.form("login_form", clear_on_submit=True):
        username = st.text_input(t("username"), key="login_username")
        password = st.text_input(t("password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_button"), type="primary")
    if submitted:
        try:
            user = session.login(con, username, password)
        except HotlineError as exc:
            st.error(error_text(exc))
        else:
            if user is None:
                st.error(t("login_failed"))
            else:
                for key in ("login_username", "login_password"):  # the password must not linger
                    st.session_state.pop(key, None)
                st.rerun()
    if store.is_demo():
        from analytics.synthetic import demo

        st.info(t("demo_accounts"))
        accounts = pd.DataFrame(
            [(role_name(role), name, password) for role, (name, password) in demo.DEMO_ACCOUNTS.items()],
            columns=[t("ad_role"), t("username"), t("password")],
        )
        st.dataframe(accounts, hide_index=True, key="login_demo_accounts")
    elif auth.list_users(con).empty:
        st.info(t("no_users"))


def menu(pages: list[st.Page]) -> None:
    """One link per page the user may open, at the top of the sidebar.

    Streamlit's own sidebar navigation stays off (client.showSidebarNavigation in
    .streamlit/config.toml): until the first st.navigation of a server process it would list
    the raw script names of the pages/ folder."""
    for page in pages:
        st.sidebar.page_link(page)
    st.sidebar.divider()


def data_line() -> str:
    """'数据截至 2024-12-31 · 最近导入 2025-01-03 10:21（批次 12）', or that the data are the demo's."""
    now = store.cached(freshness.data_as_of)
    parts = [
        t("data_as_of", date=now.latest_ticket.isoformat()) if now.latest_ticket else t("data_no_tickets")
    ]
    if now.demo:
        parts.append(t("data_demo"))
    elif now.batch_id is not None and now.loaded_at is not None:
        parts.append(t("data_last_import", at=f"{now.loaded_at:%Y-%m-%d %H:%M}", batch=now.batch_id))
    else:
        parts.append(t("data_no_import"))
    return " · ".join(parts)


def sidebar(con, user: auth.User | None) -> None:
    language_switch()
    if store.is_demo():
        st.sidebar.warning(t("demo_badge"))
    if user is not None:
        st.sidebar.markdown(t("signed_in_as", user=markdown_literal(user.username)))
        st.sidebar.markdown(t("role", role=role_name(user.role)))
        if user.compound_scope is not None:
            st.sidebar.markdown(t("scope", n=len(user.compound_scope)))
        st.sidebar.button(t("logout"), on_click=session.logout, kwargs={"con": con}, key="logout_button")
        st.sidebar.caption(data_line())
    session.sync_cookie(con)


def main() -> None:
    init_language()
    st.set_page_config(page_title=t("app_title"), page_icon=":material/apartment:", layout="wide")
    # as in .streamlit/config.toml, whatever configuration the server was started with:
    # tables leave only through the audited download buttons, never the table toolbar
    st.set_option("client.disableDataExport", True)
    st.html(CHROME_STYLE)
    try:
        con = store.get_connection()
        store.ensure_demo(con)
        user = session.current_user(con)
    except HotlineError as exc:
        st.error(t("store_error", msg=error_text(exc)))
        st.stop()
    known = {key for key, _ in PAGES} | {LOGIN_PATH, HOME_PATH}
    unknown = unknown_address(known)
    if user is None:
        # The login form answers at every page address, so a bookmark such as
        # /profile?compound=C001 survives the login instead of ending on "page not found".
        login_pages = [st.Page(login_page, title=t("login_title"), url_path=LOGIN_PATH, default=True)]
        login_pages += [st.Page(login_page, title=t(f"page_{key}"), url_path=key) for key, _ in PAGES]
        if unknown:
            login_pages.append(st.Page(unknown_login(unknown), title=t("login_title"), url_path=unknown))
        page = st.navigation(login_pages, position="hidden")
    else:
        pages = allowed_pages(user)
        # not in the menu: what the other addresses answer
        hidden = [
            st.Page(refused_page(key), title=t(f"page_{key}"), url_path=key)
            for key, _ in PAGES
            if not auth.can(user, key)
        ]
        if shell.requested_path() == LOGIN_PATH:  # typed or reloaded at the login address
            hidden.append(st.Page(to_landing(pages[0]), title=t("login_title"), url_path=LOGIN_PATH))
        if unknown:
            hidden.append(st.Page(unknown_page(unknown), title=t("app_title"), url_path=unknown))
        # the site root shows the landing page in place; every page, the landing one included,
        # keeps its own address (a default page would answer only at the root, and its own
        # address would end in "page not found")
        landing = next(script for key, script in PAGES if auth.can(user, key))
        home = st.Page(landing_here(landing), title=pages[0].title, url_path=HOME_PATH, default=True)
        page = st.navigation([home, *pages, *hidden], position="hidden")
        menu(pages)
    sidebar(con, user)
    try:
        with shell.page_run():
            page.run()
    except HotlineError as exc:
        st.error(error_text(exc))
    except Exception as exc:  # a bug: logged with its traceback, the user sees a calm message
        unexpected_error(exc)


main()
