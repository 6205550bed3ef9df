"""The centre's category scheme (一级分类 / 二级分类 / 三级分类): read from the analyst's file,
stored as a whole, and handed to the category model as label priors (`priors`).

Reading: the file goes through the project's readers (CSV in UTF-8 / GBK / ..., XLSX, XLS; a
title row above the header is skipped). Columns are found by header (`LEVEL_HEADERS`, compared
without case, spaces, underscores or hyphens): the first and second levels are required, the
third is optional. Names are trimmed and their inner whitespace collapsed. Blank cells under a
merged cell are filled down: a blank first level takes the row above's, a blank second level
takes the row above's when both rows have the same first level. A row with a first level only
is kept (a category without sub-categories). Repeated rows are dropped and counted.

Refused, with a Chinese and English message and nothing stored: a file that is not a readable
table, lacks the first- or second-level column, has no rows, more than MAX_ROWS rows, a name
longer than MAX_NAME_CHARS characters (that is text, not a category name), a first row without a
first level, or a third level without a second.

Storing: `category_scheme` is replaced as a whole in one transaction with an audit row; the next
`train_model` uses it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.errors import HotlineError, ValidationError
from analytics.ingest.categories.priors import LEVELS, Scheme, as_scheme
from analytics.ingest.readers import clean_header, read_table
from analytics.store.db import audit, query_df, transaction

MAX_ROWS = 20_000  # a scheme has hundreds to a few thousand rows; more is a ticket export
MAX_NAME_CHARS = 50


LEVEL_NAMES = {
    "level_1": ("一级分类", "first level"),
    "level_2": ("二级分类", "second level"),
    "level_3": ("三级分类", "third level"),
}
# headers that name each level (normalised as by `_header_key`)
LEVEL_HEADERS: dict[str, tuple[str, ...]] = {
    "level_1": ("一级分类", "一级类别", "一级类目", "一级标签", "一级", "level_1", "level1", "category_1"),
    "level_2": ("二级分类", "二级类别", "二级类目", "二级标签", "二级", "level_2", "level2", "category_2"),
    "level_3": ("三级分类", "三级类别", "三级类目", "三级标签", "三级", "level_3", "level3", "category_3"),
}
REQUIRED = ("level_1", "level_2")
SEPARATORS = re.compile(r"[\s_\-]+")


def _header_key(header: str) -> str:
    return SEPARATORS.sub("", clean_header(header)).lower()


def _bad_file(path: str | Path, zh: str, en: str) -> ValidationError:
    name = Path(path).name
    return ValidationError(f"分类体系文件「{name}」{zh}", f"Category scheme file '{name}': {en}")


def _level_columns(headers: list[str], path: str | Path) -> dict[str, str]:
    """level -> the file's header for it; ValidationError naming what is missing."""
    keys = {_header_key(h): h for h in reversed(headers)}  # the first of repeated headers wins
    found = {}
    for level, names in LEVEL_HEADERS.items():
        hit = next((keys[_header_key(n)] for n in names if _header_key(n) in keys), None)
        if hit is not None:
            found[level] = hit
    missing = [level for level in REQUIRED if level not in found]
    if missing:
        shown_zh = "、".join(headers) or "（无）"
        shown_en = ", ".join(headers) or "(none)"
        raise _bad_file(
            path,
            f"缺少列：{'、'.join(LEVEL_NAMES[m][0] for m in missing)}。文件中的列为：{shown_zh}。"
            "分类体系需要“一级分类”“二级分类”两列（“三级分类”可选），或 level_1、level_2、level_3。",
            f"lacks the column(s) {', '.join(f'{m} ({LEVEL_NAMES[m][0]})' for m in missing)}. Columns "
            f"found: {shown_en}. A scheme needs 一级分类 and 二级分类 (三级分类 optional), or level_1, "
            "level_2 and level_3.",
        )
    return found


def _clean_names(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).map(lambda v: " ".join(v.split()))


