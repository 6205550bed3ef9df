"""Canonical fields of each upload kind and the column headers that map onto them.

These are the only header tables. Each import kind has one field table, a tuple of small `Field`
objects (datasette style): tickets, the compound registry with its star ratings and property
evaluations, and task forces (FIELD_TABLES names them). Headers are compared after
`normalise_header`: NFKC (full-width forms), no BOM / zero-width characters, no spaces,
underscores, hyphens, asterisks or colons, case-folded, so 'Unique Key', 'unique_key',
'\ufeffUNIQUE KEY' and '小区编号*' are the same as the synonyms they spell.

A mapping is `{canonical_field: source_header}`. `match_headers` is the one resolver every import
uses: the automatic suggestion with an analyst's mapping merged over it. Each import checks the
analyst's mapping first and says what is wrong with it (`resolve_mapping` for tickets). Mappings
are saved under a name by analytics.ingest.mapping_profiles.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.errors import FileRejected
from analytics.ingest.readers import clean_header

NORMALISE_DROP = re.compile(r"[\s_\-·.()（）:：*＊]+")


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # Chinese label shown to analysts
    synonyms: tuple[str, ...]
    required: bool = False
    kind: str = "text"  # text / datetime / flag / number / phone / id


TICKET_FIELDS: tuple[Field, ...] = (
    Field(
        "ticket_id",
        "工单编号",
        (
            "工单编号",
            "工单号",
            "受理编号",
            "编号",
            "Unique Key",
            "service_request_id",
            "ServiceRequestNum",
            "Service Request Number",
        ),
        required=True,
        kind="id",
    ),
    Field(
        "created_at",
        "受理时间",
        ("受理时间", "来电时间", "登记时间", "创建时间", "Created Date", "requested_datetime", "CreatedDate"),
        required=True,
        kind="datetime",
    ),
    Field(
        "content",
        "诉求内容",
        ("诉求内容", "主要内容", "来电内容", "问题描述", "留言详情", "Descriptor", "description"),
    ),
    Field("title", "工单标题", ("工单标题", "标题", "留言主题")),
    Field(
        "category",
        "诉求类型",
        ("诉求类型", "问题分类", "诉求分类", "一级分类", "Complaint Type", "service_name", "SRType"),
    ),
    Field("address", "诉求地址", ("诉求地址", "事发地址", "地址", "事发地", "Incident Address", "address")),
    Field("compound", "小区", ("小区", "小区编号", "小区名称"), kind="id"),
    Field(
        "caller_phone", "来电号码", ("来电号码", "联系电话", "联系方式", "手机号码", "电话号码"), kind="phone"
    ),
    Field("closed_at", "办结时间", ("办结时间", "结案时间", "Closed Date", "CloseDate"), kind="datetime"),
    Field("due_at", "办理时限", ("办理时限", "办理截止时间", "Due Date", "DueDate"), kind="datetime"),
    Field("satisfaction", "满意度", ("满意度", "回访满意度", "是否满意"), kind="flag"),
    Field("resolved", "是否解决", ("是否解决",), kind="flag"),
    Field("status", "工单状态", ("工单状态", "办理状态", "Status", "SRStatus")),
    Field("handling_unit", "承办单位", ("承办单位", "责任单位", "Agency")),
    Field("is_valid", "是否有效", ("是否有效",), kind="flag"),
    # the same fact asked the other way round: 是 here means the ticket is NOT valid
    Field("is_invalid", "不合理诉求", ("不合理诉求", "是否不合理诉求", "无效诉求"), kind="flag"),
)

# One value of each ticket field as a district export carries it: the upload template's example
# row and the field guide (the template is read back by the same parser in the tests, so every
# example must pass validation)
TICKET_EXAMPLES: dict[str, str] = {
    "ticket_id": "LS20240115000123",
    "created_at": "2024-01-15 08:30:00",
    "content": "3号楼电梯停运两天，老人上下楼困难，请尽快维修。",
    "title": "电梯故障",
    "category": "物业管理",
    "address": "兰山区银河社区锦绣花园3号楼2单元",
    "compound": "锦绣花园",
    "caller_phone": "13800000000",
    "closed_at": "2024-01-17 16:00:00",
    "due_at": "2024-01-20 08:30:00",
    "satisfaction": "满意",
    "resolved": "是",
    "status": "已办结",
    "handling_unit": "兰山街道办事处",
    "is_valid": "是",
    "is_invalid": "否",
}
# Fields whose cells are shown and kept for review exactly as the file has them: ids and times
# are what an analyst searches for and fixes, and no pattern for phone numbers should touch them
# (a ticket id can hold a run of digits shaped like a local number)
VERBATIM_FIELDS = ("ticket_id", "created_at", "closed_at", "due_at", "compound")


# Recognised only so they can be dropped on purpose: personal names are never stored. A header
# is a caller's name when it is one of these, or when it holds a name word and a word for the
# person who called (联系人姓名, 投诉人姓名, 市民姓名, 来电人名称) and no word for a thing
# (小区名称, 承办单位名称, 诉求类型名称 name places, units and categories, not people).
CALLER_NAME_FIELD = Field(
    "caller_name",
    "来电人",
    (
        "来电人", "联系人", "投诉人", "姓名", "客户姓名", "来电人姓名", "反映人", "举报人", "当事人",
        "申请人", "报修人", "求助人", "诉求人", "名字", "称呼", "caller", "caller name", "contact name",
        "complainant", "full name",
    ),
)  # fmt: skip
NAME_WORDS = ("姓名", "名字", "称呼", "名称", "name")
# 名称 mostly names things (诉求名称 is a ticket's subject): with it the header must also say
# it is a person's
PERSON_MARKS = ("人", "市民", "群众", "客户", "当事")
PERSON_WORDS = (
    "来电", "联系", "投诉", "市民", "反映", "举报", "诉求", "当事", "申请", "报修", "求助", "客户", "群众",
    "caller", "contact", "complainant", "citizen", "customer", "reporter", "applicant",
)  # fmt: skip
THING_WORDS = (
    "单位", "部门", "公司", "企业", "机构", "小区", "社区", "街道", "类型", "类别", "分类", "事项", "问题",
    "对象", "渠道", "方式", "地址", "地点", "项目", "内容", "标题", "业务", "文件", "company", "unit",
    "agency", "type", "category",
)  # fmt: skip
# Headers of columns that carry phone numbers (masked in any raw row kept for review).
PHONE_HEADERS = ("来电号码", "联系电话", "联系方式", "手机号码", "电话号码", "手机", "电话", "phone")

# The compound registry (小区名册); a compound is stored only with both of its required fields
COMPOUND_FIELDS: tuple[Field, ...] = (
    Field(
        "compound_id",
        "小区编号",
        ("小区编号", "小区代码", "小区ID", "编号", "compound_id"),
        required=True,
        kind="id",
    ),
    Field("name", "小区名称", ("小区名称", "小区名", "小区", "名称", "name"), required=True),
    Field("aliases", "别名", ("别名", "曾用名", "俗称", "其他名称", "aliases", "alias", "别称")),
    Field("community", "所属社区", ("所属社区", "社区", "社区名称", "community")),
    Field("subdistrict", "所属街道", ("所属街道", "街道", "街道办事处", "subdistrict")),
    Field("type", "小区类型", ("小区类型", "类型", "type")),
    Field(
        "is_old",
        "新旧",
        ("新旧", "新老", "新旧小区", "是否老旧小区", "is_old", "新老小区", "老旧小区"),
        kind="flag",
    ),
    Field(
        "built_year",
        "建成年份",
        ("建成年份", "建成年代", "竣工年份", "建成时间", "built_year"),
        kind="number",
    ),
    Field("households", "户数", ("户数", "总户数", "住户数", "居民户数", "households"), kind="number"),
    Field(
        "property_company", "物业公司", ("物业公司", "物业服务企业", "物业企业", "物业", "property_company")
    ),
    Field("lon", "经度", ("经度", "lon", "lng", "longitude"), kind="number"),
    Field("lat", "纬度", ("纬度", "lat", "latitude"), kind="number"),
)

# Half-year party-branch star ratings of the registry's compounds
RATING_FIELDS: tuple[Field, ...] = (
    Field("compound_id", "小区编号", ("小区编号", "compound_id", "编号"), required=True, kind="id"),
    Field("period", "评定周期", ("评定周期", "周期", "评定期", "半年度", "period"), required=True),
    Field("stars", "星级", ("星级", "星级评定", "党支部星级", "stars"), required=True, kind="number"),
)

# Quarterly evaluations of the property companies
EVALUATION_FIELDS: tuple[Field, ...] = (
    Field("company", "物业公司", ("物业公司", "物业服务企业", "企业名称", "company"), required=True),
    Field("quarter", "季度", ("季度", "考核季度", "评价季度", "quarter"), required=True),
    Field("score", "得分", ("得分", "考核得分", "分数", "score"), kind="number"),
    Field("list", "红黑榜", ("红黑榜", "榜单", "list")),
)

# Task-force lists; a row names its compound by compound_id or compound_name (one of the two is
# required: the import checks that)
TASKFORCE_FIELDS: tuple[Field, ...] = (
    Field("compound_id", "小区编号", ("小区编号", "小区代码", "compound_id"), kind="id"),
    Field("compound_name", "小区名称", ("小区名称", "小区", "compound", "compound_name")),
    Field("leader", "包保领导", ("包保领导", "包联领导", "牵头领导", "leader"), required=True),
    Field("head", "专班组长", ("专班组长", "组长", "head")),
    Field("start_date", "进驻日期", ("进驻日期", "进驻时间", "start_date"), required=True, kind="datetime"),
    Field("end_date", "撤出日期", ("撤出日期", "撤出时间", "end_date"), kind="datetime"),
    Field("selection_window", "选定窗口", ("选定窗口", "排名窗口", "selection_window")),
    Field(
        "review_date",
        "撤出评估日期",
        ("撤出评估日期", "计划评估日期", "评估日期", "review_date"),
        kind="datetime",
    ),
)

FIELD_TABLES: dict[str, tuple[Field, ...]] = {
    "tickets": TICKET_FIELDS,
    "compounds": COMPOUND_FIELDS,
    "ratings": RATING_FIELDS,
    "evaluations": EVALUATION_FIELDS,
    "taskforces": TASKFORCE_FIELDS,
}


def normalise_header(header: object) -> str:
    """The comparable form of a header: NFKC, invisible characters, spaces and separators removed."""
    return NORMALISE_DROP.sub("", unicodedata.normalize("NFKC", clean_header(header))).casefold()


def fields_by_name(fields: Sequence[Field] = TICKET_FIELDS) -> dict[str, Field]:
    return {f.name: f for f in fields}


def suggest_mapping(headers: Iterable[str], fields: Sequence[Field] = TICKET_FIELDS) -> dict[str, str]:
    """{field: header} for every field one of whose synonyms is a header of the file.

    When several headers fit one field the earlier synonym wins (e.g. 工单编号 over 编号); a header
    is used for at most one field.
    """
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(normalise_header(h), h)
    used: set[str] = set()
    out: dict[str, str] = {}
    for f in fields:
        for syn in f.synonyms:
            header = by_norm.get(normalise_header(syn))
            if header is not None and header not in used:
                out[f.name] = header
                used.add(header)
                break
    return out


def _name_form(header: object) -> str:
    """A header compared for the personal-name rule: NFKC (full-width letters, compatibility
    forms) and then normalise_header."""
    return normalise_header(unicodedata.normalize("NFKC", clean_header(header)))


_CALLER_NAMES = frozenset(_name_form(s) for s in CALLER_NAME_FIELD.synonyms)


def is_caller_name_header(header: object) -> bool:
    """True when the column holds callers' names (see CALLER_NAME_FIELD)."""
    h = _name_form(header)
    if h in _CALLER_NAMES:
        return True
    names = [w for w in NAME_WORDS if w in h]
    if not names or not any(w in h for w in PERSON_WORDS) or any(w in h for w in THING_WORDS):
        return False
    return names != ["名称"] or any(m in h for m in PERSON_MARKS)


