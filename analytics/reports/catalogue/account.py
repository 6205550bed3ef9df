"""A user's own account page (`ac_`): who they are, and changing their own password."""

TEXT: dict[str, tuple[str, str]] = {
    "ac_who": ("用户名：{user}　角色：{role}", "User name: {user}   Role: {role}"),
    "ac_scope": ("负责小区：{names}", "Compounds: {names}"),
    "ac_change": ("修改密码", "Change password"),
    "ac_intro": (
        "修改后，您在其他浏览器或设备上记住的登录会失效，需要用新密码重新登录。",
        "After the change, logins remembered in other browsers or devices end; they log in again "
        "with the new password.",
    ),
    "ac_old": ("原密码", "Current password"),
    "ac_new": ("新密码", "New password"),
    "ac_repeat": ("再次输入新密码", "New password again"),
    "ac_rules": (
        "规则与管理员新增用户相同：至少 {min} 个字符，最多 {max} 个字符。",
        "The same rules as for new users: at least {min} and at most {max} characters.",
    ),
    "ac_submit": ("修改密码", "Change password"),
    "ac_mismatch": ("两次输入的新密码不一致，密码未修改。", "The two new passwords differ; nothing changed."),
    "ac_done": (
        "密码已修改。其他浏览器或设备上记住的登录已失效。",
        "Password changed. Logins remembered in other browsers or devices have ended.",
    ),
    "ac_oidc": (
        "您通过单位账号登录，密码由单位统一管理，不能在此修改。",
        "You log in with your organisation account; its password is managed there, not here.",
    ),
}
