"""The upload page (`up_`): tickets, batches, address review, registry."""

TEXT: dict[str, tuple[str, str]] = {
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
}
