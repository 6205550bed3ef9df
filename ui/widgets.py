"""Small repeated blocks: a KPI card, a table with audited downloads, masked ticket text,
and the one place that turns our errors into a message instead of a traceback."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.privacy import mask_personal
from analytics.store import db
from ui.i18n import error_text, t

if TYPE_CHECKING:
    from ui.session import DownloadGrant

HIDDEN_COLUMNS = ("caller_hash",)  # never shown, not even hashed

log = logging.getLogger(__name__)


def mask_phones(text: Any) -> Any:
    """Phone and ID numbers in `text` masked whole (analytics.privacy); non-text as it is."""
    return mask_personal(text)


def _mask_cell(value: Any) -> Any:
    """A cell with every string in it masked: text, or a list / tuple / dict of values (a
    hot issue's ticket ids); numbers, dates and missing values as they are."""
    if isinstance(value, str):
        return mask_personal(value)
    if isinstance(value, np.ndarray):
        return np.array([_mask_cell(v) for v in value], dtype=object)
    if isinstance(value, list | tuple):
        return type(value)(_mask_cell(v) for v in value)
    if isinstance(value, dict):
        return {k: _mask_cell(v) for k, v in value.items()}
    return value


def safe_frame(df: pd.DataFrame, unmasked: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """A copy fit for the screen and for downloads: caller hashes dropped, and phone and ID
    numbers masked in every text column, whatever it is called (a page may have renamed it, a
    raw upload names it anything). Masking goes by content: ids, dates and times are not
    numbers of those shapes and come through as they are. `unmasked` names columns shown as
    they are (an upload's ticket ids and times, which the analyst must see to fix a row)."""
    out = df.drop(columns=[c for c in HIDDEN_COLUMNS if c in df.columns])
    for col in out.columns:
        values = out[col]
        if col in unmasked:
            continue
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
            out[col] = values.astype(object).map(_mask_cell)
    return out.rename(columns=lambda c: mask_personal(c) if isinstance(c, str) else c)


def mask_all_text(df: pd.DataFrame) -> pd.DataFrame:
    """safe_frame: every text column masked (raw upload previews, whose columns are unknown)."""
    return safe_frame(df)


def render_kpi(label: str, value: Any, delta: Any = None, help: str | None = None) -> None:
    if isinstance(value, int):
        value = f"{value:,}"
    st.metric(label, value, delta=delta, help=help)


def download_payload(
    con: duckdb.DuckDBPyConnection, grant: DownloadGrant, df: pd.DataFrame, fmt: str, file_stem: str
) -> bytes:
    """The file for a download, written to the audit log with it (one transaction), made only
    while `grant` holds: the session that drew the button is still signed in and not idle past
    its limit, and the store still gives its user the same role and the export permission.
    Otherwise AccessDenied: nothing is made and nothing audited."""
    from analytics.reports import exports

    user = grant.holder(con)
    data = exports.to_csv_bytes(df) if fmt == "csv" else exports.to_xlsx_bytes({file_stem[:31]: df})
    with db.transaction(con) as cur:
        db.audit(cur, user.username, "download", {"file": f"{file_stem}.{fmt}", "rows": len(df)})
    return data


def render_table(
    df: pd.DataFrame,
    key: str,
    file_stem: str,
    *,
    height: int | str = "auto",
    column_config: dict[str, Any] | None = None,
    downloadable: bool = True,
    selectable: bool = False,
    unmasked: tuple[str, ...] | list[str] = (),
) -> Any:
    """A table plus CSV / Excel downloads. Caller hashes are dropped and phone-like numbers
    masked before anything is shown or offered. The downloads are drawn only for a role that
    may export; each is made, checked again and audited when the user actually clicks (not on
    every rerun). The table's own toolbar export, which would skip all that, is switched off
    (`client.disableDataExport`). With `selectable`, a reader can pick one row (the page reruns)
    and the table's selection event is returned (`.selection.rows`)."""
    from ui.session import download_grant
    from ui.store import get_connection

    shown = safe_frame(df, unmasked)
    pick = {"on_select": "rerun", "selection_mode": "single-row"} if selectable else {}
    event = st.dataframe(
        shown, key=f"{key}_df", hide_index=True, height=height, column_config=column_config, **pick
    )
    grant = download_grant() if downloadable and not shown.empty else None
    if grant is None:
        return event
    con = get_connection()
    # side by side at their own width: in a narrow column fixed shares would cut the labels short
    row = st.container(horizontal=True)
    with row:
        st.download_button(
            t("download_csv"),
            data=lambda: download_payload(con, grant, shown, "csv", file_stem),
            file_name=f"{file_stem}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            on_click="ignore",
        )
    with row:
        st.download_button(
            t("download_xlsx"),
            data=lambda: download_payload(con, grant, shown, "xlsx", file_stem),
            file_name=f"{file_stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}_xlsx",
            on_click="ignore",
        )
    return event


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
