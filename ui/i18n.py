"""Chinese first, English on a switch: the Streamlit side of `analytics.reports.text`.

The switch lives in the shared sidebar (`language_switch`) and its value in
`st.session_state[LANG_KEY]`, so every page of one browser session speaks the same language.
Every string comes from the one catalogue, `analytics.reports.text.CATALOGUE`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.reports import text
from analytics.safe_text import markdown_literal

LANG_KEY = "ui_lang_en"  # the sidebar toggle's key: True = English
LANG_COOKIE = "hotline_lang"  # "en" or "zh": not personal, not signed
LANG_COOKIE_DAYS = 365


def lang() -> str:
    """'en' when the English switch is on, else 'zh'."""
    return "en" if st.session_state.get(LANG_KEY) else "zh"


def t(key: str, **values: object) -> str:
    """The catalogue's text for `key` in the current language, formatted with `values`."""
    return text.text(key, lang(), **values)


def value_text(value: Any, default: str | None = None) -> Any:
    """A value lower layers keep in Chinese (a status, a band) in the current language."""
    return text.value_text(value, lang(), default)


def role_name(role: str) -> str:
    key = f"role_{role}"
    return t(key) if key in text.CATALOGUE else role


def error_text(exc: HotlineError) -> str:
    """The user-facing message of one of our errors in the current language, as Markdown that
    shows literally: messages quote file names, headers, ids and user names."""
    return markdown_literal(exc.message(lang()))


def labelled(df: pd.DataFrame, prefix: str, columns: Sequence[str]) -> pd.DataFrame:
    """Only the listed columns, headed by the catalogue's `prefix + column` in the reader's language."""
    keep = [c for c in columns if c in df.columns]
    return df[keep].rename(columns={c: t(prefix + c) for c in keep})


def init_language() -> None:
    """The session's language before anything is drawn: a new session (a reload, a typed
    address) starts in the language the browser last chose (its cookie), so the menu and the page
    titles, built before the sidebar's toggle, speak it too."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = st.context.cookies.get(LANG_COOKIE) == "en"


def language_switch() -> None:
    """The sidebar toggle; its state is kept across pages by its key, and across reloads by a
    cookie (a new session starts in the language the browser last chose)."""
    init_language()
    st.sidebar.toggle(text.text("language"), key=LANG_KEY)
    chosen = json.dumps("en" if st.session_state[LANG_KEY] else "zh")
    # the same script on every run: the browser runs it again only when the choice changes
    st.sidebar.html(
        f'<script>document.cookie = "{LANG_COOKIE}=" + {chosen} + '
        f'"; Path=/; Max-Age={LANG_COOKIE_DAYS * 86400}; SameSite=Strict";</script>',
        unsafe_allow_javascript=True,
    )
