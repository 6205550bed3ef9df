"""The ranking page (`rk_`)."""

TEXT: dict[str, tuple[str, str]] = {
    # --- ranking page ---
    "rk_title": ("重点小区排名", "Compound ranking"),
    "rk_no_tickets": ("库中还没有工单，无法排名。", "No tickets yet: nothing to rank."),
    "rk_window": ("排名窗口（月份）", "Ranking window (months)"),
    "rk_window_help": (
        "用于排名的月份范围。默认 24 个月：每个季节各两次，足以分清长期问题与一时的高峰；数据不足 24 个月时从第一个有数据的月份算起。",
        "The months the ranking reads. 24 by default: every season twice, enough to tell a lasting problem from a passing spike; with less data, from the first month with data.",
    ),
    "rk_preset": ("排名口径", "What \u201cworst\u201d means"),
    "rk_preset_name_volume": ("工单量大（默认）", "Most tickets (default)"),
    "rk_preset_name_excess": ("超出同类的工单", "Tickets above similar compounds"),
    "rk_preset_name_rate": ("每百户工单", "Tickets per 100 households"),
    "rk_preset_volume": (
        "工单量大：不采取措施时，未来 12 个月预计的工单数。由近 24 个月每月的工单估计，考虑小区类型、户数、房龄和季节；一时的高峰会向同类小区收缩，持续的问题不会。",
        "Most tickets: the tickets expected over the next 12 months if nothing is done, estimated from every month of the last 24 with the compound's type, size, age and season; a passing spike is shrunk towards similar compounds, a lasting problem is not.",
    ),
    "rk_preset_excess": (
        "超出同类的工单：预计工单数减去同类型、同户数、同房龄小区应有的工单数，即专班最多能减少的工单。",
        "Tickets above similar compounds: the expected tickets minus what a compound of the same type, size and age would have, i.e. what a task force can remove at most.",
    ),
    "rk_preset_rate": (
        "每百户工单：每百户每月预计的工单数，用于公平比较和排行榜；未登记户数的小区不参与。",
        "Tickets per 100 households: the expected tickets per 100 households a month, for fair comparisons and league tables; compounds without households are left out.",
    ),
    "rk_rate_excluded": (
        "{n} 个小区未登记户数，不参与每百户排名。",
        "{n} compounds have no households in the registry and are not ranked per 100 households.",
    ),
    "rk_weights_intro": (
        "“问题突出”按件加计：权重 50% 表示一件重复来电（或未解决、不满意）的工单按 1.5 件计。只有在小区之间确有差异的项目才参与，其余自动计 0。",
        "\u201cSerious problems\u201d add weight per ticket: 50% means a repeat call (or an unresolved or dissatisfied ticket) counts as 1.5 tickets. Only shares that really differ between compounds take part; the others get 0.",
    ),
    "rk_weight_no_signal": (
        "{name}：各小区之间没有可分辨的差异（离散检验 p = {p}），自动计 0。",
        "{name}: no difference between compounds beyond chance (over-dispersion test p = {p}); weight set to 0.",
    ),
    "rk_weight_no_data": ("{name}：数据中没有这一项，不参与。", "{name}: not in the data; not used."),
    "rk_weights_used": (
        "排名依据：预计工单数，其中{parts}。",
        "Ranked by expected tickets, where {parts}.",
    ),
    "rk_weight_part": ("{name}工单每件加计 {w:.0%}", "each {name} ticket adds {w:.0%}"),
    "rk_share_ticket_repeat_share": ("重复来电", "repeat-call"),
    "rk_share_ticket_unresolved_share": ("未解决", "unresolved"),
    "rk_share_ticket_dissatisfaction": ("不满意", "dissatisfied"),
    "rk_weight_join": ("，", ", "),
    "rk_weights_none": (
        "排名依据：预计工单数；问题突出各项不加计。",
        "Ranked by expected tickets; no share adds weight.",
    ),
    "rk_weights_not_used": (
        "该口径不使用问题突出的加计权重。",
        "This definition does not use the share weights.",
    ),
    "rk_list_title": ("入选名单：前 {top} 名", "The list: top {top}"),
    "rk_list_note": (
        "名单是进入前 {top} 名概率最高的 {top} 个小区，排名取 {n} 次模拟中名次的中位数。名单内各小区的入选概率合计 {sum:.1f}：按模型估计，约 {sum:.0f} 个确属前 {top} 名，其余与名单外的小区难分高下。点选一行可打开该小区的小区档案。",
        "The list is the {top} compounds most likely to be in the top {top}; the rank is the median rank over {n} simulations. Their chances add up to {sum:.1f}: by the model about {sum:.0f} truly belong to the top {top}, the rest are too close to call against those outside. Pick a row to open the compound's profile.",
    ),
    # short surges (a few months far above a compound's own level) that the window's data show to end
    "rk_surges_note": (
        "本窗口有 {n} 个小区出现过短期激增（连续数月远高于自身平常水平，且全区数据显示这类激增会自行回落）："
        "预计工单按其平常水平计；激增到窗口末仍在持续的，按其可能延续的月数计入，名次区间相应放宽。",
        "{n} compounds had a short surge in this window (several months far above their own usual level, "
        "of a kind the district's data show to end by itself): their expected tickets use their usual level; "
        "a surge still under way at the window's end counts for the months it may go on, with a wider rank "
        "range.",
    ),
    "rk_all_title": ("全部小区排名（{n} 个）", "Every compound ranked ({n})"),
    "rk_certainty": ("有 {p}% 把握排在第 {lo} 至 {hi} 位", "{p}% sure: rank {lo} to {hi}"),
    "rk_certainty_one": ("有 {p}% 把握排在第 {lo} 位", "{p}% sure: rank {lo}"),
    "rk_overlap": (
        "换一种口径：按“{name}”排的前 {top} 名中，有 {n} 个也在本名单。",
        "By another definition: {n} of the top {top} by \u201c{name}\u201d are also on this list.",
    ),
    "rk_stability_no_signal": (
        "问题突出各项在小区之间都没有可分辨的差异（或未加计），权重不影响名单。",
        "No share differs between compounds beyond chance (or none adds weight), so the weights do not move the list.",
    ),
    "rk_top": ("重点小区数", "Compounds to select"),
    "rk_weights": ("权重设置", "Weights"),
    "rk_apply": ("应用权重", "Apply weights"),
    "rk_interval_chart": ("排名及区间", "Rank with interval"),
    "rk_interval_help": (
        "圆点是最可能的名次，横线是 {p}% 区间：考虑到工单数的偶然波动，名次有 {p}% 的可能落在这条线上。横线跨过蓝色虚线的小区，入选与否都说得通。",
        "The dot is the most likely rank, the line its {p}% interval: allowing for chance in the ticket counts, the rank lies on the line with {p}% probability. A compound whose line crosses the blue dotted cut-off could be on either side.",
    ),
    "rk_chart_rows": (
        "图中只画前 {n} 名（共 {total} 个小区），完整名单见上表。",
        "Only the first {n} of {total} compounds are drawn; the table lists them all.",
    ),
    "rk_funnel": ("漏斗图", "Funnel plot"),
    "rk_funnel_help": (
        "横轴是小区规模（按全区平均率预期的工单数），纵轴是投诉率。小小区的投诉率天然波动大，所以控制限像漏斗一样越往右越窄；只有落在外侧虚线之外的点才说明确实偏高。",
        "Across: the compound's size (tickets expected at the district rate); up: its complaint rate. Small compounds vary more by chance, so the limits narrow like a funnel; only points outside the outer line are high beyond chance.",
    ),
    "rk_funnel_note": (
        "点在外侧虚线（99.8%）之外才说明投诉率确实偏高，而非偶然；小小区的波动天然更大。",
        "Only points outside the outer (99.8%) funnel are high beyond chance; small compounds naturally vary more.",
    ),
    "rk_stability": ("权重稳定性检验", "Stability under the weights"),
    "rk_stability_help": (
        "把问题突出各项的加计权重随机上下调整很多次，看名单变不变：每次都在名单内的小区与权重怎么定无关；比例在 50% 左右的小区入选与否取决于权重。",
        "The share weights are moved up and down at random many times: a compound in the list every time is there whatever the weights; one near 50% is in or out depending on them.",
    ),
    "rk_stability_text": (
        "每个权重随机上下浮动 {j:.0%}（{n} 次）：前 {top} 名平均有 {mean:.1f} 个不变（最少 {min}），{always} 个小区每次都在名单内。下图列出其余小区每次进入名单的比例。",
        "Each weight moved at random by up to {j:.0%} ({n} times): on average {mean:.1f} of the top {top} stay (at least {min}); {always} compounds are in the list every time. The chart shows how often each of the others is.",
    ),
    "rk_stability_all_stable": (
        "前 {top} 名在每次权重调整下都不变。",
        "The top {top} stay the same under every weighting tried.",
    ),
    "rk_peer": ("同类小区对比", "Peer comparison"),
    "rk_peer_help": (
        "与类型相同、户数档次相同的小区比较，避免拿大型商品房小区与几十户的家属院直接比。",
        "Compared with compounds of the same type and size band, so a large estate is not set against a small family compound.",
    ),
    "rk_peer_note": (
        "同类 = 相同类型和户数档次；倍数 > 1 表示投诉率高于同类中位数。点选一行可打开该小区的小区档案。",
        "Peers = same type and size band; a ratio above 1 means more complaints than the peer median. Pick a row to open the compound's profile.",
    ),
    "rk_leagues": ("物业公司与社区排名", "Property companies and communities"),
    "rk_leagues_help": (
        "按每百户投诉率排名（1 = 投诉最多），投诉率向全区平均收缩，小物业公司、小社区不会因几件工单就排到最前。",
        "Ranked by complaints per 100 households (1 = most), shrunk towards the district average so a small company or community does not top the list on a few tickets.",
    ),
    "rk_companies": ("物业公司（季度红黑榜）：{p}", "Property companies (quarterly): {p}"),
    "rk_communities": ("社区（半年考核）：{p}", "Communities (half-year): {p}"),
    "rk_quarter": ("{y}年第{n}季度", "{y} Q{n}"),
    "rk_half1": ("{y}年上半年", "{y} H1"),
    "rk_half2": ("{y}年下半年", "{y} H2"),
    "rk_stars": ("党支部星级与投诉率", "Party-branch stars and complaints"),
    "rk_spearman": (
        "星级与投诉率的等级相关 {rho:+.2f}（95% 区间 {lo:+.2f} 至 {hi:+.2f}，{n} 个小区，{p}）；负值表示星级越高投诉越少。",
        "Rank correlation of stars and complaint rate {rho:+.2f} (95% CI {lo:+.2f} to {hi:+.2f}; {n} compounds, {p}); negative = more stars, fewer complaints.",
    ),
    "rk_snapshot": ("保存排名快照", "Save a ranking snapshot"),
    "rk_note": ("备注", "Note"),
    "rk_save": ("保存快照", "Save snapshot"),
    "rk_saved": ("排名快照 {id} 已保存。", "Ranking snapshot {id} saved."),
    "rk_create": ("由快照创建专班", "Create task forces from a snapshot"),
    "rk_pick_snapshot": ("选择快照", "Snapshot"),
    "rk_no_snapshots": ("还没有排名快照，请先保存一个。", "No snapshot yet; save one first."),
    "rk_assign": (
        "为每个小区填写包保领导和专班组长（留空领导的行不创建）。",
        "Fill in the leader and head for each compound (rows without a leader are skipped).",
    ),
    "rk_start": ("进驻日期", "Start date"),
    "rk_create_button": ("创建专班", "Create task forces"),
    "rk_created": ("已创建或更新 {n} 个专班。", "{n} task forces created or updated."),
    "rk_none_assigned": ("请至少为一个小区填写包保领导。", "Fill in a leader for at least one compound."),
    "rk_file_companies": ("物业公司排名", "property_companies"),
    "rk_file_communities": ("社区排名", "communities"),
    # component labels
    "rk_component_repeat_share": ("重复来电占比", "repeat-call share"),
    "rk_component_unresolved_share": ("未解决占比", "unresolved share"),
    "rk_component_dissatisfaction": ("不满意占比", "dissatisfaction"),
    # rank columns
    "rk_rank_rank": ("排名", "Rank"),
    "rk_rank_rank_help": (
        "名次取各次模拟中名次的中位数，总在名次区间之内。",
        "The median rank over the simulations; always inside the rank interval.",
    ),
    "rk_rank_expected_tickets": ("未来12个月预计工单", "Expected tickets, next 12 months"),
    "rk_rank_expected_tickets_help": (
        "不采取措施时，该小区未来 12 个月预计的工单数（模拟的平均值）。",
        "The tickets the compound is expected to have over the next 12 months if nothing is done (mean of the simulations).",
    ),
    "rk_rank_avoidable_tickets": ("超出同类的工单", "Above similar compounds"),
    "rk_rank_avoidable_tickets_help": (
        "预计工单数减去同类型、同户数、同房龄小区应有的工单数：专班最多能减少的部分。负数表示低于同类。",
        "Expected tickets minus those of a compound of the same type, size and age: the most a task force can remove. Negative means below similar compounds.",
    ),
    "rk_rank_certainty": ("名次把握", "How sure"),
    "rk_rank_certainty_help": (
        "考虑到工单数的偶然波动，名次有 90% 的可能落在这个范围内。",
        "Allowing for chance in the ticket counts, the rank lies in this range with 90% probability.",
    ),
    "rk_peer_rate_per_100_households": ("每百户月均预计工单", "Expected per 100 households a month"),
    "rk_rank_compound_id": ("小区编号", "Compound id"),
    "rk_rank_name": ("小区", "Compound"),
    "rk_rank_community": ("社区", "Community"),
    "rk_rank_tickets": ("窗口内工单", "Tickets in the window"),
    "rk_rank_rate_per_100_households": ("每百户月均预计工单", "Expected per 100 households a month"),
    "rk_rank_repeat_share": ("重复来电占比（%）", "Repeat share (%)"),
    "rk_rank_unresolved_share": ("未解决占比（%）", "Unresolved share (%)"),
    "rk_rank_dissatisfaction": ("不满意占比（%）", "Dissatisfaction (%)"),
    "rk_rank_rank_low": ("排名区间下限", "Rank interval from"),
    "rk_rank_rank_low_help": (
        "考虑偶然波动后，名次最好可能到第几名（90% 区间的一端）。",
        "Allowing for chance, the best rank the compound could have (one end of the 90% interval).",
    ),
    "rk_rank_rank_high": ("排名区间上限", "Rank interval to"),
    "rk_rank_rank_high_help": (
        "考虑偶然波动后，名次最差可能到第几名（90% 区间的另一端）。",
        "Allowing for chance, the worst rank the compound could have (the other end of the 90% interval).",
    ),
    "rk_rank_p_top": ("进入前N名概率", "P(top N)"),
    "rk_rank_p_top_n": ("进入前{top}名概率（%）", "Chance of the top {top} (%)"),
    "rk_rank_p_top_help": (
        "按模型把工单数的偶然波动模拟数百次，该小区进入前 {top} 名的次数占比。",
        "Share of several hundred simulations of chance in the ticket counts in which the compound makes the top {top}.",
    ),
    # peer columns
    "rk_peer_rank": ("排名", "Rank"),
    "rk_peer_name": ("小区", "Compound"),
    "rk_peer_peer_group": ("同类组", "Peer group"),
    "rk_band": ("{lo}至{hi}户", "{lo} to {hi} households"),
    "rk_peer_peer_size": ("同类小区数", "Peers"),
    "rk_peer_peer_median_rate": ("同类中位数", "Peer median"),
    "rk_peer_peer_ratio": ("倍数", "Ratio"),
    "rk_peer_peer_ratio_help": (
        "该小区投诉率是同类小区中位数的多少倍。",
        "The compound's rate divided by the peer median.",
    ),
    # league columns
    "rk_league_rank": ("排名", "Rank"),
    "rk_league_key": ("名称", "Name"),
    "rk_league_compounds": ("小区数", "Compounds"),
    "rk_league_tickets": ("工单量", "Tickets"),
    "rk_league_shrunk_rate": ("投诉率", "Rate"),
    "rk_league_shrunk_rate_help": (
        "每百户月均有效工单，向全区平均适度拉近。",
        "Valid tickets per 100 households a month, pulled towards the district average.",
    ),
    "rk_league_rate_low": ("投诉率下限", "Rate from"),
    "rk_league_rate_low_help": ("投诉率 90% 区间的下端。", "Lower end of the rate's 90% interval."),
    "rk_league_rate_high": ("投诉率上限", "Rate to"),
    "rk_league_rate_high_help": ("投诉率 90% 区间的上端。", "Upper end of the rate's 90% interval."),
    "rk_league_rank_low": ("排名区间下限", "Rank interval from"),
    "rk_league_rank_high": ("排名区间上限", "Rank interval to"),
    "rk_league_p_worst": ("处于后10%概率（%）", "Chance of the worst 10% (%)"),
    "rk_league_p_worst_help": (
        "模拟偶然波动数百次，落在投诉最多的 10% 之中的次数占比。",
        "Share of several hundred simulations of chance in which it is among the 10% with most complaints.",
    ),
    "rk_league_tail": ("榜单", "List"),
    "rk_league_evaluation_list": ("区评定", "District list"),
}
