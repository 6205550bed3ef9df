"""The shell around every page: dashboard.py runs each page inside its login check, sidebar and
menu, and a page script that Streamlit starts on its own is handed over to it.

Streamlit takes a `pages/` folder beside the entry script for an old-style multipage app until
some session of the server process has called `st.navigation` (documented for st.navigation:
from then on the folder is ignored, for all sessions). Until then it runs the script matching
the requested address itself: a browser that reconnects to /upload right after a restart gets
pages/upload.py alone, without the login form, sidebar or menu. Test harnesses that run a page
script as their entry do the same. `dashboard.py` marks the page runs it makes (`page_run`);
`ui.session.require`, the first thing every page does, calls `run_shell()` for any other run
(after refusing a signed-in user who may not open the page), which runs dashboard.py in its place,
at the same address, and ends the unmarked run.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import streamlit as st

ENTRY = Path(__file__).resolve().parents[1] / "dashboard.py"
# a page address st.Page accepts as a url_path: one path segment of plain characters
URL_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.~-]{0,63}")

_run = threading.local()  # a session runs its script on a thread of its own


@contextmanager
def page_run() -> Iterator[None]:
    """Mark the page run that dashboard.py makes inside the shell."""
    outer = inside()
    _run.inside = True
    try:
        yield
    finally:
        _run.inside = outer


def inside() -> bool:
    """True while dashboard.py runs the current page."""
    return bool(getattr(_run, "inside", False))


def run_script(path: Path) -> None:
    """Run a page script in the current page run, as Streamlit runs one: a fresh namespace."""
    code = compile(path.read_bytes(), str(path), "exec")
    exec(code, {"__name__": "__main__", "__file__": str(path)})  # noqa: S102 - the project's own page script


def run_shell() -> NoReturn:
    """Run dashboard.py in place of a page run it did not make, then end that run."""
    code = compile(ENTRY.read_bytes(), str(ENTRY), "exec")
    # as Streamlit runs a script: a fresh namespace, nothing of the process-wide state changed
    exec(code, {"__name__": "__main__", "__file__": str(ENTRY)})  # noqa: S102 - the project's own entry script
    st.stop()


def requested_path() -> str:
    """The page address the browser shows (the part after the app's own base path), '' for the
    app's root or when the browser did not say. On a session's first run it is the address that
    was typed, pasted or bookmarked, before Streamlit falls back to the default page."""
    url = st.context.url
    if not url:
        return ""
    path = urlsplit(url).path.strip("/")
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :].strip("/")
    return path


def page_address(path: str) -> str | None:
    """`path` when it can be given to st.Page as an address of its own, else None."""
    return path if URL_PATH.fullmatch(path) else None
