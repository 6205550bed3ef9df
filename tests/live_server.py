"""A real `streamlit run dashboard.py` on a free loopback port, and the system Chromium's launch
arguments: shared by the browser smoke test, the page and load benchmarks and the screenshot
script. Never downloads a browser; the server is stopped by its process id."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, proc: subprocess.Popen, timeout_s: float = SERVER_START_S) -> None:
    """Until `/_stcore/health` answers 200; RuntimeError if the server exits or stays silent."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:  # noqa: S310 - local server
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"streamlit did not answer on {base} within {timeout_s:.0f} s")


@contextlib.contextmanager
def running_server(
    db_path: str | Path,
    log_path: Path | None = None,
    extra_args: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`streamlit run dashboard.py` serving the store at `db_path`; yields its base URL."""
    port = free_port()
    env = {**os.environ, "HOTLINE_DB": str(db_path), **(extra_env or {})}
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(log_path.open("w")) if log_path is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", *extra_args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
