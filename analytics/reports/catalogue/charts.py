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
    # registry changes marked on a compound's monthly series
    "ch_event_rename": ("名录更名", "Renamed"),
    "ch_event_split": ("名录拆分", "Split"),
    "ch_event_merge": ("名录合并", "Merged"),
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
    "ch_effects_title": ("各口径对比（含 95% 区间）", "The measures side by side (95% CI)"),
    "ch_change_pct": ("变化（%）", "Change (%)"),
    "ch_naive": ("简单同比", "Naive year on year"),
    "ch_placebo": ("安慰剂（无专班时段同规则）", "Placebo (same rule, no task forces)"),
    "ch_adjusted": ("调整后效应（专班小区）", "Adjusted effect (task-force compounds)"),
    "ch_net": ("净效应（含邻近小区）", "Net effect (with neighbours)"),
    "ch_eb": ("经验贝叶斯前后对比", "Empirical-Bayes before-after"),
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
    "ch_event_band": ("逐月效应 95% 联合置信带", "95% joint band of the monthly effects"),
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
        "{n} 个专班未登记选定窗口，未纳入估计（不假定任何窗口）；请重新导入专班名单并给出选定窗口。",
        "{n} task forces have no selection window recorded and are left out (no window is assumed); "
        "re-import the list with its selection window.",
    ),
    "ef_note_integrity_excluded": (
        "{n} 个专班小区的工单数突然中断（如小区拆分或改名后匹配不上），未纳入估计；见“数据完整性预警”。",
        "{n} task-force compounds whose counts broke off (e.g. unmatched after a split or rename) are left "
        "out; see the data-integrity alarms.",
    ),
    "ef_sum_path_end": (
        "进驻后第 {first} 至 {last} 个月，变化为 {effect}（95% 区间 {lo} 至 {hi}）。",
        "In months {first} to {last} after the start the change is {effect} (95% interval {lo} to {hi}).",
    ),
    "ef_note_neighbours_in_controls": (
        "专班覆盖了几乎所有社区，其他社区的小区不够作对照，同社区小区仍作对照，净效应无法估计。",
        "Task forces cover nearly every community, so too few compounds elsewhere can serve as controls: the "
        "neighbours stay controls and no net effect can be estimated.",
    ),
    "ef_note_eb_no_reference": (
        "没有未设专班的小区可作参照，经验贝叶斯前后对比无法计算。",
        "No compound without a task force to serve as reference: no empirical-Bayes before-after.",
    ),
    "ef_note_eb_few_reference": (
        "经验贝叶斯前后对比只有 {n} 个参照小区，结果不稳。",
        "The empirical-Bayes before-after has only {n} reference compounds: an unsteady result.",
    ),
    "ef_note_eb_short_before": (
        "{n} 个专班小区进驻前不足 12 个月的数据，未纳入经验贝叶斯前后对比。",
        "{n} task-force compounds have less than 12 months before the start and are left out of the "
        "empirical-Bayes before-after.",
    ),
    "ef_note_eb_dropped_cohorts": (
        "{n} 批专班缺少进驻前或进驻后的数据，未纳入经验贝叶斯前后对比。",
        "{n} cohorts lack months before or after the start and are left out of the empirical-Bayes "
        "before-after.",
    ),
    "ef_note_eb_cpf_not_converged": (
        "经验贝叶斯前后对比的参照模型未收敛，结果仅供参考。",
        "The empirical-Bayes reference model did not converge: the result is indicative only.",
    ),
    "ef_note_eb_no_interval": (
        "经验贝叶斯前后对比的区间无法计算。",
        "No interval for the empirical-Bayes before-after.",
    ),
    "ef_note_placebo_no_room": (
        "数据起点太晚，无法做与同比口径可比的安慰剂：需要首批专班进驻前 {needed} 个月的数据，现有 {available} 个月。",
        "The data start too late for a placebo comparable with the year-on-year figure: it needs {needed} "
        "months before the first task force, the data have {available}.",
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
    "ef_sum_naive": (
        "专班小区（{treated} 个）工单同比 {naive}（官方口径）。",
        "Task-force compounds ({treated}): tickets {naive} year on year (official figure).",
    ),
    "ef_sum_placebo": (
        "在更早、没有专班的时段按同样规则选出的 {treated} 个小区，按同样的月份对比也变化了 {placebo}：这是高峰过后自然回落的幅度，可与上面的同比数直接比较。",
        "{treated} compounds picked by the same rule at an earlier time without task forces changed {placebo} "
        "over the same months: how much peaks fade by themselves, directly comparable with the figure above.",
    ),
    "ef_sum_placebo_none": (
        "数据起点太晚，无法给出可比的自然回落幅度（需要首批专班进驻前 {needed} 个月的数据，现有 {available} 个月）。",
        "The data start too late to show how much peaks fade by themselves in a comparable way (that needs "
        "{needed} months before the first task force; the data have {available}).",
    ),
    "ef_sum_no_adjusted": (
        "数据不足（缺少选定窗口之前的基线或进驻后的月份），无法给出调整后的估计。",
        "Not enough data (no baseline before the selection window or no months after start) for an "
        "adjusted estimate.",
    ),
    "ef_sum_adjusted": (
        "扣除季节和自然回落后，专班小区本身的变化估计为 {effect}（95% 区间 {lo} 至 {hi}，对照为其他社区的 {controls} 个小区）。",
        "Net of season and natural decline, the task-force compounds themselves changed {effect} (95% interval "
        "{lo} to {hi}; {controls} control compounds from other communities).",
    ),
    "ef_sum_net": (
        "连同同社区的 {neighbours} 个邻近小区一起算，净变化为 {net}（95% 区间 {lo} 至 {hi}）：部分工单可能转移到了邻近小区。",
        "Counting the {neighbours} neighbouring compounds of the same communities too, the net change is {net} "
        "(95% interval {lo} to {hi}): some tickets may have moved next door.",
    ),
    "ef_sum_net_also": (
        "连同同社区的 {neighbours} 个邻近小区一起算，净变化为 {net}（95% 区间 {lo} 至 {hi}）：邻近小区的工单也有所下降。",
        "Counting the {neighbours} neighbouring compounds of the same communities too, the net change is {net} "
        "(95% interval {lo} to {hi}): the neighbours' tickets fell as well.",
    ),
    "ef_sum_within_null": (
        "但同样处于高峰、没有专班的小区，用同样的方法估计也会得出 {lo} 至 {hi} 的变化，本次估计落在这一范围内：不能排除它只是高峰回落，不能据此归功于专班。",
        "But compounds with a similar peak and no task force give {lo} to {hi} by the same method, and this "
        "estimate lies in that range: it may be no more than peaks fading, and cannot be credited to the task forces.",
    ),
    "ef_sum_net_crosses": (
        "净变化的区间跨零：不能确认专班使全区工单减少。",
        "The net change's interval crosses zero: a fall in the district's tickets caused by the task forces "
        "cannot be confirmed.",
    ),
    "ef_sum_eb": (
        "另一种常用方法（经验贝叶斯前后对比）估计为 {eb}（95% 区间 {lo} 至 {hi}）。",
        "The practitioners' empirical-Bayes before-after comparison gives {eb} (95% interval {lo} to {hi}).",
    ),
    "ef_sum_eb_disagrees": (
        "两种方法的区间互不重叠，结论需谨慎。",
        "The two methods' intervals do not overlap: read the result with caution.",
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
