"""账户 (every role): who is signed in, and changing one's own password."""

from __future__ import annotations

import streamlit as st

from analytics.errors import AccessDenied, HotlineError
from analytics.ingest.registry import queries
from analytics.reports import audit_text
from analytics.safe_text import markdown_literal
from analytics.services import auth
from ui import session, store
from ui.i18n import error_text, lang, role_name, t

DONE_KEY = "ac_done"  # the password was changed in the run before this one

user = session.require("account")
con = store.get_connection()
st.title(t("page_account"))
st.markdown(t("ac_who", user=markdown_literal(user.username), role=role_name(user.role)))
if user.compound_scope is not None:
    frame = store.cached(queries.compounds_df)
    names = dict(zip(frame["compound_id"], frame["name"], strict=True))
    shown = audit_text.scope_label(user.compound_scope, names, lang())
    st.markdown(t("ac_scope", names=markdown_literal(shown)))

st.subheader(t("ac_change"))
if st.session_state.pop(DONE_KEY, False):
    st.success(t("ac_done"))
if session.oidc_configured():
    st.info(t("ac_oidc"))
    st.stop()
st.caption(t("ac_intro"))
rules = t("ac_rules", min=auth.MIN_PASSWORD_LENGTH, max=auth.MAX_PASSWORD_LENGTH)
# cleared on submit: typed passwords never linger in the session
with st.form("ac_password_form", clear_on_submit=True):
    old = st.text_input(t("ac_old"), type="password", key="ac_old")
    new = st.text_input(t("ac_new"), type="password", help=rules, key="ac_new")
    repeat = st.text_input(t("ac_repeat"), type="password", key="ac_repeat")
    submitted = st.form_submit_button(t("ac_submit"), type="primary")


def change_password(old: str, new: str, repeat: str) -> None:
    if new != repeat:
        st.error(t("ac_mismatch"))
        return
    try:
        auth.change_password(con, user.username, old, new, client=session.client_address())
    except AccessDenied as exc:  # wrong too often: the account is locked, its sessions end
        session.logout(error_text(exc), con=con)
        st.rerun()
    except HotlineError as exc:
        st.error(error_text(exc))
    else:
        session.rebind(con)  # this session stays; every other one of this user has ended
        # a rerun writes this browser's new cookie at once (the old one is dead) and says so
        st.session_state[DONE_KEY] = True
        st.rerun()


if submitted:
    try:
        change_password(old, new, repeat)
    finally:
        for key in ("ac_old", "ac_new", "ac_repeat"):  # typed passwords never linger
            st.session_state.pop(key, None)
