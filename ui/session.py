"""Who is signed in: login, logout, idle expiry and the per-page access check.

Two ways in:
- local accounts (user name + password checked by `analytics.services.auth.authenticate`), the default;
- OpenID Connect when the deployment has an `[auth]` block in `.streamlit/secrets.toml`:
  `st.login()` signs the person in with the organisation's provider and their e-mail must
  match a local user name, which gives the role and scope. Nobody without a local row gets in.

The signed-in `auth.User` lives in `st.session_state[USER_KEY]`; it expires after
`SESSION_MINUTES` without any interaction.

A client address that keeps failing to log in waits longer before each next try
(`login_limits.LoginThrottle`, one per store this process serves): a short wait is slept through, a
longer one refused at once with the same answer as a wrong password.

Files behind download buttons are made when the button is clicked, by a server thread outside
the script run. `download_grant()` hands such a file maker what it needs to check, at that
moment, that the session which drew the button is still signed in as the same user, not idle
past SESSION_MINUTES, and that the store still gives that user the same role, scope and the
permission to export.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics.errors import AccessDenied
from analytics.reports.text import pair
from analytics.safe_text import markdown_literal
from analytics.services import auth, login_limits
from analytics.store import db
from ui import shell
from ui.i18n import t

SESSION_MINUTES = 60  # idle minutes before a session is signed out
USER_KEY = "auth_user"
LAST_SEEN_KEY = "auth_last_seen"
NOTICE_KEY = "auth_notice"  # a message for the login page (e.g. why the user was signed out)
# a per-address wait up to this long is slept through before the password is checked; a longer
# one is refused at once (a script thread is not held for minutes)
LOGIN_SLEEP_MAX_S = 5.0

log = logging.getLogger(__name__)
_throttles: dict[str, login_limits.LoginThrottle] = {}
_throttles_lock = threading.Lock()


def oidc_configured() -> bool:
    """True when secrets hold an [auth] block. A missing secrets file is simply 'no'."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml, or an unreadable one: fall back to local accounts
        return False


def _now() -> float:
    return time.time()


def idle_expired(last_seen: float | None, now: float | None = None) -> bool:
    """True when a session last active at `last_seen` has been idle too long (or never was)."""
    if last_seen is None:
        return True
    return (_now() if now is None else now) - float(last_seen) > SESSION_MINUTES * 60


def sign_in(user: auth.User) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[LAST_SEEN_KEY] = _now()
    st.session_state.pop(NOTICE_KEY, None)


def login_throttle(store_key: str | None = None) -> login_limits.LoginThrottle:
    """The per-address login throttle of the store at `store_key` (default: the one served)."""
    if store_key is None:
        from ui.store import store_key as served

        store_key = served()
    with _throttles_lock:
        return _throttles.setdefault(store_key, login_limits.LoginThrottle())


def login(con: duckdb.DuckDBPyConnection, username: str, password: str) -> auth.User | None:
    """Check the password and sign in; None when refused, whatever the reason (unknown name,
    wrong password, locked account, an address that must wait): one answer for all."""
    address = st.context.ip_address  # None for a local connection
    # anything but a text address (e.g. a test harness's stand-in) counts as local
    client = address if isinstance(address, str) else None
    throttle = login_throttle()
    wait = throttle.wait(client)
    if wait > LOGIN_SLEEP_MAX_S:
        auth.refuse_throttled(con, username, client, wait)
        return None
    if wait > 0:
        time.sleep(wait)
    user = auth.authenticate(con, username, password, client=client)
    if user is None:
        throttle.refused(client)
        return None
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
    user = auth.find_user(con, email) if email else None
    if user is None:
        # the notice is Markdown; the e-mail comes from the provider and is shown literally
        st.session_state[NOTICE_KEY] = t("oidc_no_user", email=markdown_literal(email or "?"))
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
    if idle_expired(st.session_state.get(LAST_SEEN_KEY)):
        logout(t("session_expired", minutes=SESSION_MINUTES))
        return None
    fresh = auth.get_user(con, user.username)
    if fresh is None:
        logout()
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[LAST_SEEN_KEY] = _now()
    return fresh


def require(page: str) -> auth.User:
    """Stop the page unless the signed-in user may open it (also when reached directly: the
    check runs in the page itself, not only in the menu).

    A run that dashboard.py did not make (see `ui.shell`) draws nothing of the page: a user who
    may not open it is refused here; anyone else gets dashboard.py run in its place, which
    shows the login form, or the page inside the menu."""
    from ui.store import get_connection

    who = current_user(get_connection())
    if who is not None and not auth.can(who, page):
        log.info("refused %s to %s (%s)", page, who.username, who.role)
        st.error(t("access_denied"))
        st.stop()
    if not shell.inside():
        shell.run_shell()
    if who is None:
        st.error(t("not_logged_in"))
        st.stop()
    return who


# --- downloads -------------------------------------------------------------------------------


def _refused() -> AccessDenied:
    return AccessDenied(*pair("download_refused"))


@dataclass(frozen=True)
class DownloadGrant:
    """Leave for one signed-in session to have files made later, on click.

    Streamlit calls a download button's `data` callable from a server thread when the button is
    clicked, where `st.session_state` cannot be reached; the grant keeps the session's own state
    object, so the check then sees the session as it is at that moment."""

    username: str
    role: str
    scope: tuple[str, ...] | None
    needs: tuple[str, ...]
    state: Any = field(repr=False, compare=False)  # the session's (thread-safe) state

    def _session_value(self, key: str) -> Any:
        # Streamlit's thread-safe state has `in` and `[]` but no `.get`
        return self.state[key] if key in self.state else None  # noqa: SIM401

    def holder(self, con: duckdb.DuckDBPyConnection) -> auth.User:
        """The user a file may be made for now; AccessDenied (make nothing, audit nothing) when
        the session has signed out, signed in as someone else or been idle past
        SESSION_MINUTES, or the store no longer gives the user this role, scope and `needs`."""
        signed_in = self._session_value(USER_KEY)
        if signed_in is None or signed_in.username != self.username:
            raise _refused()
        if idle_expired(self._session_value(LAST_SEEN_KEY)):
            raise _refused()
        fresh = auth.get_user(con, self.username)
        if (
            fresh is None
            or (fresh.role, fresh.compound_scope) != (self.role, self.scope)
            or not all(auth.can(fresh, need) for need in self.needs)
        ):
            raise _refused()
        return fresh

    def deferred(
        self,
        con: duckdb.DuckDBPyConnection,
        make: Callable[[], bytes | str],
        file_name: str,
        action: str = "download",
    ) -> Callable[[], bytes]:
        """A download button's `data`: on click, check the grant, make the file, and record it in
        the audit log (as `action`, with its name and size); nothing of it when refused."""

        def produce() -> bytes:
            user = self.holder(con)
            data = make()
            data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
            with db.transaction(con) as cur:
                db.audit(cur, user.username, action, {"file": file_name, "bytes": len(data)})
            return data

        return produce


def download_grant(needs: tuple[str, ...] = ("export",)) -> DownloadGrant | None:
    """A grant for this session's signed-in user when it may have `needs` (every one), else
    None: then the page draws no download button at all."""
    user = st.session_state.get(USER_KEY)
    ctx = get_script_run_ctx()
    if user is None or ctx is None or not all(auth.can(user, need) for need in needs):
        return None
    return DownloadGrant(user.username, user.role, user.compound_scope, tuple(needs), ctx.session_state)
