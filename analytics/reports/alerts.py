"""A surge alert's reason in words: this month's tickets against the seasonal baseline, and the
category that drives them (`analytics.metrics.surges` gives the numbers)."""

from __future__ import annotations

import pandas as pd

from analytics.reports.text import text, value_text


def reasons(alerts: pd.DataFrame, lang: str = "zh") -> list[str]:
    """One reason per row of `surges.surge_table` / `detect_surges`, in `lang`."""
    return [
        text("ov_reason_category", lang, tickets=t, expected=e, category=value_text(c, lang), share=s)
        if isinstance(c, str)
        else text("ov_reason", lang, tickets=t, expected=e)
        for t, e, c, s in zip(
            alerts["tickets"], alerts["expected"], alerts["top_category"], alerts["top_share"], strict=True
        )
    ]
