"""Shared fixtures: a real DuckDB file per test, and the real public data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.store import db
from tests.fixtures import ROOT

REAL_DATA = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture
def store(tmp_path: Path):
    """A fresh, migrated store in a real DuckDB file under the test's temporary folder."""
    path = tmp_path / "hotline.duckdb"
    con = db.connect(path)
    yield con
    con.close()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Path for a store that the test (or a subprocess) opens itself."""
    return tmp_path / "hotline.duckdb"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data/real, or skip: those files are not part of the project."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real public data not found at {REAL_DATA} (it lives beside the project)")
    return REAL_DATA


@pytest.fixture
def app(district, monkeypatch):
    """A fresh AppTest of the dashboard on the module's `district` store (page tests define it)."""
    from tests.fixtures.apptest import new_app

    monkeypatch.setenv("HOTLINE_DB", str(district.path))
    return new_app()
