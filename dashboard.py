"""Entry point: `streamlit run dashboard.py`.

Opens the store (building the demo district on a first start), signs the user in, draws the
shared sidebar and a menu holding only the pages the user's role may open, then runs the page.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.safe_text import markdown_literal
from analytics.services import auth
from ui import session, shell, store
from ui.i18n import error_text, language_switch, role_name, t
from ui.widgets import unexpected_error

ROOT = Path(__file__).resolve().parent  # pages/ is found from here, whichever script Streamlit started

# (page key for auth.can, script, icon). The order is the menu order; the first allowed page is
# where a user lands after logging in.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("overview", "pages/overview.py", ":material/dashboard:"),
    ("ranking", "pages/ranking.py", ":material/format_list_numbered:"),
    ("taskforces", "pages/taskforces.py", ":material/groups:"),
    ("effects", "pages/effects.py", ":material/trending_down:"),
    ("profile", "pages/profile.py", ":material/home_work:"),
    ("upload", "pages/upload.py", ":material/upload_file:"),
    ("admin", "pages/admin.py", ":material/admin_panel_settings:"),
)


def allowed_pages(user: auth.User) -> list[st.Page]:
    return [
        st.Page(ROOT / script, title=t(f"page_{key}"), icon=icon, url_path=key)
        for key, script, icon in PAGES
        if auth.can(user, key)
    ]


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


def sidebar(con, user: auth.User | None) -> None:
    language_switch()
    if store.is_demo():
        st.sidebar.warning(t("demo_badge"), icon=":material/science:")
    if user is None:
        return
    st.sidebar.markdown(t("signed_in_as", user=markdown_literal(user.username)))
    st.sidebar.markdown(t("role", role=role_name(user.role)))
    if user.compound_scope is not None:
        st.sidebar.markdown(t("scope", n=len(user.compound_scope)))
    st.sidebar.button(t("logout"), on_click=session.logout, kwargs={"con": con}, key="logout_button")


def main() -> None:
    st.set_page_config(page_title=t("app_title"), page_icon=":material/apartment:", layout="wide")
    # as in .streamlit/config.toml, whatever configuration the server was started with:
    # tables leave only through the audited download buttons, never the table toolbar
    st.set_option("client.disableDataExport", True)
    try:
        con = store.get_connection()
        store.ensure_demo(con)
        user = session.current_user(con)
    except HotlineError as exc:
        st.error(t("store_error", msg=error_text(exc)))
        st.stop()
    if user is None:
        # The login form answers at every page address, so a bookmark such as
        # /profile?compound=C001 survives the login instead of ending on "page not found".
        login_pages = [st.Page(login_page, title=t("login_title"), url_path="login", default=True)]
        login_pages += [st.Page(login_page, title=t(f"page_{key}"), url_path=key) for key, _, _ in PAGES]
        page = st.navigation(login_pages, position="hidden")
    else:
        pages = allowed_pages(user)
        page = st.navigation(pages, position="hidden")
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
