"""How much a flood of refused logins may cost: the audit entries it writes, and how long an
address waits before its next password is checked. Pure, clock-driven classes; the login
(analytics.services.auth) and the login form (ui/session.py) use them."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable

from analytics.config import LOCKOUT_AFTER, LOCKOUT_MINUTES

REFUSED_LOGIN_AUDITS_PER_MINUTE = 30

log = logging.getLogger(__name__)


class AuditBudget:
    """How many refused-login entries may still be written in the current window.

    Up to `limit` entries per `window_s` seconds are written; the rest are only counted, and
    the first refusal in a later window writes one summary entry with that count before its
    own. So a flood adds at most `limit + 1` rows a minute, however fast it comes. `at` is a
    time in seconds (any clock that moves forward; tests pass their own)."""

    def __init__(self, limit: int = REFUSED_LOGIN_AUDITS_PER_MINUTE, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._lock = threading.Lock()
        self._start: float | None = None
        self._used = 0
        self._dropped = 0

    def take(self, at: float) -> tuple[bool, int]:
        """(may this entry be written, how many earlier ones were dropped and not yet reported).
        The dropped count is handed out once: the caller writes it as a summary entry."""
        with self._lock:
            report = 0
            if self._start is None or not self._start <= at < self._start + self.window_s:
                report, self._dropped = self._dropped, 0
                self._start, self._used = at, 0
            if self._used < self.limit:
                self._used += 1
                return True, report
            self._dropped += 1
            if self._dropped == 1:
                log.warning("refused logins past %d a minute: further ones are only counted", self.limit)
            return False, report


class LoginThrottle:
    """How long a client address must wait before its next password is checked.

    Each refused login counts against its address. The first `free` cost nothing (people
    mistype); after that each attempt must wait `base_s * 2 ** (n - free)` seconds, at most
    `max_s`, from the last refusal. An address is forgotten `forget_s` after its last refusal.
    A successful login does not clear the count: someone with an account of their own could
    otherwise reset it between guesses at others'. IPv6 addresses count per /64 (one
    subscriber's block), unknown ones (a local connection) as one address. `clock` gives
    seconds (tests pass their own); at most `max_addresses` are remembered."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        free: int = LOCKOUT_AFTER,
        base_s: float = 1.0,
        max_s: float = 60.0,
        forget_s: float = LOCKOUT_MINUTES * 60.0,
        max_addresses: int = 10_000,
    ) -> None:
        self.clock = clock
        self.free, self.base_s, self.max_s, self.forget_s = free, base_s, max_s, forget_s
        self.max_addresses = max_addresses
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, float]] = {}  # address -> (refusals, time of the last)

    @staticmethod
    def bucket(address: str | None) -> str:
        if not address:
            return "local"
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return address
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:  # ::ffff:203.0.113.7 is 203.0.113.7
                return str(ip.ipv4_mapped)
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return str(ip)

    def _penalty(self, refusals: int) -> float:
        if refusals < self.free:
            return 0.0
        return min(self.base_s * 2.0 ** (refusals - self.free), self.max_s)

    def refusals(self, address: str | None) -> int:
        with self._lock:
            return self._current(self.bucket(address), self.clock())[0]

    def _current(self, key: str, now: float) -> tuple[int, float]:
        refusals, last = self._seen.get(key, (0, now))
        if now - last >= self.forget_s:
            self._seen.pop(key, None)
            return 0, now
        return refusals, last

    def wait(self, address: str | None) -> float:
        """Seconds before this address's next password check (0.0: now)."""
        now = self.clock()
        with self._lock:
            refusals, last = self._current(self.bucket(address), now)
            return max(0.0, last + self._penalty(refusals) - now)

    def refused(self, address: str | None) -> None:
        now = self.clock()
        key = self.bucket(address)
        with self._lock:
            refusals, _ = self._current(key, now)
            self._seen[key] = (refusals + 1, now)
            if len(self._seen) > self.max_addresses:
                self._prune(now)

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, last) in self._seen.items() if now - last >= self.forget_s]:
            del self._seen[key]
        while len(self._seen) > self.max_addresses:  # still full: the longest quiet go first
            del self._seen[min(self._seen, key=lambda k: self._seen[k][1])]
