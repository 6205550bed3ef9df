"""The administration page (`ad_`): users, roles, the audit log."""

TEXT: dict[str, tuple[str, str]] = {
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
}
