"""管理 (administrators): users and roles, the audit log, backup and restore."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics.ingest.registry import queries
from analytics.safe_text import markdown_literal, strip_invisible
from analytics.services import auth
from analytics.store import backup, db
from ui import session, store
from ui.i18n import role_name, t
from ui.widgets import render_table, shown_errors

user = session.require("admin")
con = store.get_connection()
st.title(t("page_admin"))


def compound_options() -> dict[str, str]:
    frame = store.cached(queries.compounds_df)
    return {
        r.compound_id: strip_invisible(t("name_id", name=r.name, id=r.compound_id))
        for r in frame.itertuples(index=False)
    }


def users_tab() -> None:
    roles = {r: role_name(r) for r in auth.ROLES}  # resolved now: format functions stay pure
    users = auth.list_users(con)
    shown = users.assign(role=users["role"].map(role_name))
    render_table(shown, key="ad_users", file_stem="users")
    names = dict(compound_options())

    with st.form("ad_add_form", clear_on_submit=True):
        st.markdown(f"**{t('ad_add_user')}**")
        left, mid, right = st.columns(3)
        username = left.text_input(t("username"), key="ad_new_name")
        password = mid.text_input(t("password"), type="password", key="ad_new_password")
        role = right.selectbox(t("ad_role"), auth.ROLES, format_func=roles.get, key="ad_new_role")
        scope = st.multiselect(t("ad_compounds"), list(names), format_func=names.get, key="ad_new_scope")
        if st.form_submit_button(t("ad_add"), type="primary"):
            with shown_errors():
                auth.add_user(con, username, password, role, compounds=scope or None, user=user.username)
                st.success(t("ad_added", name=markdown_literal(username.strip())))
    if users.empty:
        return
    target = st.selectbox(
        t("ad_pick_user"), list(users["username"]), format_func=strip_invisible, key="ad_target"
    )
    role_col, reset_col, delete_col = st.columns(3)
    with role_col, st.form("ad_role_form"):
        st.markdown(f"**{t('ad_set_role')}**")
        new_role = st.selectbox(t("ad_role"), auth.ROLES, format_func=roles.get, key="ad_role_pick")
        new_scope = st.multiselect(t("ad_compounds"), list(names), format_func=names.get, key="ad_role_scope")
        if st.form_submit_button(t("ad_set_role")):
            with shown_errors():
                auth.set_role(con, target, new_role, compounds=new_scope or None, user=user.username)
                st.success(t("ad_role_set", name=markdown_literal(target)))
    with reset_col, st.form("ad_reset_form", clear_on_submit=True):
        st.markdown(f"**{t('ad_reset')}**")
        new_password = st.text_input(t("ad_new_password"), type="password", key="ad_reset_password")
        if st.form_submit_button(t("ad_reset")):
            with shown_errors():
                auth.reset_password(con, target, new_password, user=user.username)
                st.success(t("ad_reset_done", name=markdown_literal(target)))
    with delete_col, st.form("ad_delete_form"):
        st.markdown(f"**{t('ad_delete')}**")
        confirm = st.checkbox(t("ad_delete_confirm"), key="ad_delete_confirm")
        if st.form_submit_button(t("ad_delete")):
            if not confirm:
                st.warning(t("ad_delete_confirm"))
                return
            with shown_errors():
                auth.delete_user(con, target, user=user.username)
                st.success(t("ad_deleted", name=markdown_literal(target)))


def audit_tab() -> None:
    everyone = t("ad_all")
    left, mid, right = st.columns(3)
    who = left.selectbox(
        t("ad_audit_user"),
        [everyone, *backup.audit_users(con)],
        format_func=strip_invisible,
        key="ad_audit_user",
    )
    action = mid.selectbox(
        t("ad_audit_action"), [everyone, *backup.audit_actions(con)], key="ad_audit_action"
    )
    text = right.text_input(t("ad_audit_text"), key="ad_audit_text")
    log = backup.audit_log(
        con,
        user=None if who == everyone else who,
        action=None if action == everyone else action,
        text=text.strip() or None,
    )
    st.caption(t("rows_shown", n=len(log)))
    render_table(log, key="ad_audit", file_stem="audit_log")


def backup_tab() -> None:
    counts = db.table_counts(con)
    st.markdown(f"**{t('ad_counts')}**")
    st.dataframe(
        pd.DataFrame({"table": list(counts), "rows": list(counts.values())}),
        hide_index=True,
        key="ad_counts_df",
    )
    # the backup holds every table whole, password hashes included: made (when clicked: a full
    # store is too big to build on every rerun) only while this admin's session is still valid
    grant = session.download_grant(needs=("admin", "export"))
    if grant is not None:
        make_backup = grant.deferred(
            con, lambda: backup.backup_zip_bytes(con), "hotline-backup.zip", "backup"
        )
        st.download_button(
            t("ad_backup_download"),
            data=make_backup,
            file_name="hotline-backup.zip",
            mime="application/zip",
            key="ad_backup_download",
            on_click="ignore",
            type="primary",
        )
    st.divider()
    uploaded = st.file_uploader(t("ad_restore_file"), type=["zip"], key="ad_restore_file")
    overwrite = st.checkbox(t("ad_restore_overwrite"), key="ad_restore_overwrite")
    if uploaded is not None and st.button(t("ad_restore"), key="ad_restore"):
        with tempfile.TemporaryDirectory(prefix="hotline-restore-") as tmp:
            path = Path(tmp) / "backup.zip"
            path.write_bytes(uploaded.getvalue())
            with shown_errors():
                restored = backup.restore_from_zip(con, path, overwrite=overwrite, user=user.username)
                store.invalidate()
                session.logout(t("ad_restored", n=sum(restored.values())))
                st.rerun()


tab_users, tab_audit, tab_backup = st.tabs([t("ad_tab_users"), t("ad_tab_audit"), t("ad_tab_backup")])
with tab_users:
    users_tab()
with tab_audit:
    audit_tab()
with tab_backup:
    backup_tab()
