"""The task-force effects in words: a leader's ten-second reading of an EffectsResult, with the
caveat its interval calls for (the 整治成效 page and `python -m analytics effects`), and the
effects' codes (notes, readings, the cost caveat, the method) as the catalogue words them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.ingest.categories.taxonomy import TAXONOMY
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
    ("controls outside", "controls_outside"),
    ("pooled on the ratio scale", "ratio_pooled"),
    ("cluster-jackknife SE", "jackknife_se"),
)
# the net and in-place effects "differ" (the summary then speaks of the net one) from this many points
NET_DIFFERENCE = 3.0


def _fmt(v: float | None, lang: str) -> str:
    return text("ef_sum_na", lang) if v is None else f"{v:+.1f}%"


def _differ(res: EffectsResult) -> bool:
    """Do the in-place and net effects tell a different story (size or sign of the reading)?"""
    if res.net_effect_pct is None or res.adjusted_effect_pct is None:
        return False
    net_crosses = (res.net_ci_low_pct or 0) <= 0 <= (res.net_ci_high_pct or 0)
    return (
        abs(res.net_effect_pct - res.adjusted_effect_pct) >= NET_DIFFERENCE or net_crosses != res.crosses_zero
    )


def _overlap(a: tuple[float | None, float | None], b: tuple[float | None, float | None]) -> bool:
    if None in a or None in b:
        return True
    return not (a[1] < b[0] or b[1] < a[0])


def summary(res: EffectsResult, lang: str = "zh") -> str:
    """A leader's ten-second reading in `lang`, with the caveat the interval calls for.

    The attribution follows the net effect (treated plus same-community neighbours) whenever it
    reads differently from the in-place one: a fall that only moved complaints next door is never
    credited to the task forces. Nor is a fall inside the range the same method gives on untreated
    compounds with a similar peak (the permutation placebo, when the result has it)."""
    parts = [text("ef_sum_naive", lang, treated=res.treated, naive=_fmt(res.naive_change_pct, lang))]
    if res.placebo_change_pct is not None:
        parts.append(
            text("ef_sum_placebo", lang, treated=res.treated, placebo=_fmt(res.placebo_change_pct, lang))
        )
    else:
        room = next((n for n in res.notes if n.get("code") == "placebo_no_room"), None)
        if room:
            parts.append(
                text("ef_sum_placebo_none", lang, needed=room["needed"], available=room["available"])
            )
    if res.adjusted_effect_pct is None:
        parts.append(text("ef_sum_no_adjusted", lang))
        return SENTENCE_GAP.get(lang, " ").join(parts)
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
    end = res.path_end or {}
    if end.get("effect_pct") is not None and end.get("rel_months"):
        parts.append(
            text(
                "ef_sum_path_end",
                lang,
                first=end["rel_months"][0] + 1,
                last=end["rel_months"][-1] + 1,
                effect=_fmt(end["effect_pct"], lang),
                lo=_fmt(end["ci_low_pct"], lang),
                hi=_fmt(end["ci_high_pct"], lang),
            )
        )
    low, high, crosses = res.ci_low_pct, res.ci_high_pct, res.crosses_zero
    if _differ(res):
        moved = res.net_effect_pct > res.adjusted_effect_pct  # less of a fall once the neighbours count
        parts.append(
            text(
                "ef_sum_net" if moved else "ef_sum_net_also",
                lang,
                neighbours=res.net_detail.get("neighbours", 0),
                net=_fmt(res.net_effect_pct, lang),
                lo=_fmt(res.net_ci_low_pct, lang),
                hi=_fmt(res.net_ci_high_pct, lang),
            )
        )
        low, high = res.net_ci_low_pct, res.net_ci_high_pct
        crosses = low is not None and high is not None and low <= 0 <= high
        if crosses:
            parts.append(text("ef_sum_net_crosses", lang))
    perm = res.permutation or {}
    null_range = (perm.get("q025"), perm.get("q975"))
    within_null = None not in null_range and null_range[0] <= res.adjusted_effect_pct <= null_range[1]
    if crosses and not _differ(res):
        parts.append(text("ef_sum_crosses", lang))
    elif not crosses and high is not None and high < 0 and within_null:
        parts.append(
            text("ef_sum_within_null", lang, lo=_fmt(null_range[0], lang), hi=_fmt(null_range[1], lang))
        )
    elif not crosses and high is not None and high < 0:
        parts.append(text("ef_sum_below", lang))
    elif not crosses:
        parts.append(text("ef_sum_above", lang))
    if res.eb_effect_pct is not None:
        parts.append(
            text(
                "ef_sum_eb",
                lang,
                eb=_fmt(res.eb_effect_pct, lang),
                lo=_fmt(res.eb_ci_low_pct, lang),
                hi=_fmt(res.eb_ci_high_pct, lang),
            )
        )
        if not _overlap((res.eb_ci_low_pct, res.eb_ci_high_pct), (res.ci_low_pct, res.ci_high_pct)):
            parts.append(text("ef_sum_eb_disagrees", lang))
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
        # the district's categories in English by their taxonomy names; others are data as given
        english = {c.name: c.en.capitalize() for c in TAXONOMY} if lang == "en" else {}
        out["category"] = [
            text("ef_other_categories", lang)
            if c == OTHER_CATEGORIES
            else english.get(c, value_text(c, lang))
            for c in out["category"]
        ]
    if "target" in out:
        out["target"] = [text(f"ef_target_{code}", lang) for code in out["target"]]
    return out
