"""The compound profile page (`pr_`)."""

TEXT: dict[str, tuple[str, str]] = {
    # profile page
    "pr_search": ("搜索小区（名称、别名或编号）", "Find a compound (name, alias or id)"),
    "pr_pick": ("选择小区", "Compound"),
    "pr_none_found": ("没有找到符合条件的小区。", "No compound matches."),
    "pr_out_of_scope": (
        "小区 {cid} 不在您负责的范围内，无法查看。",
        "Compound {cid} is outside your scope.",
    ),
    "pr_not_found": ("小区编号 {cid} 不存在。", "There is no compound {cid}."),
    "pr_facts": ("基本信息", "Registry facts"),
    "pr_trend": ("月度工单量", "Tickets per month"),
    "pr_categories": ("诉求类型构成", "Category mix"),
    "pr_hot": ("近 {n} 天热点问题", "Hot issues, last {n} days"),
    "pr_recent": ("最近工单（电话号码已遮盖）", "Recent tickets (phone numbers masked)"),
    "pr_repeat_share": (
        "共 {n} 条有效工单，其中 {pct:.1f}% 为重复诉求（同一来电人或同一问题在 {days} 天内再次来电，或工单被重开）。",
        "{n} valid tickets, {pct:.1f}% of them repeats (same caller or same issue within {days} days, or reopened).",
    ),
    "pr_rank": ("历次排名", "Rank history"),
    "pr_taskforce": ("专班", "Task force"),
    "pr_ratings": ("党支部星级", "Party-branch stars"),
    "pr_no_taskforce": ("该小区没有专班。", "No task force for this compound."),
    "pr_pick_prompt": ("请输入关键字查找小区。", "Type to find a compound."),
    "field_name": ("名称", "Name"),
    "field_compound_id": ("编号", "Id"),
    "field_community": ("社区", "Community"),
    "field_subdistrict": ("街道", "Subdistrict"),
    "field_type": ("类型", "Type"),
    "field_is_old": ("老旧小区", "Old compound"),
    "field_built_year": ("建成年份", "Built"),
    "field_households": ("户数", "Households"),
    "field_property_company": ("物业公司", "Property company"),
    "field_aliases": ("别名", "Aliases"),
    "pr_field": ("项目", "Field"),
    "pr_value": ("内容", "Value"),
    "yes": ("是", "Yes"),
    "name_id": ("{name}（{id}）", "{name} ({id})"),  # a compound (or task force) and its id
    "list_sep": ("、", ", "),  # between the items of a list in running text
    "no": ("否", "No"),
    "month": ("月份", "Month"),
    "tickets": ("工单数", "Tickets"),
    "category": ("诉求类型", "Category"),
}
