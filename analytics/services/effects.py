"""Task-force effects from the store: the compound x month panel, the cohorts of task forces, the
compounds' names and logged costs are loaded here and handed to the model (analytics.models.effects);
its result is kept in `derived_results` and read back while the data are unchanged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics import calendar
from analytics.errors import HotlineError, ValidationError
from analytics.ingest.registry import changes
from analytics.models.effects.panel import Cohort, Panel, _md, _mi
from analytics.models.effects.result import EffectsResult, estimate
from analytics.models.effects.stacking import check_controls
from analytics.services.taskforces import records
from analytics.services.taskforces.exit_rule import exit_status
from analytics.store import db, results

# the comparison trend (a compound the model has no counterfactual for) is scaled on at most this
# many months before the compound's selection window, or before its start when fewer than
# COMPARISON_MIN_MONTHS lie before the window
COMPARISON_PRE_MONTHS = 12
COMPARISON_MIN_MONTHS = 3
# where a compound's counterfactual comes from (ScopedEffects.summary["basis"])
BASIS_MODEL, BASIS_COMPARISON, BASIS_NONE = "model", "comparison", "none"
STORED_NAME = "effects"  # its row in derived_results (see stored_effects)
# a stored result is stale once the code that computes it changes
STORED_CODE = results.source_version(
    *sorted((Path(__file__).parents[1] / "models" / "effects").glob("*.py")),
    Path(__file__),
    *sorted((Path(__file__).parent / "taskforces").glob("*.py")),
    Path(calendar.__file__),
    Path(results.__file__),
)


def _load_panel(
    con: duckdb.DuckDBPyConnection, category: bool = False, root: dict[str, str] | None = None
) -> tuple[Panel, dict[str, np.ndarray]]:
    """Compound x month counts from the store (valid tickets with a compound), full months only."""
    span = db.query_df(
        con,
        """SELECT min(created_at) FILTER (WHERE is_valid AND compound_id IS NOT NULL) AS lo,
                  max(created_at) FILTER (WHERE is_valid AND compound_id IS NOT NULL) AS hi,
                  min(created_at) AS oldest, max(created_at) AS newest
           FROM tickets""",
    )
    if span.empty or pd.isna(span.at[0, "lo"]):
        raise ValidationError(
            "数据库中没有已匹配到小区的工单，无法估计专班成效。请先导入工单。",
            "There are no tickets matched to compounds in the store; import tickets first.",
        )
    lo, hi = pd.Timestamp(span.at[0, "lo"]), pd.Timestamp(span.at[0, "hi"])
    first, last = _mi(lo), _mi(hi)
    # only complete months count, judged from all the tickets as the exit rule and the ranking
    # judge them (analytics.calendar), as long as one month is left
    if _mi(calendar.complete_month(span.at[0, "newest"])) < last and last > first:
        last -= 1
    if _mi(calendar.first_complete_month(span.at[0, "oldest"])) > first and last > first:
        first += 1
    comps = db.query_df(
        con,
        """SELECT compound_id, community FROM compounds
           UNION SELECT DISTINCT compound_id, NULL FROM tickets
           WHERE compound_id IS NOT NULL AND compound_id NOT IN (SELECT compound_id FROM compounds)
           ORDER BY compound_id""",
    )
    # a compound renamed, split or merged is one unit from before the change to after it: its
    # successors' tickets count for it (analytics.ingest.registry.changes.lineage)
    root = _roots(con) if root is None else root
    comps["compound_id"] = comps["compound_id"].map(lambda c: root.get(c, c))
    comps = comps.drop_duplicates("compound_id").reset_index(drop=True)
    ids = list(comps["compound_id"])
    pos = {c: i for i, c in enumerate(ids)}
    grouped = db.query_df(
        con,
        f"""SELECT compound_id, year(created_at) * 12 + month(created_at) - 1 AS m,
                   {"coalesce(category, '未分类')" if category else "''"} AS cat, count(*) AS n
            FROM tickets WHERE is_valid AND compound_id IS NOT NULL
            AND created_at >= ? AND created_at < ? GROUP BY 1, 2, 3""",  # noqa: S608 - fixed fragments
        [_md(first), _md(last + 1)],
    )
    grouped["compound_id"] = grouped["compound_id"].map(lambda c: root.get(c, c))
    n_months = last - first + 1
    counts = np.zeros((len(ids), n_months))
    r = grouped["compound_id"].map(pos).to_numpy()
    c = grouped["m"].to_numpy().astype(int) - first
    np.add.at(counts, (r, c), grouped["n"].to_numpy())
    by_cat: dict[str, np.ndarray] = {}
    if category:
        for cat, g in grouped.groupby("cat"):
            arr = np.zeros_like(counts)
            np.add.at(
                arr, (g["compound_id"].map(pos).to_numpy(), g["m"].to_numpy().astype(int) - first), g["n"]
            )
            by_cat[str(cat)] = arr
    community = [None if pd.isna(v) else str(v) for v in comps["community"]]
    return Panel(ids, first, counts, community), by_cat


def _match_rates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Valid tickets per month and how many of them are matched to a compound (integrity alarms)."""
    return db.query_df(
        con,
        """SELECT strftime(date_trunc('month', created_at), '%Y-%m') AS month,
                  count(compound_id) AS matched, count(*) AS total
           FROM tickets WHERE is_valid GROUP BY 1 ORDER BY 1""",
    )


