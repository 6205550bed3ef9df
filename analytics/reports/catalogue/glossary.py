"""The glossary page (`gl_`): every statistical and hotline term the dashboard uses, in plain
words. `gl_term_<id>` is the term, `gl_def_<id>` its explanation; pages/glossary.py says which
terms each group holds and in what order."""

TEXT: dict[str, tuple[str, str]] = {
    "gl_intro": (
        "看板上每个统计指标和专业名词的白话解释。可按名词或解释中的字词搜索。",
        "Every statistic and technical term the dashboard uses, in plain words. Search by a term or any word in its explanation.",
    ),
    "gl_search": ("搜索名词", "Search terms"),
    "gl_search_placeholder": ("例如：区间、安慰剂、响应率", "e.g. interval, placebo, response rate"),
    "gl_search_help": (
        "中文或英文均可，多个词用空格分开，须全部出现。",
        "Chinese or English; several words separated by spaces must all appear.",
    ),
    "gl_count": ("共 {n} 条", "{n} terms"),
    "gl_no_match": ("没有找到包含“{q}”的名词。", "No term mentions \u201c{q}\u201d."),
    # --- groups ---
    "gl_group_hotline": ("热线指标", "Hotline measures"),
    "gl_group_ranking": ("排名", "Ranking"),
    "gl_group_effects": ("整治成效", "Effects"),
    "gl_group_data": ("数据与隐私", "Data and privacy"),
    # --- hotline measures ---
    "gl_term_three_rates": ("三率", "The three rates"),
    "gl_def_three_rates": (
        "响应率、解决率、满意率的合称，是考核 12345 热线办理质量的三个基本指标。看板另加按时办结率，四个数在总览和月度通报中并列。",
        "Response, resolution and satisfaction rates together: the three standard measures of how well hotline tickets are handled. "
        "The dashboard adds the on-time rate; the four stand side by side on the overview and in the monthly briefing.",
    ),
    "gl_term_response_rate": ("响应率", "Response rate"),
    "gl_def_response_rate": (
        "承办单位已经接手处理的工单占比：已签收、在办或已办结的都算已响应；状态为“未响应”“待签收”“待受理”等、又没有办结时间的算未响应。"
        "只计有效工单中带状态或办结时间的。一般在 95% 以上，个别月份偏低，说明承办单位积压。",
        "The share of tickets a handling unit has taken up: signed for, in progress or closed. Tickets still marked not responded, "
        "awaiting sign-off or awaiting acceptance, with no closing time, count as not responded. Valid tickets with a status or "
        "closing time only. Usually above 95%; a low month means units fell behind.",
    ),
    "gl_term_resolution_rate": ("解决率", "Resolution rate"),
    "gl_def_resolution_rate": (
        "标注了“是否解决”的有效工单中，标为已解决的占比。供暖季和夏季用水用电高峰，难解决的诉求多，解决率往往下降。",
        "Among valid tickets marked resolved or not, the share marked resolved. It tends to dip in the heating season and the "
        "summer water and power peak, when more complaints are hard to fix.",
    ),
    "gl_term_satisfaction_rate": ("满意率", "Satisfaction rate"),
    "gl_def_satisfaction_rate": (
        "回访时回答了满意度的有效工单中，表示满意的占比（“基本满意”按导入时的设置计入满意）。没有回访的工单不计入，所以回访少的小区，满意率波动大。",
        "Among valid tickets whose caller answered the follow-up question, the share satisfied (fairly satisfied counts as "
        "satisfied when the upload says so). Tickets never followed up are left out, so a compound with few answers swings a lot.",
    ),
    "gl_term_on_time_rate": ("按时办结率", "On-time rate"),
    "gl_def_on_time_rate": (
        "在办理时限内办结的工单占比。分母是有办理时限、且已办结或已超期的工单：未到期的在办工单不计入，超期仍未办结的算未按时。",
        "The share of tickets closed within their deadline. Counted over tickets with a deadline that are closed or already "
        "past it: open tickets not yet due are left out, open tickets past due count as late.",
    ),
    "gl_term_valid": ("有效工单", "Valid tickets"),
    "gl_def_valid": (
        "剔除被标为无效（如重复派单、不合理诉求）后的工单。排名、成效和各项比率只算有效工单，所以“工单总数”可能比有效工单多。",
        "Tickets not marked invalid (duplicate dispatches, unreasonable requests and the like). Rankings, effects and rates count "
        "valid tickets only, so the total number of tickets can be larger than the valid ones.",
    ),
    "gl_term_repeat": ("重复来电", "Repeat call"),
    "gl_def_repeat": (
        "同一来电人 30 天内就同一小区的同一类问题再次来电。来电人按来电哈希识别，不看号码本身。重复来电占比高，说明问题没有真正解决。",
        "The same caller calling again about the same kind of problem in the same compound within 30 days, recognised by the "
        "caller hash, never by the number itself. A high repeat share means problems are not really being solved.",
    ),
    "gl_term_mom": ("环比", "Change on the previous period"),
    "gl_def_mom": (
        "与紧挨着的上一个同样长度的期间相比：本月比上月，本季比上季。受季节影响大，供暖开始、春节前后环比会大起大落。工单增加显示为红色（变差），减少为绿色。",
        "Against the period of the same length just before: this month against last month, this quarter against last quarter. "
        "Seasons move it a lot (the start of heating, the Spring Festival). A rise in tickets shows red (worse), a fall green.",
    ),
    "gl_term_yoy": ("同比", "Change on last year"),
    "gl_def_yoy": (
        "与去年同期相比，可以抵消季节影响。但春节每年落在不同月份，1、2 月的单月同比会失真，这时以 1、2 月合计的同比为准（月度通报会注明）。",
        "Against the same period last year, which cancels out the seasons. But the Spring Festival falls in a different month "
        "each year, which distorts January and February on their own; then January and February together are compared "
        "(the monthly briefing says so).",
    ),
    "gl_term_per_100": ("每百户工单数", "Tickets per 100 households"),
    "gl_def_per_100": (
        "小区月均工单数除以户数再乘 100。大小小区可以放在一起比较：300 户的小区每月 6 件，与 3000 户的小区每月 60 件一样，都是每百户 2 件。",
        "A compound's tickets a month divided by its households, times 100. It lets large and small compounds be compared: "
        "6 a month from 300 households is the same as 60 a month from 3,000, two per 100 households.",
    ),
    "gl_term_surge": ("异常上升预警", "Surge alert"),
    "gl_def_surge": (
        "本月工单显著高于该小区自己往年同季水平的小区。全区上千个小区同时检验，为免误报过多，用 Benjamini-Hochberg 方法控制误报比例，只列出 q 值足够小的。",
        "A compound whose tickets this month are well above its own level in the same season of earlier years. With a thousand "
        "compounds tested at once, the Benjamini-Hochberg method holds the share of false alarms down; only small q values are listed.",
    ),
    # --- ranking ---
    "gl_term_score": ("排名口径", "What \u201cworst\u201d means"),
    "gl_def_score": (
        "排名先说清按什么排。默认“工单量大”：不采取措施时未来 12 个月预计的工单数，重复来电、未解决、不满意的工单只在小区之间确有差异时加计。另有“超出同类的工单”（预计工单减去同类型、同户数、同房龄小区应有的工单，即专班最多能减少的部分）和“每百户工单”（用于公平比较）。",
        "The ranking first says what it ranks by. By default \u201cmost tickets\u201d: the tickets expected over the next 12 "
        "months if nothing is done, with repeat, unresolved and dissatisfied tickets counting extra only where those shares "
        "really differ between compounds. Also \u201ctickets above similar compounds\u201d (expected tickets minus those of "
        "a compound of the same type, size and age: what a task force can remove at most) and \u201ctickets per 100 "
        "households\u201d (for fair comparisons).",
    ),
    "gl_term_expected": ("预期工单", "Expected tickets"),
    "gl_def_expected": (
        "按一般水平推算一个小区“应该有”的工单数：漏斗图按全区平均投诉率乘以户数和月数，异常预警按该小区往年同季的水平。实际与预期相比，才看得出是偏高还是正常。",
        "The tickets a compound would have at the usual level: in the funnel plot the district's average rate times its "
        "households and months, in surge alerts its own level in the same season of earlier years. Only against this does a "
        "count read as high or normal.",
    ),
    "gl_term_persistence": ("持续性", "Persistence"),
    "gl_def_persistence": (
        "排名要找长期、反复出问题的小区，而不是一时的高峰。所以默认读近 24 个月（每个季节各两次）的每月工单，估计哪些波动会持续、哪些会消退，并向同类小区收缩：一次爆管带来的单月高峰，不会让小区长期排在前面。",
        "The ranking looks for compounds with a lasting problem, not a passing peak. So by default it reads every month of the "
        "last 24 (every season twice), estimates which ups and downs last and which fade, and shrinks towards similar "
        "compounds: one burst pipe does not keep a compound at the top.",
    ),
    "gl_term_shrinkage": ("收缩（向同类小区收缩）", "Shrinkage"),
    "gl_def_shrinkage": (
        "小小区工单少，投诉率忽高忽低。把每个小区的投诉率向同类小区的一般水平拉近一些，数据越少拉得越多。这样排在前面的是确实偏高的小区，而不是碰巧波动大的小小区。",
        "A small compound has few tickets, so its rate jumps about. Each compound's rate is pulled some way towards the usual "
        "level of similar compounds, more when it has less data. Then the top of the list holds compounds that really are high, "
        "not small ones that happened to have a bad spell.",
    ),
    "gl_term_posterior": ("后验", "Posterior"),
    "gl_def_posterior": (
        "把同类小区的一般水平（先验）和该小区自己每月的数据合在一起，对其今后工单得出的判断，带着不确定性。看板从中抽样 1000 次，每次重新排名：名次取中位数，并得出排名区间和进入前 N 名的概率；名单就是入选概率最高的 N 个小区。",
        "What the usual level of similar compounds (the prior) and a compound's own months together say about its tickets to "
        "come, uncertainty included. The dashboard draws from it 1,000 times and ranks each draw: the rank shown is the median, "
        "with the rank interval and the chance of being in the top N; the list is the N compounds with the highest chance.",
    ),
    "gl_term_p_top": ("P(前65)（进入前N名概率）", "P(top 65): the chance of being in the top N"),
    "gl_def_p_top": (
        "在上述反复抽样中，该小区排进前 65 名（或设定的名额）的次数占比。九成以上几乎肯定入选；低于一半的小区，入选与否主要是运气。",
        "The share of those draws in which the compound ranks in the top 65 (or the number chosen). Above 90% it is all but "
        "certain to be in; below one half, being in or out is mostly luck.",
    ),
    "gl_term_rank_interval": ("排名区间", "Rank interval"),
    "gl_def_rank_interval": (
        "90% 排名区间：按现有数据，该小区的真实名次有九成把握落在这两个名次之间。区间越宽越不确定；两个小区的区间重叠时，不能说谁一定更差。",
        "A 90% rank interval: with the data at hand, the compound's true rank lies between these two ranks with 90% "
        "confidence. The wider, the less certain; when two compounds' intervals overlap, neither is surely worse.",
    ),
    "gl_term_funnel": ("漏斗图", "Funnel plot"),
    "gl_def_funnel": (
        "横轴为预期工单数，纵轴为实际与预期之比。两组虚线像漏斗：小区越大，偶然波动越小，虚线收得越紧。只有落在外侧虚线（99.8%）之外的点，才说明投诉确实偏高而非偶然。",
        "Expected tickets across, actual over expected up. The dashed limits narrow like a funnel, because larger compounds "
        "vary less by chance. Only points outside the outer (99.8%) limits are high beyond chance.",
    ),
    "gl_term_peers": ("同类小区", "Peer compounds"),
    "gl_def_peers": (
        "类型相同（商开、还建、家属院、混合）且户数在同一档次的小区。与同类比，倍数大于 1 表示投诉率高于同类的中位数。",
        "Compounds of the same type (commercial, resettlement, work-unit, mixed) and the same size band. A ratio above 1 means "
        "more complaints than the peers' median.",
    ),
    "gl_term_stability": ("稳定性（权重稳定性检验）", "Stability under the weights"),
    "gl_def_stability": (
        "把问题突出各项的加计权重随机上下浮动，重复排名多次，看前 N 名名单变不变。大多数小区每次都在名单里，说明名单不取决于权重的细微取舍；小区之间没有差异的项目不加计，也就不影响名单。",
        "Each share weight is moved up or down at random and the ranking repeated many times, to see whether the top N list "
        "changes. If most compounds are in the list every time, the list does not hang on fine choices of weights; a share "
        "that does not differ between compounds adds nothing and cannot move the list.",
    ),
    "gl_term_snapshot": ("排名快照", "Ranking snapshot"),
    "gl_def_snapshot": (
        "保存下来的一次排名结果（口径、窗口、权重、抽样次数、名次和区间）。专班由快照创建，日后可以查到每个小区当初为何入选，成效评估也据此剔除排名窗口。",
        "A ranking kept as it was (definition, window, weights, draws, ranks and intervals). Task forces are created from a snapshot, so anyone can "
        "later see why a compound was picked, and the effects leave its ranking window out.",
    ),
    # --- effects ---
    "gl_term_taskforce": ("专班", "Task force"),
    "gl_def_taskforce": (
        "为排名靠前的重点小区成立的工作专班，包保领导牵头、专班组长负责，“一小区一专班，问题不解决不撤出”。进驻日期是成效评估的起点；连续几个月工单低于目标才可撤出。",
        "A team set up for a compound high in the ranking, led by a senior official with a head in charge: one compound, one "
        "task force, not withdrawn until the problem is solved. The start date is where the effects are measured from; it may "
        "withdraw after tickets stay below target for several months.",
    ),
    "gl_term_controls": ("对照小区", "Comparison compounds"),
    "gl_def_controls": (
        "同一时期没有（或尚未）设专班的小区。它们的走势告诉我们：没有专班时，工单本来会怎样变化。",
        "Compounds without a task force (or not yet) over the same months. Their course shows how tickets would have moved "
        "without task forces.",
    ),
    "gl_term_counterfactual": ("反事实", "Counterfactual"),
    "gl_def_counterfactual": (
        "假如没有专班，这些小区本来会有多少工单。它无法直接看到，只能根据专班小区此前的水平、对照小区同期的变化和季节推算。实际与反事实之差，才是专班的效果。",
        "How many tickets the compounds would have had without task forces. It cannot be observed; it is worked out from the "
        "compounds' earlier level, the comparison compounds' change over the same months and the seasons. The gap between "
        "actual and counterfactual is the task forces' effect.",
    ),
    "gl_term_rtm": ("均值回归", "Regression to the mean"),
    "gl_def_rtm": (
        "一段时间特别高的数，之后往往自然回落到平常水平。按工单最多挑出来的小区，多半正处在高峰，即使什么都不做，第二年也会下降。这就是简单同比会夸大成效的原因。",
        "An unusually high figure tends to fall back to its usual level by itself. Compounds picked for having the most tickets "
        "are mostly at a peak, and fall the next year even if nothing is done. That is why the naive year-on-year change "
        "overstates the effect.",
    ),
    "gl_term_naive": ("简单同比（官方口径）", "Naive year-on-year change"),
    "gl_def_naive": (
        "专班小区进驻后最多 12 个完整月的工单，与前一年同期相比。没有扣除季节、全区走势和均值回归，只作对照，不能直接当作成效。",
        "The task-force compounds' tickets in up to 12 complete months after the start against the same months a year before. "
        "Not net of season, the district's trend or regression to the mean: shown for comparison, not as the effect.",
    ),
    "gl_term_placebo": ("安慰剂检验", "Placebo test"),
    "gl_def_placebo": (
        "用同样的排名规则、同样多的小区、同样的月份对比，在更早、还没有任何专班的时段再做一遍，看挑出的小区自己降了多少。这部分下降来自均值回归，不能算作专班的成效。数据起点太晚、做不出同样的对比时，页面写明原因，不给出不可比的数。",
        "The same ranking rule, the same number of compounds and the same month pairs, applied at an earlier time with no task "
        "force at all, and how much the compounds it picked fell by themselves. That fall is regression to the mean and "
        "cannot be credited to the task forces. When the data start too late for the same comparison, the page says so "
        "instead of showing an incomparable figure.",
    ),
    "gl_term_net": ("净效应", "Net effect"),
    "gl_def_net": (
        "专班小区与同社区其他小区的工单变化合计，占专班小区反事实工单的百分比。专班若只是把投诉“挤”到了隔壁小区，调整后效应会显得很大，净效应却接近零；十秒读懂这时按净效应下结论。",
        "The change in the task-force compounds and the other compounds of their communities together, as a share of the "
        "task-force compounds' counterfactual tickets. If a task force only pushed complaints next door, the adjusted effect "
        "looks large but the net effect is near zero; the ten-second summary then reads the net effect.",
    ),
    "gl_term_eb": ("经验贝叶斯前后对比", "Empirical-Bayes before-after"),
    "gl_def_eb": (
        "道路安全评估中常用的方法：用未设专班的小区拟合“投诉水平模型”，把专班小区进驻前的工单向同类水平收缩，推算若无专班的工单数。它只校正偶然波动，遇到持续数月的高峰会偏乐观，所以只与调整后效应并列参考。",
        "The road-safety practitioners' method: a model of complaint levels fitted on compounds without a task force shrinks "
        "each task-force compound's tickets before the start towards its kind and projects what it would have had. It "
        "corrects for chance only and reads too favourably after surges lasting months, so it is shown beside the adjusted "
        "effect, not instead of it.",
    ),
    "gl_term_adjusted": ("调整后效应", "Adjusted effect"),
    "gl_def_adjusted": (
        "与反事实相比的变化，是看板给出的成效估计。方法：泊松回归同时控制小区本身、月份（含季节和春节）和进驻批次，并剔除排名窗口，让比较的基线落在被选中之前；区间按小区逐个剔除重算得出。",
        "The change against the counterfactual: the dashboard's estimate of the effect. A Poisson regression that controls for "
        "each compound, the calendar month (seasons and the Spring Festival) and the start cohort, and leaves the ranking "
        "window out so the baseline lies before the compounds were picked; its interval comes from re-estimating with one "
        "compound left out at a time.",
    ),
    "gl_term_interval": ("置信区间 / 可信区间", "Confidence and credible intervals"),
    "gl_def_interval": (
        "表示估计有多不确定。95% 区间：按现有数据，真实值有 95% 的把握落在两个数之间。区间跨过零（一头为负、一头为正），就不能确认有效果：可能降了，也可能没降。"
        "成效用的是置信区间，排名用的是由后验得出的可信区间，读法相同。",
        "How uncertain an estimate is. A 95% interval: with the data at hand, the true value lies between the two numbers with "
        "95% confidence. If it spans zero (one end negative, the other positive), no effect is confirmed: tickets may have "
        "fallen or not. The effects use confidence intervals, the ranking credible intervals from the posterior; both read the same way.",
    ),
    "gl_term_event_study": ("事件研究", "Event study"),
    "gl_def_event_study": (
        "把进驻前后的每一个月分别与对照小区比较。进驻前各月应在零附近，说明专班小区与对照小区原本走势一致；进驻后持续低于零，效果才可信。被选中那几个月的高峰单独标出，不作比较的基线。",
        "Each month before and after the start compared with the comparison compounds. Months before the start should sit near "
        "zero, showing both groups moved alike; an effect is believable only if the months after stay below zero. The peak "
        "months that got the compounds picked are marked apart and not used as the baseline.",
    ),
    "gl_term_displacement": ("外溢 / 转移", "Spillover and displacement"),
    "gl_def_displacement": (
        "专班小区的问题是否转移到了同社区的邻近小区，或换成了别的诉求类别。邻近小区工单上升，说明部分“下降”可能只是换了个地方投诉；计入邻近小区后的净效果更可靠。",
        "Whether problems moved to neighbouring compounds in the same community, or into other kinds of complaint. If the "
        "neighbours' tickets rose, part of the fall may only have moved elsewhere; the net effect including the neighbours is "
        "the safer figure.",
    ),
    "gl_term_by_category": ("分类别效应", "Effect by category"),
    "gl_def_by_category": (
        "每类诉求各自的调整后效应。类别多时，总会有个别类别碰巧显得“显著”，要看区间，并与总体效应对照着读。",
        "The adjusted effect for each kind of complaint. With many categories, one will look significant by chance; read the "
        "intervals, and read them against the overall effect.",
    ),
    "gl_term_q_value": ("q 值", "q value"),
    "gl_def_q_value": (
        "同时检验很多小区时，一条预警是误报的可能性上限。只列出 q 值不超过 5% 的预警，意味着这些预警中平均误报不超过 5%。越小越可信。",
        "With many compounds tested at once, an upper bound on the chance that an alert is a false alarm. Listing only alerts "
        "with q at most 5% means that on average no more than 5% of them are false. Smaller is more certain.",
    ),
    "gl_term_bh": ("Benjamini-Hochberg 方法", "Benjamini-Hochberg method"),
    "gl_def_bh": (
        "同时检验很多对象时控制误报比例的方法。检验上千个小区，即使都正常，也会有几十个看起来异常；该方法把所有检验按显著程度排序，逐个放宽门槛，使预警中误报所占比例不超过设定水平（如 5%）。",
        "A way to keep false alarms in check when many things are tested at once. Test a thousand compounds and dozens look "
        "unusual even if all are normal; the method orders the tests by strength of evidence and relaxes the bar step by step "
        "so that false alarms stay below a set share of the alerts (e.g. 5%).",
    ),
    "gl_term_cost": ("每避免一件工单的费用", "Cost per avoided complaint"),
    "gl_def_cost": (
        "专班工作记录中登记的费用合计，除以估计避免的工单数（反事实减实际）。避免数的区间跨过零时，费用没有上限，不宜据此比较。",
        "The costs logged in the task forces' action records divided by the complaints estimated to be avoided "
        "(counterfactual minus actual). When the interval of complaints avoided spans zero the cost has no upper bound and "
        "should not be compared.",
    ),
    # --- data and privacy ---
    "gl_term_matching": ("地址匹配", "Address matching"),
    "gl_def_matching": (
        "把工单地址对应到名册中的小区。系统比较地址与小区名称、别名的相似程度，并核对街道、社区和期数：把握足够大的自动匹配，有几分像的进入地址审核，其余留作未匹配。",
        "Finding the registry compound a ticket's address names. The address is compared with compound names and aliases, and "
        "its subdistrict, community and phase are checked: confident matches are taken automatically, likely ones go to the "
        "address review, the rest stay unmatched.",
    ),
    "gl_term_review": ("地址审核", "Address review"),
    "gl_def_review": (
        "分析员逐条确认或否决系统给出的候选小区，影响工单最多的地址排在前面。确认后，该地址的全部工单归入该小区，写法记为别名，以后自动匹配；否决后不再提示。",
        "An analyst confirms or rejects the suggested compounds, the addresses with most tickets first. Confirming moves every "
        "ticket with that address to the compound and remembers the spelling as an alias, so it matches by itself from then "
        "on; rejecting stops the suggestion.",
    ),
    "gl_term_rejected": ("拒收", "Rejected rows"),
    "gl_def_rejected": (
        "上传时无法入库的行，例如缺少工单编号或受理时间、时间无法识别。校验时先列出哪些行、因为什么；拒收行可下载，保留原文件的列并附“拒收原因”列，改正后重新上传即可，已入库的数据不受影响。",
        "Rows of an upload that cannot be stored, e.g. without a ticket number or a readable time. The check lists which rows "
        "and why before anything is written; they download in the file's own columns with a column for the reason, ready to "
        "fix and upload again, and nothing already stored changes.",
    ),
    "gl_term_batch": ("批次", "Batch"),
    "gl_def_batch": (
        "每上传一个文件即为一个批次，记下文件名、上传人、时间，以及读入、新增、重复和拒收的行数。整批可以撤销，恢复到上传前的样子。",
        "Each uploaded file is one batch, with its file name, who uploaded it, when, and how many rows were read, added, "
        "duplicates and rejected. A whole batch can be undone, restoring the data as it was before.",
    ),
    "gl_term_predicted": ("预测类别", "Predicted category"),
    "gl_def_predicted": (
        "上传的文件没有诉求类型时，系统根据工单内容推断出的类别，并标明为“预测”，与文件自带的类别区分开。",
        "When an upload carries no complaint category, the category inferred from the ticket's text, marked as predicted so it "
        "is never mistaken for one the file gave.",
    ),
    "gl_term_registry": ("小区名册", "Compound registry"),
    "gl_def_registry": (
        "全区小区的基础信息：编号、名称、别名、所属社区和街道、类型、新旧、户数、物业公司和位置。每次修改都记录修改人和前后内容，可以追溯。",
        "The district's list of compounds: id, name, aliases, community and subdistrict, type, age, households, property "
        "company and location. Every edit records who made it and what changed.",
    ),
    "gl_term_masking": ("脱敏", "Masking"),
    "gl_def_masking": (
        "工单内容里的手机号、座机号和身份证号在入库前就被整段遮盖（显示为 ********），页面、下载和备份中都看不到；来电人姓名不保存。",
        "Mobile, landline and ID numbers inside ticket text are covered whole (shown as ********) before anything is stored, "
        "so no page, download or backup shows them; callers' names are not kept.",
    ),
    "gl_term_caller_hash": ("来电哈希", "Caller hash"),
    "gl_def_caller_hash": (
        "来电号码不保存，只保存由号码和一把单独保管的密钥算出的一串代码。同一号码得到同一代码，可以识别重复来电，但无法由代码反推出号码；没有密钥的数据库副本也对不上任何人。",
        "Callers' numbers are not stored; only a code computed from the number and a separately kept key is. The same number "
        "gives the same code, so repeat calls can be found, but the number cannot be worked back from the code, and a copy of "
        "the store without the key links to no one.",
    ),
}
