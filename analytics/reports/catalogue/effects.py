"""The effects page (`ef_`)."""

TEXT: dict[str, tuple[str, str]] = {
    # --- effects page ---
    "ef_title": ("整治成效", "Effects"),
    "ef_no_tf": ("还没有专班，暂无成效可评估。", "No task forces yet: nothing to evaluate."),
    "ef_summary": ("十秒读懂", "In ten seconds"),
    "ef_crosses": (
        "调整后效应的 95% 区间跨越零：不能据此宣称专班使工单下降。",
        "The adjusted effect's 95% interval crosses zero: a fall caused by the task forces cannot be claimed.",
    ),
    "ef_summary_help": (
        "排名靠前的小区往往正处在高峰，之后即使什么都不做也会回落（均值回归），所以不能只看简单同比。",
        "Compounds ranked at the top are usually at a peak and fall back afterwards even if nothing is done (regression to the mean), so the naive change alone misleads.",
    ),
    "ef_naive_help": (
        "专班小区进驻后最多 12 个完整月的工单，与前一年同期相比；未扣除季节和高峰回落，无区间。"
        "概览页的“专班小区同比”只比较一个月与去年同月，所以两个数字不同。",
        "Task-force compounds' tickets in up to 12 complete months from the start against the same months a year earlier; "
        "not net of season or the fall after a peak, no interval. The overview's figure compares one month with the same month last year, so the two differ.",
    ),
    "ef_naive_basis": (
        "进驻后（最多 12 个月）对比前一年同期；概览页为单月同比，故数字不同",
        "Up to 12 months from the start against a year earlier; the overview compares one month, so it differs",
    ),
    "ef_placebo_help": (
        "安慰剂：用同样的排名规则挑出没有专班的小区，看它们同期自己降了多少；这部分下降不能算作专班的成效。",
        "Placebo: compounds picked by the same ranking rule but without a task force, and how much they fell by themselves; that part of the fall is not the task forces' doing.",
    ),
    "ef_adjusted_help": (
        "与“若无专班会有多少工单”（反事实，由排名窗口之前的基线和对照小区推算）相比的变化；95% 区间给出可信范围。",
        "The change against what tickets would have been without the task forces (the counterfactual, from the baseline before the ranking window and the comparison compounds); the 95% interval gives the plausible range.",
    ),
    "ef_interval_help": (
        "区间：按现有数据，真实效应有 95% 的把握落在这两个数之间；区间跨过零，就不能确认有效果。",
        "Interval: with 95% confidence the true effect lies between these two numbers; if it spans zero, no effect is confirmed.",
    ),
    "ef_event_help": (
        "事件研究：把进驻前后每个月分别与对照小区比较，看变化从哪个月开始、是否持续。",
        "Event study: each month before and after the start compared with the comparison compounds, to see when a change begins and whether it lasts.",
    ),
    "ef_category_help": (
        "每类诉求各自的调整后效应；类别多时，个别类别“显著”可能只是偶然。",
        "The adjusted effect for each kind of complaint; with many categories, one looking significant may be chance.",
    ),
    "ef_displacement_help": (
        "外溢：专班小区的问题是否转移到同社区的邻近小区（邻近小区工单上升即为外溢）。",
        "Displacement: whether problems moved to neighbouring compounds in the same community (their tickets rising would show it).",
    ),
    "ef_per_compound_help": (
        "反事实：若没有专班，按此前走势预计的工单；实际线持续低于阴影区间，才说明下降超出正常波动。",
        "Counterfactual: the tickets expected from the earlier trend had there been no task force; only actual values staying below the band show a fall beyond ordinary fluctuation.",
    ),
    "ef_cost_help": (
        "登记费用为专班工作记录中填写的费用之和；避免的工单为反事实减去实际，区间跨零时成本没有上限。",
        "Logged cost is the sum of costs in the task forces' action logs; complaints avoided are counterfactual minus actual, unbounded when the interval crosses zero.",
    ),
    "ef_method_plain": (
        "泊松固定效应模型（按月份与小区控制，不用排名窗口的数据）",
        "a Poisson fixed-effects model, controlling for month and compound, leaving the ranking window out",
    ),
    "ef_method_plain_cohorts": (
        "分批堆叠的泊松固定效应模型（{n} 批专班，按批次×月份与小区控制，不用排名窗口的数据）",
        "a Poisson fixed-effects model stacked by task-force cohort ({n} cohorts), controlling for cohort x month and compound, leaving the ranking window out",
    ),
    "ef_method_help": ("技术名称：{parts}", "Technical name: {parts}"),
    "ef_method_part_stacked": ("堆叠式（按批次）", "stacked by cohort"),
    "ef_method_part_poisson_fe": ("泊松固定效应回归", "Poisson fixed effects"),
    "ef_method_part_cohort_month_fe": ("批次×月份固定效应", "cohort x month fixed effects"),
    "ef_method_part_window_excluded": ("剔除排名窗口", "selection window excluded"),
    "ef_method_part_jackknife_se": ("按小区整群刀切法标准误", "cluster-jackknife standard errors"),
    "ef_window": ("{first} 至 {last}", "{first} to {last}"),
    "ef_naive": ("简单同比（官方口径）", "Naive year on year (official)"),
    "ef_placebo": ("安慰剂：前一年同规则", "Placebo: same rule a year earlier"),
    "ef_adjusted": ("调整后效应", "Adjusted effect"),
    "ef_ci": ("95% 区间 {lo} 至 {hi}", "95% interval {lo} to {hi}"),
    "ef_no_ci": ("无区间：仅供对照", "No interval: for comparison only"),
    "ef_design": (
        "专班小区 {t} 个，对照小区 {c} 个；选定窗口 {w}，进驻 {s}。方法：{m}。",
        "{t} task-force compounds, {c} controls; selection window {w}, start {s}. Method: {m}.",
    ),
    "ef_event": ("事件研究", "Event study"),
    "ef_event_note": (
        "灰色为排名窗口之前的基线月份：它们应在零附近，说明专班小区与对照小区此前走势一致；橙色为被选中时的高峰。",
        "Grey points are baseline months before the ranking window: near zero means treated and controls moved in parallel before; orange is the spike that got the compounds selected.",
    ),
    "ef_by_category": ("分类别效应", "By category"),
    "ef_displacement": ("外溢检验", "Displacement"),
    "ef_per_compound": ("各专班小区：实际与反事实", "Each compound: actual vs counterfactual"),
    "ef_per_compound_none": ("暂无各小区的反事实结果。", "No per-compound counterfactuals yet."),
    # a task-force head's view: their own compounds, nothing summed over the district
    "ef_head_scope": (
        "仅显示您负责的 {n} 个专班小区：实际工单与若无专班时的预计。全区汇总只对区领导和分析员开放。",
        "Only the {n} task-force compounds in your scope: actual tickets against what they would have been without a task force. District totals are for leaders and analysts.",
    ),
    "ef_head_no_tf": ("您负责的小区中没有专班。", "None of the compounds in your scope has a task force."),
    "ef_head_compounds": ("我负责的专班小区", "My task-force compounds"),
    "ef_head_actions": ("工作记录与费用", "Actions and costs"),
    "ef_head_no_actions": ("还没有登记工作记录。", "No actions logged yet."),
    "ef_basis_model": ("成效模型的反事实", "the effects model's counterfactual"),
    "ef_basis_comparison": (
        "参照走势：未设专班小区的走势，按本小区进驻前水平缩放",
        "comparison trend: compounds without a task force, scaled to this compound's level before",
    ),
    "ef_basis_none": ("数据不足，暂无参照", "too little data for a comparison"),
    "ef_comparison_title": ("{name}：实际工单与参照走势", "{name}: actual tickets and comparison trend"),
    "ef_comparison_trace": (
        "参照走势（未设专班小区，按进驻前缩放）",
        "Comparison trend (no task force, scaled)",
    ),
    "ef_basis_note_comparison": (
        "成效模型还没有这个小区的反事实（进驻前的历史太短），虚线是未设专班小区的走势按本小区进驻前的水平缩放而来，只作参照，没有区间。",
        "The effects model has no counterfactual for this compound yet (too little history before the start); the dashed line is the trend of compounds without a task force scaled to this compound's earlier level, for reference only, without a band.",
    ),
    "ef_basis_note_model": (
        "虚线为成效模型推算的若无专班时的工单（反事实），阴影为其 95% 区间；实际值落在区间内说明变化可能只是正常波动。",
        "The dashed line is the effects model's estimate of tickets without the task force (counterfactual), the band its 95% interval; actual values inside the band may be ordinary fluctuation.",
    ),
    "ef_basis_note_none": (
        "这个小区进驻前没有足够的工单数据，无法给出参照，只显示实际工单。",
        "There are too few tickets before the start for a comparison; only the actual tickets are shown.",
    ),
    "ef_pick": ("选择小区", "Compound"),
    "ef_cost": ("投入产出", "Cost per avoided complaint"),
    "ef_total_cost": ("登记费用合计（元）", "Logged cost (yuan)"),
    "ef_avoided": ("估计避免的工单（件）", "Complaints avoided (est.)"),
    "ef_per_avoided": ("每避免一件工单的费用（元）", "Cost per avoided complaint (yuan)"),
    "ef_range": ("区间 {lo} 至 {hi}", "interval {lo} to {hi}"),
    "ef_notes": ("说明", "Notes"),
    # category columns
    "ef_category_category": ("类别", "Category"),
    "ef_category_tickets": ("工单数", "Tickets"),
    "ef_category_effect_pct": ("效应（%）", "Effect (%)"),
    "ef_category_ci_low_pct": ("区间下限（%）", "CI low (%)"),
    "ef_category_ci_high_pct": ("区间上限（%）", "CI high (%)"),
    "ef_category_reading": ("解读", "Reading"),
    # displacement columns
    "ef_displacement_target": ("对象", "Target"),
    "ef_displacement_compounds": ("小区数", "Compounds"),
    "ef_displacement_controls": ("对照数", "Controls"),
    "ef_displacement_effect_pct": ("变化（%）", "Change (%)"),
    "ef_displacement_ci_low_pct": ("区间下限（%）", "CI low (%)"),
    "ef_displacement_ci_high_pct": ("区间上限（%）", "CI high (%)"),
    "ef_displacement_reading": ("解读", "Reading"),
    # compound columns
    "ef_compound_compound_id": ("小区编号", "Compound id"),
    "ef_compound_compound_name": ("小区", "Compound"),
    "ef_compound_start": ("进驻日期", "Start"),
    "ef_compound_observed_post": ("进驻后实际", "Observed after"),
    "ef_compound_expected_post": ("反事实预计", "Counterfactual"),
    "ef_compound_change_vs_expected_pct": ("相对反事实（%）", "vs counterfactual (%)"),
    "ef_compound_months_below": ("连续达标月数", "Months below target"),
    "ef_compound_meets_exit_rule": ("满足撤出条件", "Meets exit rule"),
    "ef_compound_basis": ("反事实来源", "Counterfactual from"),
    "ef_compound_cost": ("登记费用（元）", "Logged cost (yuan)"),
    "ef_compound_expected_post_help": (
        "若无专班，按此前走势预计的进驻后工单（反事实）。",
        "Tickets expected after the start had there been no task force (the counterfactual).",
    ),
    "ef_compound_change_vs_expected_pct_help": (
        "实际比反事实多（正数）或少（负数）的百分比。",
        "How far actual tickets are above (positive) or below (negative) the counterfactual.",
    ),
    # head's action columns
    "ef_action_compound_name": ("小区", "Compound"),
    "ef_action_date": ("日期", "Date"),
    "ef_action_action": ("工作内容", "Action"),
    "ef_action_cost": ("费用（元）", "Cost (yuan)"),
    "ef_action_user": ("记录人", "Logged by"),
}
