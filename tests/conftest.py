"""Shared fixtures: a real store per test (a DuckDB file; a DuckLake too where marked), and the real
public data when present."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from analytics.store import db
from tests.fixtures import ROOT, pg

REAL_DATA = ROOT.parent / "shared" / "data" / "real"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `backends` run on the DuckDB file and on a DuckLake with a PostgreSQL catalog."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        metafunc.parametrize("backend", ["file", "ducklake"])


@pytest.fixture
def backend() -> str:
    return "file"


@pytest.fixture(scope="session")
def lake_server():
    """A PostgreSQL server for this test process, and a migrated DuckLake catalog to copy."""
    if pg.binaries() is None:
        pytest.skip(
            "PostgreSQL is not installed (apt-get install -y postgresql): the DuckLake backend is not tested"
        )
    root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    server = pg.start(root)
    try:
        template = server.create_database()
        db.connect(server.lake_target(template, root / "template-data")).close()
        yield server, template, root / "template-data"
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def store_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a fresh store lives: a DuckDB file, or a DuckLake of its own (PostgreSQL catalog)."""
    if backend == "file":
        return str(tmp_path / "hotline.duckdb")
    server, template, template_data = request.getfixturevalue("lake_server")
    data_path = tmp_path / "lake-data"
    return server.lake_target(server.copy_lake(template, template_data, data_path), data_path)


@pytest.fixture
def store(store_target: str):
    """A fresh, migrated store: a real DuckDB file under the test's temporary folder, or (tests
    marked `backends`) a real DuckLake as well."""
    con = db.connect(store_target)
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
