"""Small repeated blocks: a KPI card, a table with audited downloads, masked ticket text,
and the one place that turns our errors into a message instead of a traceback."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.store import db
from ui.i18n import error_text, t

# A phone-like run: at least 7 digits, possibly split by spaces or hyphens (138-1234-5678).
PHONE_RUN = re.compile(r"(?<!\d)\d(?:[ \-]?\d){6,}(?!\d)")
KEEP_DIGITS = 3  # the prefix left visible, e.g. 138********
TEXT_COLUMNS = (
    "title",
    "content",
    "address",
    "raw",
    "text",
    "sample_text",
)  # ticket text that may carry numbers
HIDDEN_COLUMNS = ("caller_hash",)  # never shown, not even hashed

log = logging.getLogger(__name__)


def mask_phones(text: Any) -> Any:
    """Replace all but the first digits of every phone-like digit run with '*'."""
    if not isinstance(text, str):
        return text

    def _mask(match: re.Match[str]) -> str:
        kept = 0
        out = []
        for ch in match.group(0):
            if ch.isdigit():
                out.append(ch if kept < KEEP_DIGITS else "*")
                kept += 1
            else:
                out.append(ch)
        return "".join(out)

    return PHONE_RUN.sub(_mask, text)


def safe_frame(df: pd.DataFrame, text_columns: Iterable[str] = TEXT_COLUMNS) -> pd.DataFrame:
    """A copy fit for the screen: caller hashes dropped, phone-like numbers masked."""
    out = df.drop(columns=[c for c in HIDDEN_COLUMNS if c in df.columns])
    for col in text_columns:
        if col in out.columns:
            out[col] = out[col].map(mask_phones)
    return out


def mask_all_text(df: pd.DataFrame) -> pd.DataFrame:
    """Mask every text column (for raw upload previews, whose column names are unknown)."""
    text_cols = [c for c in df.columns if df[c].dtype == object]
    return safe_frame(df, text_cols)


def render_kpi(label: str, value: Any, delta: Any = None, help: str | None = None) -> None:
    if isinstance(value, int):
        value = f"{value:,}"
    st.metric(label, value, delta=delta, help=help)


def download_payload(
    con: duckdb.DuckDBPyConnection, username: str | None, df: pd.DataFrame, fmt: str, file_stem: str
) -> bytes:
    """The file for a download, written to the audit log with it (one transaction)."""
    from analytics.reports import exports

    data = exports.to_csv_bytes(df) if fmt == "csv" else exports.to_xlsx_bytes({file_stem[:31]: df})
    with db.transaction(con) as cur:
        db.audit(cur, username, "download", {"file": f"{file_stem}.{fmt}", "rows": len(df)})
    return data


def render_table(
    df: pd.DataFrame,
    key: str,
    file_stem: str,
    *,
    height: int | str = "auto",
    column_config: dict[str, Any] | None = None,
    downloadable: bool = True,
) -> None:
    """A table plus CSV / Excel downloads. Caller hashes are dropped and phone-like numbers
    masked before anything is shown or offered; each download lands in the audit log when the
    user actually clicks (the file is made then, not on every rerun)."""
    from ui.session import USER_KEY
    from ui.store import get_connection

    shown = safe_frame(df)
    st.dataframe(shown, key=f"{key}_df", hide_index=True, height=height, column_config=column_config)
    if not downloadable or shown.empty:
        return
    con = get_connection()
    who = st.session_state.get(USER_KEY)
    username = who.username if who is not None else None
    left, right, _ = st.columns([1, 1, 4])
    with left:
        st.download_button(
            t("download_csv"),
            data=lambda: download_payload(con, username, shown, "csv", file_stem),
            file_name=f"{file_stem}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            on_click="ignore",
        )
    with right:
        st.download_button(
            t("download_xlsx"),
            data=lambda: download_payload(con, username, shown, "xlsx", file_stem),
            file_name=f"{file_stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}_xlsx",
            on_click="ignore",
        )


@contextlib.contextmanager
def shown_errors() -> Iterator[None]:
    """Run a user action; one of our errors becomes a red message (never a traceback) and the
    rest of the block is skipped."""
    try:
        yield
    except HotlineError as exc:
        st.error(error_text(exc))


def show_error(exc: HotlineError) -> None:
    st.error(error_text(exc))


def unexpected_error(exc: Exception) -> None:
    """Last resort for a bug: log the traceback for the administrator, show a calm message."""
    log.exception("unexpected error on a page", exc_info=exc)
    st.error(t("unexpected_error"))
