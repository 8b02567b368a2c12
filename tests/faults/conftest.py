"""Fixtures shared with the engine tests."""

from tests.engine.conftest import tiny_space  # noqa: F401 - the tiny search space fixture
