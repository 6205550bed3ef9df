"""The shell, login, page titles and labels shared by several pages."""

TEXT: dict[str, tuple[str, str]] = {
    # --- shell, login, common (used through ui.i18n.t) ---
    # shell
    "app_title": ("兰山区12345热线小区治理看板", "Lanshan 12345 hotline compound dashboard"),
    "demo_badge": (
        "演示数据：本看板当前显示的是虚构的演示小区和工单，并非真实数据。",
        "Demo data: this dashboard shows a made-up district, not real tickets.",
    ),
    "demo_building": ("首次启动：正在生成演示数据……", "First start: building the demo district…"),
    "demo_built": ("演示数据已生成。", "Demo district ready."),
    # the steps of the demo build, shown under its progress bar
    "demo_step_registry": (
        "首次启动：正在生成街道、社区与小区……",
        "First start: building subdistricts, communities and compounds…",
    ),
    "demo_step_tickets": ("首次启动：正在生成工单……", "First start: generating tickets…"),
    "demo_step_text": (
        "首次启动：正在生成工单内容与地址……",
        "First start: writing ticket text and addresses…",
    ),
    "demo_step_store": ("首次启动：正在写入数据库……", "First start: writing the store…"),
    "demo_step_taskforces": (
        "首次启动：正在生成专班与演示账号……",
        "First start: task forces and demo accounts…",
    ),
    "demo_step_done": ("首次启动：完成。", "First start: done."),
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
    "session_ended": (
        "您的账号已在别处退出登录或修改了密码，请重新登录。",
        "Your account logged out elsewhere or its password changed; please log in again.",
    ),
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
    "page_glossary": ("名词解释", "Glossary"),
    "page_account": ("账户", "My account"),
    # a page address the user may not open, or one that does not exist
    "page_forbidden": (
        "您无权打开“{page}”页面：该页面仅对{roles}开放。如需访问，请联系管理员。",
        "You may not open the page “{page}”: it is open to {roles} only. Ask an administrator for access.",
    ),
    "page_unknown": (
        "没有这个页面：{path}。请从左侧菜单选择页面。",
        "There is no page {path}. Choose a page from the menu on the left.",
    ),
    "roles_sep": ("、", ", "),
    # how current the data are, on every page
    "data_as_of": ("数据截至 {date}", "Data up to {date}"),
    "data_no_tickets": ("尚无工单数据", "No tickets yet"),
    "data_last_import": ("最近导入 {at}（批次 {batch}）", "last import {at} (batch {batch})"),
    "data_no_import": ("尚无导入记录", "no import yet"),
    "data_demo": ("演示数据（虚构）", "demo data (made up)"),
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
}
