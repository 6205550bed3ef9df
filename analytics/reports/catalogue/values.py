"""Values lower layers keep in Chinese (`v_` + the value), shown in the reader's language."""

TEXT: dict[str, tuple[str, str]] = {
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
