"""Contracts the build checks: analytics/ stays free of Streamlit; the docs cover the interface."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.cli import build_parser
from tests.fixtures import ROOT

ANALYTICS_MODULES = sorted(
    p.stem for p in (ROOT / "analytics").glob("*.py") if p.stem not in {"__init__", "__main__"}
)


def test_no_analytics_module_imports_streamlit():
    code = (
        "import importlib, sys\n"
        f"for name in {ANALYTICS_MODULES!r}:\n"
        "    importlib.import_module('analytics.' + name)\n"
        "import analytics.cli\n"
        "assert 'streamlit' not in sys.modules, 'analytics imported streamlit'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _commands() -> list[str]:
    """Every leaf command of the batch interface, e.g. 'tickets ingest'."""
    parser = build_parser()
    found: list[str] = []

    def walk(p, prefix: list[str]) -> None:
        subs = [a for a in p._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs:
            found.append(" ".join(prefix))
            return
        for name, child in subs[0].choices.items():
            walk(child, [*prefix, name])

    walk(parser, [])
    return found


@pytest.mark.parametrize("command", _commands())
def test_every_batch_command_is_documented_in_the_readme(command):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"python -m analytics \[--db PATH\] {re.escape(command)}\b", readme), command


def test_readme_has_exactly_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Set-up: two commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == [
        "bash scripts/dashboard.sh",
        "bash scripts/test.sh",
    ]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test.sh" in ci


def test_the_layers_hold():
    """import-linter's contracts (pyproject.toml): a layer imports only the layers below it,
    analytics never imports streamlit or ui, and the models never touch the store."""
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.fail(f"import-linter is not installed beside {sys.executable} (requirements-dev.txt)")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout
