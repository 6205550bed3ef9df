"""The task-force effects in words: a leader's ten-second reading of an EffectsResult, in Chinese
and English, with the caveat its interval calls for (the 整治成效 page and `python -m analytics
effects`)."""

from __future__ import annotations

from analytics.models.effects.result import EffectsResult


def _fmt(v: float | None) -> str:
    return "无法计算" if v is None else f"{v:+.1f}%"


def _fmt_en(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.1f}%"


def _placebo_label(res: EffectsResult, lang: str = "zh") -> str:
    kinds = {c.get("kind") for c in res.placebo_detail.get("cohorts", [])}
    if kinds == {"year_earlier"}:
        return "前一年按同一规则排名" if lang == "zh" else "ranked the same way a year earlier"
    if kinds == {"below_cut"}:
        return "同一窗口中紧随其后的排名" if lang == "zh" else "ranked just below the cut in the same window"
    return "前一年或紧随其后的排名" if lang == "zh" else "a year earlier or just below the cut"


def summaries(res: EffectsResult) -> tuple[str, str]:
    """A leader's ten-second reading, Chinese and English, with the caveat the interval calls for."""
    zh = [
        f"专班小区（{res.treated} 个）工单同比 {_fmt(res.naive_change_pct)}（官方口径）。",
        f"按同样规则选出、但没有专班的 {res.treated} 个小区（{_placebo_label(res)}），同期也变化了"
        f" {_fmt(res.placebo_change_pct)}（高峰过后自然回落）。",
    ]
    en = [
        f"Task-force compounds ({res.treated}): tickets {_fmt_en(res.naive_change_pct)} year on year (official figure).",
        f"{res.treated} compounds picked by the same rule without a task force ({_placebo_label(res, 'en')}) "
        f"changed {_fmt_en(res.placebo_change_pct)} (peaks fade by themselves).",
    ]
    if res.adjusted_effect_pct is None:
        zh.append("数据不足（缺少选定窗口之前的基线或进驻后的月份），无法给出调整后的估计。")
        en.append(
            "Not enough data (no baseline before the selection window or no months after start) for an adjusted estimate."
        )
    else:
        zh.append(
            f"扣除季节和自然回落后，专班带来的变化估计为 {_fmt(res.adjusted_effect_pct)}"
            f"（95% 区间 {_fmt(res.ci_low_pct)} 至 {_fmt(res.ci_high_pct)}，对照 {res.controls} 个小区）。"
        )
        en.append(
            f"Net of season and natural decline, the task forces' effect is {_fmt_en(res.adjusted_effect_pct)} "
            f"(95% interval {_fmt_en(res.ci_low_pct)} to {_fmt_en(res.ci_high_pct)}; {res.controls} control compounds)."
        )
        if res.crosses_zero:
            zh.append("区间跨零：不能确认专班带来了下降。")
            en.append("The interval crosses zero: a decline caused by the task forces cannot be confirmed.")
        elif res.ci_high_pct is not None and res.ci_high_pct < 0:
            zh.append("区间全部低于零：下降可以归因于专班（仍为统计估计，非精确值）。")
            en.append(
                "The whole interval is below zero: the decline can be attributed to the task forces (an estimate, not an exact figure)."
            )
        else:
            zh.append("区间全部高于零：专班小区工单相对增加，请核查。")
            en.append("The whole interval is above zero: tickets rose relative to controls; please check.")
    return "".join(zh), " ".join(en)
