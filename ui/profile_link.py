"""Click-through to a compound's 小区档案: a picked table row or a clicked chart tile opens
pages/profile.py with `?compound=<id>` (the profile page checks the reader's scope itself)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

PROFILE_PAGE = "pages/profile.py"


def open_profile(compound_id: Any) -> None:
    """Go to the compound's profile (stops this page's run); nothing without an id."""
    if compound_id is None or (isinstance(compound_id, float) and compound_id != compound_id):
        return
    if str(compound_id).strip():
        st.switch_page(PROFILE_PAGE, query_params={"compound": str(compound_id)})


def picked_row(event: Any, ids: Sequence[Any]) -> Any:
    """The id of the row picked in a `render_table(..., selectable=True)` table, or None."""
    rows = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    return ids[rows[0]] if rows and 0 <= rows[0] < len(ids) else None


def clicked_point(state: Any) -> dict[str, Any] | None:
    """The first point of a plotly chart's selection state (`st.session_state[key]`), or None."""
    try:
        points = state["selection"]["points"]
    except (KeyError, TypeError):
        return None
    return dict(points[0]) if points else None
