"""Page tests run the real dashboard entry script through AppTest."""

from tests.fixtures.apptest import entry_navigation  # noqa: F401 - autouse fixture for every page test
