"""The wall time of each step of an upload, logged at DEBUG as "phase <name> <seconds>"
(benchmarks/ingest.py reads them; a step run twice logs twice and the times add up)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

log = logging.getLogger("analytics.ingest.pipeline")


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Log the wall time of the step inside the block (DEBUG)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        log.debug("phase %s %.3f", name, time.perf_counter() - start)