def _fill_down(levels: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """Blank first levels from the row above; blank second levels from the row above when it
    has the same first level (the cells of a merged range)."""
    if levels["level_1"].iloc[0] == "":
        raise _bad_file(
            path,
            "第 1 行没有一级分类。请在每个分类组的第一行填写一级分类。",
            "its first row has no first-level category (一级分类). Fill it in on the first row of each group.",
        )
    level_1 = levels["level_1"].replace("", pd.NA).ffill()
    level_2 = levels["level_2"].replace("", pd.NA)
    carried = level_2.ffill()
    same_group = level_1.eq(level_1.shift())
    level_2 = level_2.where(level_2.notna() | ~same_group, carried).fillna("")
    return pd.DataFrame({"level_1": level_1, "level_2": level_2, "level_3": levels["level_3"]})


def _check(levels: pd.DataFrame, path: str | Path) -> None:
    """Refuse a scheme that is too big, holds text instead of names, or a level-3 without a level-2."""
    if len(levels) > MAX_ROWS:
        raise _bad_file(
            path,
            f"有 {len(levels):,} 行，超过上限 {MAX_ROWS:,} 行：这像是工单导出而不是分类体系。",
            f"has {len(levels):,} rows, more than {MAX_ROWS:,}: it looks like a ticket export, not a scheme.",
        )
    lengths = levels.apply(lambda c: c.str.len())
    if (lengths > MAX_NAME_CHARS).any().any():
        row, level = lengths.stack().idxmax()
        raise _bad_file(
            path,
            f"第 {row + 1} 行的{LEVEL_NAMES[level][0]}长 {lengths.loc[row, level]} 字，超过 {MAX_NAME_CHARS} "
            "字：分类名称应是简短的名称，请检查列是否选错。",
            f"data row {row + 1}: its {LEVEL_NAMES[level][1]} is {lengths.loc[row, level]} characters long, "
            f"more than {MAX_NAME_CHARS}; category names are short, so check the columns.",
        )
    orphan = (levels["level_2"] == "") & (levels["level_3"] != "")
    if orphan.any():
        row = int(orphan.to_numpy().argmax())
        raise _bad_file(
            path,
            f"第 {row + 1} 行有三级分类「{levels['level_3'].iloc[row]}」却没有二级分类。",
            f"data row {row + 1} has a third-level category ('{levels['level_3'].iloc[row]}') but no "
            "second level.",
        )


def _levels(table: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """The scheme rows of a table, repeats included (see `scheme_from_table`)."""
    columns = _level_columns([str(c) for c in table.columns], path)
    levels = pd.DataFrame(
        {level: _clean_names(table[columns[level]]) if level in columns else "" for level in LEVELS},
        index=range(len(table)),
    )
    levels = levels[(levels != "").any(axis=1)].reset_index(drop=True)
    if levels.empty:
        raise _bad_file(path, "没有任何分类行。", "has no category rows.")
    levels = _fill_down(levels, path)
    _check(levels, path)
    return levels


def scheme_from_table(table: pd.DataFrame, path: str | Path = "scheme") -> pd.DataFrame:
    """The scheme in a table read from a file: columns level_1, level_2, level_3 ('' where a row
    has no such level), one row per distinct category, in the file's order. ValidationError for
    a table that is no usable scheme (see the module docstring); `path` names the file in it."""
    return _levels(table, path).drop_duplicates(ignore_index=True)


def read_scheme(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """The scheme in a CSV / XLSX / XLS file (`scheme_from_table`); anything the readers refuse
    is a ValidationError with their message."""
    return scheme_from_table(_read_or_refuse(path, sheet), path)


def load_scheme(
    con: duckdb.DuckDBPyConnection, path: str | Path, user: str | None = None, sheet: str | None = None
) -> dict[str, Any]:
    """Read the scheme in `path` and store it in place of the stored one, all or nothing.

    Returns {"file", "rows", "level_1" (the first-level names in the file's order), "level_2"
    (how many second-level categories: distinct first- and second-level pairs), "level_3" (rows
    with a third level), "duplicates_dropped", "replaced" (rows of the scheme it replaced),
    "loaded_at" (ISO text)}."""
    with_repeats = _levels(_read_or_refuse(path, sheet), path)
    levels = with_repeats.drop_duplicates(ignore_index=True)
    stored = levels.replace("", None)
    with transaction(con) as cur:
        replaced = int(cur.execute("SELECT count(*) FROM category_scheme").fetchone()[0])
        cur.execute("DELETE FROM category_scheme")
        cur.register("scheme_rows", stored)
        try:
            cur.execute(
                'INSERT INTO category_scheme (level_1, level_2, level_3, loaded_at, "user") '
                "SELECT level_1, level_2, level_3, now(), ? FROM scheme_rows",
                [user],
            )
        finally:
            cur.unregister("scheme_rows")
        loaded_at = cur.execute("SELECT max(loaded_at) FROM category_scheme").fetchone()[0]
        summary = {
            "file": Path(path).name,
            "rows": len(levels),
            "level_1": list(dict.fromkeys(levels["level_1"])),
            "level_2": int(
                levels.loc[levels["level_2"] != "", ["level_1", "level_2"]].drop_duplicates().shape[0]
            ),
            "level_3": int((levels["level_3"] != "").sum()),
            "duplicates_dropped": len(with_repeats) - len(levels),
            "replaced": replaced,
        }
        audit(
            cur,
            user,
            "load_category_scheme",
            {k: summary[k] for k in ("file", "rows", "replaced")} | {"level_1": len(summary["level_1"])},
        )
    return summary | {"loaded_at": pd.Timestamp(loaded_at).isoformat()}


def _read_or_refuse(path: str | Path, sheet: str | None) -> pd.DataFrame:
    try:
        return read_table(path, sheet=sheet).frame
    except HotlineError as exc:
        raise ValidationError(exc.zh, exc.en) from None


def stored_scheme(con: duckdb.DuckDBPyConnection) -> Scheme:
    """The stored scheme as the model takes it (empty when none is loaded)."""
    rows = query_df(
        con,
        "SELECT level_1, coalesce(level_2, '') AS level_2, coalesce(level_3, '') AS level_3 FROM category_scheme",
    )
    return as_scheme(rows.itertuples(index=False, name=None))


def scheme_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """{"rows", "level_1" (names), "loaded_at" (ISO text), "user"} of the stored scheme, or None."""
    head = query_df(
        con, 'SELECT count(*) AS n, max(loaded_at) AS at, max("user") AS who FROM category_scheme'
    )
    if not int(head["n"].iloc[0]):
        return None
    names = query_df(con, "SELECT DISTINCT level_1 FROM category_scheme ORDER BY level_1")["level_1"]
    return {
        "rows": int(head["n"].iloc[0]),
        "level_1": names.tolist(),
        "loaded_at": pd.Timestamp(head["at"].iloc[0]).isoformat(),
        "user": head["who"].iloc[0],
    }
