"""Who is signed in: login, logout, idle expiry and the per-page access check.

Two ways in:
- local accounts (user name + password checked by `analytics.services.auth.authenticate`), the default;
- OpenID Connect when the deployment has an `[auth]` block in `.streamlit/secrets.toml`:
  `st.login()` signs the person in with the organisation's provider and their e-mail must
  match a local user name, which gives the role and scope. Nobody without a local row gets in.

The signed-in `auth.User` lives in `st.session_state[USER_KEY]`; it expires after
`SESSION_MINUTES` without any interaction.

A reload (F5) or a pasted link starts a new Streamlit session with empty state. So a signed-in
session also keeps a signed, expiring cookie in the browser (`analytics.services.session_cookie`;
written by a small script, refreshed at most once a minute while the user works). The first run
of a new session reads it once and, when it is still valid, signs the same user in again, with
role and scope read from the store. Logout, a new password or a deleted account end every session
of that user, remembered or open (each session keeps the account's session binding and is
signed out when it changes).

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

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics.errors import AccessDenied, HotlineError
from analytics.reports.text import pair
from analytics.safe_text import markdown_literal
from analytics.services import auth, login_limits, session_cookie
from analytics.store import db
from ui import shell
from ui.i18n import t

SESSION_MINUTES = session_cookie.IDLE_MINUTES  # idle minutes before a session is signed out
USER_KEY = "auth_user"
LAST_SEEN_KEY = "auth_last_seen"
NOTICE_KEY = "auth_notice"  # a message for the login page (e.g. why the user was signed out)
BINDING_KEY = "auth_binding"  # the account's session binding when this session signed in
ISSUED_KEY = "auth_issued"  # when this session signed in (a resumed one: its cookie's first issue)
COOKIE_KEY = "auth_cookie"  # the cookie value last written to the browser, and when
COOKIE_AT_KEY = "auth_cookie_at"
COOKIE_TRIED_KEY = "auth_cookie_tried"  # the browser's cookie is read on a session's first run only
COOKIE_CLEAR_KEY = "auth_cookie_clear"  # the next run removes the cookie from the browser
COOKIE_REFRESH_S = 60  # the cookie's "last seen" is renewed at most this often
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


def sign_in(con: duckdb.DuckDBPyConnection, user: auth.User, issued: float | None = None) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[LAST_SEEN_KEY] = _now()
    st.session_state[ISSUED_KEY] = _now() if issued is None else issued
    st.session_state[BINDING_KEY] = auth.session_binding(con, user.username)
    for key in (NOTICE_KEY, COOKIE_KEY, COOKIE_AT_KEY, COOKIE_CLEAR_KEY):
        st.session_state.pop(key, None)


def client_address() -> str | None:
    address = st.context.ip_address  # None for a local connection
    # anything but a text address (e.g. a test harness's stand-in) counts as local
    return address if isinstance(address, str) else None


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
    client = client_address()
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
    sign_in(con, user)
    return user


def _forget(notice: str | None) -> None:
    """Sign this session out and have its cookie removed from the browser on the next run."""
    for key in (USER_KEY, LAST_SEEN_KEY, ISSUED_KEY, BINDING_KEY, COOKIE_KEY, COOKIE_AT_KEY):
        st.session_state.pop(key, None)
    st.session_state[COOKIE_CLEAR_KEY] = True
    if notice:
        st.session_state[NOTICE_KEY] = notice


def logout(notice: str | None = None, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Sign out. With `con` (the user's own logout) every session of the user ends, remembered
    cookies in other browsers included, and the logout is audited."""
    who = st.session_state.get(USER_KEY)
    if con is not None and who is not None:
        auth.logout(con, who.username)
    _forget(notice)
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
    sign_in(con, user)
    return user


def _resume(con: duckdb.DuckDBPyConnection) -> auth.User | None:
    """On a session's first run: the user a valid remembered-session cookie names, signed in again
    (audited); None when there is no cookie or it is expired, tampered with, ended by a logout or
    a new password, or its account is gone or locked (then the browser drops it)."""
    if st.session_state.get(COOKIE_TRIED_KEY):
        return None
    st.session_state[COOKIE_TRIED_KEY] = True
    value = st.context.cookies.get(session_cookie.COOKIE_NAME)
    if not isinstance(value, str) or not value:  # (a test harness's stand-in is no cookie)
        return None
    try:
        cookie = session_cookie.verify(con, value)
    except HotlineError:  # an unusable session key: nobody is remembered, everyone logs in
        log.warning("remembered sessions are off: the session key is unusable", exc_info=True)
        return None
    user = None if cookie is None else auth.get_user(con, cookie.username)
    if cookie is None or user is None:
        st.session_state[COOKIE_CLEAR_KEY] = True
        return None
    sign_in(con, user, issued=cookie.issued)
    auth.resumed(con, user.username, client_address())
    return user


