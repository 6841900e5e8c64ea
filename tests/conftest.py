"""Shared fixtures: the shipped knowledge base, and a writable copy of it for breaking on purpose."""

import shutil
from pathlib import Path

import pytest

from hsmap.knowledge import Knowledge, default_root, load_knowledge

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge()


@pytest.fixture
def mappings_copy(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(default_root(), target)
    return target
