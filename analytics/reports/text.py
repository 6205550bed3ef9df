"""The one catalogue of user-visible text: every sentence, label and heading the dashboard, its
charts and its reports show, in Chinese and English.

`CATALOGUE` maps a key to its (Chinese, English) pair (kept one module per area in
`analytics.reports.catalogue`); either may hold `str.format` fields, the
same ones in both. Keys are prefixed by where they are shown: none for the shell and shared
labels, `up_` upload, `ad_` administration, `pr_` compound profile, `ov_` overview, `rk_` ranking,
`tf_` task forces, `ef_` effects, `ch_` charts, `br_` the monthly briefing, `role_` role names.
`v_` entries translate values that lower layers store or return in Chinese (a task force's
status, a peer-group band, a funnel zone): the key is `v_` plus the Chinese value itself, so
`value_text` can show any such value in the reader's language and leave data (compound names,
categories, communities) as they are.

Layers below `analytics.reports` never import this module: where they produce a message they
return a code and its values, and the page or report renders it here. Errors (`HotlineError`)
carry both languages themselves.
"""

from __future__ import annotations

import importlib
import string
from typing import Any

import pandas as pd

from analytics.reports import catalogue

LANGS = ("zh", "en")


def _merged() -> dict[str, tuple[str, str]]:
    """Every area's entries in one mapping; a key defined in two areas is a mistake, not an override."""
    merged: dict[str, tuple[str, str]] = {}
    for area in catalogue.AREAS:
        entries = importlib.import_module(f"{catalogue.__name__}.{area}").TEXT
        twice = sorted(merged.keys() & entries.keys())
        if twice:
            raise ValueError(f"catalogue keys defined twice ({area}): {twice}")
        merged.update(entries)
    return merged


# key -> (zh, en)
CATALOGUE: dict[str, tuple[str, str]] = _merged()


def pair(key: str) -> tuple[str, str]:
    """Both languages of `key` (for an error that carries them both)."""
    return CATALOGUE[key]


def text(key: str, lang: str = "zh", **fmt: Any) -> str:
    """The text of `key` in `lang` ('zh' or 'en'), formatted with `fmt`."""
    zh, en = CATALOGUE[key]
    out = en if lang == "en" else zh
    return out.format(**fmt) if fmt else out


def value_text(value: Any, lang: str = "zh", default: str | None = None) -> Any:
    """A value stored in Chinese (a status, a band, a zone) in `lang`; anything the catalogue does
    not know is data and comes back as it is, or as `default` in English when one is given."""
    entry = CATALOGUE.get(f"v_{value}") if isinstance(value, str) else None
    if entry is not None:
        return entry[1] if lang == "en" else entry[0]
    return default if default is not None and lang == "en" else value


def fields(template: str) -> set[str]:
    """The `str.format` field names in `template`."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def pct(value: float | None, signed: bool = True) -> str:
    """+12.3% (a change in percent) or 12.3% (a share given as a fraction, signed=False); — when missing."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value:+.1f}%" if signed else f"{value:.1%}"
