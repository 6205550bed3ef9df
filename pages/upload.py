"""数据上传 (analysts): tickets (preview -> map -> validate -> import -> undo), review queues and
the compound registry. Every step is one `analytics` call; errors are shown, never raised."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.ingest import columns, mapping_profiles
from analytics.ingest import pipeline as ingest
from analytics.ingest.categories import store as category_model
from analytics.ingest.categories import taxonomy
from analytics.ingest.categories import tickets as ticket_categories
from analytics.ingest.categories import train as category_training
from analytics.ingest.matching import review as match_review
from analytics.ingest.registry import compounds, queries
from analytics.safe_text import markdown_literal, strip_invisible
from analytics.services import auth
from ui import session, store
from ui.i18n import lang, t, value_text
from ui.widgets import mask_all_text, mask_phones, render_kpi, render_table, show_error, shown_errors

PREVIEW_ROWS = 20
REVIEW_BATCH = 15  # queue rows per form: enough to make progress, small enough to read
UPLOAD_TYPES = ["csv", "xlsx", "xls"]
RESULT_FIELDS = ("rows_read", "inserted", "updated", "duplicates", "rejected", "unmatched")

user = session.require("upload")
con = store.get_connection()
st.title(t("page_upload"))


def save_upload(uploaded: Any, slot: str) -> Path:
    """Write the uploaded file to a temporary path once (the readers want a path, and a 1 GB
    file should not be copied on every rerun); the previous file of this slot is removed."""
    key = f"up_saved_{slot}"
    saved = st.session_state.get(key)
    if saved and saved[0] == uploaded.file_id and Path(saved[1]).exists():
        return Path(saved[1])
    if saved:
        with contextlib.suppress(OSError):
            Path(saved[1]).unlink()
    suffix = Path(uploaded.name).suffix.lower()
    with tempfile.NamedTemporaryFile(prefix="hotline-upload-", suffix=suffix, delete=False) as handle:
        uploaded.seek(0)
        while chunk := uploaded.read(8 << 20):
            handle.write(chunk)
    st.session_state[key] = (uploaded.file_id, handle.name)
    return Path(handle.name)


def reasons_frame(reasons: Any) -> pd.DataFrame:
    """Rejection reasons as a table, whatever shape the result carries them in."""
    if isinstance(reasons, pd.DataFrame):
        return reasons
    if isinstance(reasons, dict):
        return pd.DataFrame({"reason": list(reasons), "rows": list(reasons.values())})
    return pd.DataFrame(reasons or [])


def render_result(result: Any, key: str) -> None:
    cols = st.columns(len(RESULT_FIELDS))
    for col, name in zip(cols, RESULT_FIELDS, strict=True):
        with col:
            render_kpi(t(f"m_{name}"), int(getattr(result, name, 0) or 0))
    reasons = reasons_frame(getattr(result, "reasons", None))
    if not reasons.empty:
        st.markdown(f"**{t('up_reasons')}**")
        render_table(reasons, key=f"{key}_reasons", file_stem="rejection_reasons", downloadable=False)


# --- tickets ---------------------------------------------------------------------------------


def mapping_widgets(preview: Any, fid: str, profile: str) -> dict[str, str | None]:
    """One select box per canonical field, preset from the suggestion (or the loaded profile).

    Returns {field: header or None}; None unmaps a field on purpose."""
    st.markdown(f"**{t('up_mapping')}**")
    # callers' names are never imported: their columns are not offered
    options = [None, *(h for h in preview.headers if h not in preview.dropped_headers)]
    not_mapped = t("up_not_mapped")  # resolved now: a format function must not depend on state
    mapping: dict[str, str | None] = {}
    grid = st.columns(4)
    for i, field in enumerate(columns.TICKET_FIELDS):
        current = (preview.mapping or {}).get(field.name)
        label = f"{t(f'up_field_{field.name}')} · {field.name}"
        label = t("up_required_label", label=label) if field.required else label
        with grid[i % 4]:
            mapping[field.name] = st.selectbox(
                label,
                options,
                index=options.index(current) if current in options else 0,
                format_func=lambda h: not_mapped if h is None else strip_invisible(h),
                key=f"up_map_{fid}_{profile}_{field.name}",
            )
    return mapping


def load_preview(path: Path, profile_mapping: dict | None, sheet: str | None) -> Any:
    """The first rows, read with the profile's mapping; a profile that does not fit this file is
    reported and the automatic suggestion used instead."""
    try:
        return ingest.preview_file(path, mapping=profile_mapping, sheet=sheet, n=PREVIEW_ROWS)
    except HotlineError as exc:
        show_error(exc)
        if profile_mapping is None:
            return None
    try:
        return ingest.preview_file(path, sheet=sheet, n=PREVIEW_ROWS)
    except HotlineError as exc:
        show_error(exc)
        return None


def ticket_upload() -> None:
    uploaded = st.file_uploader(t("up_file"), type=UPLOAD_TYPES, key="up_file")
    last = st.session_state.get("up_last_result")
    if last is not None:
        st.success(t("up_done", **last["summary"]))
        if last["rejected_rows"] is not None and not last["rejected_rows"].empty:
            st.markdown(f"**{t('up_rejected_rows')}**")
            render_table(
                last["rejected_rows"], key="up_last_rejected", file_stem=f"rejected_batch_{last['batch_id']}"
            )
    if uploaded is None:
        return
    path = save_upload(uploaded, "tickets")
    fid = uploaded.file_id[:12]

    profiles = mapping_profiles.list_profiles(con, kind="tickets")
    no_profile = t("up_profile_none")
    profile = st.selectbox(
        t("up_profile_load"),
        [None, *profiles["name"]],
        format_func=lambda p: no_profile if p is None else strip_invisible(p),
        key=f"up_profile_{fid}",
    )
    profile_mapping = None
    if profile is not None:
        with shown_errors():
            profile_mapping = mapping_profiles.load_profile(con, profile)

    sheet = st.session_state.get(f"up_sheet_{fid}")
    preview = load_preview(path, profile_mapping, sheet)
    if preview is None:
        return
    st.caption(t("up_encoding", enc=preview.encoding or "—"))
    if preview.sheets and len(preview.sheets) > 1:
        # opens on the sheet actually read (the first holding data), not simply the first
        at = preview.sheets.index(preview.sheet) if preview.sheet in preview.sheets else 0
        st.selectbox(t("up_sheet"), preview.sheets, index=at, key=f"up_sheet_{fid}")
        others = t("list_sep").join(markdown_literal(s) for s in preview.sheets if s != preview.sheet)
        st.caption(t("up_sheet_note", sheet=markdown_literal(preview.sheet), others=others))
    st.markdown(f"**{t('up_preview', n=PREVIEW_ROWS)}**")
    st.dataframe(mask_all_text(pd.DataFrame(preview.rows)), hide_index=True, key="up_preview_df")
    if preview.dropped_headers:
        st.info(
            t("up_dropped_personal", cols=t("list_sep").join(map(markdown_literal, preview.dropped_headers)))
        )

    mapping = mapping_widgets(preview, fid, profile or "")
    chosen = {k: v for k, v in mapping.items() if v}
    missing = columns.missing_required(chosen)
    if missing:
        st.warning(t("up_missing_required", fields=t("list_sep").join(missing)))
    unused = [h for h in preview.headers if h not in chosen.values() and h not in preview.dropped_headers]
    if unused:
        st.caption(t("up_unmapped", cols=t("list_sep").join(map(markdown_literal, unused))))

    with st.expander(t("up_profile_save")):
        name = st.text_input(t("up_profile_name"), key="up_profile_name")
        if st.button(t("up_profile_save"), key="up_profile_save"):
            with shown_errors():
                mapping_profiles.save_profile(con, name, chosen, kind="tickets", user=user.username)
                st.success(t("up_profile_saved", name=markdown_literal(name.strip())))

    signature = json.dumps([uploaded.file_id, mapping, preview.sheet], ensure_ascii=False, default=str)
    if st.button(t("up_validate"), key="up_validate", disabled=bool(missing)):
        with shown_errors():
            dry = ingest.ingest_file(
                con,
                path,
                mapping=mapping,
                user=user.username,
                sheet=preview.sheet,
                file_name=uploaded.name,
                dry_run=True,
            )
            st.session_state["up_dry"] = (signature, dry)
    dry_state = st.session_state.get("up_dry")
    if dry_state is None or dry_state[0] != signature:
        st.info(t("up_mapping_changed") if dry_state is not None else t("up_commit_first_validate"))
        return
    st.markdown(f"**{t('up_validation')}**")
    render_result(dry_state[1], "up_dry")
    if dry_state[1].dropped_personal_columns:
        dropped = t("list_sep").join(map(markdown_literal, dry_state[1].dropped_personal_columns))
        st.info(t("up_dropped_personal", cols=dropped), icon="🔒")

    if st.button(t("up_commit"), key="up_commit", type="primary"):
        bar = st.progress(0.0, text=t("up_importing"))

        def progress(fraction: float, message: str = "") -> None:
            # the import's steps in the reader's language; a step the catalogue lacks says "importing"
            step = value_text(message, default=t("up_importing")) if message else t("up_importing")
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=step)

        with shown_errors():
            result = ingest.ingest_file(
                con,
                path,
                mapping=mapping,
                user=user.username,
                sheet=preview.sheet,
                file_name=uploaded.name,
                progress=progress,
            )
            store.invalidate()
            rejected = ingest.rejected_rows(con, result.batch_id) if result.rejected else None
            st.session_state["up_last_result"] = {
                "summary": {name: int(getattr(result, name) or 0) for name in (*RESULT_FIELDS, "batch_id")},
                "batch_id": result.batch_id,
                "rejected_rows": rejected,
            }
            st.session_state.pop("up_dry", None)
            st.rerun()


# --- batches -----------------------------------------------------------------------------------


def batch_history() -> None:
    history = ingest.batches(con)
    render_table(history, key="up_batches", file_stem="import_batches")
    if "status" in history.columns:
        history = history[history["status"] == "committed"]
    if "kind" in history.columns:
        history = history[history["kind"] == "tickets"]
    if history.empty:
        st.caption(t("up_no_batches"))
        return
    labels = {
        int(r.batch_id): f"{int(r.batch_id)} · {strip_invisible(r.file_name)} · {r.loaded_at}"
        for r in history.itertuples(index=False)
    }
    # keyed by the newest batch, so a fresh import is what the box offers first
    newest = max(labels)
    batch_id = st.selectbox(
        t("up_undo_pick"), list(labels), format_func=labels.get, key=f"up_undo_pick_{newest}"
    )
    confirm = st.checkbox(t("up_undo_confirm"), key="up_undo_confirm")
    if st.button(t("up_undo"), key="up_undo", disabled=not confirm):
        with shown_errors():
            ingest.undo_batch(con, int(batch_id), user=user.username)
            store.invalidate()
            st.session_state.pop("up_last_result", None)
            st.success(t("up_undone", batch_id=batch_id))


# --- review queues -----------------------------------------------------------------------------


def flash(slot: str, message: str) -> None:
    """Show `message` after a rerun, so the queue below it is already without the saved rows."""
    st.session_state[f"up_flash_{slot}"] = message
    st.rerun()


def show_flash(slot: str) -> None:
    message = st.session_state.pop(f"up_flash_{slot}", None)
    if message:
        st.success(message)


def address_review() -> None:
    if not auth.can(user, "review_matches"):
        st.info(t("access_denied"))
        return
    show_flash("addr")
    st.caption(t("up_addr_intro"))
    queue = match_review.review_queue(con, limit=REVIEW_BATCH)
    if queue.empty:
        st.success(t("up_addr_empty"))
        return
    names = dict(zip(*(queries.compounds_df(con)[c] for c in ("compound_id", "name")), strict=True))
    skip, reject = "__skip__", "__reject__"
    skip_label, reject_label = t("up_addr_skip"), t("up_addr_reject")
    name_id = t("name_id").format  # resolved now: a format function must not depend on state
    with st.form("up_addr_form"):
        decisions: dict[str, str] = {}
        for row in queue.itertuples(index=False):
            candidates = [c["compound_id"] for c in row.candidates if c.get("compound_id") in names]
            others = sorted(set(names) - set(candidates))
            scores = {c["compound_id"]: c.get("score") for c in row.candidates}

            def fmt(cid: str, scores: dict = scores) -> str:
                if cid == skip:
                    return skip_label
                if cid == reject:
                    return reject_label
                score = scores.get(cid)
                return strip_invisible(name_id(name=names.get(cid, cid), id=cid)) + (
                    f" · {float(score):.2f}" if score is not None else ""
                )

            decisions[row.address] = st.selectbox(
                t("up_addr_label", address=markdown_literal(row.address), n=int(row.tickets)),  # Markdown
                [skip, *candidates, reject, *others],
                format_func=fmt,
                # keyed by the address, so a choice never slides onto another row after a save
                key=f"up_addr_{hashlib.sha1(row.address.encode('utf-8')).hexdigest()[:16]}",
            )
        submitted = st.form_submit_button(t("up_addr_submit"))
    if submitted:
        confirmed = rejected = 0
        with shown_errors():
            for address, choice in decisions.items():
                if choice == reject:
                    match_review.reject_match(con, address, user=user.username)
                    rejected += 1
                elif choice != skip:
                    match_review.confirm_match(con, address, choice, user=user.username)
                    confirmed += 1
            store.invalidate()
            flash("addr", t("up_addr_done", confirmed=confirmed, rejected=rejected))
        store.invalidate()  # an error part-way: what was saved before it still shows


def taxonomy_labels() -> dict[str, str]:
    """category name -> label in the current language (the name itself in Chinese)."""
    return {c.name: (c.en if lang() == "en" else c.name) for c in taxonomy.TAXONOMY}


def category_review() -> None:
    if not auth.can(user, "review_matches"):
        st.info(t("access_denied"))
        return
    show_flash("cat")
    info = category_model.latest_model_info(con)
    st.markdown(f"**{t('up_cat_model')}**")
    if info:
        st.json(info if isinstance(info, dict) else getattr(info, "__dict__", str(info)), expanded=False)
    else:
        st.caption(t("up_cat_no_model"))
    if st.button(t("up_cat_train"), key="up_cat_train"):
        with shown_errors(), st.spinner(t("up_cat_train")):
            category_training.train_model(con, user=user.username)
            store.invalidate()
            st.rerun()
    st.caption(t("up_cat_intro"))
    queue = ticket_categories.review_queue(con)
    if queue is None or len(queue) == 0:
        st.success(t("up_cat_empty"))
        return
    queue = queue.head(REVIEW_BATCH)
    labels = taxonomy_labels()
    names = list(labels)
    keep = "__keep__"
    keep_format = functools.partial(t("up_cat_keep").format, keep=t("up_addr_skip"))  # resolved now
    with st.form("up_cat_form"):
        choices: dict[str, str] = {}
        for row in queue.to_dict("records"):
            text = (row.get("title") or "") + " " + (row.get("content") or "")
            current = row.get("category")
            choices[row["ticket_id"]] = st.selectbox(
                # a label is Markdown: cut first, then escape, so no escape is cut in half
                t(
                    "up_cat_label",
                    ticket=markdown_literal(row["ticket_id"]),
                    text=markdown_literal(mask_phones(text.strip())[:120]),
                ),
                [keep, *names],
                format_func=lambda c, cur=current: keep_format(current=strip_invisible(cur) or "—")
                if c == keep
                else labels[c],
                key=f"up_cat_{row['ticket_id']}",
            )
        submitted = st.form_submit_button(t("up_cat_submit"))
    if submitted:
        changed = 0
        with shown_errors():
            for ticket_id, category in choices.items():
                if category != keep:
                    ticket_categories.set_ticket_category(con, ticket_id, category, user=user.username)
                    changed += 1
            store.invalidate()
            flash("cat", t("up_cat_done", n=changed))
        store.invalidate()  # an error part-way: what was saved before it still shows


# --- registry ----------------------------------------------------------------------------------


def registry_upload() -> None:
    if not auth.can(user, "edit_registry"):
        st.info(t("access_denied"))
        return
    uploaded = st.file_uploader(t("up_reg_file"), type=UPLOAD_TYPES, key="up_reg_file")
    if uploaded is not None and st.button(t("up_reg_import"), key="up_reg_import", type="primary"):
        path = save_upload(uploaded, "registry")
        with shown_errors():
            result = compounds.import_compounds(con, path, user=user.username)
            store.invalidate()
            st.session_state["up_reg_result"] = result
    result = st.session_state.get("up_reg_result")
    if result is None:
        return
    st.success(t("up_reg_done"))
    summary = result.as_json()
    cols = st.columns(5)
    for col, name in zip(cols, ("rows_read", "added", "updated", "unchanged", "rejected"), strict=True):
        with col:
            render_kpi(registry_label(name), int(summary.get(name) or 0))
    if not result.changes.empty:
        st.markdown(f"**{t('up_reg_changes')}**")
        render_table(result.changes, key="up_reg_changes", file_stem="registry_changes")
    if not result.rejected_rows.empty:
        st.markdown(f"**{t('up_reg_rejected')}**")
        render_table(result.rejected_rows, key="up_reg_rejected", file_stem="registry_rejected")


def registry_label(name: str) -> str:
    labels = {
        "added": "m_inserted",
        "updated": "m_updated",
        "rejected": "m_rejected",
        "rows_read": "m_rows_read",
    }
    return t(labels.get(name, f"m_{name}"))


tab_tickets, tab_batches, tab_addresses, tab_categories, tab_registry = st.tabs(
    [
        t("up_tab_tickets"),
        t("up_tab_batches"),
        t("up_tab_addresses"),
        t("up_tab_categories"),
        t("up_tab_registry"),
    ]
)
with tab_tickets:
    ticket_upload()
with tab_batches:
    batch_history()
with tab_addresses:
    address_review()
with tab_categories:
    category_review()
with tab_registry:
    registry_upload()
