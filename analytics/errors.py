"""Errors a user may see. Every one carries a Chinese and an English message.

The app shows `.zh` (or `.en` with the English switch); the batch interface prints both on one
line. Nothing below `analytics/` raises a bare DuckDB or pandas error at a user.
"""

from __future__ import annotations


class HotlineError(Exception):
    """Base class: an error with a message in both languages that says what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def one_line(self) -> str:
        """Both languages on a single line, for stderr of the batch interface."""
        return " ".join(f"{self.zh} / {self.en}".split())


class StoreError(HotlineError):
    """The database file could not be opened, migrated or written."""


class StoreBusyError(StoreError):
    """Another writer holds the store; the caller should wait and retry."""


class StoreMemoryError(StoreError):
    """DuckDB ran out of the memory it may use; nothing of the write was kept."""


class FileRejected(HotlineError):
    """An upload that as a whole cannot be used (unreadable, not a table, required field missing).

    Raised before anything is written, so the store is unchanged.
    """


class ValidationError(HotlineError):
    """A value or argument given by the user is not acceptable."""


class NotFound(HotlineError):
    """A named thing (batch, compound, snapshot, user) does not exist."""


class AccessDenied(HotlineError):
    """The current user's role or scope does not allow this."""
