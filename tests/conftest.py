"""Shared fixtures: the shipped knowledge base, a writable copy of it for breaking on purpose, and a headless
Chromium for the tests that open a page the way its reader does."""

import shutil
import sys
import tempfile
from collections.abc import Iterator
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


def _browser_paths() -> tuple[str, str] | None:
    browser = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[object, Path]]:
    """Headless Chromium, 1400 px wide, driven by Selenium, and the folder it downloads into."""
    paths = _browser_paths()
    if paths is None:
        pytest.skip("headless browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=tmp_path)}",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(paths[1]), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        yield driver, downloads
    finally:
        driver.quit()
