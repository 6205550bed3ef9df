"""`python -m analytics ...`: the batch interface (analytics/cli.py)."""

from analytics.cli import run

run()
