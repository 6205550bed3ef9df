"""Task forces: who gets one, their true effect, leaders, heads, status and logged actions.

In the demo, the compounds with most valid matched tickets in the selection window (2023H1) get
task forces from 2023-07 (a few 2023-08) and a modest true effect: their tickets afterwards are
thinned to `TRUE_EFFECT`. The naive before/after drop is much larger, because they were picked in
a bad half-year. 2022 has no task forces, so the same rule applied one year earlier (2022H1)
gives an honest placebo. In-memory panels give an effect as a number or a function of the months
since the start (`effect_multiplier`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from analytics.synthetic.names import people
from analytics.synthetic.seasons import add_months
from analytics.synthetic.tickets import END, N_MONTHS, START

SELECTION_WINDOW = (dt.date(2023, 1, 1), dt.date(2023, 6, 30))
TASKFORCE_START = dt.date(2023, 7, 1)
TASKFORCE_LATE_START = dt.date(2023, 8, 1)
N_LATE_STARTS = 10
N_TASKFORCES = 65
N_LEADERS = 38
# how many compounds each of the 38 leaders leads: 16 x 1 + 17 x 2 + 5 x 3 = 65
LEADER_LOADS = (1,) * 16 + (2,) * 17 + (3,) * 5
TRUE_EFFECT = 0.85  # tickets in treated compounds after start x this (15% fewer)
TARGET_SHARE = 0.5  # exit target: half the monthly mean in the selection window
EXIT_MONTHS = 3
WITHDRAWN_SHARE = 0.5  # of the task forces that met the exit rule, share already withdrawn
ACTIONS: tuple[tuple[str, float, float], ...] = (  # action, cost range (yuan)
    ("召开居民议事会，梳理诉求清单", 0, 0),
    ("专班入户走访，登记问题", 0, 0),
    ("约谈物业公司负责人，限期整改", 0, 0),
    ("更换老化供暖管道", 80_000, 350_000),
    ("维修屋面防水", 50_000, 260_000),
    ("清理楼道堆物和小广告", 2_000, 12_000),
    ("增设停车位并划线", 30_000, 150_000),
    ("更换小区物业服务企业", 0, 20_000),
    ("维修二次供水设施", 40_000, 180_000),
    ("拆除违章搭建", 10_000, 60_000),
    ("加装楼道照明和监控", 15_000, 90_000),
    ("电梯大修及安全评估", 60_000, 300_000),
)

Effect = float | Callable[[np.ndarray], np.ndarray]


def top_n(counts: np.ndarray, n: int) -> np.ndarray:
    """The `n` compounds with most tickets (ties: the lower index first)."""
    return np.argsort(-np.asarray(counts), kind="stable")[:n]


def effect_multiplier(effect: Effect, since: np.ndarray) -> np.ndarray:
    if callable(effect):
        return 1.0 + np.asarray(effect(since), dtype=float)
    return np.full(since.shape, 1.0 + float(effect))


def select(rng: np.random.Generator, compounds: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """Rank by valid matched tickets in the selection window; the top N_TASKFORCES get one."""
    window = (
        tickets["is_valid"]
        & tickets["matchable"]
        & (tickets["created_at"] >= pd.Timestamp(SELECTION_WINDOW[0]))
        & (tickets["created_at"] < pd.Timestamp(SELECTION_WINDOW[1]) + pd.Timedelta(days=1))
    )
    counts = np.bincount(tickets.loc[window, "comp"], minlength=len(compounds))
    top = top_n(counts, N_TASKFORCES)
    start = np.full(N_TASKFORCES, np.datetime64(TASKFORCE_START), dtype="datetime64[D]")
    start[rng.choice(N_TASKFORCES, N_LATE_STARTS, replace=False)] = np.datetime64(TASKFORCE_LATE_START)
    n_months = 6
    return pd.DataFrame(
        {
            "comp": top,
            "compound_id": compounds["compound_id"].to_numpy()[top],
            "window_tickets": counts[top],
            "start_date": start,
            "target_monthly": np.round(TARGET_SHARE * counts[top] / n_months, 2),
        }
    )


def apply_effect(rng: np.random.Generator, tickets: pd.DataFrame, treated: pd.DataFrame) -> pd.DataFrame:
    """Thin the treated compounds' tickets after their start to TRUE_EFFECT (a Poisson thinning)."""
    start_of = np.full(tickets["comp"].max() + 1, np.datetime64("NaT"), dtype="datetime64[s]")
    start_of[treated["comp"].to_numpy()] = treated["start_date"].to_numpy().astype("datetime64[s]")
    starts = start_of[tickets["comp"].to_numpy()]
    after = ~np.isnat(starts) & (tickets["created_at"].to_numpy() >= starts)
    keep = ~after | (rng.random(len(tickets)) < TRUE_EFFECT)
    return tickets[keep].reset_index(drop=True)


