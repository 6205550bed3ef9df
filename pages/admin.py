"""管理 (administrators): users and roles, the audit log, backup and restore."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics.ingest.registry import queries
from analytics.reports import audit_text
from analytics.safe_text import markdown_literal, strip_invisible
from analytics.services import auth
from analytics.store import backup, db
from ui import session, store
from ui.i18n import lang, role_name, t
from ui.widgets import render_table, shown_errors

user = session.require("admin")
con = store.get_connection()
st.title(t("page_admin"))


ALL = ""  # the filters' "everyone / every action" option
FLASH_KEY = "ad_flash"  # a message for the rerun right after a change (its tables then show it)
PENDING_KEY = "ad_role_pending"  # (the account as it was, the access asked for) awaiting confirmation


def compound_names() -> dict[str, str]:
    frame = store.cached(queries.compounds_df)
    return dict(zip(frame["compound_id"], frame["name"], strict=True))


def compound_options(names: dict[str, str]) -> dict[str, str]:
    return {cid: strip_invisible(t("name_id", name=name, id=cid)) for cid, name in names.items()}


def flash(message: str) -> None:
    st.session_state[FLASH_KEY] = message
    st.rerun()


def when(value, empty: str = "—") -> str:
    return empty if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def users_table(users: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    reader = lang()
    now = pd.Timestamp.now()
    locked = users["locked_until"].map(
        lambda v: when(v)
        if v is not None and not pd.isna(v) and pd.Timestamp(v) > now
        else t("ad_not_locked")
    )
    return pd.DataFrame(
        {
            t("ad_col_username"): users["username"].map(strip_invisible),
            t("ad_col_role"): users["role"].map(role_name),
            t("ad_col_compound_scope"): users["compound_scope"].map(
                lambda s: audit_text.scope_summary(s, names, reader)
            ),
            t("ad_col_failed_attempts"): users["failed_attempts"].fillna(0).astype(int),
            t("ad_col_locked_until"): locked,
            t("ad_col_created_at"): users["created_at"].map(when),
        }
    )


def apply_role(old: auth.User, new: auth.User) -> None:
    with shown_errors():
        auth.set_role(
            con,
            old.username,
            new.role,
            compounds=list(new.compound_scope) if new.compound_scope else None,
            user=user.username,
            expect=old,
        )
        st.session_state.pop(PENDING_KEY, None)
        flash(t("ad_role_set", name=markdown_literal(old.username)))


def role_form(current: auth.User, names: dict[str, str], roles: dict[str, str]) -> None:
    """The chosen user's role and scope, loaded into the form (keyed by the account as stored, so
    another user, or this one after a change, loads afresh). Only a real change is written; one
    that lets the user see more waits for a second, explicit confirmation."""
    options = compound_options(names)
    scope = list(current.compound_scope or ())
    version = hashlib.sha256(f"{current.username}|{current.role}|{','.join(scope)}".encode()).hexdigest()[:12]
    with st.form("ad_role_form"):
        st.markdown(f"**{t('ad_set_role')}**")
        st.caption(t("ad_role_hint"))
        new_role = st.selectbox(
            t("ad_role"),
            auth.ROLES,
            index=auth.ROLES.index(current.role) if current.role in auth.ROLES else 0,
            format_func=roles.get,
            key=f"ad_role_pick_{version}",
        )
        new_scope = st.multiselect(
            t("ad_compounds"),
            list(options),
            default=[c for c in scope if c in options],
            format_func=options.get,
            placeholder=t("ad_choose_compounds"),
            key=f"ad_role_scope_{version}",
        )
        submitted = st.form_submit_button(t("ad_set_role"))
    if submitted:
        wanted = auth.User(
            current.username, new_role, tuple(sorted(new_scope)) if new_role == "taskforce" else None
        )
        st.session_state.pop(PENDING_KEY, None)
        if (wanted.role, wanted.compound_scope) == (current.role, current.compound_scope):
            st.info(t("ad_no_change"))
        elif auth.widens(current, wanted):
            st.session_state[PENDING_KEY] = (current, wanted)
        else:
            apply_role(current, wanted)
    pending = st.session_state.get(PENDING_KEY)
    if pending is None:
        return
    old, new = pending
    if old != current:  # another user was chosen, or the account changed meanwhile
        st.session_state.pop(PENDING_KEY, None)
        return
    reader = lang()
    st.warning(
        t(
            "ad_widen_warning",
            name=markdown_literal(old.username),
            old=markdown_literal(audit_text.access_label(old.role, old.compound_scope, names, reader)),
            new=markdown_literal(audit_text.access_label(new.role, new.compound_scope, names, reader)),
        )
    )
    yes, no = st.columns(2)
    if yes.button(t("ad_widen_confirm"), key="ad_widen_confirm", type="primary"):
        apply_role(old, new)
    if no.button(t("ad_widen_cancel"), key="ad_widen_cancel"):
        st.session_state.pop(PENDING_KEY, None)
        flash(t("ad_widen_cancelled"))


def users_tab() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)
    roles = {r: role_name(r) for r in auth.ROLES}  # resolved now: format functions stay pure
    users = auth.list_users(con)
    names = compound_names()
    options = compound_options(names)
    render_table(
        users_table(users, names),
        key="ad_users",
        file_stem="users",
        column_config={
            t("ad_col_failed_attempts"): st.column_config.NumberColumn(help=t("ad_help_failed_attempts"))
        },
    )

    with st.form("ad_add_form", clear_on_submit=True):
        st.markdown(f"**{t('ad_add_user')}**")
        left, mid, right = st.columns(3)
        username = left.text_input(t("username"), key="ad_new_name")
        password = mid.text_input(t("password"), type="password", key="ad_new_password")
        role = right.selectbox(t("ad_role"), auth.ROLES, format_func=roles.get, key="ad_new_role")
        scope = st.multiselect(
            t("ad_compounds"),
            list(options),
            format_func=options.get,
            placeholder=t("ad_choose_compounds"),
            key="ad_new_scope",
        )
        if st.form_submit_button(t("ad_add"), type="primary"):
            with shown_errors():
                added = auth.add_user(
                    con, username, password, role, compounds=scope or None, user=user.username
                )
                flash(t("ad_added", name=markdown_literal(added.username)))
    if users.empty:
        return
    target = st.selectbox(
        t("ad_pick_user"), list(users["username"]), format_func=strip_invisible, key="ad_target"
    )
    current = auth.get_user(con, target)
    if current is None:  # deleted meanwhile
        return
    role_col, reset_col, delete_col = st.columns(3)
    with role_col:
        role_form(current, names, roles)
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
                flash(t("ad_deleted", name=markdown_literal(target)))


def audit_table(log: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    reader = lang()
    return pd.DataFrame(
        {
            t("ad_col_logged_at"): log["logged_at"].map(lambda v: f"{pd.Timestamp(v):%Y-%m-%d %H:%M:%S}"),
            t("ad_col_user"): log["user"].map(
                lambda u: t("ad_system") if u is None or pd.isna(u) else strip_invisible(u)
            ),
            t("ad_col_action"): log["action"].map(lambda a: audit_text.action_label(a, reader)),
            t("ad_col_detail"): [
                audit_text.describe(a, d, names, reader)
                for a, d in zip(log["action"], log["detail"], strict=True)
            ],
        }
    )


def audit_tab() -> None:
    reader = lang()
    everyone = t("ad_all")
    left, mid, right = st.columns(3)
    who = left.selectbox(
        t("ad_audit_user"),
        [ALL, *backup.audit_users(con)],
        format_func=lambda u: everyone if u == ALL else strip_invisible(u),
        key="ad_audit_user",
    )
    action = mid.selectbox(
        t("ad_audit_action"),
        [ALL, *backup.audit_actions(con)],
        format_func=lambda a: everyone if a == ALL else audit_text.action_label(a, reader),
        key="ad_audit_action",
    )
    text = right.text_input(t("ad_audit_text"), key="ad_audit_text")
    log = backup.audit_log(
        con,
        user=who or None,
        action=action or None,
        text=text.strip() or None,
    )
    st.caption(t("rows_shown", n=f"{len(log):,}"))
    render_table(audit_table(log, compound_names()), key="ad_audit", file_stem="audit_log")


def backup_tab() -> None:
    counts = db.table_counts(con)
    reader = lang()
    st.markdown(f"**{t('ad_counts')}**")
    st.dataframe(
        pd.DataFrame(
            {
                t("ad_col_table"): [audit_text.table_label(name, reader) for name in counts],
                t("ad_col_rows"): list(counts.values()),
            }
        ),
        hide_index=True,
        key="ad_counts_df",
        column_config={t("ad_col_rows"): st.column_config.NumberColumn(format="localized")},
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