def caller_name_headers(headers: Iterable[str]) -> list[str]:
    """Headers that hold callers' names: read, never stored, never shown."""
    return [h for h in headers if is_caller_name_header(h)]


def refuse_caller_names(mapping: dict[str, str], file_name: str = "") -> None:
    """FileRejected when a mapping would store a column of callers' names."""
    named = [(f, h) for f, h in mapping.items() if h and is_caller_name_header(h)]
    if not named:
        return
    where = f"文件「{file_name}」的" if file_name else ""
    zh = "、".join(f"「{h}」（字段 {f}）" for f, h in named)
    en = ", ".join(f"'{h}' (field {f})" for f, h in named)
    raise FileRejected(
        f"{where}列 {zh} 是来电人姓名，属于个人信息，不能导入。请取消该字段的映射。",
        f"Column(s) {en}{' of ' + file_name if file_name else ''} hold callers' names: personal "
        "data is never imported. Unmap that field.",
    )


def phone_headers(headers: Iterable[str], mapping: dict[str, str] | None = None) -> list[str]:
    """Headers that hold phone numbers: the mapped caller_phone plus any phone-like header."""
    marks = tuple(normalise_header(p) for p in PHONE_HEADERS)
    out = [h for h in headers if any(m in normalise_header(h) for m in marks)]
    mapped = (mapping or {}).get("caller_phone")
    if mapped and mapped not in out:
        out.append(mapped)
    return out


