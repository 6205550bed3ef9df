"""Task forces (专班): the ledger, the action log, status and the exit rule.

"One compound, one task force; not withdrawn until the problem is solved" is made concrete:
a task force may only be closed (撤出) once its compound's monthly tickets have stayed below a
target (`target_monthly`, by default half the compound's monthly mean in the ranking window it
was selected from) for `exit_months` consecutive complete months since it moved in.

- `file_import`: `import_taskforces(con, path, selection_window=None, user=None, mapping=None) -> dict`
- `records`: `create_from_snapshot(con, snapshot_id, assignments, start_date, user=None) -> list[int]`,
  `log_action(con, taskforce_id, date, action, cost=None, user=None) -> int`, `actions(con, ...)`,
  `set_status(con, taskforce_id, status, user=None)`,
  `set_target(con, taskforce_id, target_monthly=None, exit_months=None, user=None)`,
  `set_review_date(con, taskforce_id, review_date, user=None)`,
  `ledger(con, leader=None, compound_scope=None)`
- `exit_rule`: `exit_status(con, as_of=None)`, `exit_rule_state(...)`, the default target
- `deadlines`: `review_schedule(ledger, today)`, `due_reviews(schedule)`: each task force's
  planned exit review (set, or start + the exit rule's months) and the reviews due within
  `REMINDER_DAYS` or overdue
- `dates`: `parse_date(text)`; a selection window is read by analytics.calendar.parse_window, and
  the months the exit rule counts are complete months as analytics.calendar defines them
"""

from __future__ import annotations
