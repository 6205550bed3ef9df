"""Exit reviews: when each task force is next to be judged against its exit rule, and which of
those reviews are due.

"Not withdrawn until the problem is solved" needs a date on which someone checks: a task
force's planned exit review is the date its import file or an analyst set (`review_date`), else
its start plus the exit rule's months, the earliest day the rule could first be met, and every as
many months again while the task force stays (a rule review that passed is followed by the next
one; a set date that passed stays overdue until someone moves it). A review is due once it is at
most `REMINDER_DAYS` away, and overdue once its day has passed; a closed task force (撤出) has
none.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.services.taskforces.exit_rule import EXIT_MONTHS
from analytics.services.taskforces.records import STATUS_CLOSED

REMINDER_DAYS = 14  # a review this close (or already past) is announced on the task-force page
# review_state values, in the order a reminder lists them
OVERDUE, DUE, PLANNED, CLOSED = "overdue", "due", "planned", "closed"
STATE_ORDER = {OVERDUE: 0, DUE: 1, PLANNED: 2, CLOSED: 3}


def rule_review_date(start: dt.date, exit_months: int | None, today: dt.date | None = None) -> dt.date:
    """The next review the exit rule sets: start plus the rule's months (the same day of the
    month, or the month's last day), then every as many months again while the task force stays,
    the first of them on or after `today` (the first one when `today` is not given)."""
    months = EXIT_MONTHS if exit_months is None or pd.isna(exit_months) else int(exit_months)
    k = 1
    day = (pd.Timestamp(start) + pd.DateOffset(months=months)).date()
    while today is not None and day < today:
        k += 1
        day = (pd.Timestamp(start) + pd.DateOffset(months=k * months)).date()
    return day


def review_schedule(ledger: pd.DataFrame, today: dt.date, reminder_days: int = REMINDER_DAYS) -> pd.DataFrame:
    """The ledger (`records.ledger`) with its exit reviews as of `today`.

    Adds review_date (the planned day: the stored one, else the rule's), review_set (True when a
    file or an analyst set it), days_left (negative: overdue; None when closed) and review_state
    (overdue / due within `reminder_days` / planned / closed).
    """
    out = ledger.copy()
    if out.empty:
        return out.assign(review_date=[], review_set=[], days_left=[], review_state=[])
    stored = out["review_date"] if "review_date" in out else pd.Series(None, index=out.index)
    exit_months = out["exit_months"] if "exit_months" in out else pd.Series(None, index=out.index)
    planned, is_set, left, state = [], [], [], []
    for start, review, months, status in zip(
        out["start_date"], stored, exit_months, out["status"], strict=True
    ):
        given = review is not None and not pd.isna(review)
        day = (
            pd.Timestamp(review).date()
            if given
            else rule_review_date(
                pd.Timestamp(start).date(), months, None if status == STATUS_CLOSED else today
            )
        )
        planned.append(day)
        is_set.append(given)
        if status == STATUS_CLOSED:
            left.append(None)
            state.append(CLOSED)
            continue
        days = (day - today).days
        left.append(days)
        state.append(OVERDUE if days < 0 else DUE if days <= reminder_days else PLANNED)
    out["review_date"] = planned
    out["review_set"] = is_set
    out["days_left"] = pd.array(left, dtype="Int64")
    out["review_state"] = state
    return out


def due_reviews(schedule: pd.DataFrame) -> pd.DataFrame:
    """The reviews a reminder announces (overdue, then due), the most urgent first."""
    if schedule.empty:
        return schedule
    due = schedule[schedule["review_state"].isin([OVERDUE, DUE])]
    return due.sort_values(["days_left", "taskforce_id"]).reset_index(drop=True)