def verbatim_headers(headers: Iterable[str], mapping: Mapping[str, str | None] | None) -> list[str]:
    """Headers of the mapped VERBATIM_FIELDS: shown and kept unmasked, unless the column holds
    phone numbers or callers' names (those rules win whatever a column is mapped to)."""
    headers = list(headers)
    mapped = {h for f, h in (mapping or {}).items() if f in VERBATIM_FIELDS and h}
    personal = set(phone_headers(headers, {k: v for k, v in (mapping or {}).items() if v})) | set(
        caller_name_headers(headers)
    )
    return [h for h in headers if h in mapped and h not in personal]


def match_headers(
    headers: Sequence[str],
    fields: Sequence[Field] = TICKET_FIELDS,
    mapping: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """{field: header}: the automatic suggestion with `mapping` merged over it, in field order.

    The one resolver of every import. A header of `mapping` is looked up as given, else in its
    normalised form; a field mapped to None or '' is left unmapped on purpose. Entries naming an
    unknown field or a header the file lacks are skipped: each import checks its mapping first.
    """
    known = fields_by_name(fields)
    by_norm = {normalise_header(h): h for h in headers}
    merged: dict[str, str] = suggest_mapping(headers, fields)
    for field_name, header in (mapping or {}).items():
        if field_name not in known:
            continue
        if header is None or str(header).strip() == "":
            merged.pop(field_name, None)
            continue
        actual = header if header in headers else by_norm.get(normalise_header(header))
        if actual is not None:
            merged[field_name] = actual
    return {f.name: merged[f.name] for f in fields if f.name in merged}


def resolve_mapping(
    headers: Sequence[str],
    mapping: dict[str, str | None] | None = None,
    fields: Sequence[Field] = TICKET_FIELDS,
    file_name: str = "",
) -> dict[str, str]:
    """`match_headers` for a ticket upload: a mapping naming an unknown field or a header that is
    not in the file is refused, and so is a column of callers' names.

    A field mapped to None or '' in `mapping` is left unmapped on purpose.
    """
    known = fields_by_name(fields)
    by_norm = {normalise_header(h): h for h in headers}
    for field_name, header in (mapping or {}).items():
        if field_name not in known:
            raise FileRejected(
                f"映射中的字段「{field_name}」不存在；可用字段：{'、'.join(known)}。",
                f"The mapping names an unknown field '{field_name}'; fields are: {', '.join(known)}.",
            )
        if header is None or str(header).strip() == "":
            continue
        if header not in headers and normalise_header(header) not in by_norm:
            where = f"文件「{file_name}」" if file_name else "文件"
            raise FileRejected(
                f"映射指定的列「{header}」（字段 {field_name}）在{where}中不存在。文件中的列：{'、'.join(headers)}。",
                f"The mapping's column '{header}' (field {field_name}) is not in the file "
                f"{file_name}. Columns found: {', '.join(headers)}.",
            )
    merged = match_headers(headers, fields, mapping)
    refuse_caller_names(merged, file_name)
    return merged


def missing_required(mapping: dict[str, str], fields: Sequence[Field] = TICKET_FIELDS) -> list[str]:
    return [f.name for f in fields if f.required and f.name not in mapping]


def require_fields(
    headers: Sequence[str],
    mapping: dict[str, str],
    fields: Sequence[Field] = TICKET_FIELDS,
    file_name: str = "",
) -> None:
    """FileRejected naming each missing required field and listing the headers found."""
    missing = missing_required(mapping, fields)
    if not missing:
        return
    known = fields_by_name(fields)
    zh = "、".join(f"{known[m].label}（{m}）" for m in missing)
    en = ", ".join(missing)
    name = f"「{file_name}」" if file_name else ""
    raise FileRejected(
        f"文件{name}缺少必需的列：{zh}。文件中的列：{'、'.join(headers)}。请在列映射中指定对应的列。",
        f"File {file_name} lacks required field(s): {en}. Columns found: {', '.join(headers)}. "
        "Map them to a column in the mapping.",
    )


# ---------------------------------------------------------------- value parsing (SQL, vectorised)
#
# Each builder takes a SQL expression (a quoted column) and returns a SQL expression, so the same
# rules run inside DuckDB over a million rows and, through `parse_*` below, over a pandas Series.

FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0"
HALFWIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + "  "
# in free text only digits, Latin letters and spaces are folded: Chinese punctuation stays
FULLWIDTH_ALNUM = "".join(
    chr(c) for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
)
HALFWIDTH_ALNUM = "".join(chr(c - 0xFEE0) for c in map(ord, FULLWIDTH_ALNUM))
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d",
    "%Y-%m-%d %H",
    "%m-%d-%Y %I:%M:%S %p",
    "%m-%d-%Y %I:%M %p",
    "%m-%d-%Y %H:%M:%S",
    "%m-%d-%Y %H:%M",
    "%m-%d-%Y",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
)
TRUE_WORDS = ("是", "已解决", "解决", "已办结", "有效", "1", "true", "yes", "y", "t")
FALSE_WORDS = ("否", "未解决", "不解决", "无效", "0", "false", "no", "n", "f")
# satisfaction text -> (label, satisfied); checked in order, first pattern found wins
SATISFACTION_RULES: tuple[tuple[str, str, bool | None], ...] = (
    ("很不满意", "不满意", False),
    ("非常不满意", "不满意", False),
    ("不满意", "不满意", False),
    ("dissatisfied", "不满意", False),
    ("基本满意", "基本满意", True),
    ("比较满意", "基本满意", True),
    ("非常满意", "满意", True),
    ("满意", "满意", True),
    ("satisfied", "满意", True),
)
SATISFACTION_EXACT: tuple[tuple[str, str, bool], ...] = (("是", "满意", True), ("否", "不满意", False))
REOPEN_PATTERN = "重办|重新办理|退回|reopen"


