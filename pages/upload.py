"""数据上传 (analysts): tickets (template -> preview -> map -> check -> import -> undo), review
queues and the compound registry (search, edit with history, file import). Every step is one
`analytics` call; errors are shown, never raised; after a write the page draws the new state."""

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
from analytics.ingest.categories import scheme as category_scheme
from analytics.ingest.categories import store as category_model
from analytics.ingest.categories import taxonomy
from analytics.ingest.categories import tickets as ticket_categories
from analytics.ingest.categories import train as category_training
from analytics.ingest.matching import review as match_review
from analytics.ingest.pipeline import rejected as rejected_rows
from analytics.ingest.registry import compounds, edit, queries
from analytics.ingest.registry.values import COMPOUND_TYPES
from analytics.reports import exports
from analytics.safe_text import markdown_literal, strip_invisible
from analytics.services import auth
from ui import session, store
from ui import upload_tables as tables
from ui.i18n import lang, t, value_text
from ui.widgets import mask_phones, render_kpi, render_table, show_error, shown_errors

PREVIEW_ROWS = 20
REVIEW_BATCH = 15  # queue rows per form: enough to make progress, small enough to read
REGISTRY_HEIGHT = 320  # px: a district's 1,105 compounds scroll inside the table
REGISTRY_ROWS_AUTO = 8  # a search finding fewer shows them all without an empty tail
UPLOAD_TYPES = ["csv", "xlsx", "xls"]
RESULT_FIELDS = ("rows_read", "inserted", "updated", "duplicates", "rejected", "unmatched")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

user = session.require("upload")
con = store.get_connection()
st.title(t("page_upload"))


def picker_in_chinese() -> None:
    """Streamlit draws its file picker's button ("Upload"), size note ("… per file • CSV") and
    add-file button in English whatever the page's language, with no setting for any of them. In
    Chinese the note is hidden (each picker has a caption with types and size instead), the
    button says 选择文件, and the add-file button goes (a chosen file is removed with its ×); the
    "Press Enter to apply" hint under a text box goes too (the page's buttons say what to do)."""
    if lang() != "zh":
        return
    label = json.dumps(t("up_picker_button"), ensure_ascii=False)
    zone = '[data-testid="stFileUploaderDropzone"]'
    st.html(
        "<style>"
        f'{zone} [data-testid="stFileUploaderDropzoneInstructions"],'
        f'{zone} button [data-testid="stMarkdownContainer"],'
        f'{zone} button [data-testid="stIconMaterial"],'
        '[data-testid="stFileUploader"] [data-testid="stBaseButton-borderlessIcon"],'
        # "Press Enter to apply / submit form" under a text box being typed in
        '[data-testid="stMain"] [data-testid="InputInstructions"] {display: none;}'
        f'{zone} button[data-testid="stBaseButton-secondary"]::after {{content: {label};}}'
        "</style>"
    )


def file_picker(label_key: str, help_key: str, key: str) -> Any:
    """A file picker with the accepted types and size said in the reader's language. After an
    import the page starts a new generation of its key, so the picker comes back empty instead
    of offering the imported file again (the first generation keeps the plain key)."""
    generation = st.session_state.get(f"{key}_generation", 0)
    uploaded = st.file_uploader(
        t(label_key),
        type=UPLOAD_TYPES,
        key=key if not generation else f"{key}_{generation}",
        help=t(help_key),
    )
    st.caption(t("up_file_caption", mb=int(st.get_option("server.maxUploadSize"))))
    return uploaded


def next_generation(key: str) -> None:
    st.session_state[f"{key}_generation"] = st.session_state.get(f"{key}_generation", 0) + 1


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


def flash(slot: str, message: str) -> None:
    """Show `message` after a rerun, so everything below it already shows the new state."""
    st.session_state[f"up_flash_{slot}"] = message
    st.rerun()


def show_flash(slot: str) -> None:
    message = st.session_state.pop(f"up_flash_{slot}", None)
    if message:
        st.success(message)


def render_counts(result: Any) -> None:
    """The counts of a check or an import, each explained, and how they add up."""
    values = {name: int(getattr(result, name, 0) or 0) for name in RESULT_FIELDS}
    for col, name in zip(st.columns(len(RESULT_FIELDS)), RESULT_FIELDS, strict=True):
        with col:
            render_kpi(t(f"m_{name}"), values[name], help=t(f"up_help_{name}"))
    st.caption(t("up_balance", **values))


