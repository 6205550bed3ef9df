"""The ranking as the batch interface prints it: JSON objects or CSV rows of `RECORD_COLUMNS`."""

from __future__ import annotations

import json

import pandas as pd

from analytics.errors import ValidationError
from analytics.models.ranking.records import RECORD_COLUMNS, plain
from analytics.reports import exports
from analytics.reports.text import text


def rank_records(df: pd.DataFrame, fmt: str = "json", top: int | None = None) -> str:
    """The ranking as JSON (a list of objects, null for missing) or CSV (UTF-8 with BOM for Excel).

    Each row also carries its preset's one-sentence definition (`preset_definition`, Chinese, and
    `preset_definition_en`)."""
    cols = [c for c in RECORD_COLUMNS if c in df.columns]
    rows = df[cols] if top is None else df[cols].head(top)
    if "preset" in rows.columns:
        rows = rows.assign(
            preset_definition=rows["preset"].map(lambda p: text(f"rk_preset_{p}", "zh")),
            preset_definition_en=rows["preset"].map(lambda p: text(f"rk_preset_{p}", "en")),
        )
    if fmt == "json":
        return json.dumps([plain(r) for r in rows.to_dict(orient="records")], ensure_ascii=False)
    if fmt == "csv":
        # the app's downloads and this share one formula neutraliser; the BOM stays, as U+FEFF
        return exports.to_csv_bytes(rows).decode("utf-8")
    raise ValidationError(
        f"不支持的输出格式：{fmt}（可用 json、csv）", f"Unknown format {fmt} (use json or csv)"
    )
