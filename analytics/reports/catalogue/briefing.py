"""The monthly briefing (`br_`)."""

TEXT: dict[str, tuple[str, str]] = {
    # --- header and title (analytics.reports.briefing) ---
    "br_heading": (
        "{district}12345热线小区工单月度通报（{month}）",
        "{district}12345 hotline monthly briefing ({month})",
    ),
    "br_month": ("{year}年{month}月", "{year}-{month:02d}"),
    "br_date": ("{year}年{month}月{day}日", "{year}-{month:02d}-{day:02d}"),
    "br_issuer_default": ("兰山区12345热线办公室", "Lanshan District 12345 Hotline Office"),
    "br_issuer_demo": ("{issuer}（演示数据）", "{issuer} (demo data)"),
    "br_demo": (
        "本通报由演示数据生成，数字不反映真实情况。",
        "This briefing is made from demo data; its figures are not real.",
    ),
    "br_section_summary": ("总体情况", "Overview"),
    "br_section_subdistricts": ("街道情况", "Subdistricts"),
    "br_section_ranking": ("小区排名", "Compound ranking"),
    "br_section_taskforces": ("专班进展", "Task-force progress"),
    "br_section_effects": ("整治成效", "Effect of the task forces"),
    "br_numbered_1": ("一、{title}", "1. {title}"),
    "br_numbered_2": ("二、{title}", "2. {title}"),
    "br_numbered_3": ("三、{title}", "3. {title}"),
    "br_numbered_4": ("四、{title}", "4. {title}"),
    "br_numbered_5": ("五、{title}", "5. {title}"),
    # --- words for numbers ---
    "br_change_up": ("上升 {pct}", "up {pct}"),
    "br_change_down": ("下降 {pct}", "down {pct}"),
    "br_change_flat": ("持平", "unchanged"),
    "br_change_na": ("无可比数据", "not comparable"),
    "br_na": ("无数据", "n/a"),
    "br_total": ("合计", "Total"),
    "br_no_data": ("本月无数据。", "No data this month."),
    # --- 一、总体情况 ---
    "br_partial": (
        "注意：本月数据截至{date}，尚不完整，以下数字会随后续导入增加。",
        "Note: this month's data end on {date}; the month is not complete and its figures will grow "
        "with later imports.",
    ),
    "br_lead": (
        "{month}，全区12345热线共受理工单{tickets}件，环比{mom}，同比{yoy}。",
        "In {month} the hotline received {tickets} tickets: {mom} on the month before and {yoy} on the "
        "same month last year.",
    ),
    "br_lead_festival": (
        "{month}，全区12345热线共受理工单{tickets}件。春节今年在{this}、去年在{last}，单月同比失真，"
        "因此以1-2月合计比较：今年1-2月共受理工单{janfeb}件，同比{janfeb_change}。",
        "In {month} the hotline received {tickets} tickets. The Spring Festival fell on {this} this year "
        "and on {last} last year, which distorts a single month's year-on-year change, so January and "
        "February are compared together: {janfeb} tickets, {janfeb_change} on the same two months last "
        "year. ",
    ),
    "br_lead_festival_pending": (
        "{month}，全区12345热线共受理工单{tickets}件。春节今年在{this}、去年在{last}，单月同比失真；"
        "1-2月合计比较待2月数据齐全后给出。",
        "In {month} the hotline received {tickets} tickets. The Spring Festival fell on {this} this year "
        "and on {last} last year, which distorts a single month's year-on-year change; the "
        "January-February comparison follows once February is complete. ",
    ),
    "br_lead_raw": (
        "单月比较仅供参考：环比{mom}，同比{yoy}。",
        "Single-month figures, for reference only: {mom} month on month, {yoy} year on year.",
    ),
    "br_lead_rates": (
        "响应率{response}，解决率{resolution}，满意率{satisfaction}，按时办结率{on_time}；"
        "{days}天内重复来电占{repeat}。",
        "Response rate {response}, resolution rate {resolution}, satisfaction rate {satisfaction}, "
        "closed on time {on_time}; repeat calls within {days} days {repeat}.",
    ),
    "br_row_tickets": ("受理工单总量（件）", "Tickets received"),
    "br_row_valid": ("其中有效工单（件）", "of which valid"),
    "br_row_prev_month": ("上月工单量（件）", "Tickets last month"),
    "br_row_mom_pct": ("环比", "Month on month"),
    "br_row_last_year": ("去年同月工单量（件）", "Tickets in the same month last year"),
    "br_row_yoy_pct": ("同比", "Year on year"),
    "br_row_janfeb": ("今年1-2月合计（件）", "January-February this year"),
    "br_row_janfeb_last_year": ("去年1-2月合计（件）", "January-February last year"),
    "br_row_janfeb_yoy": ("1-2月合计同比", "January-February combined, year on year"),
    "br_row_rate": ("每百户有效工单（件）", "Valid tickets per 100 households"),
    "br_row_response": ("响应率", "Response rate"),
    "br_row_resolution": ("解决率", "Resolution rate"),
    "br_row_satisfaction": ("满意率", "Satisfaction rate"),
    "br_row_on_time": ("按时办结率", "Closed on time"),
    "br_row_repeat": ("{days}天内重复来电占比", "Repeat calls within {days} days"),
    "br_note_valid": ("剔除无效诉求后的工单", "Tickets not marked invalid"),
    "br_note_janfeb_yoy": (
        "合并1、2月以消除春节错位，以此为准",
        "January and February together remove the Spring Festival shift; use this figure",
    ),
    "br_note_festival": (
        "春节月份错位，单月同比失真，仅供参考",
        "The Spring Festival fell in another month: distorted, for reference only",
    ),
    "br_note_rate": ("有效工单数除以住户数再乘以100", "Valid tickets per 100 registered households"),
    "br_note_response": ("已受理并开始办理的工单占比", "Share of tickets acted on"),
    "br_note_resolution": ("回访确认已解决的工单占比", "Share confirmed resolved at follow-up"),
    "br_note_satisfaction": ("回访中表示满意的占比", "Share of callers satisfied at follow-up"),
    "br_note_on_time": ("在办理时限内办结的工单占比", "Share closed within the deadline"),
    "br_note_repeat": (
        "同一来电人就同一小区同类问题{days}天内再次来电的占比",
        "Same caller, compound and issue again within {days} days",
    ),
    # --- table headers ---
    "br_col_measure": ("指标", "Measure"),
    "br_col_value": ("数值", "Value"),
    "br_col_note": ("说明", "Note"),
    "br_col_subdistrict": ("街道", "Subdistrict"),
    "br_col_tickets": ("本月工单", "Tickets this month"),
    "br_col_prev_month": ("上月", "Last month"),
    "br_col_mom_pct": ("环比", "Month on month"),
    "br_col_last_year": ("去年同月", "Same month last year"),
    "br_col_yoy_pct": ("同比", "Year on year"),
    "br_col_janfeb_yoy": ("1-2月合计同比", "Jan-Feb year on year"),
    "br_col_resolution_rate": ("解决率", "Resolution rate"),
    "br_col_satisfaction_rate": ("满意率", "Satisfaction rate"),
    "br_col_rank": ("排名", "Rank"),
    "br_col_move": ("较上月", "vs last month"),
    "br_col_name": ("小区", "Compound"),
    "br_col_community": ("社区", "Community"),
    "br_col_leader": ("包保领导", "Leader"),
    "br_col_head": ("专班组长", "Head"),
    "br_col_start": ("进驻日期", "Start"),
    "br_col_end": ("撤出日期", "Withdrawn"),
    "br_col_review": ("撤出评估日期", "Exit review"),
    "br_col_before_monthly": ("进驻前月均（件）", "Monthly before"),
    "br_col_after_monthly": ("进驻后月均（件）", "Monthly since"),
    "br_col_this_month": ("本月（件）", "This month"),
    "br_col_status": ("状态", "Status"),
    "br_col_exit_rule": ("撤出条件", "Exit rule"),
    "br_col_fx_measure": ("口径", "Measure"),
    "br_col_fx_change": ("变化", "Change"),
    "br_col_fx_interval": ("95% 区间", "95% interval"),
    # --- 二、街道情况 ---
    "br_sub_lead": (
        "工单量最多的是{name}，{tickets}件，占全区{share}。",
        "{name} had the most tickets: {tickets}, {share} of the district.",
    ),
    "br_sub_unmatched": (
        "另有{n}件工单地址未能匹配到小区，未计入下表（合计行只含已匹配的工单）。",
        "A further {n} tickets could not be matched to a compound and are not in the table below (its "
        "total counts matched tickets only).",
    ),
    "br_sub_festival": (
        "各街道单月同比受春节错位影响，请以“1-2月合计同比”为准。",
        "Single-month year-on-year changes are distorted by the Spring Festival; use the Jan-Feb column.",
    ),
    "br_sub_festival_pending": (
        "各街道单月同比受春节错位影响，仅供参考。",
        "Single-month year-on-year changes are distorted by the Spring Festival; for reference only.",
    ),
    # --- 三、小区排名 ---
    "br_move_new": ("新进", "New"),
    "br_move_same": ("持平", "Same"),
    "br_rank_lead": (
        "本月工单量前{n}的小区共受理工单{tickets}件，占全区{share}",
        "The {n} compounds with the most tickets this month had {tickets} tickets, {share} of the district",
    ),
    "br_rank_new": ("；其中{new}个小区新进前{n}名。", "; {new} of them are new to the top {n}."),
    "br_rank_no_new": ("；均在上月前{n}名之内。", "; all of them were in last month's top {n}."),
    "br_rank_note": (
        "“较上月”为与上月排名相比的名次变化：↑为上升、↓为下降，“新进”表示上月不在前{n}名。",
        "'vs last month' is the change in place against last month's ranking: ↑ up, ↓ down; 'New' means "
        "not in last month's top {n}.",
    ),
    # --- 四、专班进展 ---
    "br_tf_none": ("本月尚无专班进驻。", "No task force was in place this month."),
    "br_tf_lead": (
        "截至本月，共有{n}个专班进驻{compounds}个小区，{met}。本月专班小区受理工单"
        "{tickets}件，去年同月{last}件，同比{change}（简单比较，含高峰过后的自然回落，整治成效以第五部分的"
        "调整后估计为准）。",
        "By this month {n} task forces were working in {compounds} compounds; {met}. "
        "Their compounds had {tickets} tickets this month against {last} a year before, {change} (a simple "
        "comparison that includes the natural fall after a peak; section 5 gives the adjusted effect).",
    ),
    "br_tf_met": ("其中{met}个已满足撤出条件", "{met} of them meet the exit rule"),
    "br_tf_met_none": ("尚无专班满足撤出条件", "none meets the exit rule yet"),
    "br_review_overdue": ("{date}（已到期）", "{date} (past)"),
    "br_review_due": ("{date}（即将到期）", "{date} (due soon)"),
    "br_tf_note": (
        "进驻前月均为进驻前12个月的月平均工单量；进驻后月均为进驻以来已满月份（最多12个月）的月平均；"
        "撤出评估日期未单独设定时，为进驻日期加撤出条件所需月数。",
        "Monthly before: mean over the 12 months before the start; monthly since: mean over the complete "
        "months since (at most 12); an exit review not set on its own falls on the start plus the months "
        "the exit rule needs.",
    ),
    "br_exit_met": (
        "已满足：连续{n}个月低于{target}件（需{k}个月）",
        "Met: {n} months in a row below {target} (needs {k})",
    ),
    "br_exit_progress": (
        "连续{n}个月低于{target}件（需{k}个月）",
        "{n} months in a row below {target} (needs {k})",
    ),
    # --- 五、整治成效 ---
    "br_fx_none": (
        "目前专班数量或数据月份不足，暂无调整后的整治成效估计；第四部分的专班小区同比为简单比较，"
        "包含高峰过后的自然回落。",
        "There are too few task forces or months of data for an adjusted estimate of their effect yet; the "
        "task-force change in section 4 is a simple comparison that includes the natural fall after a peak.",
    ),
    "br_fx_lead": (
        "以下为{treated}个专班小区（{start}起进驻）的整治成效估计，对照{controls}个未设专班的小区，"
        "基于库中截至最新完整月份的数据。",
        "The task forces' effect in {treated} compounds (from {start}), against {controls} compounds "
        "without one, from the data up to the latest complete month.",
    ),
    "br_fx_naive": ("简单同比（官方口径）", "Simple year on year (official figure)"),
    "br_fx_naive_note": (
        "进驻后12个月与前一年同期相比，含高峰过后的自然回落",
        "12 months after the start against the same months a year before; includes the natural fall "
        "after a peak",
    ),
    "br_fx_placebo": ("安慰剂对照", "Placebo"),
    "br_fx_placebo_note": (
        "按同样规则选出、没有专班的小区同期的变化，即高峰自然回落的幅度",
        "Compounds picked by the same rule without a task force: how much a peak fades by itself",
    ),
    "br_fx_adjusted": ("调整后效应", "Adjusted effect"),
    "br_fx_adjusted_note": (
        "扣除季节、春节和自然回落后专班带来的变化",
        "The change due to the task forces, net of season, the Spring Festival and natural decline",
    ),
    "br_fx_net": ("净效应（含周边小区）", "Net effect (with neighbours)"),
    "br_fx_net_note": (
        "计入工单转移到同社区周边小区后的变化",
        "Counting tickets that moved to neighbouring compounds in the same community",
    ),
    # in brackets: a spreadsheet cell must not start with a sign (it would read as a formula)
    "br_fx_interval": ("（{lo} 至 {hi}）", "({lo} to {hi})"),
    # --- closing ---
    "br_closing_1": (
        "说明：1. 同比、环比为简单比较；春节落在不同月份时，1、2月以两月合计同比为准。",
        "Notes: 1. Year on year and month on month are simple comparisons; when the Spring Festival falls "
        "in different months, January and February are compared together.",
    ),
    "br_closing_2": (
        "2. 专班小区的简单同比包含高峰过后的自然回落，整治成效以调整后估计及其95%区间为准；"
        "区间跨零时不能确认专班带来了下降。",
        "2. The task-force compounds' simple change includes the natural fall after a peak; the adjusted "
        "effect and its 95% interval measure the task forces' effect, and an interval that crosses zero "
        "does not confirm a decline.",
    ),
    "br_closing_3": (
        "3. 数据来源：12345热线工单，数据截至{date}。",
        "3. Source: 12345 hotline tickets, data up to {date}.",
    ),
    # --- the files: fonts for East Asian text (Word, Excel), the sheet, downloads on the overview ---
    "br_font_body": ("仿宋", "FangSong"),
    "br_font_heading": ("黑体", "SimHei"),
    "br_font_title": ("宋体", "SimSun"),
    "br_font_table": ("宋体", "SimSun"),
    "br_sheet": ("月度通报", "Monthly briefing"),
    "br_download_docx": ("下载通报（Word）", "Download briefing (Word)"),
    "br_download_xlsx": ("下载通报（Excel）", "Download briefing (Excel)"),
    "br_download_html": ("下载通报（网页，可打印）", "Download briefing (web page, printable)"),
    "br_download_help": (
        "通报含全区汇总数据，按本页所选月份生成。",
        "The briefing holds district totals for the month chosen on this page.",
    ),
    "br_file_stem": ("月度通报_{month}", "monthly_briefing_{month}"),
}
