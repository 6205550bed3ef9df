"""A dashboard user without a browser: Streamlit's own websocket protocol, spoken from Python.

A browser tab is one websocket to `/_stcore/stream` on which the frontend sends `BackMsg`s (run
the script for this page, with these widget values) and receives `ForwardMsg`s (deltas: the
elements drawn; `script_finished` when the run has ended). `PageRun` opens such a session,
sends the cookies a signed-in browser would send (the remembered-session cookie,
analytics.services.session_cookie, and the language cookie), asks for one page and reads until the
script has finished. The server does every bit of work it does for a browser; nothing is drawn.

So a load figure measures the servers (and the store behind them), not Chromium, and one
machine can play dozens of users.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

STREAM_PATH = "/_stcore/stream"


@dataclass
class PageResult:
    page: str
    seconds: float
    finished: bool
    exceptions: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # markdown, metrics, captions, errors drawn
    elements: int = 0


def _texts(msg: ForwardMsg) -> tuple[list[str], list[str]]:
    """(texts, exception messages) of one delta."""
    if not msg.HasField("delta") or not msg.delta.HasField("new_element"):
        return [], []
    el = msg.delta.new_element
    kind = el.WhichOneof("type")
    if kind == "exception":
        return [], [f"{el.exception.type}: {el.exception.message}"]
    if kind == "markdown":
        return [el.markdown.body], []
    if kind == "metric":
        return [f"{el.metric.label} {el.metric.body}"], []
    if kind == "alert":
        return [el.alert.body], []
    if kind == "heading":
        return [el.heading.body], []
    return [], []


class Session:
    """One browser tab's websocket on one server (replica)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        header = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
        self._ws = connect(
            f"ws://{host}:{port}{STREAM_PATH}",
            subprotocols=["streamlit"],
            additional_headers={"Cookie": header} if header else None,
            max_size=None,
            open_timeout=30,
        )

    def close(self) -> None:
        self._ws.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, page: str = "", timeout_s: float = 120.0) -> PageResult:
        """Run the script for `page` (its URL path, "" = the landing page) until it has finished."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = page
        started = time.perf_counter()
        self._ws.send(msg.SerializeToString())
        result = PageResult(page=page, seconds=0.0, finished=False)
        deadline = started + timeout_s
        while time.perf_counter() < deadline:
            try:
                raw = self._ws.recv(timeout=max(deadline - time.perf_counter(), 0.01))
            except TimeoutError:
                break
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            texts, errors = _texts(fwd)
            result.texts += texts
            result.exceptions += errors
            result.elements += int(fwd.HasField("delta"))
            if fwd.HasField("script_finished"):
                # a run that stopped for a rerun the script asked for goes on
                if fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    result.finished = True
                    break
                if fwd.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    break
        result.seconds = time.perf_counter() - started
        return result
