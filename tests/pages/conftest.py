"""The analysis pages' store: a small simulated district with history and task forces, built
once per test module (tests/fixtures/district.py)."""

from __future__ import annotations

import pytest

from tests.fixtures.district import District, build_district


@pytest.fixture(scope="module")
def district(tmp_path_factory, request) -> District:
    return build_district(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
