"""Plotly figure builders: pure functions of DataFrames (no Streamlit, no store access).

Every builder takes a DataFrame with documented columns plus plain arguments and returns a
`plotly.graph_objects.Figure`. Titles and axis labels come from the catalogue
(`analytics.reports.text`, keys `ch_*`), Chinese by default; pass `lang="en"` for English. Nothing
here needs a tile or topojson server: the compound "map" is a plain scatter on longitude/latitude
axes, so it draws on an intranet with no internet access.

Readable by a leader: count axes start at zero, an unfinished last month is marked as such,
every chart that lists compounds names each one, legends sit under the plot, and numbers written
on a chart never lie under an interval line.

Honest-numbers rule: every estimate is drawn with its interval (error bars or a band).
Every text drawn from data (names, categories, groups) goes through `safe_text.plotly_literal`:
plotly reads HTML tags and entities in chart text, and a compound name must not become a link.

`district` holds the trend, treemap, map and category mix; `ranking` the ranking's charts;
`effects` the effects' charts; `base` what they share.
"""

from analytics.reports.charts.base import (
    COLOR_BAND,
    COLOR_COMPARE,
    COLOR_GOOD,
    COLOR_MAIN,
    COLOR_NEUTRAL,
    FONT_FAMILY,
    LANGS,
    base_layout,
    mark_start,
    start_lines,
)
from analytics.reports.charts.district import (
    category_mix_figure,
    compound_map_figure,
    partial_month,
    treemap_compound,
    treemap_figure,
    trend_figure,
)
from analytics.reports.charts.effects import (
    PERIOD_STYLE,
    category_effects_figure,
    counterfactual_figure,
    displacement_figure,
    effects_comparison_figure,
    event_study_figure,
    interval_bars_figure,
)
from analytics.reports.charts.ranking import (
    FUNNEL_LIMITS,
    RANK_INTERVAL_PCT,
    funnel_figure,
    funnel_limits,
    ranking_figure,
    stability_figure,
    stars_figure,
)

__all__ = [
    "COLOR_BAND",
    "COLOR_COMPARE",
    "COLOR_GOOD",
    "COLOR_MAIN",
    "COLOR_NEUTRAL",
    "FONT_FAMILY",
    "FUNNEL_LIMITS",
    "LANGS",
    "PERIOD_STYLE",
    "RANK_INTERVAL_PCT",
    "base_layout",
    "category_effects_figure",
    "category_mix_figure",
    "compound_map_figure",
    "counterfactual_figure",
    "displacement_figure",
    "effects_comparison_figure",
    "event_study_figure",
    "funnel_figure",
    "funnel_limits",
    "interval_bars_figure",
    "mark_start",
    "partial_month",
    "ranking_figure",
    "stability_figure",
    "stars_figure",
    "start_lines",
    "treemap_compound",
    "treemap_figure",
    "trend_figure",
]
