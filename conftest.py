"""For tests and benchmarks alike: compiled caches go to a temporary folder of the run (inherited by the commands
they start), never the user's."""

import os
import tempfile

import pytest

_CACHE = tempfile.TemporaryDirectory(prefix="hsmap-test-cache-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["HSMAP_CACHE_DIR"] = _CACHE.name


def pytest_unconfigure(config: pytest.Config) -> None:
    _CACHE.cleanup()
