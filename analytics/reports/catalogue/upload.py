"""The upload page (`up_`): tickets, batches, address review, registry."""

TEXT: dict[str, tuple[str, str]] = {
    # upload page
    "up_tab_tickets": ("工单上传", "Ticket upload"),
    "up_tab_batches": ("批次历史", "Batch history"),
    "up_tab_addresses": ("地址审核", "Address review"),
    "up_tab_categories": ("分类审核", "Category review"),
    "up_tab_registry": ("小区名录", "Compound registry"),
    "up_file": ("选择工单文件（CSV、XLSX 或 XLS）", "Ticket file (CSV, XLSX or XLS)"),
    "up_file_help": (
        "12345 系统导出的工单明细；GBK、GB18030 或 UTF-8 编码均可，表头会自动识别。",
        "A ticket export of the 12345 system; GBK, GB18030 or UTF-8, headers are recognised automatically.",
    ),
    # beside every file picker: the picker's own button and size note are the browser's
    "up_file_caption": (
        "可上传 CSV、XLSX、XLS 文件，单个文件不超过 {mb:,} MB。",
        "CSV, XLSX or XLS files, at most {mb:,} MB each.",
    ),
    "up_picker_button": ("选择文件", "Choose a file"),
    "up_template_download": ("下载工单上传模板（Excel）", "Download the upload template (Excel)"),
    "up_template_file": ("工单上传模板", "ticket_upload_template"),  # the file's name, without .xlsx
    "up_template_caption": (
        "模板第一行是可识别的表头，带 * 的两列必填；第二行是示例，请替换为实际数据。",
        "The first row holds the recognised headers, the two marked * are required; the second row "
        "is an example to replace with real data.",
    ),
    "up_guide": (
        "字段说明：每一列填什么、哪些表头能被识别",
        "Field guide: what each column holds, which headers are recognised",
    ),
    "up_guide_field": ("字段", "Field"),
    "up_guide_header": ("模板表头", "Template header"),
    "up_guide_synonyms": ("可识别的表头写法", "Headers recognised"),
    "up_guide_required": ("是否必填", "Required"),
    "up_guide_format": ("格式", "Format"),
    "up_guide_example": ("示例", "Example"),
    "up_guide_sheet": ("填写说明", "Field guide"),
    "up_guide_yes": ("必填", "required"),
    "up_guide_no": ("选填", "optional"),
    "up_fmt_id": ("文字或数字，每条工单唯一", "Text or digits, unique per ticket"),
    "up_fmt_datetime": (
        "日期时间，如 2024-01-15 08:30:00、2024/1/15 8:30 或 2024年1月15日",
        "Date and time, e.g. 2024-01-15 08:30:00 or 2024/1/15 8:30",
    ),
    "up_fmt_flag": ("是 / 否", "Yes or no"),
    "up_fmt_phone": (
        "来电号码；只用于识别重复来电，导入时加密，不保存原号码",
        "The caller's number; used only to find repeat callers, keyed at import, never stored",
    ),
    "up_fmt_text": ("文字", "Text"),
    "up_fmt_compound": ("小区名称、别名或小区编号", "The compound's name, alias or id"),
    "up_fmt_satisfaction": (
        "满意 / 基本满意 / 不满意（或 是 / 否）",
        "Satisfied, fairly satisfied or dissatisfied (or yes / no)",
    ),
    "up_fmt_is_invalid": (
        "是 = 不合理诉求，不计入有效工单（与“是否有效”二选一）",
        "Yes = an unreasonable request, not counted as valid (the reverse of Valid; use one of the two)",
    ),
    "up_imported_file": (
        "文件“{name}”已导入（批次 {batch_id}）。如需继续导入，请选择下一个文件。",
        "The file “{name}” has been imported (batch {batch_id}). Choose the next file to import more.",
    ),
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
        "导入完成：读取 {rows_read:,} 行，新增 {inserted:,}，更新 {updated:,}，重复 {duplicates:,}，"
        "拒收 {rejected:,}，未匹配小区 {unmatched:,}（批次 {batch_id}）。",
        "Imported: {rows_read:,} rows read, {inserted:,} new, {updated:,} updated, {duplicates:,} duplicates, "
        "{rejected:,} rejected, {unmatched:,} not matched to a compound (batch {batch_id}).",
    ),
    # why "rows read" and the tickets stored differ, said where both numbers are shown
    "up_balance": (
        "读取 {rows_read:,} 行 = 新增 {inserted:,} + 更新 {updated:,} + 重复 {duplicates:,} + 拒收 {rejected:,}。"
        "重复和拒收的行不计入工单总数。",
        "{rows_read:,} rows read = {inserted:,} new + {updated:,} updated + {duplicates:,} duplicates + "
        "{rejected:,} rejected. Duplicate and rejected rows are not counted among the tickets.",
    ),
    "up_help_rows_read": (
        "文件中的数据行数（不含表头和空行）。",
        "Data rows in the file (no header, no blank rows).",
    ),
    "up_help_inserted": ("数据库中还没有的工单，导入后新增。", "Tickets the store does not have yet."),
    "up_help_updated": (
        "工单编号已存在但内容有变化（如已办结），以本文件为准；撤销批次可恢复原样。",
        "Tickets already stored whose content changed (e.g. now closed); this file's version is kept. "
        "Undoing the batch restores the old one.",
    ),
    "up_help_duplicates": (
        "与已存工单完全相同，或同一编号在文件中出现多次（保留最后一次）：不重复计数。",
        "Rows identical to a stored ticket, or a ticket number repeated in the file (the last is kept): "
        "never counted twice.",
    ),
    "up_help_rejected": (
        "缺少工单编号、受理时间无法识别等原因不能导入的行，明细见下表。",
        "Rows that cannot be imported (no ticket number, unreadable time, …); listed below.",
    ),
    "up_help_unmatched": (
        "文件中还不能确定属于哪个小区的工单（与已存工单重复的行也计在内）；可在“地址审核”中处理。",
        "Tickets of the file whose compound is not known yet (rows repeating stored tickets included); "
        "settle them under Address review.",
    ),
    "up_reg_table_hint": ("点选表中一行即可在下方修改该小区。", "Pick a row to edit that compound below."),
    # rejected rows in the file's own columns, before and after the import
    "up_rej_row": ("原文件行号", "Row in file"),
    "up_rej_reason": ("拒收原因", "Reason rejected"),
    "up_rej_rows": ("行数", "Rows"),
    "up_rej_will": (
        "以下 {n:,} 行将被拒收（尚未写入任何数据）",
        "These {n:,} rows will be rejected (nothing has been written yet)",
    ),
    "up_rej_fix": (
        "可下载这些行（原文件的列，另加“拒收原因”和“原文件行号”），改正后直接重新上传；"
        "这两列不会被导入，电话号码已遮盖。",
        "Download these rows (the file's own columns plus the reason and the row number), fix them and "
        "upload the file again; those two columns are not imported, phone numbers are masked.",
    ),
    "up_rej_more": (
        "共 {n:,} 行被拒收，此处列出前 {shown:,} 行；导入后可在“批次历史”中下载全部。",
        "{n:,} rows are rejected; the first {shown:,} are listed here. After the import, every one can be "
        "downloaded under Batch history.",
    ),
    "up_batch_rejected": ("查看批次的拒收行", "Rejected rows of a batch"),
    "up_batch_no_rejected": ("该批次没有拒收的行。", "This batch has no rejected rows."),
    # the batch history's columns and values
    "up_b_batch_id": ("批次", "Batch"),
    "up_b_kind": ("类型", "Kind"),
    "up_b_file_name": ("文件", "File"),
    "up_b_user": ("导入人", "By"),
    "up_b_loaded_at": ("导入时间", "Imported at"),
    "up_b_status": ("状态", "Status"),
    "up_kind_tickets": ("工单", "Tickets"),
    "up_kind_compounds": ("小区名录", "Compound registry"),
    "up_kind_ratings": ("星级评定", "Star ratings"),
    "up_kind_evaluations": ("物业考评", "Property evaluations"),
    "up_kind_taskforces": ("专班名单", "Task forces"),
    "up_kind_demo": ("演示数据", "Demo data"),
    "up_status_committed": ("已导入", "Imported"),
    "up_status_undone": ("已撤销", "Undone"),
    "up_batch_label": ("批次 {batch_id} · {file} · {at}", "Batch {batch_id} · {file} · {at}"),
    "m_rows_read": ("读取行数", "Rows read"),
    "m_inserted": ("新增", "New"),
    "m_updated": ("更新", "Updated"),
    "m_duplicates": ("重复", "Duplicates"),
    "m_rejected": ("拒收", "Rejected"),
    "m_unmatched": ("未匹配小区", "Unmatched"),
    "m_unchanged": ("未变化", "Unchanged"),
    "up_reasons": ("拒收原因汇总", "Rejection reasons"),
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
    # an address and the tickets confirming it would settle
    "up_addr_label": ("{address}（涉及 {n:,} 件工单）", "{address} ({n:,} tickets)"),
    # the same, when other waiting addresses read the same to the matcher and go with it
    "up_addr_label_group": (
        "{address}（涉及 {n:,} 件工单；连同 {k} 个同类地址，一次处理 {m:,} 件）",
        "{address} ({n:,} tickets; one decision settles {m:,} at this and {k} look-alike address(es))",
    ),
    "up_addr_m_addresses": ("待审核地址", "Addresses to review"),
    "up_addr_m_tickets": ("待定工单", "Tickets waiting"),
    "up_addr_help_addresses": (
        "系统找到了可能的小区、但把握不够、需要人工确认的地址数。",
        "Addresses with likely compounds that the matcher was not sure enough to take.",
    ),
    "up_addr_help_tickets": (
        "这些地址上的工单数：确认一个地址，它的全部工单就归入所选小区。",
        "Tickets at those addresses: confirming an address moves every one of its tickets to the compound.",
    ),
    "up_addr_order": (
        "按一次决定能处理的工单数从多到少排列，每次显示 {n} 组；同类地址（去掉楼号、单元后相同）只列一次，"
        "随所列地址一并处理。",
        "Ordered by the tickets each decision settles, most first; {n} groups at a time. Look-alike "
        "addresses (the same once building and unit are cut) are listed once and settled with it.",
    ),
    "up_addr_skip": ("（暂不处理）", "(skip for now)"),
    "up_addr_reject": ("（不属于任何小区）", "(not a compound)"),
    "up_addr_submit": ("提交地址审核", "Save address decisions"),
    "up_addr_done": (
        "已确认 {confirmed} 个地址（含同类地址），{tickets:,} 件工单归入所选小区；排除 {rejected} 个。",
        "{confirmed} addresses confirmed (look-alikes included), {tickets:,} tickets moved to the "
        "compounds chosen; {rejected} rejected.",
    ),
    "up_addr_done_again": (
        "按新确认的别名，另有 {again} 个待审核地址自动匹配（{again_tickets:,} 件工单）。",
        "With the newly confirmed aliases, {again} more waiting addresses matched ({again_tickets:,} tickets).",
    ),
    "up_addr_empty": ("没有待审核的地址。", "No address waits for review."),
    # the centre's category scheme, read by the model at its next training
    "up_scheme_title": ("诉求分类体系（可选）", "Category scheme (optional)"),
    "up_scheme_none": (
        "尚未载入分类体系。载入本中心的一级、二级、三级分类表后，模型能认出尚无已标注工单提到的子类诉求；下次训练时生效。",
        "No category scheme loaded. With the centre's level 1-3 category table the model recognises sub-topics "
        "no labelled ticket mentions yet; it takes effect at the next training.",
    ),
    "up_scheme_loaded": (
        "已载入分类体系：{rows:,} 行，{n} 个一级分类（{when}）。重新载入会整表替换；下次训练时生效。",
        "Category scheme loaded: {rows:,} rows, {n} first-level categories ({when}). Loading again replaces it; "
        "it takes effect at the next training.",
    ),
    "up_scheme_file": ("分类体系文件", "Scheme file"),
    "up_scheme_file_help": (
        "表头为 一级分类、二级分类、三级分类（三级可缺）的 Excel 或 CSV 文件。",
        "An Excel or CSV file headed level_1, level_2, level_3 (or their Chinese names); the third level is optional.",
    ),
    "up_scheme_load": ("载入分类体系", "Load the scheme"),
    "up_scheme_done": (
        "已载入 {rows:,} 行分类体系（{n} 个一级分类），请重新训练模型使其生效。",
        "{rows:,} scheme rows loaded ({n} first-level categories); train the model again to use them.",
    ),
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
    "up_cat_trained_at": ("训练时间", "Trained"),
    "up_cat_n_train": ("训练用工单", "Training tickets"),
    "up_cat_accuracy": ("准确率", "Accuracy"),
    "up_cat_help_accuracy": (
        "交叉验证中模型猜对分类的工单比例（用没参与训练的工单检验）。",
        "Share of tickets whose category the model got right in cross-validation (tested on tickets it "
        "was not trained on).",
    ),
    "up_cat_f1": ("各类平均得分（F1）", "Macro F1"),
    "up_cat_help_f1": (
        "每个分类的查准与查全的综合得分再取平均，小类和大类同等计入；越接近 100% 越好。",
        "Precision and recall combined per category, then averaged so small categories count as much "
        "as large ones; closer to 100% is better.",
    ),
    "up_reg_file": ("选择小区名录文件（CSV、XLSX 或 XLS）", "Compound registry file (CSV, XLSX or XLS)"),
    "up_reg_file_help": (
        "每个小区一行：小区编号、小区名称必填，别名、社区、街道、类型、户数、物业公司等选填；表头可用中文。",
        "One row per compound: id and name required; aliases, community, subdistrict, type, households, "
        "property company and the rest optional; Chinese headers are recognised.",
    ),
    "up_reg_import": ("导入小区名录", "Import registry"),
    "up_reg_done": ("小区名录已导入。", "Registry imported."),
    "up_reg_compound_changes": ("小区更名、拆分与合并", "Renames, splits and merges"),
    "up_reg_changes": ("变更明细", "Changes"),
    "up_reg_rejected": ("被拒收的行", "Rejected rows"),
    "up_reg_upload": ("从文件导入小区名录", "Import the registry from a file"),
    "up_reg_search": ("搜索小区", "Search compounds"),
    "up_reg_search_ph": ("名称、别名、社区、街道或编号", "Name, alias, community, subdistrict or id"),
    "up_reg_count": ("找到 {n:,} 个小区（共 {total:,} 个）", "{n:,} of {total:,} compounds"),
    "up_reg_old": ("老旧小区", "old"),
    "up_reg_new": ("新小区", "new"),
    "up_reg_edit": ("修改小区信息", "Edit a compound"),
    "up_reg_pick": ("选择要修改的小区", "Compound to edit"),
    "up_reg_type_none": ("（未填写）", "(not given)"),
    "up_reg_households_help": (
        "小区的住户总数，用于计算每百户工单数；不知道可以留空。",
        "The compound's households, used for tickets per 100 households; leave blank when unknown.",
    ),
    "up_reg_aliases_help": (
        "小区的其他叫法（曾用名、俗称、分期名），多个用；分隔。地址中出现别名也能匹配到本小区。",
        "Other names of the compound (former names, phases), separated by semicolons. An address that uses an "
        "alias is matched to the compound too.",
    ),
    "up_reg_save": ("保存修改", "Save changes"),
    "up_reg_saved": ("已保存“{name}”的修改：{changes}", "Saved the changes to “{name}”: {changes}"),
    "up_reg_nochange": ("没有改动，未保存。", "Nothing changed; nothing saved."),
    "up_reg_change": ("{field}：{old} → {new}", "{field}: {old} → {new}"),
    "up_reg_change_sep": ("；", "; "),
    # old / new as a registry import reports them (analytics.ingest.registry.files._fmt)
    "v_旧": ("旧", "old"),
    "v_新": ("新", "new"),
    "up_reg_history": ("修改记录", "History of changes"),
    "up_reg_no_history": ("该小区还没有修改记录。", "No change of this compound has been recorded."),
    "up_reg_h_version": ("版本", "Version"),
    "up_reg_h_at": ("时间", "When"),
    "up_reg_h_user": ("操作人", "By"),
    "up_reg_h_source": ("方式", "How"),
    "up_reg_h_changes": ("改动", "Changes"),
    "up_reg_src_edit": ("页面修改", "Edited on the page"),
    "up_reg_src_import": ("名录文件导入（批次 {batch}）", "Registry file (batch {batch})"),
    "up_reg_c_field": ("字段", "Field"),
    "up_reg_c_old": ("原值", "Before"),
    "up_reg_c_new": ("新值", "After"),
    # the registry's fields, as tables, forms and change lists name them
    "up_reg_f_compound_id": ("小区编号", "Compound id"),
    "up_reg_f_name": ("小区名称", "Name"),
    "up_reg_f_aliases": ("别名", "Aliases"),
    "up_reg_f_community": ("所属社区", "Community"),
    "up_reg_f_subdistrict": ("所属街道", "Subdistrict"),
    "up_reg_f_type": ("小区类型", "Type"),
    "up_reg_f_is_old": ("新旧", "Old or new"),
    "up_reg_f_built_year": ("建成年份", "Built"),
    "up_reg_f_households": ("户数", "Households"),
    "up_reg_f_property_company": ("物业公司", "Property company"),
    "up_reg_f_lat": ("纬度", "Latitude"),
    "up_reg_f_lon": ("经度", "Longitude"),
    # why the pipeline rejects a row (analytics.ingest.pipeline.clean.REJECT_RULES), in the
    # reader's language
    "v_含无法解码的字符（文件中混有其他编码）": (
        "含无法解码的字符（文件中混有其他编码）",
        "Holds characters that cannot be decoded (the file mixes encodings)",
    ),
    "v_单元格超过 32767 个字符（Excel 上限），疑似文件损坏": (
        "单元格超过 32767 个字符（Excel 上限），疑似文件损坏",
        "A cell is longer than 32,767 characters (Excel's limit): the file looks damaged",
    ),
    "v_缺少工单编号": ("缺少工单编号", "No ticket number"),
    "v_缺少受理时间": ("缺少受理时间", "No time received"),
    "v_受理时间无法识别": ("受理时间无法识别", "Time received not recognised"),
    "v_受理时间超出合理范围": ("受理时间超出合理范围", "Time received out of range"),
    "v_办结时间早于受理时间": ("办结时间早于受理时间", "Closed before it was received"),
    "v_文件内重复（保留最后一条）": ("文件内重复（保留最后一条）", "Repeated in the file (the last is kept)"),
}
