"""What the ticket upload template holds, made from the one header table (`columns.TICKET_FIELDS`)
so the template offers exactly what the parser recognises: one column per field under the field's
first (canonical) header, required ones marked with * (header matching ignores it), and one example
row that passes validation. `analytics.reports.exports.ticket_template_xlsx` writes the workbook.
"""

from __future__ import annotations

import pandas as pd

from analytics.ingest import columns

REQUIRED_MARK = "*"  # normalise_header drops it, so 工单编号* is read as 工单编号
# is_invalid says the same as is_valid the other way round: a template carries one of the two
TEMPLATE_FIELDS = tuple(f for f in columns.TICKET_FIELDS if f.name != "is_invalid")
TEMPLATE_SHEET = "工单"  # the sheet an upload reads: the first, and in the district's words


def field_guide() -> pd.DataFrame:
    """One row per ticket field: field, header, synonyms (list), required, kind, example."""
    return pd.DataFrame(
        [
            {
                "field": f.name,
                "header": f.label,
                "synonyms": list(f.synonyms),
                "required": f.required,
                "kind": f.kind,
                "example": columns.TICKET_EXAMPLES.get(f.name, ""),
            }
            for f in columns.TICKET_FIELDS
        ]
    )


def template_rows() -> tuple[list[str], list[str], list[bool]]:
    """(headers, the example row, which columns are required) of the template."""
    headers = [f.label + (REQUIRED_MARK if f.required else "") for f in TEMPLATE_FIELDS]
    example = [columns.TICKET_EXAMPLES.get(f.name, "") for f in TEMPLATE_FIELDS]
    return headers, example, [f.required for f in TEMPLATE_FIELDS]