def taskforce_rows(
    rng: np.random.Generator, treated: pd.DataFrame, tickets: pd.DataFrame, head_account: str
) -> pd.DataFrame:
    """task_forces rows (ids 1..65), `head_account` heading a largest group; status from the exit rule."""
    loads = rng.permutation(np.array(LEADER_LOADS))
    leaders = people(rng, N_LEADERS)
    heads = people(rng, N_LEADERS, exclude=set(leaders))
    order = rng.permutation(N_TASKFORCES)
    group = np.repeat(np.arange(N_LEADERS), loads)[np.argsort(order)]
    # the head account leads the group with the most compounds (a three-compound group)
    demo_group = int(np.flatnonzero(loads == loads.max())[0])
    head_names = np.array(heads, dtype=object)
    head_names[demo_group] = head_account
    valid = tickets[tickets["is_valid"] & tickets["matchable"]]
    monthly = valid.groupby(["comp", "month"]).size()
    statuses, end_dates = [], []
    last_month = N_MONTHS - 1
    for tf in treated.itertuples(index=False):
        start = pd.Timestamp(tf.start_date)
        start_m = (start.year - START.year) * 12 + start.month - 1
        series = [int(monthly.get((tf.comp, m), 0)) for m in range(start_m, last_month + 1)]
        run, exit_at = 0, None
        for i, n in enumerate(series):
            run = run + 1 if n < tf.target_monthly else 0
            if run >= EXIT_MONTHS:
                exit_at = start_m + i
                break
        # met the exit rule: about half have been withdrawn (the leader decides), half not yet
        if exit_at is not None and exit_at < last_month and rng.random() < WITHDRAWN_SHARE:
            statuses.append("撤出")
            end_dates.append(add_months(START, exit_at + 1))
        elif exit_at is not None:
            statuses.append("已转化")
            end_dates.append(None)
        else:
            statuses.append("整改中")
            end_dates.append(None)
    rows = pd.DataFrame(
        {
            "taskforce_id": np.arange(1, N_TASKFORCES + 1, dtype=np.int64),
            "compound_id": treated["compound_id"].to_numpy(),
            "leader": np.array(leaders, dtype=object)[group],
            "head": head_names[group],
            "start_date": pd.to_datetime(treated["start_date"]).dt.date,
            "end_date": end_dates,
            "status": statuses,
            "snapshot_id": pd.Series([None] * N_TASKFORCES, dtype="Int64"),
            "selection_start": SELECTION_WINDOW[0],
            "selection_end": SELECTION_WINDOW[1],
            "target_monthly": treated["target_monthly"].to_numpy(),
            "exit_months": np.int32(EXIT_MONTHS),
        }
    )
    return rows


def actions(rng: np.random.Generator, taskforces: pd.DataFrame) -> pd.DataFrame:
    rows = []
    action_id = 1
    for tf in taskforces.itertuples(index=False):
        start = pd.Timestamp(tf.start_date)
        stop = pd.Timestamp(tf.end_date) if tf.end_date is not None else pd.Timestamp(END)
        span = max(1, (stop - start).days)
        for _ in range(int(rng.integers(2, 7))):
            text, lo, hi = ACTIONS[int(rng.integers(len(ACTIONS)))]
            cost = float(round(rng.uniform(lo, hi), -2)) if hi else 0.0
            when = (start + pd.Timedelta(days=int(rng.integers(0, span)))).date()
            rows.append((action_id, tf.taskforce_id, when, text, cost, tf.head))
            action_id += 1
    frame = pd.DataFrame(rows, columns=["action_id", "taskforce_id", "date", "action", "cost", "user"])
    return frame.sort_values(["taskforce_id", "date", "action_id"]).reset_index(drop=True)
