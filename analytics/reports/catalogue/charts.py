"""Chart titles, axes and legends (`ch_`)."""

TEXT: dict[str, tuple[str, str]] = {
    # --- charts ---
    "ch_month": ("月份", "Month"),
    "ch_tickets": ("工单量", "Tickets"),
    "ch_trend_title": ("月度工单量趋势", "Monthly tickets"),
    "ch_last_year": ("去年同月", "Same month last year"),
    "ch_partial": ("不完整月份", "Unfinished month"),
    "ch_partial_note": ("数据截至 {date}，本月尚不完整", "Data up to {date}: this month is unfinished"),
    "ch_unit_tickets": (" 件", " tickets"),
    "ch_treemap_rate": ("每百户工单数", "Tickets per 100 households"),
    "ch_start": ("专班进驻", "Task forces start"),
    "ch_treemap_title": ("街道 → 社区 → 小区 工单分布", "Tickets by subdistrict → community → compound"),
    "ch_all": ("全区", "District"),
    "ch_map_title": ("小区分布（按经纬度，无底图）", "Compounds by longitude/latitude (no base map)"),
    "ch_lon": ("经度", "Longitude"),
    "ch_lat": ("纬度", "Latitude"),
    "ch_rank": ("排名", "Rank"),
    "ch_rank_interval": ("{p}% 排名区间", "{p}% rank interval"),
    "ch_ranking_title": (
        "排名及其 {p}% 区间（名次有 {p}% 的可能落在横线范围内）",
        "Rank with its {p}% interval (the rank lies on the line with {p}% probability)",
    ),
    "ch_cutoff": ("前 {top} 名分界", "Top {top} cut-off"),
    "ch_p_top": ("进入前{top}名概率", "P(top {top})"),
    "ch_funnel_title": (
        "漏斗图：投诉率与小区规模（含控制限）",
        "Funnel plot: complaint rate vs size, with control limits",
    ),
    "ch_expected": (
        "预期工单数（按全区平均率，反映小区规模）",
        "Expected tickets at the district rate (size)",
    ),
    "ch_households": ("户数", "Households"),
    "ch_rate": ("每百户每月工单数", "Tickets per 100 households per month"),
    "ch_district_rate": ("全区平均", "District average"),
    "ch_limit": ("控制限 {p}", "{p} limit"),
    "ch_compounds": ("小区", "Compounds"),
    "ch_stability_title": ("权重扰动下进入前{top}名的比例", "Share of weight perturbations in the top {top}"),
    "ch_share_in_top": ("进入前{top}名的比例", "Share in the top {top}"),
    "ch_event_title": (
        "事件研究：相对进驻月份的效应（含 95% 区间）",
        "Event study: effect by month from start (95% CI)",
    ),
    "ch_event_time": ("相对进驻的月数", "Months from start"),
    "ch_coef": ("相对变化（%）", "Relative change (%)"),
    "ch_effects_title": ("三种口径对比（含 95% 区间）", "Three ways to measure the change (95% CI)"),
    "ch_change_pct": ("变化（%）", "Change (%)"),
    "ch_naive": ("简单同比", "Naive year on year"),
    "ch_placebo": ("安慰剂（无专班年份同规则）", "Placebo (same rule, year without task forces)"),
    "ch_adjusted": ("调整后效应", "Adjusted effect"),
    "ch_compound_title": ("{name}：实际工单与反事实区间", "{name}: actual tickets and counterfactual band"),
    "ch_actual": ("实际", "Actual"),
    "ch_counterfactual": ("反事实（无专班）", "Counterfactual (no task force)"),
    "ch_cf_band": ("反事实 95% 区间", "Counterfactual 95% band"),
    "ch_category_title": ("分类别效应（含 95% 区间）", "Effect by category (95% CI)"),
    "ch_category": ("类别", "Category"),
    "ch_displacement_title": ("外溢检验：邻近小区工单变化", "Displacement: change in neighbouring compounds"),
    "ch_group": ("组别", "Group"),
    "ch_stars_title": ("党支部星级与每百户工单数", "Party-branch stars vs tickets per 100 households"),
    "ch_stars": ("星级", "Stars"),
    "ch_no_data": ("暂无数据", "No data"),
    "ch_period_baseline": ("基线期（排名窗口前）", "Baseline (before the ranking window)"),
    "ch_period_selection": ("排名窗口（被选中的高峰）", "Ranking window (the spike that got them picked)"),
    "ch_period_post": ("进驻后", "After start"),
    "ch_unknown": ("未知", "unknown"),
    "ch_stars_compounds": ("{n}个小区", "{n} compounds"),
    # ranking: column labels of the snapshot editor
    "rk_assign_leader": ("包保领导", "Leader"),
    "rk_assign_head": ("专班组长", "Head"),
    "rk_file_ranking": ("重点小区排名_{first}_{last}", "compound_ranking_{first}_{last}"),
    "rk_file_peer": ("同类小区对比", "peer_comparison"),
    # overview: a surge's reason, download file names
    "ov_reason": (
        "本月 {tickets} 件，预期 {expected:.0f} 件（同期季节基线）",
        "{tickets} tickets this month, {expected:.0f} expected (seasonal baseline)",
    ),
    "ov_reason_category": (
        "本月 {tickets} 件，预期 {expected:.0f} 件（同期季节基线），主要类别：{category} {share:.0%}",
        "{tickets} tickets this month, {expected:.0f} expected (seasonal baseline); main category: "
        "{category} {share:.0%}",
    ),
    "ov_file_rises": ("上升前十_{month}", "top_rises_{month}"),
    "ov_file_falls": ("下降前十_{month}", "top_falls_{month}"),
    "ov_file_surges": ("异常上升_{month}", "surges_{month}"),
    "ov_file_briefing": ("月度通报_{month}", "monthly_briefing_{month}"),
    # task forces: download file names
    "tf_status_line": ("状态：{status}", "Status: {status}"),
    "tf_file_ledger": ("专班台账", "taskforce_ledger"),
    "tf_file_hot": ("热点问题_{compound}", "hot_issues_{compound}"),
    "tf_file_actions": ("工作记录_{compound}", "action_log_{compound}"),
    # effects: the estimate's notes, the cost caveat, readings of the breakdowns, the method
    "ef_note_missing_window": (
        "{n} 个专班未登记选定窗口，按进驻前 {months} 个月处理。",
        "{n} task forces have no selection window recorded; the {months} months before the start are used.",
    ),
    "ef_note_no_adjusted": (
        "选定窗口之前没有基线月份或进驻后没有数据，调整估计无法计算。",
        "No baseline months before the selection window or no data after the start: no adjusted estimate.",
    ),
    "ef_note_dropped_cohorts": (
        "{n} 批专班缺少基线或进驻后数据，未纳入调整估计。",
        "{n} cohorts of task forces lack baseline or post-start data and are left out of the adjusted estimate.",
    ),
    "ef_caveat_no_estimate": (
        "无调整后估计，无法计算避免的工单数。",
        "No adjusted estimate, so the avoided complaints cannot be counted.",
    ),
    "ef_caveat_no_cost": ("行动台账中没有登记费用。", "No cost is logged in the action ledger."),
    "ef_caveat_unbounded": (
        "效果不显著（区间跨零）：每避免一件工单的成本没有上限，不能据此评价投入产出。",
        "The effect is not significant (the interval crosses zero): the cost per avoided complaint has no "
        "upper bound and cannot judge value for money.",
    ),
    "ef_reading_fall": ("下降", "Fell"),
    "ef_reading_rise": ("上升（可能转移到此类）", "Rose (complaints may have moved here)"),
    "ef_reading_none": ("无明显变化", "No clear change"),
    "ef_reading_moved": (
        "邻近小区工单上升：可能存在转移",
        "Neighbours rose: complaints may have moved there",
    ),
    "ef_reading_also_fell": ("邻近小区也下降", "Neighbours fell too"),
    "ef_reading_not_moved": ("未见明显转移", "No sign of complaints moving"),
    "ef_target_neighbours": (
        "同社区未设专班的小区",
        "Compounds without a task force in the same communities",
    ),
    "ef_other_categories": ("其余类别合计", "All other categories"),
    "ef_method": (
        "堆叠泊松固定效应模型（批次×月份固定效应，剔除选定窗口，聚类刀切法标准误）",
        "stacked Poisson FE (cohort x month FE, selection window excluded, cluster-jackknife SE)",
    ),
    "ef_method_cohorts": (
        "堆叠泊松固定效应模型（{n} 批；批次×月份固定效应，剔除选定窗口，聚类刀切法标准误）",
        "stacked ({n} cohorts) Poisson FE (cohort x month FE, selection window excluded, cluster-jackknife SE)",
    ),
    "ef_file_category": ("分类别效应", "effects_by_category"),
    "ef_file_displacement": ("外溢检验", "displacement"),
    "ef_file_compounds": ("专班小区反事实", "taskforce_counterfactuals"),
    # effects in ten seconds (the page's summary and `python -m analytics effects`)
    "ef_sum_na": ("无法计算", "n/a"),
    "ef_sum_kind_year_earlier": ("前一年按同一规则排名", "ranked the same way a year earlier"),
    "ef_sum_kind_below_cut": ("同一窗口中紧随其后的排名", "ranked just below the cut in the same window"),
    "ef_sum_kind_mixed": ("前一年或紧随其后的排名", "a year earlier or just below the cut"),
    "ef_sum_naive": (
        "专班小区（{treated} 个）工单同比 {naive}（官方口径）。",
        "Task-force compounds ({treated}): tickets {naive} year on year (official figure).",
    ),
    "ef_sum_placebo": (
        "按同样规则选出、但没有专班的 {treated} 个小区（{kind}），同期也变化了 {placebo}（高峰过后自然回落）。",
        "{treated} compounds picked by the same rule without a task force ({kind}) changed {placebo} "
        "(peaks fade by themselves).",
    ),
    "ef_sum_no_adjusted": (
        "数据不足（缺少选定窗口之前的基线或进驻后的月份），无法给出调整后的估计。",
        "Not enough data (no baseline before the selection window or no months after start) for an "
        "adjusted estimate.",
    ),
    "ef_sum_adjusted": (
        "扣除季节和自然回落后，专班带来的变化估计为 {effect}（95% 区间 {lo} 至 {hi}，对照 {controls} 个小区）。",
        "Net of season and natural decline, the task forces' effect is {effect} (95% interval {lo} to {hi}; "
        "{controls} control compounds).",
    ),
    "ef_sum_crosses": (
        "区间跨零：不能确认专班带来了下降。",
        "The interval crosses zero: a decline caused by the task forces cannot be confirmed.",
    ),
    "ef_sum_below": (
        "区间全部低于零：下降可以归因于专班（仍为统计估计，非精确值）。",
        "The whole interval is below zero: the decline can be attributed to the task forces (an estimate, "
        "not an exact figure).",
    ),
    "ef_sum_above": (
        "区间全部高于零：专班小区工单相对增加，请核查。",
        "The whole interval is above zero: tickets rose relative to controls; please check.",
    ),
    # upload: the canonical ticket fields the mapping offers, and the import's steps
    "up_field_ticket_id": ("工单编号", "Ticket number"),
    "up_field_created_at": ("受理时间", "Received at"),
    "up_field_content": ("诉求内容", "Request text"),
    "up_field_title": ("工单标题", "Ticket title"),
    "up_field_category": ("诉求类型", "Category"),
    "up_field_address": ("诉求地址", "Address"),
    "up_field_compound": ("小区", "Compound"),
    "up_field_caller_phone": ("来电号码", "Caller's phone"),
    "up_field_closed_at": ("办结时间", "Closed at"),
    "up_field_due_at": ("办理时限", "Due by"),
    "up_field_satisfaction": ("满意度", "Satisfaction"),
    "up_field_resolved": ("是否解决", "Resolved"),
    "up_field_status": ("工单状态", "Ticket status"),
    "up_field_handling_unit": ("承办单位", "Handling unit"),
    "up_field_is_valid": ("是否有效", "Valid"),
    "up_field_is_invalid": ("不合理诉求", "Unreasonable request"),
}
