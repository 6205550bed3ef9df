"""Who is signed in: login, logout, idle expiry and the per-page access check.

Two ways in:
- local accounts (user name + password checked by `analytics.services.auth.authenticate`), the default;
- OpenID Connect when the deployment has an `[auth]` block in `.streamlit/secrets.toml`:
  `st.login()` signs the person in with the organisation's provider and their e-mail must
  match a local user name, which gives the role and scope. Nobody without a local row gets in.

The signed-in `auth.User` lives in `st.session_state[USER_KEY]`; it expires after
`SESSION_MINUTES` without any interaction.
"""

from __future__ import annotations

import logging
import time

import duckdb
import streamlit as st

from analytics.services import auth
from analytics.store import db
from ui.i18n import t

SESSION_MINUTES = 60  # idle minutes before a session is signed out
USER_KEY = "auth_user"
LAST_SEEN_KEY = "auth_last_seen"
NOTICE_KEY = "auth_notice"
ENTRY_SCRIPT = "dashboard.py"  # a message for the login page (e.g. why the user was signed out)

log = logging.getLogger(__name__)


def oidc_configured() -> bool:
    """True when secrets hold an [auth] block. A missing secrets file is simply 'no'."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml, or an unreadable one: fall back to local accounts
        return False


def _now() -> float:
    return time.time()


def sign_in(user: auth.User) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[LAST_SEEN_KEY] = _now()
    st.session_state.pop(NOTICE_KEY, None)


def login(con: duckdb.DuckDBPyConnection, username: str, password: str) -> auth.User | None:
    """Check the password and sign in. Raises AccessDenied while the account is locked."""
    user = auth.authenticate(con, username, password)
    if user is not None:
        sign_in(user)
    return user


def logout(notice: str | None = None, con: duckdb.DuckDBPyConnection | None = None) -> None:
    who = st.session_state.get(USER_KEY)
    if con is not None and who is not None:
        with db.transaction(con) as cur:
            db.audit(cur, who.username, "logout", None)
    for key in (USER_KEY, LAST_SEEN_KEY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


def _oidc_user(con: duckdb.DuckDBPyConnection) -> auth.User | None:
    """The local user for the provider's e-mail, or None (with a notice) when there is none."""
    if not getattr(st.user, "is_logged_in", False):
        return None
    email = str(st.user.get("email") or "").strip()
    user = auth.get_user(con, email) if email else None
    if user is None:
        st.session_state[NOTICE_KEY] = t("oidc_no_user", email=email or "?")
        return None
    sign_in(user)
    return user


def current_user(con: duckdb.DuckDBPyConnection) -> auth.User | None:
    """The signed-in user, or None. Signs out after SESSION_MINUTES idle; each call counts as
    activity. The role and scope are re-read from the store so an admin's change (or deletion)
    takes effect on the user's next click."""
    user = st.session_state.get(USER_KEY)
    if user is None:
        return _oidc_user(con) if oidc_configured() else None
    last = st.session_state.get(LAST_SEEN_KEY, 0.0)
    if _now() - last > SESSION_MINUTES * 60:
        logout(t("session_expired", minutes=SESSION_MINUTES))
        return None
    fresh = auth.get_user(con, user.username)
    if fresh is None:
        logout()
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[LAST_SEEN_KEY] = _now()
    return fresh


def leave_legacy_navigation() -> None:
    """Send a page that was started without the shell back through dashboard.py.

    Before any session of a fresh server process has run `st.navigation`, Streamlit treats the
    `pages/` folder as an old-style multipage app and may run a page script directly (e.g. a
    browser reconnecting to /upload after a restart). The shell then never drew its menu or
    checked the session, so the entry script is run instead, which switches Streamlit over to
    the role-aware navigation for good."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        st.switch_page(ENTRY_SCRIPT)


def require(page: str) -> auth.User:
    """Stop the page unless the signed-in user may open it (also when reached directly: the
    check runs in the page itself, not only in the menu)."""
    from ui.store import get_connection

    leave_legacy_navigation()
    who = current_user(get_connection())
    if who is None:
        st.error(t("not_logged_in"))
        st.stop()
    if not auth.can(who, page):
        log.info("refused %s to %s (%s)", page, who.username, who.role)
        st.error(t("access_denied"))
        st.stop()
    return who
