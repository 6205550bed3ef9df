"""The catalogue's entries, one module per place they are shown; `analytics.reports.text` merges
them into `CATALOGUE` and refuses a key defined twice. Each module holds `TEXT`: key -> (zh, en)."""

AREAS = (
    "shell",
    "upload",
    "admin",
    "profile",
    "roles",
    "overview",
    "ranking",
    "taskforces",
    "effects",
    "charts",
    "briefing",
    "values",
    "account",
    "glossary",
)
