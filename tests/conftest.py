"""Shared fixtures: the shipped knowledge base, and a writable copy of it for breaking on purpose."""

import shutil
import sys
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


@pytest.fixture(scope="session")
def hsmap_executable() -> str:
    """The installed ``hsmap`` command (beside this Python, else on PATH), for tests that need a real process."""
    beside = Path(sys.executable).with_name("hsmap")
    found = str(beside) if beside.exists() else shutil.which("hsmap")
    if found is None:
        pytest.skip("the hsmap executable is not installed")
    return found


def _assert_one_line_error(result, words: str) -> None:
    """A CliRunner result that failed as hsmap promises: exit 2, one line on stderr saying ``words``."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert words in lines[0], lines[0]


@pytest.fixture
def one_line_error():
    """:func:`_assert_one_line_error`, for the fault tests."""
    return _assert_one_line_error
