"""Constants that more than one module reads: the ranking's list and window, the repeat window,
the short lists, the status words. Each is defined here only; its readers import it from here."""

from __future__ import annotations

# the ranking singles out this many compounds (one task force each) and reports P(top TOP_N)
TOP_N = 65
# the ranking window: this many months ending with the latest complete month (every season twice:
# enough to tell a lasting problem from a passing spike)
WINDOW_MONTHS = 24
# the short lists of the overview and the monthly briefing (most tickets, largest rises and falls)
LIST_N = 10
# a repeat call: the same caller about the same category in the same compound within this many days
REPEAT_DAYS = 30
# statuses that mean nobody has acted on the ticket yet (not responded)
UNRESPONDED_STATUSES = ("待受理", "未受理", "待处理", "未响应", "待签收", "新建", "open", "Open", "New")
# statuses of a ticket still being handled (a ticket without a closing time is open too)
OPEN_STATUSES = ("办理中", "待受理", "未受理", "待处理", "处理中", "未办结", "open", "Open", "In Progress")
LOCKOUT_AFTER = 5  # consecutive wrong passwords before an account locks
LOCKOUT_MINUTES = 15
