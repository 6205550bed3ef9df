"""The overview page (`ov_`)."""

TEXT: dict[str, tuple[str, str]] = {
    # --- overview page ---
    "ov_title": ("总览", "Overview"),
    # the reporting period
    "ov_period": ("统计期间", "Period"),
    "ov_period_month": ("月度", "Month"),
    "ov_period_quarter": ("季度", "Quarter"),
    "ov_period_ytd": ("年初至今", "Year to date"),
    "ov_period_custom": ("自定义", "Custom"),
    "ov_month": ("月份", "Month"),
    "ov_quarter": ("季度", "Quarter"),
    "ov_year": ("年份", "Year"),
    "ov_dates": ("起止日期", "From - to"),
    "ov_month_label": ("{y}年{m}月", "{y}-{m:02d}"),
    "ov_quarter_label": ("{y}年第{q}季度", "{y} Q{q}"),
    "ov_range": ("{a} 至 {b}", "{a} to {b}"),
    "ov_period_line": ("统计期间：{period}。", "Period: {period}."),
    "ov_compare_line": (
        "环比：与上一期 {prev}（{prev_n} 件）相比；同比：与去年同期 {ly}（{ly_n} 件）相比。",
        "Against the period before: {prev} ({prev_n} tickets); against the same dates last year: {ly} ({ly_n} tickets).",
    ),
    "ov_compare_line_ytd": (
        "同比：与去年同期 {ly}（{ly_n} 件）相比。年初至今为累计数，不计环比。",
        "Against the same dates last year: {ly} ({ly_n} tickets). A running total has no month-on-month comparison.",
    ),
    "ov_partial": (
        "数据截至 {date}，本期尚不完整：环比、同比都按相同日期段对比，不是拿半期比整期。",
        "The data end on {date}, so this period is unfinished: both comparisons cover the same span of days, never half a period against a whole one.",
    ),
    # headline numbers
    "ov_tickets_month": ("本月工单", "Tickets this month"),
    "ov_tickets_quarter": ("本季度工单", "Tickets this quarter"),
    "ov_tickets_ytd": ("年初至今工单", "Tickets this year to date"),
    "ov_tickets_custom": ("本期工单", "Tickets in the period"),
    "ov_tickets_help": (
        "期内受理的全部工单（含无效工单）；其中有效工单 {valid} 件，占 {share}。箭头为环比：红色上升表示投诉增加。",
        "Every ticket received in the period (invalid ones included); {valid} of them valid ({share}). The arrow is the change against the period before: red and up means more complaints.",
    ),
    "ov_mom_vs": ("环比（较 {prev}）", "vs {prev}"),
    "ov_yoy_vs": ("较去年同期 {ly}", "vs {ly}"),
    "ov_yoy": ("同比", "Year on year"),
    "ov_yoy_delta": ("{n} 件", "{n} tickets"),
    "ov_yoy_help": (
        "与去年同期（{ly}，{ly_n} 件）相比的变化；红色上升表示投诉增加。",
        "Change against the same dates last year ({ly}, {ly_n} tickets); red and up means more complaints.",
    ),
    "ov_response": ("响应率", "Response rate"),
    "ov_response_help": (
        "已受理并开始办理的有效工单占有状态记录的有效工单的比例。",
        "Valid tickets acted on, as a share of valid tickets with a recorded status.",
    ),
    "ov_resolution": ("解决率", "Resolution rate"),
    "ov_resolution_help": (
        "回访认定已解决的有效工单占有解决情况记录的有效工单的比例。",
        "Valid tickets confirmed solved, as a share of valid tickets whose outcome was recorded.",
    ),
    "ov_satisfaction": ("满意率", "Satisfaction rate"),
    "ov_satisfaction_help": (
        "回访中表示满意（含基本满意）的来电人占回答了满意度问题的来电人的比例。",
        "Callers satisfied (including fairly satisfied) among those who answered the follow-up question.",
    ),
    "ov_repeat": ("重复来电占比", "Repeat-call share"),
    "ov_repeat_help": (
        "同一来电人就同一小区、同一类问题在 {days} 天内再次来电的工单占比：问题没解决的信号。",
        "Tickets from a caller who called about the same compound and category within {days} days: a sign the problem was not solved.",
    ),
    "ov_tf_change": ("专班小区同比（简单口径）", "Task-force compounds, simple year on year"),
    "ov_tf_help": (
        "专班小区本期工单与去年同期相比的简单同比，没有扣除季节因素和高峰过后的自然回落，不能直接当作专班成效。",
        "Task-force compounds in this period against the same dates last year: a simple comparison that does not remove the season or the natural fall after a peak, so it is not the task forces' effect.",
    ),
    "ov_tf_consistency": (
        "口径不同：这里只比本期；“整治成效”页按进驻后 12 个月比，简单同比为 {naive}，扣除自然回落后的调整后成效为 {adjusted}。",
        "Measured differently: this compares this period only; the Effects page compares the 12 months after the start, {naive} simply, {adjusted} after removing the natural fall.",
    ),
    "ov_tf_effects_link": ("查看整治成效", "See the effects"),
    "ov_tf_adjusted": ("专班调整后成效", "Task forces, adjusted effect"),
    "ov_tf_adjusted_ci": ("95% 区间 {lo} 至 {hi}", "95% interval {lo} to {hi}"),
    "ov_tf_adjusted_help": (
        "扣除季节和高峰自然回落后的估计（基线在排名窗口之前）。区间跨零时不能确认专班带来了下降。",
        "Net of season and the natural fall after a peak (baseline before the ranking window). When the interval crosses zero, a decline caused by the task forces is not confirmed.",
    ),
    "ov_tf_adjusted_zero": ("区间跨零：不能确认成效", "Interval crosses zero: not confirmed"),
    "ov_festival": (
        "本期与去年同期的春节不在同一时段，同比失真；1-2 月合计同比为 {v}。",
        "The Spring Festival falls in this period in one year only, so the year-on-year figure is distorted; January-February combined: {v}.",
    ),
    "ov_festival_no_janfeb": (
        "本期与去年同期的春节不在同一时段，同比失真；待 2 月数据齐全后可看 1-2 月合计同比。",
        "The Spring Festival falls in this period in one year only, so the year-on-year figure is distorted; compare January-February combined once February is complete.",
    ),
    "ov_no_tickets": (
        "库中还没有工单。请分析员先在“数据上传”页导入工单。",
        "No tickets yet. An analyst can upload them on the Data upload page.",
    ),
    # trend and where
    "ov_trend": ("全区月度趋势", "District monthly trend"),
    "ov_trend_note": (
        "纵轴从零开始；灰色虚线为去年同月，浅黄色底为所选期间。",
        "The axis starts at zero; the grey dashed line is the same month last year, the pale band the chosen period.",
    ),
    "ov_where": ("工单分布", "Where tickets come from"),
    "ov_where_note": (
        "方块大小为期内工单量，颜色为每百户工单数。点击街道或社区可展开，点击小区打开其小区档案。",
        "Tile size is the period's tickets, colour tickets per 100 households. Click a subdistrict or community to open it, a compound to open its profile.",
    ),
    "ov_view": ("视图", "View"),
    "ov_treemap": ("街道-社区-小区", "Subdistrict-community-compound"),
    "ov_map": ("小区位置（无底图）", "Compound locations (no base map)"),
    "ov_movers": ("同比变化最大的小区", "Biggest changes vs last year"),
    "ov_movers_note": (
        "与去年同期（{ly}）相比。点选一行可打开该小区的小区档案。",
        "Against the same dates last year ({ly}). Pick a row to open the compound's profile.",
    ),
    "ov_rises": ("上升前 {n}", "Top {n} rises"),
    "ov_falls": ("下降前 {n}", "Top {n} falls"),
    "ov_surges": ("异常上升预警", "Surge alerts"),
    "ov_surges_month": (
        "检测月份：{month}（期内最近的完整月份）。",
        "Month tested: {month} (the latest complete month of the period).",
    ),
    "ov_surges_none": (
        "本月没有小区工单显著高于其季节基线（错误预警率控制在 {q:.0%}）。",
        "No compound is significantly above its seasonal baseline this month (false-alarm rate held at {q:.0%}).",
    ),
    "ov_surges_note": (
        "共检测 {n} 个小区，按 Benjamini-Hochberg 方法控制错误预警率 {q:.0%}。",
        "{n} compounds tested; Benjamini-Hochberg keeps the false-alarm rate at {q:.0%}.",
    ),
    "ov_surges_help": (
        "把每个小区本月工单与它自己往年同季的水平比较；同时检验很多小区时，用 Benjamini-Hochberg 方法把误报的比例控制在设定水平以内。",
        "Each compound's tickets this month against its own level in the same season; with many compounds tested at once, Benjamini-Hochberg keeps the share of false alarms below the set level.",
    ),
    "ov_pick_hint": ("点选一行可打开该小区的小区档案。", "Pick a row to open the compound's profile."),
    "ov_briefing": ("月度通报", "Monthly briefing"),
    "ov_briefing_xlsx": ("下载通报（Excel）", "Download briefing (Excel)"),
    "ov_briefing_html": ("下载通报（可打印网页）", "Download briefing (printable HTML)"),
    # mover columns
    "ov_mover_arrow": ("", ""),
    "ov_mover_name": ("小区", "Compound"),
    "ov_mover_community": ("社区", "Community"),
    "ov_mover_tickets": ("本期", "This period"),
    "ov_mover_last_year": ("去年同期", "Last year"),
    "ov_mover_change": ("增减", "Change"),
    "ov_mover_change_pct": ("变化", "Change (%)"),
    "ov_mover_change_pct_help": (
        "与去年同期相比的变化；去年同期为 0 件时无法计算，显示“—”。",
        "Change against the same dates last year; shown as — when last year had none.",
    ),
    # surge columns
    "ov_surge_name": ("小区", "Compound"),
    "ov_surge_community": ("社区", "Community"),
    "ov_surge_tickets": ("本月", "This month"),
    "ov_surge_expected": ("预期", "Expected"),
    "ov_surge_expected_help": (
        "按该小区往年同季水平推算的本月工单数。",
        "This month's tickets expected from the compound's own level in the same season.",
    ),
    "ov_surge_ratio": ("倍数", "Ratio"),
    "ov_surge_ratio_help": (
        "本月工单是预期的多少倍。",
        "This month's tickets divided by the expected number.",
    ),
    "ov_surge_q_value": ("q 值", "q value"),
    "ov_surge_q_value_help": (
        "同时检验所有小区后，这条预警是误报的可能性上限；越小越可信。",
        "After testing every compound at once, an upper bound on the chance this alert is a false alarm; smaller is more certain.",
    ),
    "ov_surge_reason": ("原因", "Reason"),
}
