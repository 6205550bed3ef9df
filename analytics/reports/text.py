"""The one catalogue of user-visible text: every sentence, label and heading the dashboard, its
charts and its reports show, in Chinese and English.

`CATALOGUE` maps a key to its (Chinese, English) pair; either may hold `str.format` fields, the
same ones in both. Keys are prefixed by where they are shown: none for the shell and shared
labels, `up_` upload, `ad_` administration, `pr_` compound profile, `ov_` overview, `rk_` ranking,
`tf_` task forces, `ef_` effects, `ch_` charts, `br_` the monthly briefing, `role_` role names.
`v_` entries translate values that lower layers store or return in Chinese (a task force's
status, a peer-group band, a funnel zone): the key is `v_` plus the Chinese value itself, so
`value_text` can show any such value in the reader's language and leave data (compound names,
categories, communities) as they are.

Layers below `analytics.reports` never import this module: where they produce a message they
return a code and its values, and the page or report renders it here. Errors (`HotlineError`)
carry both languages themselves.
"""

from __future__ import annotations

import string
from typing import Any

import pandas as pd

LANGS = ("zh", "en")

# key -> (zh, en)
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- shell, login, common (used through ui.i18n.t) ---
    # shell
    "app_title": ("兰山区12345热线小区治理看板", "Lanshan 12345 hotline compound dashboard"),
    "demo_badge": (
        "演示数据：本看板当前显示的是虚构的演示小区和工单，并非真实数据。",
        "Demo data: this dashboard shows a made-up district, not real tickets.",
    ),
    "demo_building": ("首次启动：正在生成演示数据……", "First start: building the demo district…"),
    "demo_built": ("演示数据已生成。", "Demo district ready."),
    "language": ("English", "English"),
    "signed_in_as": ("当前用户：{user}", "Signed in: {user}"),
    "role": ("角色：{role}", "Role: {role}"),
    "scope": ("负责小区：{n} 个", "Compounds in scope: {n}"),
    "logout": ("退出登录", "Log out"),
    "session_expired": (
        "登录已超过 {minutes} 分钟无操作，已自动退出，请重新登录。",
        "You were logged out after {minutes} idle minutes; please log in again.",
    ),
    "access_denied": (
        "您的角色无权打开此页面。如需访问，请联系管理员。",
        "Your role may not open this page. Ask an administrator for access.",
    ),
    "not_logged_in": ("请先登录。", "Please log in first."),
    "unexpected_error": (
        "页面出现意外错误，已记录。请刷新页面重试；如问题持续，请联系管理员。",
        "Something unexpected went wrong and was logged. Reload the page; if it persists, "
        "contact the administrator.",
    ),
    # login
    "login_title": ("登录", "Log in"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "login_button": ("登录", "Log in"),
    # login and download hardening: one answer for an unknown name, a wrong password and a
    # locked account; a file asked for after the session expired or the role changed
    "login_failed": (
        "用户名或密码错误，或尝试次数过多已被暂时锁定，请稍后再试。",
        "Wrong user name or password, or too many attempts and temporarily locked; please try again later.",
    ),
    "download_refused": (
        "登录已过期或权限已变更，文件未生成。请刷新页面并重新登录后再下载。",
        "Your session has expired or your permissions changed; no file was made. Reload the page, "
        "log in again and download once more.",
    ),
    "demo_accounts": (
        "演示账号（仅演示数据库可用）：",
        "Demo accounts (only in the demo store):",
    ),
    "no_users": (
        "尚未创建任何账号。请在服务器上运行：`python -m analytics users add 用户名 --role admin`"
        "（随后输入密码），再用该账号登录。",
        "No accounts yet. On the server run `python -m analytics users add NAME --role admin` "
        "(then type the password), and log in with that account.",
    ),
    "oidc_login": ("使用单位账号登录", "Log in with your organisation account"),
    "oidc_no_user": (
        "单位账号 {email} 尚未在本系统开通。请联系管理员为该邮箱创建账号并分配角色。",
        "The account {email} has no user here. Ask an administrator to add this e-mail with a role.",
    ),
    "store_error": ("无法打开数据库：{msg}", "Cannot open the store: {msg}"),
    # page titles
    "page_overview": ("总览", "Overview"),
    "page_ranking": ("重点小区排名", "Compound ranking"),
    "page_taskforces": ("专班跟踪", "Task forces"),
    "page_effects": ("整治成效", "Effects"),
    "page_profile": ("小区档案", "Compound profile"),
    "page_upload": ("数据上传", "Data upload"),
    "page_admin": ("管理", "Administration"),
    "placeholder": ("本页面正在建设中。", "This page is being built."),
    # common numbers
    "kpi_tickets": ("工单总数", "Tickets"),
    "kpi_compounds": ("小区数", "Compounds"),
    "kpi_matched": ("已匹配到小区的工单", "Tickets matched to a compound"),
    "kpi_taskforces": ("专班数", "Task forces"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "download_xlsx": ("下载 Excel", "Download Excel"),
    "no_rows": ("暂无数据。", "No rows."),
    "rows_shown": ("共 {n} 行", "{n} rows"),
    # upload page
    "up_tab_tickets": ("工单上传", "Ticket upload"),
    "up_tab_batches": ("批次历史", "Batch history"),
    "up_tab_addresses": ("地址审核", "Address review"),
    "up_tab_categories": ("分类审核", "Category review"),
    "up_tab_registry": ("小区名录", "Compound registry"),
    "up_file": ("选择工单文件（CSV、XLSX 或 XLS）", "Ticket file (CSV, XLSX or XLS)"),
    "up_profile_load": ("使用已保存的字段映射方案", "Use a saved mapping profile"),
    "up_profile_none": ("（自动识别）", "(detect automatically)"),
    "up_encoding": ("检测到的编码：{enc}", "Detected encoding: {enc}"),
    "up_sheet": ("工作表", "Sheet"),
    # workbook with several sheets: say which one is read and which are not
    "up_sheet_note": (
        "读取的是工作表「{sheet}」；其余工作表未读取：{others}。可在上方切换。",
        "Reading sheet '{sheet}'; the other sheets are not read: {others}. Switch above.",
    ),
    "up_preview": (
        "文件前 {n} 行预览（电话、证件号码已遮盖）",
        "First {n} rows (phone and ID numbers masked)",
    ),
    "up_mapping": ("字段映射：为每个标准字段选择文件中的列", "Mapping: pick the file column for each field"),
    "up_not_mapped": ("（不导入）", "(not imported)"),
    "up_required_label": ("{label}（必填）", "{label} (required)"),
    "up_missing_required": ("缺少必填字段：{fields}", "Required fields not mapped: {fields}"),
    "up_unmapped": ("未使用的列：{cols}", "Columns not used: {cols}"),
    # personal data in uploads: columns of callers' names are dropped, never stored or shown
    "up_dropped_personal": (
        "以下列是来电人姓名（个人信息），不导入、不保存、不显示：{cols}",
        "These columns hold callers' names (personal data) and are not imported, stored or shown: {cols}",
    ),
    "up_profile_name": ("映射方案名称", "Profile name"),
    "up_profile_save": ("保存映射方案", "Save mapping profile"),
    "up_profile_saved": ("映射方案“{name}”已保存。", "Mapping profile “{name}” saved."),
    "up_validate": ("校验（不写入数据库）", "Validate (writes nothing)"),
    "up_validation": ("校验结果", "Validation report"),
    "up_commit": ("确认导入", "Import"),
    "up_commit_first_validate": (
        "请先校验，确认结果后再导入。",
        "Validate first, then import.",
    ),
    "up_mapping_changed": (
        "映射已更改，请重新校验。",
        "The mapping changed; validate again.",
    ),
    "up_importing": ("正在导入……", "Importing…"),
    "up_done": (
        "导入完成：读取 {rows_read} 行，新增 {inserted}，更新 {updated}，重复 {duplicates}，"
        "拒收 {rejected}，未匹配小区 {unmatched}（批次 {batch_id}）。",
        "Imported: {rows_read} rows read, {inserted} new, {updated} updated, {duplicates} duplicates, "
        "{rejected} rejected, {unmatched} not matched to a compound (batch {batch_id}).",
    ),
    "m_rows_read": ("读取行数", "Rows read"),
    "m_inserted": ("新增", "New"),
    "m_updated": ("更新", "Updated"),
    "m_duplicates": ("重复", "Duplicates"),
    "m_rejected": ("拒收", "Rejected"),
    "m_unmatched": ("未匹配小区", "Unmatched"),
    "m_unchanged": ("未变化", "Unchanged"),
    "up_reasons": ("拒收原因", "Rejection reasons"),
    "up_rejected_rows": ("被拒收的行", "Rejected rows"),
    "up_batches": ("导入批次", "Import batches"),
    "up_undo_pick": ("撤销哪个批次", "Batch to undo"),
    "up_undo_confirm": (
        "我确认撤销该批次：删除其新增的工单，并恢复其更新前的版本",
        "I confirm: remove what this batch added and restore what it changed",
    ),
    "up_undo": ("撤销批次", "Undo batch"),
    "up_undone": ("批次 {batch_id} 已撤销。", "Batch {batch_id} undone."),
    "up_no_batches": ("尚无可撤销的批次。", "No batch to undo."),
    "up_addr_intro": (
        "以下地址未能自动确定所属小区。为每个地址选择小区后提交，同一地址的所有工单一并更新。",
        "These addresses could not be matched with confidence. Pick the compound for each; every "
        "ticket with that address is updated at once.",
    ),
    "up_addr_label": ("{address}（{n}）", "{address} ({n})"),  # an address and its tickets
    "up_addr_skip": ("（暂不处理）", "(skip for now)"),
    "up_addr_reject": ("（不属于任何小区）", "(not a compound)"),
    "up_addr_submit": ("提交地址审核", "Save address decisions"),
    "up_addr_done": (
        "已确认 {confirmed} 个地址，排除 {rejected} 个。",
        "{confirmed} confirmed, {rejected} rejected.",
    ),
    "up_addr_empty": ("没有待审核的地址。", "No address waits for review."),
    "up_cat_intro": (
        "以下工单的分类由模型预测且把握不大。请选择正确的分类后提交。",
        "The model was unsure about these tickets' categories. Pick the right one and save.",
    ),
    "up_cat_label": ("{ticket}：{text}", "{ticket}: {text}"),  # a ticket and its text
    "up_cat_keep": ("{current}（{keep}）", "{current} ({keep})"),  # keep the current category
    "up_cat_submit": ("提交分类审核", "Save categories"),
    "up_cat_done": ("已更新 {n} 条工单的分类。", "{n} ticket categories saved."),
    "up_cat_empty": ("没有待审核的分类。", "No category waits for review."),
    "up_cat_train": ("重新训练分类模型", "Retrain the category model"),
    "up_cat_model": ("当前分类模型", "Current category model"),
    "up_cat_no_model": ("尚未训练分类模型。", "No category model trained yet."),
    "up_reg_file": ("选择小区名录文件（CSV、XLSX 或 XLS）", "Compound registry file (CSV, XLSX or XLS)"),
    "up_reg_import": ("导入小区名录", "Import registry"),
    "up_reg_done": ("小区名录已导入。", "Registry imported."),
    "up_reg_changes": ("变更明细", "Changes"),
    "up_reg_rejected": ("被拒收的行", "Rejected rows"),
    # admin page
    "ad_tab_users": ("用户与角色", "Users and roles"),
    "ad_tab_audit": ("审计日志", "Audit log"),
    "ad_tab_backup": ("备份与恢复", "Backup and restore"),
    "ad_add_user": ("新增用户", "Add a user"),
    "ad_role": ("角色", "Role"),
    "ad_compounds": ("负责小区（仅专班组长）", "Compounds (task-force heads only)"),
    "ad_add": ("新增", "Add"),
    "ad_added": ("用户“{name}”已创建。", "User “{name}” created."),
    "ad_pick_user": ("选择用户", "User"),
    "ad_set_role": ("修改角色", "Change role"),
    "ad_role_set": ("用户“{name}”的角色已更新。", "Role of “{name}” updated."),
    "ad_reset": ("重置密码", "Reset password"),
    "ad_new_password": ("新密码", "New password"),
    "ad_reset_done": ("用户“{name}”的密码已重置。", "Password of “{name}” reset."),
    "ad_delete": ("删除用户", "Delete user"),
    "ad_delete_confirm": ("我确认删除该用户", "I confirm deleting this user"),
    "ad_deleted": ("用户“{name}”已删除。", "User “{name}” deleted."),
    "ad_audit_user": ("按用户筛选", "Filter by user"),
    "ad_audit_action": ("按操作筛选", "Filter by action"),
    "ad_audit_text": ("详情包含", "Detail contains"),
    "ad_all": ("（全部）", "(all)"),
    "ad_counts": ("当前数据库各表行数", "Rows per table in the store"),
    "ad_backup_make": ("生成备份文件", "Prepare a backup"),
    "ad_backup_download": ("下载备份（ZIP，Parquet 格式）", "Download backup (ZIP of Parquet)"),
    "ad_restore_file": ("选择备份文件（ZIP）", "Backup file (ZIP)"),
    "ad_restore_overwrite": (
        "我确认用备份覆盖当前数据库中的全部数据（不可撤销）",
        "I confirm replacing every row in this store with the backup (cannot be undone)",
    ),
    "ad_restore": ("从备份恢复", "Restore"),
    "ad_restored": (
        "已从备份恢复 {n} 行数据。请重新登录。",
        "Restored {n} rows from the backup. Please log in again.",
    ),
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
    # roles
    "role_leader": ("区领导", "District leader"),
    "role_analyst": ("分析员", "Analyst"),
    "role_taskforce": ("专班组长", "Task-force head"),
    "role_admin": ("管理员", "Administrator"),
    # --- overview page ---
    "ov_title": ("总览", "Overview"),
    "ov_month": ("月份", "Month"),
    "ov_tickets": ("本月工单", "Tickets this month"),
    "ov_yoy": ("同比", "Year on year"),
    "ov_mom": ("环比", "Month on month"),
    "ov_response": ("响应率", "Response rate"),
    "ov_resolution": ("解决率", "Resolution rate"),
    "ov_satisfaction": ("满意率", "Satisfaction rate"),
    "ov_repeat": ("重复来电占比", "Repeat-call share"),
    "ov_tf_change": ("专班小区同比", "Task-force compounds, YoY"),
    "ov_tf_help": (
        "专班小区本月工单与去年同月相比（简单同比，含高峰自然回落；调整后成效见“整治成效”页）。",
        "Task-force compounds this month vs the same month last year (naive: includes the natural decline after a peak; see Effects for the adjusted estimate).",
    ),
    "ov_tf_adjusted": ("专班调整后成效", "Task forces, adjusted effect"),
    "ov_tf_adjusted_ci": ("95% 区间 {lo} 至 {hi}", "95% interval {lo} to {hi}"),
    "ov_tf_adjusted_help": (
        "扣除季节和高峰自然回落后的估计（基线在排名窗口之前）。区间跨零时不能确认专班带来了下降。",
        "Net of season and the natural fall after a peak (baseline before the ranking window). When the interval crosses zero, a decline caused by the task forces is not confirmed.",
    ),
    "ov_tf_adjusted_zero": ("区间跨零：不能确认成效", "Interval crosses zero: not confirmed"),
    "ov_festival": (
        "本月与去年同月的春节月份不同，同比失真；1-2 月合计同比为 {v}。",
        "The Spring Festival falls in a different month than last year, so this YoY is distorted; January-February combined: {v}.",
    ),
    "ov_no_tickets": (
        "库中还没有工单。请分析员先在“数据上传”页导入工单。",
        "No tickets yet. An analyst can upload them on the Data upload page.",
    ),
    "ov_trend": ("全区月度趋势", "District monthly trend"),
    "ov_where": ("工单分布", "Where tickets come from"),
    "ov_view": ("视图", "View"),
    "ov_treemap": ("街道-社区-小区", "Subdistrict-community-compound"),
    "ov_map": ("小区位置（无底图）", "Compound locations (no base map)"),
    "ov_movers": ("同比变化最大的小区", "Biggest changes vs last year"),
    "ov_rises": ("上升前 {n}", "Top {n} rises"),
    "ov_falls": ("下降前 {n}", "Top {n} falls"),
    "ov_surges": ("异常上升预警", "Surge alerts"),
    "ov_surges_none": (
        "本月没有小区工单显著高于其季节基线（错误预警率控制在 {q:.0%}）。",
        "No compound is significantly above its seasonal baseline this month (false-alarm rate held at {q:.0%}).",
    ),
    "ov_surges_note": (
        "共检测 {n} 个小区，按 Benjamini-Hochberg 方法控制错误预警率 {q:.0%}。",
        "{n} compounds tested; Benjamini-Hochberg keeps the false-alarm rate at {q:.0%}.",
    ),
    "ov_briefing": ("月度通报", "Monthly briefing"),
    "ov_briefing_xlsx": ("下载通报（Excel）", "Download briefing (Excel)"),
    "ov_briefing_html": ("下载通报（可打印网页）", "Download briefing (printable HTML)"),
    # mover columns
    "ov_mover_arrow": ("", ""),
    "ov_mover_name": ("小区", "Compound"),
    "ov_mover_community": ("社区", "Community"),
    "ov_mover_tickets": ("本月", "This month"),
    "ov_mover_last_year": ("去年同月", "Last year"),
    "ov_mover_change": ("增减", "Change"),
    "ov_mover_change_pct": ("变化（%）", "Change (%)"),
    # surge columns
    "ov_surge_name": ("小区", "Compound"),
    "ov_surge_community": ("社区", "Community"),
    "ov_surge_tickets": ("本月", "This month"),
    "ov_surge_expected": ("预期", "Expected"),
    "ov_surge_ratio": ("倍数", "Ratio"),
    "ov_surge_q_value": ("q 值", "q value"),
    "ov_surge_reason": ("原因", "Reason"),
    # --- ranking page ---
    "rk_title": ("重点小区排名", "Compound ranking"),
    "rk_no_tickets": ("库中还没有工单，无法排名。", "No tickets yet: nothing to rank."),
    "rk_window": ("排名窗口（月份）", "Ranking window (months)"),
    "rk_top": ("重点小区数", "Compounds to select"),
    "rk_weights": ("权重设置", "Weights"),
    "rk_apply": ("应用权重", "Apply weights"),
    "rk_reset": ("恢复默认", "Reset to default"),
    "rk_sentence_custom": (
        "综合得分 = {parts}，各项先换算为百分位。",
        "Score = {parts}; each as a percentile first.",
    ),
    "rk_table": ("排名表", "Ranking table"),
    "rk_table_note": (
        "排名区间为 90% 区间：区间越宽，名次越不确定；“进入前{top}名概率”低于 50% 的小区是否入选只是运气之差。",
        "Rank intervals are 90% intervals: the wider, the less certain; compounds with P(top {top}) below 50% are in or out by luck.",
    ),
    "rk_interval_chart": ("排名及区间", "Rank with interval"),
    "rk_funnel": ("漏斗图", "Funnel plot"),
    "rk_funnel_note": (
        "点在外侧虚线（99.8%）之外才说明投诉率确实偏高，而非偶然；小小区的波动天然更大。",
        "Only points outside the outer (99.8%) funnel are high beyond chance; small compounds naturally vary more.",
    ),
    "rk_stability": ("权重稳定性检验", "Stability under the weights"),
    "rk_stability_text": (
        "每个权重随机上下浮动 {j:.0%}（{n} 次）：前 {top} 名平均有 {mean:.1f} 个不变（最少 {min}），{always} 个小区每次都在名单内。",
        "Each weight moved at random by up to {j:.0%} ({n} times): on average {mean:.1f} of the top {top} stay (at least {min}); {always} compounds are in the list every time.",
    ),
    "rk_peer": ("同类小区对比", "Peer comparison"),
    "rk_peer_note": (
        "同类 = 相同类型和户数档次；倍数 > 1 表示投诉率高于同类中位数。",
        "Peers = same type and size band; a ratio above 1 means more complaints than the peer median.",
    ),
    "rk_leagues": ("物业公司与社区排名", "Property companies and communities"),
    "rk_companies": ("物业公司（季度红黑榜）：{p}", "Property companies (quarterly): {p}"),
    "rk_communities": ("社区（半年考核）：{p}", "Communities (half-year): {p}"),
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
    # component labels
    "rk_component_shrunk_rate": (
        "每百户投诉率（向同类小区收缩）",
        "rate per 100 households (shrunk to peers)",
    ),
    "rk_component_volume": ("工单量", "ticket volume"),
    "rk_component_repeat_share": ("重复来电占比", "repeat-call share"),
    "rk_component_unresolved_share": ("未解决占比", "unresolved share"),
    "rk_component_dissatisfaction": ("不满意占比", "dissatisfaction"),
    "rk_component_trend": ("上升趋势", "rising trend"),
    # rank columns
    "rk_rank_rank": ("排名", "Rank"),
    "rk_rank_compound_id": ("小区编号", "Compound id"),
    "rk_rank_name": ("小区", "Compound"),
    "rk_rank_community": ("社区", "Community"),
    "rk_rank_score": ("综合得分", "Score"),
    "rk_rank_tickets": ("工单量", "Tickets"),
    "rk_rank_rate_per_100_households": ("每百户月均", "Per 100 households / month"),
    "rk_rank_shrunk_rate": ("收缩后投诉率", "Shrunk rate"),
    "rk_rank_repeat_share": ("重复来电占比", "Repeat share"),
    "rk_rank_unresolved_share": ("未解决占比", "Unresolved share"),
    "rk_rank_dissatisfaction": ("不满意占比", "Dissatisfaction"),
    "rk_rank_rank_low": ("排名区间下限", "Rank low"),
    "rk_rank_rank_high": ("排名区间上限", "Rank high"),
    "rk_rank_p_top": ("进入前N名概率", "P(top N)"),
    # peer columns
    "rk_peer_rank": ("排名", "Rank"),
    "rk_peer_name": ("小区", "Compound"),
    "rk_peer_peer_group": ("同类组", "Peer group"),
    "rk_peer_peer_size": ("同类小区数", "Peers"),
    "rk_peer_shrunk_rate": ("投诉率", "Rate"),
    "rk_peer_peer_median_rate": ("同类中位数", "Peer median"),
    "rk_peer_peer_ratio": ("倍数", "Ratio"),
    # league columns
    "rk_league_rank": ("排名", "Rank"),
    "rk_league_key": ("名称", "Name"),
    "rk_league_compounds": ("小区数", "Compounds"),
    "rk_league_tickets": ("工单量", "Tickets"),
    "rk_league_shrunk_rate": ("投诉率", "Rate"),
    "rk_league_rate_low": ("投诉率下限", "Rate low"),
    "rk_league_rate_high": ("投诉率上限", "Rate high"),
    "rk_league_rank_low": ("排名区间下限", "Rank low"),
    "rk_league_rank_high": ("排名区间上限", "Rank high"),
    "rk_league_p_worst": ("处于后10%概率", "P(worst 10%)"),
    "rk_league_tail": ("榜单", "List"),
    "rk_league_evaluation_list": ("区评定", "District list"),
    # --- taskforces page ---
    "tf_title": ("专班跟踪", "Task forces"),
    "tf_scope_note": ("仅显示您负责的 {n} 个小区。", "Only the {n} compounds in your scope are shown."),
    "tf_leader": ("包保领导", "Leader"),
    "tf_all_leaders": ("（全部）", "(all)"),
    "tf_n_tf": ("专班数", "Task forces"),
    "tf_n_exit": ("满足撤出条件", "Meet the exit rule"),
    "tf_before": ("进驻前月均工单", "Monthly tickets before"),
    "tf_after": ("进驻后月均工单", "Monthly tickets since"),
    "tf_ledger": ("专班台账", "Task-force ledger"),
    "tf_empty": (
        "暂无专班。分析员可在“重点小区排名”页由排名快照创建专班。",
        "No task forces yet. Analysts create them from a ranking snapshot on the Ranking page.",
    ),
    "tf_pick": ("选择小区", "Compound"),
    "tf_series": ("月度工单与反事实区间", "Monthly tickets and counterfactual band"),
    "tf_cf_caveat": (
        "虚线为若无专班的预计工单（反事实），阴影为其 95% 区间；实际值落在区间内说明变化可能只是正常波动。",
        "The dashed line is what tickets would have been without the task force (counterfactual), the band its 95% interval; actual values inside the band may be ordinary fluctuation.",
    ),
    "tf_exit": ("撤出条件", "Exit rule"),
    "tf_exit_text": (
        "目标：月工单低于 {target} 件，须连续 {k} 个月；目前已连续 {n} 个月。{verdict}",
        "Target: below {target} tickets a month for {k} consecutive months; so far {n}. {verdict}",
    ),
    "tf_exit_ok": ("✅ 已满足撤出条件。", "✅ The exit rule is met."),
    "tf_exit_no": ("⏳ 尚未满足，未解决不撤出。", "⏳ Not yet met: not withdrawn until solved."),
    "tf_no_target": ("尚未设定撤出目标。", "No exit target set."),
    "tf_status": ("状态", "Status"),
    "tf_set_status": ("更新状态", "Update status"),
    "tf_status_saved": ("状态已更新。", "Status updated."),
    "tf_actions": ("工作记录", "Action log"),
    "tf_log": ("新增工作记录", "Log an action"),
    "tf_date": ("日期", "Date"),
    "tf_action": ("工作内容", "Action"),
    "tf_cost": ("费用（元）", "Cost (yuan)"),
    "tf_save": ("保存", "Save"),
    "tf_saved": ("工作记录已保存。", "Action saved."),
    "tf_hot": ("近 {n} 天热点问题", "Hot issues, last {n} days"),
    "tf_no_hot": ("近期没有集中反映的问题。", "No concentrated issue recently."),
    # ledger columns
    "tf_ledger_taskforce_id": ("专班编号", "Task force"),
    "tf_ledger_compound_id": ("小区编号", "Compound id"),
    "tf_ledger_compound_name": ("小区", "Compound"),
    "tf_ledger_community": ("社区", "Community"),
    "tf_ledger_leader": ("包保领导", "Leader"),
    "tf_ledger_head": ("专班组长", "Head"),
    "tf_ledger_start_date": ("进驻日期", "Start"),
    "tf_ledger_end_date": ("撤出日期", "End"),
    "tf_ledger_status": ("状态", "Status"),
    "tf_ledger_tickets_before_monthly": ("进驻前月均", "Monthly before"),
    "tf_ledger_tickets_after_monthly": ("进驻后月均", "Monthly since"),
    "tf_ledger_target": ("撤出目标（件/月）", "Exit target / month"),
    "tf_ledger_months_below": ("连续低于目标月数", "Months below target"),
    "tf_ledger_meets_exit_rule": ("满足撤出条件", "Meets exit rule"),
    # hot columns
    "tf_hot_category": ("类别", "Category"),
    "tf_hot_tickets": ("工单数", "Tickets"),
    "tf_hot_callers": ("来电人数", "Callers"),
    "tf_hot_first_seen": ("首次", "First seen"),
    "tf_hot_last_seen": ("最近", "Last seen"),
    "tf_hot_still_open": ("仍未办结", "Still open"),
    "tf_hot_sample_text": ("最近一条内容", "Latest text"),
    # action columns
    "tf_action_date": ("日期", "Date"),
    "tf_action_action": ("工作内容", "Action"),
    "tf_action_cost": ("费用（元）", "Cost (yuan)"),
    "tf_action_user": ("记录人", "Logged by"),
    # --- effects page ---
    "ef_title": ("整治成效", "Effects"),
    "ef_no_tf": ("还没有专班，暂无成效可评估。", "No task forces yet: nothing to evaluate."),
    "ef_summary": ("十秒读懂", "In ten seconds"),
    "ef_crosses": (
        "调整后效应的 95% 区间跨越零：不能据此宣称专班使工单下降。",
        "The adjusted effect's 95% interval crosses zero: a fall caused by the task forces cannot be claimed.",
    ),
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
    # --- charts ---
    "ch_month": ("月份", "Month"),
    "ch_tickets": ("工单量", "Tickets"),
    "ch_trend_title": ("月度工单量趋势", "Monthly tickets"),
    "ch_start": ("专班进驻", "Task forces start"),
    "ch_treemap_title": ("街道 → 社区 → 小区 工单分布", "Tickets by subdistrict → community → compound"),
    "ch_all": ("全区", "District"),
    "ch_map_title": ("小区分布（按经纬度，无底图）", "Compounds by longitude/latitude (no base map)"),
    "ch_lon": ("经度", "Longitude"),
    "ch_lat": ("纬度", "Latitude"),
    "ch_rank": ("排名", "Rank"),
    "ch_rank_interval": ("排名区间", "Rank interval"),
    "ch_ranking_title": ("排名及 95% 区间", "Rank with 95% interval"),
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
    # ranking: the default weights in one sentence, and column labels of the snapshot editor
    "rk_weights_default": (
        "综合得分 = 每百户投诉率（向同类小区收缩）50% + 工单量 20% + 重复来电占比 10% + 未解决占比 10% + 不满意占比 10%，各项先换算为百分位。",
        "Score = rate per 100 households shrunk towards similar compounds 50%, ticket volume 20%, "
        "repeat-call share 10%, unresolved share 10%, dissatisfaction 10%; each as a percentile first.",
    ),
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
    # --- the monthly briefing (analytics.reports.briefing) ---
    "br_heading": (
        "{district}12345热线小区工单月度通报（{month}）",
        "{district}12345 hotline monthly briefing ({month})",
    ),
    "br_month": ("{year}年{month}月", "{year}-{month:02d}"),
    "br_section_summary": ("总体情况", "Overview"),
    "br_section_subdistricts": ("街道情况", "Subdistricts"),
    "br_section_top": ("小区前十", "Top ten compounds"),
    "br_section_movers": ("同比升降", "Biggest changes vs last year"),
    "br_section_taskforces": ("专班进展", "Task-force progress"),
    "br_row_tickets": ("受理工单总量（件）", "Tickets received"),
    "br_row_prev_month": ("上月工单量（件）", "Tickets last month"),
    "br_row_mom_pct": ("环比（%）", "Month on month (%)"),
    "br_row_last_year": ("去年同月工单量（件）", "Tickets in the same month last year"),
    "br_row_yoy_pct": ("同比（%）", "Year on year (%)"),
    "br_row_valid": ("有效工单（件）", "Valid tickets"),
    "br_row_rate": ("每百户有效工单（件）", "Valid tickets per 100 households"),
    "br_row_response": ("响应率", "Response rate"),
    "br_row_resolution": ("解决率", "Resolution rate"),
    "br_row_satisfaction": ("满意率", "Satisfaction rate"),
    "br_row_on_time": ("按时办结率", "Closed on time"),
    "br_row_repeat": ("{days}天内重复来电占比", "Repeat calls within {days} days"),
    "br_row_janfeb_yoy": ("1-2月合计同比（%）", "January-February combined, year on year (%)"),
    "br_row_tf_compounds": ("专班小区数（个）", "Task-force compounds"),
    "br_row_tf_tickets": ("专班小区本月工单（件）", "Task-force compounds: tickets this month"),
    "br_row_tf_yoy": ("专班小区同比（%）", "Task-force compounds, year on year (%)"),
    "br_note_festival": (
        "春节月份错位，同比失真",
        "Spring Festival in another month: year on year is distorted",
    ),
    "br_note_janfeb": (
        "合并1、2月以消除春节错位",
        "January and February together remove the Spring Festival shift",
    ),
    "br_note_tf": (
        "简单同比，含高峰自然回落，见整治成效页",
        "Naive year on year, includes the natural fall after a peak; see the Effects page",
    ),
    "br_col_measure": ("指标", "Measure"),
    "br_col_value": ("数值", "Value"),
    "br_col_note": ("说明", "Note"),
    "br_col_subdistrict": ("街道", "Subdistrict"),
    "br_col_tickets": ("工单量", "Tickets"),
    "br_col_prev_month": ("上月", "Last month"),
    "br_col_mom_pct": ("环比（%）", "Month on month (%)"),
    "br_col_last_year": ("去年同月", "Same month last year"),
    "br_col_yoy_pct": ("同比（%）", "Year on year (%)"),
    "br_col_resolution_rate": ("解决率", "Resolution rate"),
    "br_col_satisfaction_rate": ("满意率", "Satisfaction rate"),
    "br_col_rank": ("排名", "Rank"),
    "br_col_compound_id": ("小区编号", "Compound id"),
    "br_col_name": ("小区", "Compound"),
    "br_col_community": ("社区", "Community"),
    "br_col_direction": ("方向", "Direction"),
    "br_col_arrow": ("", ""),
    "br_col_this_month": ("本月", "This month"),
    "br_col_change": ("增减（件）", "Change"),
    "br_col_change_pct": ("变化（%）", "Change (%)"),
    "br_col_leader": ("包保领导", "Leader"),
    "br_col_head": ("专班组长", "Head"),
    "br_col_start": ("进驻日期", "Start"),
    "br_col_before_monthly": ("进驻前月均", "Monthly before"),
    "br_col_status": ("状态", "Status"),
    "br_col_target": ("撤出目标（件/月）", "Exit target / month"),
    "br_col_months_below": ("连续达标月数", "Months below target"),
    "br_col_meets_exit_rule": ("满足撤出条件", "Meets exit rule"),
    "br_total": ("合计", "Total"),
    "br_rise": ("上升", "Rise"),
    "br_fall": ("下降", "Fall"),
    "br_lead": ("{month}共受理工单 {tickets:,} 件", "{month}: {tickets:,} tickets received"),
    "br_lead_yoy_up": ("，同比上升 {pct:.1f}%。", ", up {pct:.1f}% year on year."),
    "br_lead_yoy_down": ("，同比下降 {pct:.1f}%。", ", down {pct:.1f}% year on year."),
    "br_lead_end": ("。", "."),
    "br_numbered_1": ("一、{title}", "1. {title}"),
    "br_numbered_2": ("二、{title}", "2. {title}"),
    "br_numbered_3": ("三、{title}", "3. {title}"),
    "br_numbered_4": ("四、{title}", "4. {title}"),
    "br_numbered_5": ("五、{title}", "5. {title}"),
    "br_no_data": ("本月无数据。", "No data this month."),
    "br_footer": (
        "注：同比、环比为简单比较；专班小区的降幅包含高峰过后的自然回落，调整后的成效及其区间见看板“整治成效”页。",
        "Note: year on year and month on month are simple comparisons; the fall in task-force compounds "
        "includes the natural decline after a peak. The adjusted effect and its interval are on the "
        "dashboard's Effects page.",
    ),
    # --- values that lower layers keep in Chinese, as the reader's language shows them ---
    # task-force statuses (analytics.services.taskforces.STATUSES)
    "v_进驻": ("进驻", "Moved in"),
    "v_整改中": ("整改中", "Rectifying"),
    "v_已转化": ("已转化", "Turned around"),
    "v_撤出": ("撤出", "Withdrawn"),
    # group keys of the metrics (the whole district, tickets without a category)
    "v_全区": ("全区", "District"),
    "v_未分类": ("未分类", "Uncategorised"),
    # peer groups of the ranking (analytics.models.ranking.prior)
    "v_≤300户": ("≤300户", "≤300 households"),
    "v_301-800户": ("301-800户", "301-800 households"),
    "v_801-1500户": ("801-1500户", "801-1500 households"),
    "v_>1500户": (">1500户", ">1500 households"),
    "v_户数未知": ("户数未知", "households unknown"),
    "v_类型未知": ("类型未知", "type unknown"),
    # league tails (analytics.models.ranking.leagues) and funnel zones (analytics.models.ranking.funnel)
    "v_后10%（投诉最多）": ("后10%（投诉最多）", "Bottom 10% (most complaints)"),
    "v_前10%（投诉最少）": ("前10%（投诉最少）", "Top 10% (fewest complaints)"),
    "v_高于99.8%上限": ("高于99.8%上限", "Above the 99.8% limit"),
    "v_高于95%上限": ("高于95%上限", "Above the 95% limit"),
    "v_低于99.8%下限": ("低于99.8%下限", "Below the 99.8% limit"),
    "v_低于95%下限": ("低于95%下限", "Below the 95% limit"),
    "v_正常范围": ("正常范围", "Within limits"),
    # compound types of the registry
    "v_商开": ("商开", "commercial"),
    "v_还建": ("还建", "resettlement"),
    "v_家属院": ("家属院", "work-unit family compound"),
    "v_混合": ("混合", "mixed"),
    # the steps of a ticket import (analytics.ingest.pipeline's progress messages)
    "v_读取文件": ("读取文件", "Reading the file"),
    "v_解析与校验": ("解析与校验", "Parsing and checking"),
    "v_匹配小区与分类": ("匹配小区与分类", "Matching compounds and categories"),
    "v_写入数据库": ("写入数据库", "Writing to the store"),
    "v_完成": ("完成", "Done"),
}


def pair(key: str) -> tuple[str, str]:
    """Both languages of `key` (for an error that carries them both)."""
    return CATALOGUE[key]


def text(key: str, lang: str = "zh", **fmt: Any) -> str:
    """The text of `key` in `lang` ('zh' or 'en'), formatted with `fmt`."""
    zh, en = CATALOGUE[key]
    out = en if lang == "en" else zh
    return out.format(**fmt) if fmt else out


def value_text(value: Any, lang: str = "zh", default: str | None = None) -> Any:
    """A value stored in Chinese (a status, a band, a zone) in `lang`; anything the catalogue does
    not know is data and comes back as it is, or as `default` in English when one is given."""
    entry = CATALOGUE.get(f"v_{value}") if isinstance(value, str) else None
    if entry is not None:
        return entry[1] if lang == "en" else entry[0]
    return default if default is not None and lang == "en" else value


def fields(template: str) -> set[str]:
    """The `str.format` field names in `template`."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def pct(value: float | None, signed: bool = True) -> str:
    """+12.3% (a change in percent) or 12.3% (a share given as a fraction, signed=False); — when missing."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value:+.1f}%" if signed else f"{value:.1%}"
