"""The task-force effects in words: a leader's ten-second reading of an EffectsResult, with the
caveat its interval calls for (the 整治成效 page and `python -m analytics effects`), and the
effects' codes (notes, readings, the cost caveat, the method) as the catalogue words them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.models.effects.breakdowns import OTHER_CATEGORIES
from analytics.models.effects.result import EffectsResult
from analytics.reports.text import text, value_text

SENTENCE_GAP = {"zh": "", "en": " "}  # Chinese sentences run on; English ones take a space
# the parts of EffectsResult.method (analytics.models.effects.result.METHOD) and their catalogue codes
METHOD_PARTS = (
    ("stacked", "stacked"),
    ("Poisson FE", "poisson_fe"),
    ("cohort x month FE", "cohort_month_fe"),
    ("selection window excluded", "window_excluded"),
    ("cluster-jackknife SE", "jackknife_se"),
)
PLACEBO_KINDS = {frozenset({"year_earlier"}): "year_earlier", frozenset({"below_cut"}): "below_cut"}


def _fmt(v: float | None, lang: str) -> str:
    return text("ef_sum_na", lang) if v is None else f"{v:+.1f}%"


def _placebo_kind(res: EffectsResult) -> str:
    kinds = frozenset(c.get("kind") for c in res.placebo_detail.get("cohorts", []))
    return PLACEBO_KINDS.get(kinds, "mixed")


def summary(res: EffectsResult, lang: str = "zh") -> str:
    """A leader's ten-second reading in `lang`, with the caveat the interval calls for."""
    parts = [
        text("ef_sum_naive", lang, treated=res.treated, naive=_fmt(res.naive_change_pct, lang)),
        text(
            "ef_sum_placebo",
            lang,
            treated=res.treated,
            kind=text(f"ef_sum_kind_{_placebo_kind(res)}", lang),
            placebo=_fmt(res.placebo_change_pct, lang),
        ),
    ]
    if res.adjusted_effect_pct is None:
        parts.append(text("ef_sum_no_adjusted", lang))
    else:
        parts.append(
            text(
                "ef_sum_adjusted",
                lang,
                effect=_fmt(res.adjusted_effect_pct, lang),
                lo=_fmt(res.ci_low_pct, lang),
                hi=_fmt(res.ci_high_pct, lang),
                controls=res.controls,
            )
        )
        if res.crosses_zero:
            parts.append(text("ef_sum_crosses", lang))
        elif res.ci_high_pct is not None and res.ci_high_pct < 0:
            parts.append(text("ef_sum_below", lang))
        else:
            parts.append(text("ef_sum_above", lang))
    return SENTENCE_GAP.get(lang, " ").join(parts)


def notes(res: EffectsResult, lang: str = "zh") -> list[str]:
    """What loading and estimating found (codes with their values), in words."""
    return [
        text(f"ef_note_{n['code']}", lang, **{k: v for k, v in n.items() if k != "code"}) for n in res.notes
    ]


def cost_caveat(cost: dict[str, Any], lang: str = "zh") -> str:
    """Why the cost per avoided complaint is missing or unbounded; '' when there is nothing to say."""
    code = cost.get("caveat")
    return text(f"ef_caveat_{code}", lang) if code else ""


def method(res: EffectsResult, lang: str = "zh") -> str:
    """The estimator in plain words (`EffectsResult.method` is its technical name, kept in English
    for the JSON; `method_help` words that)."""
    if res.cohorts > 1:
        return text("ef_method_plain_cohorts", lang, n=res.cohorts)
    return text("ef_method_plain", lang)


def method_help(res: EffectsResult, lang: str = "zh") -> str:
    """The technical name in `lang`, from the parts `EffectsResult.method` names (in its order)."""
    if lang == "en":
        return text("ef_method_help", lang, parts=res.method)
    found = sorted((res.method.find(marker), code) for marker, code in METHOD_PARTS if marker in res.method)
    parts = [text(f"ef_method_part_{code}", lang) for _, code in found]
    return text("ef_method_help", lang, parts=text("list_sep", lang).join(parts) or res.method)


def window(res: EffectsResult, lang: str = "zh") -> str:
    """The selection window ('2022-07:2022-12') as words; '' when there is none."""
    if not res.selection_window:
        return ""
    first, _, last = res.selection_window.partition(":")
    return text("ef_window", lang, first=first, last=last or first)


def breakdown(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A by-category or displacement table with its codes in words: the readings, the pooled
    small categories, the neighbours' row, tickets without a category."""
    out = frame.copy()
    if "reading" in out:
        out["reading"] = [text(f"ef_reading_{code}", lang) for code in out["reading"]]
    if "category" in out:
        out["category"] = [
            text("ef_other_categories", lang) if c == OTHER_CATEGORIES else value_text(c, lang)
            for c in out["category"]
        ]
    if "target" in out:
        out["target"] = [text(f"ef_target_{code}", lang) for code in out["target"]]
    return out