def render_rejected(frame: pd.DataFrame, total: int, mapping: dict, key: str, file_stem: str) -> None:
    if frame.empty:
        return
    st.caption(t("up_rej_fix"))
    if total > len(frame):
        st.caption(t("up_rej_more", n=total, shown=len(frame)))
    tables.rejected_rows_table(frame, mapping, key=key, file_stem=file_stem)


# --- tickets ---------------------------------------------------------------------------------


def template_and_guide() -> None:
    """The template to start from, and what each column may be called and hold."""
    st.download_button(
        t("up_template_download"),
        data=functools.partial(exports.ticket_template_xlsx, lang()),
        file_name=f"{t('up_template_file')}.xlsx",
        mime=XLSX_MIME,
        key="up_template",
        on_click="ignore",
    )
    st.caption(t("up_template_caption"))
    with st.expander(t("up_guide")):
        st.dataframe(exports.field_guide_frame(lang()), hide_index=True, key="up_guide_df")


def last_import() -> None:
    """What the last import did, and its rejected rows to fix, until the next file or an undo."""
    last = st.session_state.get("up_last_result")
    if last is None:
        return
    st.success(t("up_done", **last["summary"]))
    st.info(t("up_imported_file", name=markdown_literal(last["file"]), batch_id=last["batch_id"]))
    if last["summary"]["rejected"]:
        st.markdown(f"**{t('up_rejected_rows')}**")
        with shown_errors():
            frame = ingest.rejected_table(con, last["batch_id"])
            render_rejected(
                frame,
                len(frame),
                last["mapping"],
                key="up_last_rejected",
                file_stem=f"rejected_batch_{last['batch_id']}",
            )


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
        label = t(f"up_field_{field.name}")
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


def show_check(dry: Any) -> None:
    """A check's report: the counts, the reasons, and every row that would be rejected."""
    st.markdown(f"**{t('up_validation')}**")
    render_counts(dry)
    if dry.dropped_personal_columns:
        dropped = t("list_sep").join(map(markdown_literal, dry.dropped_personal_columns))
        st.info(t("up_dropped_personal", cols=dropped), icon="🔒")
    if not dry.rejected:
        return
    st.markdown(f"**{t('up_reasons')}**")
    tables.reasons_table(dry.reasons, key="up_dry_reasons")
    st.markdown(f"**{t('up_rej_will', n=dry.rejected)}**")
    render_rejected(
        dry.rejected_table(), dry.rejected, dry.mapping, key="up_dry_rejected", file_stem="rejected_rows"
    )


def ticket_upload() -> None:
    template_and_guide()
    last_import()
    uploaded = file_picker("up_file", "up_file_help", "up_file")
    if uploaded is None:
        return
    st.session_state.pop("up_last_result", None)  # a new file: the last import's report is done
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
    # drawn above the mapping, filled after it: the ticket id and time columns the analyst maps
    # show as they are, every other cell with its phone and ID numbers masked
    preview_box = st.container()
    mapping = mapping_widgets(preview, fid, profile or "")
    with preview_box:
        st.markdown(f"**{t('up_preview', n=PREVIEW_ROWS)}**")
        st.dataframe(preview.shown(mapping), hide_index=True, key="up_preview_df")
        if preview.dropped_headers:
            dropped = t("list_sep").join(map(markdown_literal, preview.dropped_headers))
            st.info(t("up_dropped_personal", cols=dropped))
    chosen = {k: v for k, v in mapping.items() if v}
    missing = columns.missing_required(chosen)
    if missing:
        st.warning(t("up_missing_required", fields=t("list_sep").join(t(f"up_field_{m}") for m in missing)))
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
    show_check(dry_state[1])

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
            st.session_state["up_last_result"] = {
                "summary": {name: int(getattr(result, name) or 0) for name in (*RESULT_FIELDS, "batch_id")},
                "batch_id": result.batch_id,
                "file": uploaded.name,
                "mapping": result.mapping,
            }
            st.session_state.pop("up_dry", None)
            next_generation("up_file")  # the picker comes back empty: this file is done
            st.rerun()


# --- batches -----------------------------------------------------------------------------------


def batch_history() -> None:
    show_flash("undo")
    history = ingest.batches(con)
    if history.empty:
        st.caption(t("up_no_batches"))
        return
    render_table(tables.batches_table(history), key="up_batches", file_stem="import_batches")
    undo_batch(history)
    batch_rejected_rows(history)


