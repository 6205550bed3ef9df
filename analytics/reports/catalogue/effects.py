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
    "ef_method_part_controls_outside": ("对照取自其他社区", "controls from other communities"),
    "ef_method_part_ratio_pooled": ("各批按基线工单固定加权", "cohorts pooled with fixed baseline weights"),
    "ef_window": ("{first} 至 {last}", "{first} to {last}"),
    "ef_naive": ("简单同比（官方口径）", "Naive year on year (official)"),
    "ef_placebo": ("安慰剂：更早时段同规则", "Placebo: same rule, earlier"),
    "ef_placebo_none": ("数据不足", "Not enough data"),
    "ef_adjusted": ("调整后效应（专班小区）", "Adjusted effect (task-force compounds)"),
    "ef_net": ("净效应（含同社区邻近小区）", "Net effect (with same-community neighbours)"),
    "ef_net_help": (
        "专班小区与同社区其他小区的工单变化合计，占专班小区反事实工单的百分比。若工单只是转移到了邻近小区，净效应会明显小于调整后效应。",
        "The change in the task-force compounds and the other compounds of their communities together, as a share of the task-force compounds' counterfactual tickets. If tickets only moved next door, the net effect is much smaller than the adjusted one.",
    ),
    "ef_net_none": (
        "无法估计：其他社区的对照小区不够，或专班小区没有同社区的邻近小区。",
        "Not available: too few controls in other communities, or no neighbours in the same communities.",
    ),
    "ef_eb": ("经验贝叶斯前后对比", "Empirical-Bayes before-after"),
    "ef_eb_help": (
        "道路安全评估中常用的方法：用未设专班小区拟合“投诉水平模型”，把每个专班小区进驻前的工单向同类水平收缩，推算若无专班的工单数。它只校正偶然波动，假定小区本身的水平不变；遇到持续数月的高峰（如物业纠纷），会把高峰后的回落算作成效，所以通常比调整后效应更“乐观”。",
        "The road-safety practitioners' method: a complaint performance function fitted on compounds without a task force shrinks each task-force compound's tickets before the start towards its kind, and projects what it would have had without one. It corrects for chance only and assumes a compound's own level is stable; after a surge lasting months (a dispute with the property company) it counts the fall back as an effect, so it usually reads more favourably than the adjusted effect.",
    ),
    "ef_eb_table": ("经验贝叶斯逐小区明细", "Empirical-Bayes per compound"),
    "ef_eb_compound_id": ("小区编号", "Compound id"),
    "ef_eb_observed_before": ("进驻前 12 个月工单", "Tickets, 12 months before"),
    "ef_eb_predicted_before": ("同类水平", "Level of its kind"),
    "ef_eb_eb_before": ("收缩后的进驻前水平", "Shrunk level before"),
    "ef_eb_counterfactual_after": ("若无专班的预计工单", "Expected without a task force"),
    "ef_eb_observed_after": ("进驻后实际工单", "Tickets after the start"),
    "ef_eb_ratio": ("实际÷预计", "Actual ÷ expected"),
    "ef_null": ("什么都没发生时，这个方法会报告什么", "What this method reports when nothing happened"),
    "ef_null_help": (
        "用同样的方法去估计本来没有效果的情形：把进驻时间提前到专班之前，或随机挑选没有专班、同样处于高峰的小区当作“专班小区”。结果应在零附近；离零越远，对真实结果越要谨慎。",
        "The same method applied where nothing happened: the start moved back before any task force, or compounds without a task force but with a similar peak taken as if they had one. The results should be near zero; the further off, the more caution the real result needs.",
    ),
    "ef_fake_start": (
        "进驻时间提前 {shift} 个月（此时还没有专班）：估计为 {effect}（95% 区间 {lo} 至 {hi}）。",
        "Start moved {shift} months earlier (before any task force): {effect} (95% interval {lo} to {hi}).",
    ),
    "ef_fake_start_none": (
        "专班进驻前的数据不够长，无法把进驻时间提前来检验。",
        "Too few months before the task forces to test a start moved earlier.",
    ),
    "ef_permutation": (
        "随机挑选 {n} 组没有专班、同样处于高峰的小区当作专班小区：估计值的中位数 {median}，95% 落在 {lo} 至 {hi} 之间。",
        "{n} random sets of compounds without a task force but with a similar peak, taken as if treated: median {median}, 95% between {lo} and {hi}.",
    ),
    "ef_sensitivity": ("选定窗口长度的影响", "How the selection window's length matters"),
    "ef_sensitivity_help": (
        "若专班按不同长度的排名窗口选出，调整后效应会是多少。窗口设得太短，高峰的一部分会留在基线里，下降会被夸大。",
        "The adjusted effect had the task forces been picked on ranking windows of other lengths. A window set too short leaves part of the peak in the baseline and exaggerates the fall.",
    ),
    "ef_sens_window_months": ("窗口（月）", "Window (months)"),
    "ef_sens_stored": ("登记的窗口", "The recorded window"),
    "ef_sens_effect_pct": ("调整后效应（%）", "Adjusted effect (%)"),
    "ef_sens_ci_low_pct": ("区间下限（%）", "Interval from (%)"),
    "ef_sens_ci_high_pct": ("区间上限（%）", "Interval to (%)"),
    "ef_sens_reason": ("说明", "Note"),
    "ef_sens_reason_before_data": (
        "数据起点太晚：该窗口早于已有数据",
        "Data start too late: this window reaches before the first month of data",
    ),
    "ef_sens_reason_no_estimate": (
        "基线月份或对照小区不足，无法估计",
        "Too few baseline months or controls to estimate",
    ),
    "ef_window_source_snapshot": ("选定窗口取自排名快照。", "Selection windows from the ranking snapshots."),
    "ef_window_source_given": (
        "选定窗口取自专班名单。",
        "Selection windows as given with the task-force list.",
    ),
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
    "ef_pretrend": (
        "基线月份走势的联合检验（整群野自助法，适合小区数有限的情形）：p = {p}。{reading}",
        "Joint test of the baseline months (wild cluster bootstrap, sound with few compounds): p = {p}. {reading}",
    ),
    "ef_pretrend_ok": (
        "没有证据表明专班小区与对照小区此前走势不同。",
        "No evidence that treated and controls moved differently before.",
    ),
    "ef_pretrend_bad": (
        "专班小区与对照小区此前走势可能不同，调整后效应需谨慎解读。",
        "Treated and controls may have moved differently before: read the adjusted effect with caution.",
    ),
    "ef_path_end": (
        "进驻后第 {first} 至 {last} 个月的效应为 {effect}（95% 区间 {lo} 至 {hi}）；图中阴影为逐月效应的 95% 联合置信带。",
        "In months {first} to {last} after the start the effect is {effect} (95% interval {lo} to {hi}); the shaded band holds every month's effect jointly with 95% confidence.",
    ),
    "ef_integrity": ("数据完整性预警", "Data-integrity alarms"),
    "ef_integrity_help": (
        "小区拆分、改名或名录调整后，工单可能匹配不上，工单数会突然归零，看起来像是专班的成效。这些小区不计入估计，在此列出。",
        "After a split, rename or registry change a compound's tickets may stop matching and its count drops to zero, which would pass for an effect. Such compounds are left out of the estimate and listed here.",
    ),
    "ef_kind_drop_to_zero": ("工单数突然归零", "Count fell to zero"),
    "ef_kind_registry_change": ("名录变更（拆分、改名或合并）", "Registry change (split, rename or merge)"),
    "ef_kind_registry_followed": (
        "名录变更（拆分、改名或合并），已按前后小区合并计算",
        "Registry change (split, rename or merge), counted as one unit before and after",
    ),
    "ef_kind_match_rate_shift": ("全区匹配率突变", "District match rate jumped"),
    "ef_integrity_none": ("没有发现数据断点。", "No data breaks found."),
    "ef_integrity_compound_name": ("小区", "Compound"),
    "ef_integrity_kind": ("预警", "Alarm"),
    "ef_integrity_month": ("月份", "Month"),
    "ef_integrity_exclude": ("不计入估计", "Left out"),
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
    "ef_compound_q_value": ("q 值", "q value"),
    "ef_compound_flagged": ("单独显著", "Clear on its own"),
    "ef_compound_q_value_help": (
        "该小区进驻后实际与反事实之差的检验，经 Benjamini-Hochberg 多重比较校正（全部专班小区一起）。"
        "越小越不像偶然波动。",
        "The test of this compound's difference from its counterfactual, adjusted for testing every "
        "treated compound at once (Benjamini-Hochberg). The smaller, the less it looks like chance.",
    ),
    "ef_compound_flagged_help": (
        "q 值不超过 0.05：在控制错误发现率 5% 的前提下，这个小区的变化单独看也不像偶然。"
        "单个小区一年的工单上下波动约四成，下降三成的小区多数单独看并不显著，这不代表没有成效。",
        "q value at most 0.05: with the false discovery rate held at 5%, this compound's change does not "
        "look like chance even on its own. One compound's year varies by about 40%, so most compounds "
        "that fell by 30% are not clear on their own; that does not mean nothing happened.",
    ),
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
