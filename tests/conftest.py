"""Shared fixtures: the shipped knowledge base, and a writable copy of it for breaking on purpose."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from hsmap.knowledge import Knowledge, default_root, load_knowledge

DATA = Path(__file__).parent / "data"
_CACHE = tempfile.TemporaryDirectory(prefix="hsmap-test-cache-")


def pytest_configure(config: pytest.Config) -> None:
    """Compiled caches go to a temporary folder (inherited by the commands tests start), never the user's."""
    os.environ["HSMAP_CACHE_DIR"] = _CACHE.name


def pytest_unconfigure(config: pytest.Config) -> None:
    _CACHE.cleanup()


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge()


@pytest.fixture
def mappings_copy(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(default_root(), target)
    return target