def undo_batch(history: pd.DataFrame) -> None:
    undoable = history[(history["status"] == "committed") & (history["kind"] == "tickets")]
    if undoable.empty:
        st.caption(t("up_no_batches"))
        return
    labels = {
        int(r.batch_id): t(
            "up_batch_label",
            batch_id=int(r.batch_id),
            file=strip_invisible(tables.plain_text(r.file_name)),
            at=tables.time_text(r.loaded_at),
        )
        for r in undoable.itertuples(index=False)
    }
    # keyed by the newest batch, so a fresh import is what the box offers first
    batch_id = st.selectbox(
        t("up_undo_pick"), list(labels), format_func=labels.get, key=f"up_undo_pick_{max(labels)}"
    )
    # keyed by the batch: a confirmation never carries over to another batch
    confirm = st.checkbox(t("up_undo_confirm"), key=f"up_undo_confirm_{batch_id}")
    if st.button(t("up_undo"), key="up_undo", disabled=not confirm):
        with shown_errors():
            ingest.undo_batch(con, int(batch_id), user=user.username)
            store.invalidate()
            last = st.session_state.get("up_last_result")
            if last is not None and last["batch_id"] == batch_id:
                st.session_state.pop("up_last_result")
            flash("undo", t("up_undone", batch_id=batch_id))


def batch_rejected_rows(history: pd.DataFrame) -> None:
    """Any ticket batch's rejected rows, to download and fix later."""
    with_rejected = history[(history["kind"] == "tickets") & (history["rejected"].fillna(0) > 0)]
    if with_rejected.empty:
        return
    st.markdown(f"**{t('up_batch_rejected')}**")
    labels = {
        int(r.batch_id): t(
            "up_batch_label",
            batch_id=int(r.batch_id),
            file=strip_invisible(tables.plain_text(r.file_name)),
            at=tables.time_text(r.loaded_at),
        )
        for r in with_rejected.itertuples(index=False)
    }
    batch_id = st.selectbox(t("up_batch_rejected"), list(labels), format_func=labels.get, key="up_rej_pick")
    mapping = tables.batch_mapping(with_rejected.set_index("batch_id").loc[batch_id, "mapping"])
    with shown_errors():
        frame = ingest.rejected_table(con, int(batch_id))
        if frame.empty:
            st.caption(t("up_batch_no_rejected"))
        render_rejected(
            frame, len(frame), mapping, key="up_batch_rejected", file_stem=f"rejected_batch_{batch_id}"
        )


# --- review queues -----------------------------------------------------------------------------


def address_review() -> None:
    if not auth.can(user, "review_matches"):
        st.info(t("access_denied"))
        return
    show_flash("addr")
    st.caption(t("up_addr_intro"))
    # a join over every ticket: read once per write, not on each click of the page
    totals = store.cached(match_review.review_totals)
    left, right, _ = st.columns([1, 1, 2])
    with left:
        render_kpi(t("up_addr_m_addresses"), totals["addresses"], help=t("up_addr_help_addresses"))
    with right:
        render_kpi(t("up_addr_m_tickets"), totals["tickets"], help=t("up_addr_help_tickets"))
    # one row per look-alike group: a decision on it settles the whole group
    queue = store.cached(match_review.review_queue, limit=REVIEW_BATCH, per_group=True)
    if queue.empty:
        st.success(t("up_addr_empty"))
        return
    st.caption(t("up_addr_order", n=REVIEW_BATCH))
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
                    f" · {float(score):.0%}" if score is not None else ""
                )

            address = markdown_literal(row.address)
            label = (
                t(
                    "up_addr_label_group",
                    address=address,
                    n=int(row.tickets),
                    k=int(row.similar),
                    m=int(row.settles),
                )
                if row.similar
                else t("up_addr_label", address=address, n=int(row.tickets))
            )
            decisions[row.address] = st.selectbox(
                label,  # Markdown
                [skip, *candidates, reject, *others],
                format_func=fmt,
                # keyed by the address, so a choice never slides onto another row after a save
                key=f"up_addr_{hashlib.sha1(row.address.encode('utf-8')).hexdigest()[:16]}",
            )
        submitted = st.form_submit_button(t("up_addr_submit"))
    if submitted:
        confirmed = rejected = tickets = again = again_tickets = 0
        with shown_errors():
            for address, choice in decisions.items():
                if choice == reject:
                    rejected += match_review.reject_group(con, address, user=user.username).addresses
                elif choice != skip:
                    done = match_review.settle(con, address, choice, user=user.username)
                    confirmed += done.addresses
                    tickets += done.tickets
                    again += done.rematched_addresses
                    again_tickets += done.rematched_tickets
            store.invalidate()
            message = t("up_addr_done", confirmed=confirmed, tickets=tickets, rejected=rejected)
            if again:
                message += " " + t("up_addr_done_again", again=again, again_tickets=again_tickets)
            flash("addr", message)
        store.invalidate()  # an error part-way: what was saved before it still shows


