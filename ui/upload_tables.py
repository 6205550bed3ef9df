"""The upload page's tables in the reader's language: a check's or an import's rejected rows in
the file's own columns, the reasons summed up, the batch history, the registry and its history.
Each turns what `analytics` returns into headers and cells a reader understands (no field names,
no None), and draws it through `ui.widgets.render_table` (masked, downloads audited)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from analytics.ingest import columns
from analytics.ingest.pipeline import rejected
from analytics.reports import text
from ui.i18n import t, value_text
from ui.widgets import render_table

MISSING = "—"
# the two columns the page puts before the file's own, in both languages: a file sent back and
# rejected again carries them from the first time, and must not show them twice
OWN_COLUMNS = ("up_rej_row", "up_rej_reason")
BATCH_COUNTS = ("rows_read", "inserted", "updated", "duplicates", "rejected", "unmatched")
REGISTRY_COLUMNS = (
    "compound_id", "name", "aliases", "community", "subdistrict", "type", "is_old", "built_year", "households",
    "property_company",
)  # fmt: skip


def count_text(value: Any) -> str:
    """A count with thousands separators; a missing one as a dash."""
    return MISSING if value is None or pd.isna(value) else f"{int(value):,}"


def plain_text(value: Any) -> str:
    """A text value; a missing or blank one as a dash."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    return str(value).strip() or MISSING


def time_text(value: Any) -> str:
    """A moment to the minute; a missing one as a dash."""
    return MISSING if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def rejected_rows_table(
    frame: pd.DataFrame, mapping: Mapping[str, str | None], key: str, file_stem: str
) -> None:
    """Rejected rows (`rejected.expand`) as the analyst downloads them to fix: the row number
    and the reason in the reader's language, then the file's own columns as they were."""
    own = {text.text(k, lang) for k in OWN_COLUMNS for lang in text.LANGS}
    file_columns = [
        c for c in frame.columns if c not in (rejected.ROW_COLUMN, rejected.REASON_COLUMN) and c not in own
    ]
    shown = pd.DataFrame(
        {
            t("up_rej_row"): frame[rejected.ROW_COLUMN].astype("int64"),
            t("up_rej_reason"): frame[rejected.REASON_COLUMN].map(value_text),
        }
    )
    shown = pd.concat([shown, frame[file_columns].reset_index(drop=True)], axis=1)
    keep = columns.verbatim_headers(file_columns, mapping)
    render_table(
        shown,
        key=key,
        file_stem=file_stem,
        unmasked=keep,
        column_config={t("up_rej_row"): st.column_config.NumberColumn(format="%d")},
    )


def reasons_table(reasons: Mapping[str, int], key: str) -> None:
    """How many rows each reason rejected, most first."""
    frame = pd.DataFrame(
        sorted(((value_text(r), int(n)) for r, n in reasons.items()), key=lambda p: -p[1]),
        columns=[t("up_rej_reason"), t("up_rej_rows")],
    )
    render_table(
        frame,
        key=key,
        file_stem="rejection_reasons",
        downloadable=False,
        column_config={t("up_rej_rows"): st.column_config.NumberColumn(format="localized")},
    )


def batches_table(history: pd.DataFrame) -> pd.DataFrame:
    """The upload history with headers and values in the reader's language."""
    out = pd.DataFrame(
        {
            t("up_b_batch_id"): history["batch_id"].map(lambda v: str(int(v))),
            t("up_b_kind"): history["kind"].map(lambda k: _known(f"up_kind_{k}", k)),
            t("up_b_file_name"): history["file_name"].map(plain_text),
            t("up_b_user"): history["user"].map(plain_text),
            t("up_b_loaded_at"): history["loaded_at"].map(time_text),
        }
    )
    for name in BATCH_COUNTS:
        out[t(f"m_{name}")] = history[name].map(count_text)
    out[t("up_b_status")] = history["status"].map(lambda s: _known(f"up_status_{s}", s))
    return out


def _known(key: str, fallback: Any) -> str:
    return t(key) if key in text.CATALOGUE else (fallback or MISSING)


def batch_mapping(raw: Any) -> dict[str, str]:
    """A batch's stored mapping (JSON) as a dict; {} when there is none."""
    try:
        mapping = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return mapping if isinstance(mapping, dict) else {}


def field_value(field: str, value: Any) -> str:
    """One registry value as a reader reads it: types and old/new in their language, lists
    joined, a missing value as a dash."""
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return MISSING
    if isinstance(value, list | tuple):
        return t("list_sep").join(map(str, value)) if value else MISSING
    if isinstance(value, bool):
        return t("up_reg_old" if value else "up_reg_new")
    if field in ("households", "built_year"):
        try:
            return f"{int(float(value)):,}" if field == "households" else str(int(float(value)))
        except ValueError:
            return str(value)
    if field in ("type", "is_old"):  # a registry import reports old/new as 旧 / 新
        return value_text(str(value))
    return str(value).strip() or MISSING


def changes_text(changes: Mapping[str, Any]) -> str:
    """{field: [old, new]} as one line: 户数：400 → 450；物业公司：— → 华信物业."""
    parts = []
    for field, pair in changes.items():
        old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list | tuple) else (None, pair)
        label = t(f"up_reg_f_{field}") if f"up_reg_f_{field}" in text.CATALOGUE else field
        parts.append(
            t("up_reg_change", field=label, old=field_value(field, old), new=field_value(field, new))
        )
    return t("up_reg_change_sep").join(parts)


def registry_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The registry's compounds with headers and values in the reader's language."""
    return pd.DataFrame(
        {
            t(f"up_reg_f_{c}"): frame[c].map(lambda v, c=c: field_value(c, v))
            for c in REGISTRY_COLUMNS
            if c in frame
        }
    )


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """A compound's versions, newest first, each change in words."""

    def source(row: pd.Series) -> str:
        if row["source"] == "import":
            batch = row["batch_id"]
            return t("up_reg_src_import", batch=MISSING if pd.isna(batch) else int(batch))
        return t("up_reg_src_edit")

    return pd.DataFrame(
        {
            t("up_reg_h_version"): history["version"].map(lambda v: str(int(v))),
            t("up_reg_h_at"): history["changed_at"].map(time_text),
            t("up_reg_h_user"): history["user"].map(plain_text),
            t("up_reg_h_source"): [source(r) for _, r in history.iterrows()],
            t("up_reg_h_changes"): history["changes"].map(changes_text),
        }
    )


def registry_changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """A registry import's changed values (compound_id, field, old, new) in the reader's words."""
    return pd.DataFrame(
        {
            t("up_reg_f_compound_id"): changes["compound_id"],
            t("up_reg_c_field"): changes["field"].map(
                lambda f: t(f"up_reg_f_{f}") if f"up_reg_f_{f}" in text.CATALOGUE else f
            ),
            t("up_reg_c_old"): [
                field_value(f, v) for f, v in zip(changes["field"], changes["old"], strict=True)
            ],
            t("up_reg_c_new"): [
                field_value(f, v) for f, v in zip(changes["field"], changes["new"], strict=True)
            ],
        }
    )
