"""The one catalogue of user-visible text: both languages for every key, the same format fields,
Chinese in Chinese and none in English, no text table or Chinese literal anywhere else in the
pages, the shell and the reports, and every key a page asks for exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

from analytics.ingest import columns
from analytics.models.effects.breakdowns import OTHER_CATEGORIES
from analytics.models.effects.result import EffectsResult
from analytics.models.ranking import funnel, posterior, prior
from analytics.reports import alerts, effects_text, exports
from analytics.reports.text import CATALOGUE, fields, pair, pct, text, value_text
from analytics.services import auth
from analytics.services.taskforces import records
from tests.fixtures import ROOT

# Chinese characters, CJK punctuation and full-width forms (，（）：、 …)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# keys whose text is the same in both languages and holds no Chinese (the switch names the
# language it switches to), and column headers that are blank on purpose (an arrow column)
NO_CHINESE = {"language"}
BLANK = {"ov_mover_arrow", "br_col_arrow"}
# modules that show text: they take every word from the catalogue
SHOWING = sorted(
    [
        *ROOT.glob("pages/*.py"),
        *ROOT.glob("ui/*.py"),
        ROOT / "dashboard.py",
        *ROOT.glob("analytics/reports/*.py"),
    ]
)
CATALOGUE_FILE = ROOT / "analytics" / "reports" / "text.py"
# non-text characters a module may hold: the full-width formula signs the exports neutralise
NOT_TEXT = set(exports.FORMULA_START)


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_key_has_both_languages_with_the_same_fields(key):
    zh, en = CATALOGUE[key]
    if key in BLANK:
        assert zh == en == ""
        return
    assert zh.strip() and en.strip()
    assert fields(zh) == fields(en)
    assert CJK.search(zh) or key in NO_CHINESE, f"{key}: the Chinese text has no Chinese"
    assert not CJK.search(en), f"{key}: the English text holds Chinese: {en!r}"


def test_value_entries_are_keyed_by_the_chinese_value():
    values = {k: zh for k, (zh, _) in CATALOGUE.items() if k.startswith("v_")}
    assert values and all(key == f"v_{zh}" for key, zh in values.items())


@pytest.mark.parametrize(
    "kind, values",
    [
        ("task-force statuses", records.STATUSES),
        (
            "peer-group bands",
            [label for _, label in prior.SIZE_BANDS] + [prior.UNKNOWN_BAND, prior.UNKNOWN_TYPE],
        ),
        ("group keys", ["全区", "未分类"]),
        ("funnel zones", ["高于99.8%上限", "高于95%上限", "低于99.8%下限", "低于95%下限", "正常范围"]),
        ("league tails", ["后10%（投诉最多）", "前10%（投诉最少）"]),
    ],
)
def test_values_kept_in_chinese_below_the_reports_have_english(kind, values):
    for value in values:
        assert value_text(value, "zh") == value, kind
        assert not CJK.search(value_text(value, "en")), (kind, value)


def test_funnel_zones_in_the_catalogue_are_the_ones_the_model_gives():
    source = Path(funnel.__file__).read_text(encoding="utf-8")
    zones = {k[2:] for k in CATALOGUE if re.fullmatch(r"v_(高于|低于)[\d.]+%(上限|下限)|v_正常范围", k)}
    assert len(zones) == 5
    assert all(f'"{zone}"' in source for zone in zones)


def test_data_values_pass_through():
    assert value_text("锦绣花园", "en") == "锦绣花园"
    assert value_text("锦绣花园", "en", default="Importing…") == "Importing…"
    assert value_text("锦绣花园", "zh", default="Importing…") == "锦绣花园"
    assert value_text(None, "en") is None


def test_text_formats_and_pair_gives_both():
    assert text("rows_shown", "zh", n=3) == "共 3 行" and text("rows_shown", "en", n=3) == "3 rows"
    assert pair("download_refused")[0].startswith("登录已过期")
    assert text("role_leader", "en") == "District leader"
    assert pct(None) == "—" and pct(float("nan")) == "—" and pct(-12.34) == "-12.3%"
    assert pct(0.5, signed=False) == "50.0%"


def test_roles_and_components_have_names():
    assert all(f"role_{r}" in CATALOGUE for r in auth.ROLES)
    assert all(f"rk_component_{c}" in CATALOGUE for c in posterior.SHARE_INPUTS)


def test_ticket_fields_are_labelled_as_the_ingest_labels_them():
    for field in columns.TICKET_FIELDS:
        assert text(f"up_field_{field.name}", "zh") == field.label


# ---------------------------------------------------------------- lower layers' codes, worded


def result(**changes) -> EffectsResult:
    base = {
        "treated": 6, "controls": 60, "selection_window": "2022-07:2022-12", "start": "2023-03-01",
        "naive_change_pct": -20.0, "placebo_change_pct": -15.0, "adjusted_effect_pct": -4.0,
        "ci_low_pct": -9.0, "ci_high_pct": 1.5, "method": "stacked Poisson FE",
    }  # fmt: skip
    return EffectsResult(**{**base, **changes})


def test_effects_summary_in_both_languages():
    res = result()
    assert effects_text.summary(res, "zh") == (
        "专班小区（6 个）工单同比 -20.0%（官方口径）。在更早、没有专班的时段按同样规则选出的 6 个小区，"
        "按同样的月份对比也变化了 -15.0%：这是高峰过后自然回落的幅度，可与上面的同比数直接比较。"
        "扣除季节和自然回落后，专班小区本身的变化估计为 -4.0%（95% 区间 -9.0% 至 +1.5%，对照为其他社区的 60 个小区）。"
        "区间跨零：不能确认专班带来了下降。"
    )
    assert effects_text.summary(res, "en").startswith("Task-force compounds (6): tickets -20.0% year on year")
    assert not CJK.search(effects_text.summary(result(adjusted_effect_pct=None), "en"))


def test_the_summary_never_credits_a_fall_that_only_moved_next_door():
    moved = result(
        adjusted_effect_pct=-30.0, ci_low_pct=-38.0, ci_high_pct=-21.0, net_effect_pct=-2.0,
        net_ci_low_pct=-15.0, net_ci_high_pct=11.0, net_detail={"neighbours": 480},
    )  # fmt: skip
    zh = effects_text.summary(moved, "zh")
    assert "净变化为 -2.0%" in zh and "净变化的区间跨零" in zh
    assert "可以归因于专班" not in zh
    # the same in-place fall with nothing moved is credited
    kept = result(
        adjusted_effect_pct=-30.0, ci_low_pct=-38.0, ci_high_pct=-21.0, net_effect_pct=-29.0,
        net_ci_low_pct=-40.0, net_ci_high_pct=-17.0, net_detail={"neighbours": 480},
    )  # fmt: skip
    assert "可以归因于专班" in effects_text.summary(kept, "zh") and "净变化" not in effects_text.summary(
        kept, "zh"
    )


def test_a_fall_inside_what_the_method_reports_on_untreated_peaks_is_not_credited():
    res = result(
        adjusted_effect_pct=-14.4, ci_low_pct=-25.8, ci_high_pct=-1.4,
        permutation={"q025": -14.7, "median": -6.7, "q975": 3.5, "n": 40},
    )  # fmt: skip
    zh = effects_text.summary(res, "zh")
    assert "不能据此归功于专班" in zh and "可以归因于专班" not in zh
    outside = result(
        adjusted_effect_pct=-30.0, ci_low_pct=-38.0, ci_high_pct=-21.0, permutation=res.permutation
    )
    assert "可以归因于专班" in effects_text.summary(outside, "zh")


def test_a_missing_placebo_is_said_not_shortened():
    res = result(placebo_change_pct=None, notes=[{"code": "placebo_no_room", "needed": 24, "available": 18}])
    assert "需要首批专班进驻前 24 个月的数据，现有 18 个月" in effects_text.summary(res, "zh")
    assert "24 months before the first task force" in effects_text.summary(res, "en")


def test_effects_codes_are_worded():
    res = result(
        notes=[{"code": "missing_window", "n": 2}, {"code": "dropped_cohorts", "n": 1}],
        cohorts=3,
    )
    assert effects_text.notes(res, "zh") == [
        "2 个专班未登记选定窗口，未纳入估计（不假定任何窗口）；请重新导入专班名单并给出选定窗口。",
        "1 批专班缺少基线或进驻后数据，未纳入调整估计。",
    ]
    assert all(not CJK.search(n) for n in effects_text.notes(res, "en"))
    assert "3" in effects_text.method(res, "zh") and "(3 cohorts)" in effects_text.method(res, "en")
    assert effects_text.cost_caveat({"caveat": "no_cost"}, "zh") == "行动台账中没有登记费用。"
    assert effects_text.cost_caveat({"caveat": ""}, "en") == ""
    frame = pd.DataFrame(
        {"category": ["供暖", OTHER_CATEGORIES, "未分类"], "reading": ["fall", "rise", "none"]}
    )
    zh = effects_text.breakdown(frame, "zh")
    assert list(zh["category"]) == ["供暖", "其余类别合计", "未分类"]
    assert list(zh["reading"]) == ["下降", "上升（可能转移到此类）", "无明显变化"]
    en = effects_text.breakdown(frame, "en")
    # the taxonomy's own categories in English; a label outside it stays as the data gives it
    assert list(en["category"]) == ["Heating", "All other categories", "Uncategorised"]
    outside = effects_text.breakdown(pd.DataFrame({"category": ["井盖缺失"], "reading": ["none"]}), "en")
    assert list(outside["category"]) == ["井盖缺失"]
    neighbours = effects_text.breakdown(pd.DataFrame({"target": ["neighbours"], "reading": ["moved"]}), "zh")
    assert neighbours.iloc[0].tolist() == ["同社区未设专班的小区", "邻近小区工单上升：可能存在转移"]


def test_surge_reasons_in_both_languages():
    frame = pd.DataFrame(
        {
            "tickets": [30, 12],
            "expected": [10.2, 4.0],
            "top_category": ["供暖", None],
            "top_share": [0.5, None],
        }
    )
    assert alerts.reasons(frame, "zh") == [
        "本月 30 件，预期 10 件（同期季节基线），主要类别：供暖 50%",
        "本月 12 件，预期 4 件（同期季节基线）",
    ]
    assert alerts.reasons(frame, "en")[1] == "12 tickets this month, 4 expected (seasonal baseline)"


# ---------------------------------------------------------------- no text outside the catalogue


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


ERROR = re.compile(r"(Error|Denied|NotFound|Rejected)$")


def _error_arguments(tree: ast.AST) -> set[int]:
    """String constants inside a raised or built error: errors carry both languages themselves."""
    found = set()
    for node in ast.walk(tree):
        built = isinstance(node, ast.Call) and ERROR.search(getattr(node.func, "id", "") or "")
        if built or (isinstance(node, ast.Raise) and node.exc is not None):
            found |= {id(c) for c in ast.walk(node.exc if isinstance(node, ast.Raise) else node)}
    return found


@pytest.mark.parametrize("path", [p for p in SHOWING if p != CATALOGUE_FILE], ids=lambda p: p.name)
def test_no_chinese_literal_outside_the_catalogue(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    raised = _error_arguments(tree)
    docs = _docstrings(tree)
    found = [
        f"{node.lineno}: {node.value[:40]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docs | raised
        and node.value not in NOT_TEXT
        and CJK.search(node.value)
    ]
    assert found == [], f"{path.relative_to(ROOT)} holds Chinese text outside the catalogue"


def _text_tables(tree: ast.AST) -> list[int]:
    """Dict literals whose values are all (str, str) pairs: a (zh, en) table."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Dict)
            and node.values
            and all(
                isinstance(v, ast.Tuple)
                and len(v.elts) == 2
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in v.elts)
                for v in node.values
            )
        ):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", [p for p in SHOWING if p != CATALOGUE_FILE], ids=lambda p: p.name)
def test_no_module_keeps_its_own_text_table(path):
    assert _text_tables(ast.parse(path.read_text(encoding="utf-8"))) == []


def _asked_keys(path: Path) -> set[str]:
    """Keys a module asks for literally: t("...") and text("...") calls, and the column keys of
    labelled(frame, "prefix_", COLUMNS) with COLUMNS a module-level tuple."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tuples = {
        n.targets[0].id: [e.value for e in n.value.elts if isinstance(e, ast.Constant)]
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Tuple)
    }
    keys = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        first = node.args[0]
        if name in ("t", "text") and isinstance(first, ast.Constant) and isinstance(first.value, str):
            keys.add(first.value)
        if name == "labelled" and len(node.args) == 3 and isinstance(node.args[2], ast.Name):
            keys |= {node.args[1].value + c for c in tuples[node.args[2].id]}
    return keys


@pytest.mark.parametrize("path", SHOWING, ids=lambda p: p.name)
def test_every_key_asked_for_exists(path):
    missing = sorted(k for k in _asked_keys(path) if k not in CATALOGUE)
    assert missing == []
