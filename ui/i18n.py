"""Chinese first, English on a switch: one table of strings, one `t(key)`.

The switch lives in the shared sidebar (`language_switch`) and its value in
`st.session_state[LANG_KEY]`, so every page of one browser session speaks the same language.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from analytics.errors import HotlineError
from analytics.safe_text import markdown_literal

LANG_KEY = "ui_lang_en"  # the sidebar toggle's key: True = English
ROLE_NAMES: dict[str, tuple[str, str]] = {
    "leader": ("区领导", "District leader"),
    "analyst": ("分析员", "Analyst"),
    "taskforce": ("专班组长", "Task-force head"),
    "admin": ("管理员", "Administrator"),
}

# key -> (zh, en). Values may hold str.format fields.
STRINGS: dict[str, tuple[str, str]] = {
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
    "up_required": ("必填", "required"),
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
    "no": ("否", "No"),
    "month": ("月份", "Month"),
    "tickets": ("工单数", "Tickets"),
    "category": ("诉求类型", "Category"),
}


def lang() -> str:
    """'en' when the English switch is on, else 'zh'."""
    return "en" if st.session_state.get(LANG_KEY) else "zh"


def t(key: str, **values: object) -> str:
    """The string for `key` in the current language, formatted with `values`."""
    zh, en = STRINGS[key]
    text = en if lang() == "en" else zh
    return text.format(**values) if values else text


def role_name(role: str) -> str:
    zh, en = ROLE_NAMES.get(role, (role, role))
    return en if lang() == "en" else zh


def error_text(exc: HotlineError) -> str:
    """The user-facing message of one of our errors in the current language, as Markdown that
    shows literally: messages quote file names, headers, ids and user names."""
    return markdown_literal(exc.message(lang()))


def translator(table: dict[str, tuple[str, str]]) -> Callable[..., str]:
    """A page's own `tr(key, **values)` over its (zh, en) table, like `t` over STRINGS."""

    def tr(key: str, **values: object) -> str:
        zh, en = table[key]
        text = en if lang() == "en" else zh
        return text.format(**values) if values else text

    return tr


def labelled(df: pd.DataFrame, columns: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Only the listed columns, renamed to the reader's language."""
    idx = 1 if lang() == "en" else 0
    keep = [c for c in columns if c in df.columns]
    return df[keep].rename(columns={c: columns[c][idx] for c in keep})


def pct(value: float | None, signed: bool = True) -> str:
    """+12.3% (a change) or 12.3% (a share given as a fraction when signed=False); — when missing."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value:+.1f}%" if signed else f"{value:.1%}"


def language_switch() -> None:
    """The sidebar toggle; its state is kept across pages by its key."""
    st.sidebar.toggle(STRINGS["language"][0], key=LANG_KEY)