def taxonomy_labels() -> dict[str, str]:
    """category name -> label in the current language (the name itself in Chinese)."""
    return {c.name: (c.en if lang() == "en" else c.name) for c in taxonomy.TAXONOMY}


def model_card(info: dict[str, Any]) -> None:
    """The current category model in four numbers."""
    scores = info.get("scores") or {}
    cells = [
        (t("up_cat_trained_at"), tables.time_text(info.get("trained_at")), None),
        (t("up_cat_n_train"), tables.count_text(info.get("n_train")), None),
    ]
    for key, name in (("up_cat_accuracy", "accuracy"), ("up_cat_f1", "macro_f1")):
        value = scores.get(name)
        cells.append(
            (t(key), "—" if value is None else f"{float(value):.1%}", t(f"up_cat_help_{name.split('_')[-1]}"))
        )
    for col, (label, value, tip) in zip(st.columns(len(cells)), cells, strict=True):
        with col:
            render_kpi(label, value, help=tip)


def scheme_upload() -> None:
    """The centre's category scheme (一级/二级/三级分类): its sub-category names teach the model
    topics no labelled ticket mentions yet; it takes effect at the next training."""
    loaded = category_scheme.scheme_info(con)
    with st.expander(t("up_scheme_title"), expanded=False):
        if loaded:
            st.caption(
                t(
                    "up_scheme_loaded",
                    rows=loaded["rows"],
                    n=len(loaded["level_1"]),
                    when=tables.time_text(loaded["loaded_at"]),
                )
            )
        else:
            st.caption(t("up_scheme_none"))
        uploaded = file_picker("up_scheme_file", "up_scheme_file_help", "up_scheme_file")
        if uploaded is not None and st.button(t("up_scheme_load"), key="up_scheme_load"):
            path = save_upload(uploaded, "scheme")
            with shown_errors():
                done = category_scheme.load_scheme(con, path, user=user.username)
                store.invalidate()
                next_generation("up_scheme_file")
                flash("cat", t("up_scheme_done", rows=done["rows"], n=len(done["level_1"])))
                st.rerun()


def category_review() -> None:
    if not auth.can(user, "review_matches"):
        st.info(t("access_denied"))
        return
    show_flash("cat")
    info = category_model.latest_model_info(con)
    st.markdown(f"**{t('up_cat_model')}**")
    if info:
        model_card(info)
    else:
        st.caption(t("up_cat_no_model"))
    scheme_upload()
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
                format_func=lambda c, cur=current: keep_format(
                    current=labels.get(cur, strip_invisible(cur) or "—")
                )
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


def registry() -> None:
    show_flash("reg")
    found = registry_search()
    if auth.can(user, "edit_registry"):
        registry_edit(found)
        st.divider()
        registry_upload()


def registry_search() -> pd.DataFrame:
    query = st.text_input(t("up_reg_search"), key="up_reg_search", placeholder=t("up_reg_search_ph"))
    found = edit.search_registry(con, query)
    total = len(found) if not query.strip() else len(edit.search_registry(con))
    st.caption(t("up_reg_count", n=len(found), total=total))
    if found.empty:
        return found
    event = render_table(
        tables.registry_table(found),
        key="up_reg_table",
        file_stem="compound_registry",
        height=REGISTRY_HEIGHT if len(found) > REGISTRY_ROWS_AUTO else "auto",
        selectable=True,
    )
    # a row picked in the table is the compound the form below edits (until another is picked)
    rows = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    picked = str(found["compound_id"].iloc[rows[0]]) if rows and rows[0] < len(found) else None
    if picked is not None and picked != st.session_state.get("up_reg_table_pick"):
        st.session_state["up_reg_table_pick"] = picked
        st.session_state["up_reg_pick"] = picked
    if auth.can(user, "edit_registry"):
        st.caption(t("up_reg_table_hint"))
    return found


