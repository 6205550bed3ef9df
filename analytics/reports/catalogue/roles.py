"""Role names (`role_`)."""

TEXT: dict[str, tuple[str, str]] = {
    # roles
    "role_leader": ("区领导", "District leader"),
    "role_analyst": ("分析员", "Analyst"),
    "role_taskforce": ("专班组长", "Task-force head"),
    "role_admin": ("管理员", "Administrator"),
}