def _lit(text: str) -> str:
    """A constant of this module as a SQL string literal (never used for user values)."""
    return "'" + text.replace("'", "''") + "'"


def _words(words: Sequence[str]) -> str:
    return ", ".join(_lit(w) for w in words)


# Rows that need no rewriting (most of them) are recognised by one regular expression and
# passed through; only the rest pay for translate() and the replacements.
_SPACE_WORK = r"\s\s|[\t\n\r\x0B\f]|^\s|\s$"
CODE_NEEDS_WORK = _SPACE_WORK + r"|[\x{FF01}-\x{FF5E}\x{3000}\x{00A0}]"
# bidirectional overrides and isolates: they make text display in another order than it is
# stored (a number or a name read backwards), so free text loses them
BIDI_CONTROLS = "".join(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
TEXT_NEEDS_WORK = (
    _SPACE_WORK + r"|_x00|[\x{FF10}-\x{FF19}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{3000}\x{00A0}"
    r"\x{202A}-\x{202E}\x{2066}-\x{2069}]"
)


def sql_code(x: str) -> str:
    """Short codes (ids, dates, flags, phones): full-width folded, whitespace collapsed, '' -> NULL."""
    work = rf"trim(regexp_replace(translate({x}, {_lit(FULLWIDTH)}, {_lit(HALFWIDTH)}), '\s+', ' ', 'g'))"
    return f"NULLIF(CASE WHEN regexp_matches({x}, {_lit(CODE_NEEDS_WORK)}) THEN {work} ELSE {x} END, '')"


def sql_text(x: str) -> str:
    """Free text: full-width digits/letters folded, tabs/newlines/runs of spaces to one space,
    bidirectional controls removed.

    `_x000D_` is how Office Open XML escapes a carriage return; converters leave it in CSVs.
    """
    unescaped = rf"regexp_replace({x}, '_x00(0[9DdAa]|20)_', ' ', 'g')"
    # translate() drops the characters of its second argument that have no partner in the third
    source = FULLWIDTH_ALNUM + chr(0x3000) + chr(0xA0) + BIDI_CONTROLS
    folded = f"translate({unescaped}, {_lit(source)}, {_lit(HALFWIDTH_ALNUM + '  ')})"
    work = rf"trim(regexp_replace({folded}, '\s+', ' ', 'g'))"
    return f"NULLIF(CASE WHEN regexp_matches({x}, {_lit(TEXT_NEEDS_WORK)}) THEN {work} ELSE {x} END, '')"


def _code(x: str, clean: bool) -> str:
    return x if clean else sql_code(x)


def sql_id(x: str, clean: bool = False) -> str:
    """Ticket ids: an id that went through a spreadsheet as 24.0 is 24."""
    return rf"regexp_replace({_code(x, clean)}, '^([0-9]+)\.0+$', '\1')"


def sql_datetime(x: str, clean: bool = False) -> str:
    """Dates in the shapes Chinese and US exports use -> TIMESTAMP (NULL when unrecognised).

    2023-07-01 08:30:00 · 2023/7/1 8:30 · 2023年7月1日 8时30分 · 2023.07.01 · 45108.35 (Excel
    serial) · 07/01/2023 08:30:00 AM · 2023-07-01T08:30:00+08:00 (the offset is dropped: local time)
    """
    c = _code(x, clean)
    t = f"upper(replace(replace(replace({c}, '年', '-'), '月', '-'), '日', ' '))"
    t = f"replace(replace(replace(replace({t}, '时', ':'), '点', ':'), '分', ':'), '秒', '')"
    t = rf"regexp_replace({t}, '^([0-9]{{4}})\.([0-9]{{1,2}})\.([0-9]{{1,2}})', '\1-\2-\3')"
    t = rf"regexp_replace({t}, '([0-9])T([0-9])', '\1 \2')"
    t = rf"regexp_replace({t}, '([0-9]:[0-9]{{2}}(:[0-9]{{2}}(\.[0-9]+)?)?)\s*(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$', '\1')"
    t = rf"trim(regexp_replace(regexp_replace(replace({t}, '/', '-'), ':\s*$', ''), '\s+', ' ', 'g'))"
    formats = "[" + _words(DATETIME_FORMATS) + "]"
    serial = f"TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(TRY_CAST({c} AS DOUBLE) * 86400) AS BIGINT) * 1000000)"
    # the usual shape takes a fast path; everything else goes through the rewriting chain
    return (
        f"CASE WHEN regexp_full_match({c}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}') "
        f"THEN try_strptime({c}, '%Y-%m-%d %H:%M:%S') "
        f"WHEN regexp_full_match({c}, '[0-9]{{5}}(\\.[0-9]+)?') THEN {serial} "
        f"ELSE try_strptime({t}, {formats}) END"
    )


def sql_flag(x: str, clean: bool = False) -> str:
    """是/否, 已解决/未解决, 1/0, true/false -> BOOLEAN (NULL when blank or unknown)."""
    t = f"lower({_code(x, clean)})"
    return f"CASE WHEN {t} IN ({_words(TRUE_WORDS)}) THEN TRUE WHEN {t} IN ({_words(FALSE_WORDS)}) THEN FALSE END"


def sql_satisfaction(x: str, clean: bool = False) -> tuple[str, str]:
    """(label, satisfied): 非常满意/满意 -> 满意 TRUE, 基本满意 TRUE, 不满意/很不满意 FALSE,
    未回访 or blank -> satisfied NULL (the label keeps the raw text)."""
    c = _code(x, clean)
    t = f"lower({c})"
    exact = " ".join(f"WHEN {t} = {_lit(w)} THEN {_lit(lab)}" for w, lab, _ in SATISFACTION_EXACT)
    rules = " ".join(f"WHEN contains({t}, {_lit(p)}) THEN {_lit(lab)}" for p, lab, _ in SATISFACTION_RULES)
    label = f"CASE {exact} {rules} ELSE {c} END"
    exact_b = " ".join(f"WHEN {t} = {_lit(w)} THEN {str(s).upper()}" for w, _, s in SATISFACTION_EXACT)
    rules_b = " ".join(
        f"WHEN contains({t}, {_lit(p)}) THEN {str(s).upper()}" for p, _, s in SATISFACTION_RULES
    )
    return label, f"CASE {exact_b} {rules_b} END"


def sql_reopened(status: str) -> str:
    """`status` must already be clean text."""
    return f"coalesce(regexp_matches(lower({status}), {_lit(REOPEN_PATTERN)}), FALSE)"


def sql_caller_key(x: str, clean: bool = False) -> str:
    """Phone -> its digits (+86 / 0086 dropped); other caller ids (account names) -> upper text."""
    c = _code(x, clean)
    digits = rf"regexp_replace(regexp_replace({c}, '[^0-9]', '', 'g'), '^(0086|86)(1[0-9]{{10}})$', '\2')"
    return f"CASE WHEN length({digits}) >= 7 THEN {digits} ELSE upper({c}) END"


def sql_is_mask(x: str) -> str:
    """TRUE when the cell is a number masked whole (a phone cell of a rejected-rows file sent back
    after fixing): no caller to key, so it must not make every such row one repeat caller."""
    return f"coalesce(regexp_full_match(trim({x}), '[*\uff0a]+'), FALSE)"


def _run_on_series(values: Iterable[object], expr: str) -> pd.Series:
    frame = pd.DataFrame({"v": pd.Series(list(values), dtype=object).astype("string")})
    with duckdb.connect() as con:
        con.register("src", frame)
        return con.execute(f"SELECT {expr} AS out FROM src").df()["out"]  # noqa: S608 - built from constants


def parse_datetimes(values: Iterable[object]) -> pd.Series:
    """The ingestion date rules over any list of values (registry and task-force dates too)."""
    return _run_on_series(values, sql_datetime('"v"'))


def parse_flags(values: Iterable[object]) -> pd.Series:
    return _run_on_series(values, sql_flag('"v"'))


def parse_satisfaction(values: Iterable[object]) -> pd.DataFrame:
    label, satisfied = sql_satisfaction('"v"')
    frame = pd.DataFrame({"v": pd.Series(list(values), dtype=object).astype("string")})
    with duckdb.connect() as con:
        con.register("src", frame)
        return con.execute(f"SELECT {label} AS label, {satisfied} AS satisfied FROM src").df()  # noqa: S608