def current_user(con: duckdb.DuckDBPyConnection) -> auth.User | None:
    """The signed-in user, or None. A new session is signed in again from a valid remembered-
    session cookie. Signs out after SESSION_MINUTES idle, and when the user's sessions were ended
    elsewhere (logout, new password); each call counts as activity. The role and scope are
    re-read from the store so an admin's change (or deletion) takes effect on the next click."""
    user = st.session_state.get(USER_KEY)
    if user is None:
        return _oidc_user(con) if oidc_configured() else _resume(con)
    if idle_expired(st.session_state.get(LAST_SEEN_KEY)):
        logout(t("session_expired", minutes=SESSION_MINUTES))
        return None
    fresh = auth.get_user(con, user.username)
    if fresh is None:
        logout()
        return None
    binding = auth.session_binding(con, user.username)
    if BINDING_KEY not in st.session_state:  # signed-in state set without sign_in: bind it now
        st.session_state[BINDING_KEY] = binding
    elif binding != st.session_state[BINDING_KEY]:
        # the user logged out elsewhere or has a new password: this session ends too
        logout(t("session_ended"))
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[LAST_SEEN_KEY] = _now()
    return fresh


def rebind(con: duckdb.DuckDBPyConnection) -> None:
    """After this session's own user ended all their sessions on purpose (a new password): keep
    this one, bound to the account as it is now, with a fresh cookie."""
    user = st.session_state.get(USER_KEY)
    if user is not None:
        st.session_state[BINDING_KEY] = auth.session_binding(con, user.username)
        st.session_state.pop(COOKIE_KEY, None)


def _cookie_script(value: str | None) -> str:
    """A script that writes (or, for None, removes) the remembered-session cookie. The value is
    ours (base64url, digits, hex and '|'), quoted as a JavaScript string all the same."""
    name = json.dumps(session_cookie.COOKIE_NAME)
    body = json.dumps(f"{value}; Max-Age={SESSION_MINUTES * 60}" if value else "; Max-Age=0")
    return (
        "<script>(function () {"
        'var secure = window.location.protocol === "https:" ? "; Secure" : "";'
        f'document.cookie = {name} + "=" + {body} + "; Path=/; SameSite=Strict" + secure;'
        "})();</script>"
    )


def sync_cookie(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the browser's remembered-session cookie in step with this session: written for a
    signed-in user (renewed at most every COOKIE_REFRESH_S, so a reload within the idle limit
    finds it valid), removed after a sign-out. Sessions signed in through OpenID Connect are
    remembered by Streamlit's own login cookie instead."""
    user = st.session_state.get(USER_KEY)
    if oidc_configured():
        return
    if user is None:
        if st.session_state.pop(COOKIE_CLEAR_KEY, False):
            st.sidebar.html(_cookie_script(None), unsafe_allow_javascript=True)
        return
    now = _now()
    if st.session_state.get(COOKIE_KEY) is None or now - st.session_state[COOKIE_AT_KEY] >= COOKIE_REFRESH_S:
        try:
            value = session_cookie.issue(con, user.username, st.session_state.get(ISSUED_KEY), now)
        except HotlineError:  # an unusable session key: this session is simply not remembered
            log.warning("remembered sessions are off: the session key is unusable", exc_info=True)
            return
        if value is None:
            return
        st.session_state[COOKIE_KEY] = value
        st.session_state[COOKIE_AT_KEY] = now
    # the same script on every run: the browser runs it again only when the value changes
    st.sidebar.html(_cookie_script(st.session_state[COOKIE_KEY]), unsafe_allow_javascript=True)


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
        the session has signed out, signed in as someone else, been idle past SESSION_MINUTES or
        been ended elsewhere, or the store no longer gives the user this role, scope (a head's
        grant holds for the compounds it was drawn for only) and `needs`."""
        signed_in = self._session_value(USER_KEY)
        if signed_in is None or signed_in.username != self.username:
            raise _refused()
        if idle_expired(self._session_value(LAST_SEEN_KEY)):
            raise _refused()
        bound = self._session_value(BINDING_KEY)
        if bound is not None and auth.session_binding(con, self.username) != bound:
            raise _refused()  # the user logged out elsewhere or has a new password
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
