"""Task-force effects from the store: the compound x month panel, the cohorts of task forces, the
compounds' names and logged costs are loaded here and handed to the model (analytics.models.effects);
its result is kept in `derived_results` and read back while the data are unchanged."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics import calendar
from analytics.errors import ValidationError
from analytics.models.effects.panel import Cohort, Panel, _md, _mi
from analytics.models.effects.result import EffectsResult, estimate
from analytics.models.effects.stacking import check_controls
from analytics.services.taskforces.exit_rule import exit_status
from analytics.store import db, results

DEFAULT_WINDOW_MONTHS = 6  # selection window assumed when a task force has none stored
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
    con: duckdb.DuckDBPyConnection, category: bool = False
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


def _load_cohorts(con: duckdb.DuckDBPyConnection, panel: Panel) -> tuple[list[Cohort], list[dict[str, Any]]]:
    tfs = db.query_df(
        con,
        "SELECT compound_id, start_date, selection_start, selection_end FROM task_forces ORDER BY start_date",
    )
    if tfs.empty:
        raise ValidationError(
            "尚未登记任何专班，无法估计成效。请先导入专班名单（taskforces import）。",
            "No task forces are recorded; import the task-force list first (taskforces import).",
        )
    notes: list[dict[str, Any]] = []
    pos = {c: i for i, c in enumerate(panel.compound_ids)}
    # a compound counts once, from its first task force
    tfs = tfs.drop_duplicates("compound_id", keep="first")
    groups: dict[tuple[int, int, int], tuple[dt.date, list[int]]] = {}
    missing_window = 0
    for rec in tfs.itertuples(index=False):
        if rec.compound_id not in pos:
            continue
        start = pd.Timestamp(rec.start_date).date()
        # a task force that moves in after the 15th is counted from the next month
        first_post = _mi(start) + (1 if start.day > 15 else 0)
        if pd.notna(rec.selection_start) and pd.notna(rec.selection_end):
            ws, we = _mi(pd.Timestamp(rec.selection_start)), _mi(pd.Timestamp(rec.selection_end))
        else:
            missing_window += 1
            ws, we = _mi(start) - DEFAULT_WINDOW_MONTHS, _mi(start) - 1
        we = min(we, first_post - 1)
        key = (ws, we, first_post)
        earliest, rows = groups.get(key, (start, []))
        groups[key] = (min(earliest, start), rows + [pos[rec.compound_id]])
    if missing_window:
        notes.append({"code": "missing_window", "n": missing_window, "months": DEFAULT_WINDOW_MONTHS})
    cohorts = [Cohort(ws, we, fp, start, rows) for (ws, we, fp), (start, rows) in sorted(groups.items())]
    return cohorts, notes


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
    panel, by_cat = _load_panel(con, category=details and by_category)
    cohorts, notes = _load_cohorts(con, panel)
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


# the stored results the dashboard reads: the 整治成效 page (everything) and the 专班跟踪 page
# (no by-category models)
DASHBOARD_VARIANTS: tuple[dict[str, Any], ...] = ({}, {"by_category": False})


def refresh_stored(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the stored results the dashboard reads up to date, right after a write (from the app
    or the batch interface) so its next viewer does not fit the model; quick when they are
    fresh, nothing without task forces. What the pages explain themselves (no matched tickets
    yet, a busy store) is left to them."""
    from analytics.errors import HotlineError

    try:
        if not db.query_one(con, "SELECT count(*) FROM task_forces"):
            return
        for kwargs in DASHBOARD_VARIANTS:
            stored_effects(con, **kwargs)
    except HotlineError:
        pass