def _roots(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """compound_id -> the original unit of its lineage, for the compounds a change touched."""
    frame = changes.lineage(con)
    frame = frame[frame["compound_id"] != frame["root_id"]]
    return dict(zip(frame["compound_id"], frame["root_id"], strict=True))


def _load_cohorts(
    con: duckdb.DuckDBPyConnection, panel: Panel, root: dict[str, str]
) -> tuple[list[Cohort], list[dict[str, Any]], str]:
    """The cohorts of task forces, the notes of loading them, and where their windows came from.

    A task force without a stored selection window is left out of the estimate and counted in a
    note: no window is ever assumed. The source is `snapshot` when every task force in the estimate
    was created from a saved ranking snapshot, else `given`.
    """
    tfs = db.query_df(
        con,
        "SELECT compound_id, start_date, selection_start, selection_end, snapshot_id FROM task_forces "
        "ORDER BY start_date",
    )
    if tfs.empty:
        raise ValidationError(
            "尚未登记任何专班，无法估计成效。请先导入专班名单（taskforces import）。",
            "No task forces are recorded; import the task-force list first (taskforces import).",
        )
    notes: list[dict[str, Any]] = []
    pos = {c: i for i, c in enumerate(panel.compound_ids)}
    # a task force on a compound created by a split or merge works on its lineage's unit; a
    # compound counts once, from its first task force (`root`: _roots, as the panel used it)
    tfs["compound_id"] = tfs["compound_id"].map(lambda c: root.get(c, c))
    tfs = tfs.drop_duplicates("compound_id", keep="first")
    groups: dict[tuple[int, int, int], tuple[dt.date, list[int]]] = {}
    missing_window = in_panel = 0
    from_snapshot = []
    for rec in tfs.itertuples(index=False):
        if rec.compound_id not in pos:
            continue
        in_panel += 1
        if pd.isna(rec.selection_start) or pd.isna(rec.selection_end):
            missing_window += 1
            continue
        start = pd.Timestamp(rec.start_date).date()
        # a task force that moves in after the 15th is counted from the next month
        first_post = _mi(start) + (1 if start.day > 15 else 0)
        ws, we = _mi(pd.Timestamp(rec.selection_start)), _mi(pd.Timestamp(rec.selection_end))
        we = min(we, first_post - 1)
        key = (ws, we, first_post)
        earliest, rows = groups.get(key, (start, []))
        groups[key] = (min(earliest, start), rows + [pos[rec.compound_id]])
        from_snapshot.append(pd.notna(rec.snapshot_id))
    if missing_window:
        notes.append({"code": "missing_window", "n": missing_window})
    if in_panel and not groups:
        raise ValidationError(
            "没有一个专班登记了选定窗口（排名窗口），无法估计成效。请重新导入专班名单并给出 --selection-window，"
            "或由排名快照创建专班。",
            "No task force has a selection window (ranking window) recorded, so no effect can be estimated. "
            "Re-import the task-force list with --selection-window, or create the task forces from a ranking "
            "snapshot.",
        )
    cohorts = [Cohort(ws, we, fp, start, rows) for (ws, we, fp), (start, rows) in sorted(groups.items())]
    source = "snapshot" if from_snapshot and all(from_snapshot) else "given"
    return cohorts, notes, source


def _total_cost(con: duckdb.DuckDBPyConnection, treated_ids: list[str]) -> Any:
    """The cost logged in the action ledgers of these compounds' task forces (None: nothing logged)."""
    return db.query_one(
        con,
        """SELECT sum(a.cost) FROM taskforce_actions a JOIN task_forces t USING (taskforce_id)
           WHERE t.compound_id IN (SELECT unnest(?::VARCHAR[]))""",
        [treated_ids],
    )


def estimate_effects(
    con: duckdb.DuckDBPyConnection,
    controls: int | str = "auto",
    seed: int = 0,
    details: bool = True,
    by_category: bool = True,
) -> EffectsResult:
    """Naive, placebo and adjusted effects of the task forces in the store (see analytics.models.effects).

    controls: 'auto' (compounds ranked just below the cut in each selection window, ten per
    treated compound, at least 300), 'all' (every compound not treated before) or a number.
    seed: breaks ties when ranking controls. details=False skips by-category, displacement and
    per-compound outputs (the JSON figures do not need them); by_category=False keeps the event
    study and per-compound outputs but skips by-category and displacement (the task-force page).
    """
    check_controls(controls)
    root = _roots(con)
    panel, by_cat = _load_panel(con, category=details and by_category, root=root)
    cohorts, notes, window_source = _load_cohorts(con, panel, root)
    if not cohorts:
        raise ValidationError(
            "专班所在小区都不在工单数据中，无法估计成效。",
            "None of the task forces' compounds appear in the data.",
        )
    names, total_cost = None, None
    if details:
        names = dict(
            db.query_df(con, "SELECT compound_id, name FROM compounds").itertuples(index=False, name=None)
        )
        treated_ids = [panel.compound_ids[r] for r in sorted({r for c in cohorts for r in c.rows})]
        total_cost = _total_cost(con, treated_ids)
    res = estimate(
        panel,
        cohorts,
        notes,
        controls=controls,
        seed=seed,
        details=details,
        by_category=by_category,
        by_cat=by_cat,
        names=names,
        total_cost=total_cost,
        window_source=window_source,
        match_rates=_match_rates(con),
        # the panel follows each compound's lineage (_load_panel): a change does not break a series
        registry_events=changes.registry_events(con).assign(followed=True),
        covariates=db.query_df(
            con, "SELECT compound_id, households, type, is_old, built_year FROM compounds"
        ).set_index("compound_id"),
    )
    summary = res.per_compound_summary
    if details and len(summary):
        # how far each compound is from the ledger's exit rule, beside its counterfactual
        state = exit_status(con)
        state = state.sort_values("taskforce_id").drop_duplicates("compound_id")
        res.per_compound_summary = summary.merge(
            state[["compound_id", "months_below", "meets_exit_rule"]], on="compound_id", how="left"
        )
    return res


def encode_result(res: EffectsResult) -> str:
    """The whole result as JSON (every field; frames keep their dtypes), for `derived_results`."""
    return results.dumps({f.name: getattr(res, f.name) for f in fields(EffectsResult)})


def decode_result(text: str) -> EffectsResult:
    """The inverse of `encode_result` (TypeError when the fields do not match this code)."""
    return EffectsResult(**results.loads(text))


def stored_args(
    controls: int | str = "auto", seed: int = 0, details: bool = True, by_category: bool = True
) -> str:
    """The key of `stored_effects`' row for these arguments."""
    return results.canonical_args(controls=controls, seed=seed, details=details, by_category=by_category)


def stored_effects(
    con: duckdb.DuckDBPyConnection,
    controls: int | str = "auto",
    seed: int = 0,
    details: bool = True,
    by_category: bool = True,
) -> EffectsResult:
    """`estimate_effects` with the same arguments, read from the store when it was computed from
    the data exactly as they are now; computed, and stored for the next reader, when not (see
    analytics.store.results)."""
    return results.get_or_compute(
        con,
        STORED_NAME,
        stored_args(controls, seed, details, by_category),
        lambda: estimate_effects(con, controls=controls, seed=seed, details=details, by_category=by_category),
        encode_result,
        decode_result,
        code=STORED_CODE,
    )


# the stored results the dashboard and the batch interface read: the 整治成效 page (everything), the
# 专班跟踪 page (no by-category models) and `effects --format json` (the headline)
DASHBOARD_VARIANTS: tuple[dict[str, Any], ...] = ({}, {"by_category": False}, {"details": False})


def refresh_stored(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the stored results the dashboard reads up to date, right after a write (from the app
    or the batch interface) so its next viewer does not fit the model; quick when they are
    fresh, nothing without task forces. What the pages explain themselves (no matched tickets
    yet, a busy store) is left to them."""
    try:
        if not db.query_one(con, "SELECT count(*) FROM task_forces"):
            return
        for kwargs in DASHBOARD_VARIANTS:
            stored_effects(con, **kwargs)
    except HotlineError:
        pass


# --- one head's compounds --------------------------------------------------------------------


@dataclass
class ScopedEffects:
    """What the 整治成效 page shows a task-force head: their own compounds only, nothing summed
    over the district.

    series: compound_id, month, observed, expected, pi_low, pi_high (one row per compound-month;
    the band is empty where the counterfactual is the comparison trend).
    summary: compound_id, compound_name, start, observed_post, expected_post,
    change_vs_expected_pct, basis (BASIS_MODEL / BASIS_COMPARISON / BASIS_NONE), cost (the
    compound's logged cost, None when nothing is logged).
    actions: the action log of these compounds' task forces (records.actions).
    """

    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    actions: pd.DataFrame = field(default_factory=pd.DataFrame)


SERIES_COLUMNS = ["compound_id", "month", "observed", "expected", "pi_low", "pi_high"]
SUMMARY_COLUMNS = [
    "compound_id", "compound_name", "start", "observed_post", "expected_post", "change_vs_expected_pct",
    "basis", "cost",
]  # fmt: skip


def _complete_months(con: duckdb.DuckDBPyConnection, compound_ids: list[str]) -> pd.DataFrame:
    """Valid tickets per complete month: one column per compound and `comparison` (every compound
    that never had a task force), zero-filled; index: month starts."""
    span = db.query_df(con, "SELECT min(created_at) AS oldest, max(created_at) AS newest FROM tickets")
    if span.empty or pd.isna(span.at[0, "newest"]):
        return pd.DataFrame(columns=[*compound_ids, "comparison"])
    first = calendar.first_complete_month(span.at[0, "oldest"])
    last = calendar.complete_month(span.at[0, "newest"])
    if last < first:
        return pd.DataFrame(columns=[*compound_ids, "comparison"])
    counts = db.query_df(
        con,
        """SELECT CAST(date_trunc('month', created_at) AS DATE) AS month,
                  CASE WHEN compound_id IN (SELECT unnest(?::VARCHAR[])) THEN compound_id
                       ELSE 'comparison' END AS who,
                  count(*) AS n
           FROM tickets
           WHERE is_valid AND compound_id IS NOT NULL AND created_at >= ? AND created_at < ?
             AND (compound_id IN (SELECT unnest(?::VARCHAR[]))
                  OR compound_id NOT IN (SELECT compound_id FROM task_forces))
           GROUP BY ALL""",
        [compound_ids, first.start_time, (last + 1).start_time, compound_ids],
    )
    months = [p.start_time for p in pd.period_range(first, last, freq="M")]
    counts["month"] = pd.to_datetime(counts["month"])
    wide = counts.pivot_table(index="month", columns="who", values="n", aggfunc="sum", fill_value=0)
    return wide.reindex(index=months, columns=[*compound_ids, "comparison"], fill_value=0).fillna(0)


def comparison_counterfactual(
    monthly: pd.DataFrame, compound_id: str, start: dt.date, selection_start: dt.date | None = None
) -> pd.DataFrame:
    """A compound's months with the comparison group's trend scaled to its own level before: the
    stand-in counterfactual when the model has none for it (too little history, a late start).

    The scale is taken from months before the selection window when there are enough (the
    ranking window is the peak that got the compound chosen, and scaling on it would credit the
    task force with the fall that follows any peak), else from the months before the start.
    `monthly` is `_complete_months`' frame. Columns as ScopedEffects.series; expected is empty
    when the compound or the comparison group has no tickets in those months.
    """
    out = pd.DataFrame(
        {
            "compound_id": compound_id,
            "month": monthly.index,
            "observed": monthly[compound_id].to_numpy(float) if compound_id in monthly else 0.0,
        }
    )
    out["expected"] = out["pi_low"] = out["pi_high"] = np.nan
    if out.empty:
        return out[SERIES_COLUMNS]
    months = pd.Series(monthly.index)
    before_start = months < pd.Timestamp(calendar.month_start(start))
    pre = before_start
    if selection_start is not None and not pd.isna(selection_start):
        before_window = months < pd.Timestamp(calendar.month_start(pd.Timestamp(selection_start).date()))
        if int(before_window.sum()) >= COMPARISON_MIN_MONTHS:
            pre = before_window
    pre_idx = months[pre].tail(COMPARISON_PRE_MONTHS).index
    own = float(out.loc[pre_idx, "observed"].sum())
    comparison = monthly["comparison"].to_numpy(float)
    base = float(comparison[pre_idx].sum())
    if own > 0 and base > 0:
        out["expected"] = comparison * own / base
    return out[SERIES_COLUMNS]


def _post_summary(series: pd.DataFrame, first_post: dt.date) -> tuple[float, float | None, float | None]:
    """(observed, expected, % vs expected) over the months from `first_post` that have a counterfactual."""
    post = series[(series["month"] >= pd.Timestamp(first_post)) & series["expected"].notna()]
    observed = float(post["observed"].sum())
    if post.empty:
        return float(series.loc[series["month"] >= pd.Timestamp(first_post), "observed"].sum()), None, None
    expected = float(post["expected"].sum())
    change = round((observed / expected - 1) * 100, 1) if expected > 0 else None
    return observed, round(expected, 1), change


def scoped_effects(
    con: duckdb.DuckDBPyConnection, compound_ids: list[str] | tuple[str, ...]
) -> ScopedEffects:
    """The task-force compounds among `compound_ids`, each with its counterfactual: the effects
    model's own (from the stored result, `stored_effects(by_category=False)`) where it has one,
    else the comparison group's trend scaled to the compound (`comparison_counterfactual`).
    Nothing here is summed over compounds outside `compound_ids`."""
    ids = sorted({str(c) for c in compound_ids})
    tfs = db.query_df(
        con,
        """SELECT t.compound_id, c.name AS compound_name, t.start_date, t.selection_start
           FROM task_forces t LEFT JOIN compounds c USING (compound_id)
           WHERE t.compound_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY t.start_date, t.taskforce_id""",
        [ids],
    ).drop_duplicates("compound_id")  # a compound counts from its first task force, as in the model
    actions = records.actions(con, compound_scope=ids)
    if tfs.empty:
        return ScopedEffects(
            pd.DataFrame(columns=SERIES_COLUMNS), pd.DataFrame(columns=SUMMARY_COLUMNS), actions
        )
    try:
        res = stored_effects(con, by_category=False)
        model, model_summary = res.per_compound, res.per_compound_summary
    except HotlineError:  # no estimate at all (e.g. no matched tickets before the start)
        model, model_summary = pd.DataFrame(columns=SERIES_COLUMNS), pd.DataFrame(columns=SUMMARY_COLUMNS)
    costs = (
        actions.groupby("compound_id")["cost"].sum(min_count=1) if len(actions) else pd.Series(dtype=float)
    )
    monthly: pd.DataFrame | None = None
    series, summary = [], []
    for tf in tfs.itertuples(index=False):
        start = pd.Timestamp(tf.start_date).date()
        # as the model counts it: a task force that moves in after the 15th, from the next month
        first_post = calendar.add_months(start, 1) if start.day > 15 else calendar.month_start(start)
        own = model[model["compound_id"] == tf.compound_id] if len(model) else model
        if len(own) and own["expected"].notna().any():
            one = own.assign(month=pd.to_datetime(own["month"]))[SERIES_COLUMNS]
            basis = BASIS_MODEL
        else:
            if monthly is None:
                monthly = _complete_months(con, ids)
            one = comparison_counterfactual(monthly, tf.compound_id, start, tf.selection_start)
            basis = BASIS_COMPARISON if one["expected"].notna().any() else BASIS_NONE
        observed, expected, change = _post_summary(one, first_post)
        fitted = model_summary[model_summary["compound_id"] == tf.compound_id] if basis == BASIS_MODEL else []
        if len(fitted):  # the model's own totals, as the leaders' table shows them
            row = fitted.iloc[0]
            observed, expected, change = (
                row["observed_post"],
                row["expected_post"],
                row["change_vs_expected_pct"],
            )
        cost = costs.get(tf.compound_id)
        series.append(one)
        summary.append(
            {
                "compound_id": tf.compound_id,
                "compound_name": tf.compound_name if isinstance(tf.compound_name, str) else tf.compound_id,
                "start": start,
                "observed_post": observed,
                "expected_post": expected,
                "change_vs_expected_pct": change,
                "basis": basis,
                "cost": None if cost is None or pd.isna(cost) else float(cost),
            }
        )
    return ScopedEffects(
        pd.concat(series, ignore_index=True), pd.DataFrame(summary, columns=SUMMARY_COLUMNS), actions
    )