def registry_edit(found: pd.DataFrame) -> None:
    if found.empty:
        return
    st.subheader(t("up_reg_edit"))
    name_id = t("name_id").format  # resolved now: a format function must not depend on state
    names = dict(zip(found["compound_id"], found["name"], strict=True))
    compound_id = st.selectbox(
        t("up_reg_pick"),
        list(names),
        format_func=lambda c: strip_invisible(name_id(name=names[c], id=c)),
        key="up_reg_pick",
    )
    current = found.set_index("compound_id").loc[compound_id]
    households = current["households"]
    # resolved now: a format function must not depend on state
    type_labels = {None: t("up_reg_type_none"), **{v: value_text(v) for v in COMPOUND_TYPES}}
    types = list(type_labels)
    with st.form(f"up_reg_form_{compound_id}"):
        left, right = st.columns(2)
        with left:
            name = st.text_input(t("up_reg_f_name"), value=current["name"], key=f"up_reg_name_{compound_id}")
            count = st.text_input(
                t("up_reg_f_households"),
                value="" if pd.isna(households) else str(int(households)),
                help=t("up_reg_households_help"),
                key=f"up_reg_households_{compound_id}",
            )
            ctype = st.selectbox(
                t("up_reg_f_type"),
                types,
                index=types.index(current["type"]) if current["type"] in types else 0,
                format_func=type_labels.get,
                key=f"up_reg_type_{compound_id}",
            )
        with right:
            company = st.text_input(
                t("up_reg_f_property_company"),
                value=current["property_company"] or "",
                key=f"up_reg_company_{compound_id}",
            )
            aliases = st.text_input(
                t("up_reg_f_aliases"),
                value=current["aliases"] or "",
                help=t("up_reg_aliases_help"),
                key=f"up_reg_aliases_{compound_id}",
            )
        submitted = st.form_submit_button(t("up_reg_save"), type="primary")
    if submitted:
        with shown_errors():
            changed = edit.edit_compound(
                con,
                compound_id,
                {
                    "name": name,
                    "households": count,
                    "type": ctype,
                    "property_company": company,
                    "aliases": aliases,
                },
                user=user.username,
            )
            if not changed:
                st.info(t("up_reg_nochange"))
            else:
                store.invalidate()
                flash(
                    "reg",
                    t(
                        "up_reg_saved",
                        name=markdown_literal(name.strip()),
                        changes=tables.changes_text(changed),
                    ),
                )
    st.markdown(f"**{t('up_reg_history')}**")
    history = edit.compound_history(con, compound_id)
    if history.empty:
        st.caption(t("up_reg_no_history"))
    else:
        render_table(
            tables.history_table(history), key="up_reg_history", file_stem=f"registry_history_{compound_id}"
        )


def registry_upload() -> None:
    st.subheader(t("up_reg_upload"))
    uploaded = file_picker("up_reg_file", "up_reg_file_help", "up_reg_file")
    if uploaded is not None and st.button(t("up_reg_import"), key="up_reg_import", type="primary"):
        path = save_upload(uploaded, "registry")
        with shown_errors():
            result = compounds.import_compounds(con, path, user=user.username)
            store.invalidate()
            st.session_state["up_reg_result"] = result
            next_generation("up_reg_file")
            st.rerun()
    result = st.session_state.get("up_reg_result")
    if result is None:
        return
    st.success(t("up_reg_done"))
    summary = result.as_json()
    for col, name in zip(
        st.columns(5), ("rows_read", "added", "updated", "unchanged", "rejected"), strict=True
    ):
        with col:
            render_kpi(registry_label(name), int(summary.get(name) or 0))
    moved = getattr(result, "compound_changes", None)
    if moved is not None and not moved.empty:
        # renames, splits and merges the file states, in plain words
        st.markdown(f"**{t('up_reg_compound_changes')}**")
        for message in moved["message_en" if lang() == "en" else "message_zh"]:
            st.info(markdown_literal(message))
    if not result.changes.empty:
        st.markdown(f"**{t('up_reg_changes')}**")
        render_table(
            tables.registry_changes_table(result.changes), key="up_reg_changes", file_stem="registry_changes"
        )
    if not result.rejected_rows.empty:
        st.markdown(f"**{t('up_reg_rejected')}**")
        frame = rejected_rows.expand(result.rejected_rows, 1, {})
        tables.rejected_rows_table(frame, {}, key="up_reg_rejected", file_stem="registry_rejected")


def registry_label(name: str) -> str:
    labels = {
        "added": "m_inserted",
        "updated": "m_updated",
        "rejected": "m_rejected",
        "rows_read": "m_rows_read",
    }
    return t(labels.get(name, f"m_{name}"))


picker_in_chinese()
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
    registry()
