"""The store's local page: its JSON API, its HTTP server, and the page itself driven in headless Chromium.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` (CI installs them; the ``browser``
fixture is in ``conftest.py``); they are skipped, with the reason, only when they are absent. Every server binds
port 0 on 127.0.0.1 and is shut down afterwards.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from hsmap.store import Store
from hsmap.store.mirror import MirrorSelection
from hsmap.store.web import MIRROR_SHOWN, StoreApp, StoreServer, make_server

DATA = Path(__file__).parent / "data" / "store"
REPORTS = ("cze_2024.csv", "cze_2023.csv", "ukr_2024.csv", "pol_2024.csv")


@pytest.fixture
def db(tmp_path: Path, kb) -> Path:
    path = tmp_path / "store.duckdb"
    with Store(path, kb=kb) as store:
        results = store.load([DATA / name for name in REPORTS], [DATA / "customs_cze_2024.csv"],
                             customs_options={"reporter": "CZE"})  # fmt: skip
        assert all(result.status == "loaded" for result in results)
    return path


@pytest.fixture
def server(db: Path, kb) -> Iterator[StoreServer]:
    running = make_server(db, "127.0.0.1", 0, kb=kb)
    running.start_background()
    try:
        yield running
    finally:
        running.shutdown()
        running.server_close()


def get(app: StoreApp, target: str) -> tuple[int, dict]:
    response = app.respond(target)
    assert isinstance(response.body, bytes)
    return response.status, json.loads(response.body)


# --- the API, without HTTP --------------------------------------------------------------------------------


def test_query_api_filters_sorts_and_pages(db: Path, kb) -> None:
    app = StoreApp(db, kb)
    status, body = get(app, "/api/query?reporter=CZE&partner=UA&year=2024&sort=items&desc=1&limit=2&offset=1")
    assert status == 200
    assert body["total"] == 5
    items = body["columns"].index("items")
    assert [row[items] for row in body["rows"]] == [20, 10]  # 24 is on the first page
    status, body = get(app, "/api/query?year=twenty")
    assert status == 400 and "twenty" in body["error"]
    assert get(app, "/api/nowhere")[0] == 404


def test_options_api_lists_what_is_stored(db: Path, kb) -> None:
    status, body = get(StoreApp(db, kb), "/api/options")
    assert status == 200 and body["total"] == 22
    assert [key for key, _ in body["reporters"]] == ["CZE", "POL", "UKR"]
    assert body["years"] == [2023, 2024] and body["bases"] == ["actual", "authorized"]
    _, customs = get(StoreApp(db, kb), "/api/options?data=customs")
    assert customs["total"] == 5 and customs["bases"] == []


def test_chart_api_never_adds_what_must_stay_apart(db: Path, kb) -> None:
    app = StoreApp(db, kb)
    _, mixed = get(app, "/api/chart?dim=year&metric=items&partner=Ukraine&flow=export")
    assert mixed["values"] == [] and "choose one basis" in mixed["note"]
    _, actual = get(app, "/api/chart?dim=year&metric=items&partner=Ukraine&flow=export&basis=actual")
    assert actual["labels"] == ["2023", "2024"] and actual["values"] == [2, 60]
    _, lines = get(app, "/api/chart?dim=partner&metric=lines&reporter=CZE&year=2024&flow=export")
    assert lines["labels"][:1] == ["Ukraine"] and lines["values"][:1] == [5]
    _, value = get(app, "/api/chart?dim=category&metric=value&reporter=UKR")
    assert value["unit"] == "USD" and value["labels"] == ["III"] and value["values"] == [22_000_000]


def test_download_api_streams_the_selection_formula_safe(db: Path, kb, tmp_path: Path) -> None:
    path = tmp_path / "formula.csv"
    path.write_text(
        "Reporting State,Year,Flow,Basis,Category,Partner,Number of items,Description\n"
        "Slovakia,2022,export,actual,I,Ukraine,1,=1+2\n",
        encoding="utf-8",
    )
    with Store(db, kb=kb) as store:
        store.load_report(path)
    response = StoreApp(db, kb).respond("/api/download?format=csv&reporter=SVK")
    assert response.headers["Content-Disposition"] == 'attachment; filename="hsmap-report-lines.csv"'
    text = b"".join(response.body).decode("utf-8")  # type: ignore[arg-type]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 and rows[0]["description"] == "'=1+2" and rows[0]["items"] == "1"
    empty = b"".join(StoreApp(db, kb).respond("/api/download?format=csv&year=1999").body).decode()  # type: ignore[arg-type]
    assert empty.startswith("year,reporter_iso3,") and empty.count("\n") == 1


def test_a_partner_hsmap_cannot_identify_is_named_not_shown_as_no_lines(db: Path, kb) -> None:
    app = StoreApp(db, kb)
    _, narnia = get(app, "/api/query?partner=Narnia")
    assert narnia["total"] == 0 and narnia["unknown_partners"] == ["Narnia"]
    _, atlantis = get(app, "/api/query?partner=Atlantis")  # not a State either, but a stored report names it
    assert atlantis["total"] == 1 and atlantis["unknown_partners"] == []
    _, both = get(app, "/api/query?partner=Narnia,Ukraine")
    assert both["total"] > 0 and both["unknown_partners"] == ["Narnia"]
    _, chile = get(app, "/api/query?partner=Chile")  # a State no stored line names: 0 lines is the answer
    assert chile["total"] == 0 and chile["unknown_partners"] == []


def test_mirror_api_pages_the_stores_mirror_comparison(db: Path, kb) -> None:
    with Store(db, read_only=True, kb=kb) as store:
        expected = store.mirror(status="mismatch,only-report")
    status, body = get(StoreApp(db, kb), "/api/mirror?status=mismatch,only-report&limit=3&offset=1")
    assert status == 200 and body["total"] == len(expected) > 4
    assert body["columns"] == list(MIRROR_SHOWN)
    shown = expected.iloc[1:4]
    assert [row[0] for row in body["rows"]] == shown["status"].tolist()
    assert [row[-1] for row in body["rows"]] == shown["explanation"].tolist()
    assert body["statuses"] == expected["status"].value_counts().to_dict()
    assert get(StoreApp(db, kb), "/api/mirror?status=agreed")[0] == 400


@pytest.mark.parametrize(
    "filters",
    [
        {"exporter": "Czechia", "year": "2024"},
        {"importer": "UA,pl", "status": "mismatch,only-report"},
        {"category": "VIII", "year": "2023-2024"},
        {"year": "2023"},  # its neighbouring year is in the store: the calendar-year hints must not change
    ],
)
def test_the_page_selects_from_the_whole_comparison_what_the_filtered_comparison_gives(db: Path, kb, filters) -> None:
    with Store(db, read_only=True, kb=kb) as store:
        filtered, whole = store.mirror(**filters), store.mirror()
    selected = MirrorSelection.of(kb, **filters).rows_of(whole)
    assert len(selected) > 0
    pd.testing.assert_frame_equal(selected, filtered)


def test_the_page_computes_the_comparison_once_per_version_of_the_store(tmp_path: Path, kb, monkeypatch) -> None:
    db = tmp_path / "store.duckdb"
    with Store(db, kb=kb) as store:
        store.load([DATA / name for name in REPORTS[:3]])
    computed = []
    whole = Store.mirror
    monkeypatch.setattr(Store, "mirror", lambda self, **kw: computed.append(1) or whole(self, **kw))
    app = StoreApp(db, kb)
    _, before = get(app, "/api/mirror?limit=1")
    _, ukraine = get(app, "/api/mirror?importer=Ukraine&limit=1")
    assert len(computed) == 1 and 0 < ukraine["total"] < before["total"]
    with Store(db, kb=kb) as store:  # loading puts a new store file in place
        store.load([DATA / "pol_2024.csv"])
    _, after = get(app, "/api/mirror?limit=1")
    assert len(computed) == 2 and after != before
    assert after == get(StoreApp(db, kb), "/api/mirror?limit=1")[1]


def test_the_page_escapes_what_it_shows(tmp_path: Path, kb) -> None:
    hostile = tmp_path / '<script>alert("x")</script>' / "store.duckdb"  # a folder name is the user's to choose
    page = StoreApp(hostile, kb).respond("/").body
    assert isinstance(page, bytes)
    text = page.decode("utf-8")
    assert '<script>alert("x")' not in text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert text.count("<script") == 1  # the page's own, with its nonce


# --- the HTTP server --------------------------------------------------------------------------------------


def test_server_serves_the_page_with_a_strict_policy(server: StoreServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(server.url, timeout=10) as response:
        page = response.read().decode("utf-8")
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'nonce-" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # no CDN, nothing fetched from outside


def test_server_refuses_foreign_hosts_and_writes(server: StoreServer) -> None:
    rebinding = urllib.request.Request(server.url + "api/options", headers={"Host": "attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(rebinding, timeout=10)
    assert refused.value.code == 403
    post = urllib.request.Request(server.url + "api/query", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as posted:
        urllib.request.urlopen(post, timeout=10)
    assert posted.value.code == 405


def test_server_lets_a_writer_load_between_requests(server: StoreServer, db: Path, kb) -> None:
    with urllib.request.urlopen(server.url + "api/options", timeout=10) as response:
        assert json.loads(response.read())["total"] == 22
    with Store(db, kb=kb) as store:  # the page holds no lock between requests
        store.sql("DELETE FROM report_lines WHERE reporter_iso3 = 'POL'")
    with urllib.request.urlopen(server.url + "api/options", timeout=10) as response:
        assert json.loads(response.read())["total"] == 19


# --- the page in a real browser ---------------------------------------------------------------------------


def _settled(driver, rows: bool = True) -> None:
    """Wait until no request is pending (and, with ``rows``, until the table shows rows)."""
    from selenium.webdriver.support.ui import WebDriverWait

    wanted = "&& !!document.querySelector('#results tbody tr')" if rows else ""
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(f"return document.body.dataset.busy === '' {wanted}"))


def _column(driver, name: str) -> list[str]:
    from selenium.webdriver.common.by import By

    headers = [th.get_attribute("data-column") for th in driver.find_elements(By.CSS_SELECTOR, "#results thead th")]
    index = headers.index(name) + 1
    return [td.text for td in driver.find_elements(By.CSS_SELECTOR, f"#results tbody td:nth-child({index})")]


def _downloaded(folder: Path, suffix: str, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [path for path in folder.glob(f"*{suffix}") if path.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} file was downloaded into {folder}: {list(folder.iterdir())}")


def test_the_page_filters_sorts_pages_charts_and_downloads(server: StoreServer, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, downloads = browser
    driver.get(server.url + "?limit=5")
    _settled(driver)
    assert driver.find_element(By.ID, "summary").text == "22 lines match the filters"
    assert driver.find_element(By.ID, "page-info").text == "rows 1–5 of 22"
    driver.find_element(By.ID, "next").click()
    _settled(driver)
    assert driver.find_element(By.ID, "page-info").text == "rows 6–10 of 22"
    assert driver.find_element(By.ID, "loaded").text == "22 report lines stored"

    Select(driver.find_element(By.ID, "reporter")).select_by_value("CZE")
    _settled(driver)
    assert driver.find_element(By.ID, "summary").text == "12 lines match the filters"
    driver.find_element(By.ID, "partner").send_keys("UA")  # Ukraine, as one of the reports writes it
    Select(driver.find_element(By.ID, "year-from")).select_by_value("2024")
    _settled(driver)
    driver.find_element(By.ID, "apply").click()
    _settled(driver)
    assert driver.find_element(By.ID, "summary").text == "5 lines match the filters"
    assert driver.find_element(By.ID, "page-info").text == "rows 1–5 of 5"
    assert set(_column(driver, "partner_key")) == {"UKR"}
    assert sorted(_column(driver, "partner")) == ["UA", "UKR", "Ukraine", "Ukraine", "Ukraine"]

    driver.find_element(By.CSS_SELECTOR, "#results th[data-column='items']").click()
    _settled(driver)
    assert _column(driver, "items") == ["2", "4", "10", "20", "24"]
    driver.find_element(By.CSS_SELECTOR, "#results th[data-column='items']").click()
    _settled(driver)
    assert _column(driver, "items") == ["24", "20", "10", "4", "2"]
    assert driver.find_element(By.CSS_SELECTOR, "#results th[data-column='items']").get_attribute("aria-sort") == (
        "descending"
    )

    bars = driver.find_elements(By.CSS_SELECTOR, "#chart-category rect.bar")
    assert [bar.get_attribute("data-key") for bar in bars] == ["I", "II", "III", "VIII.LW.1"]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-year rect.bar")) == 1
    Select(driver.find_element(By.ID, "metric")).select_by_value("value")
    _settled(driver)
    titles = [t.get_attribute("textContent") for t in driver.find_elements(By.CSS_SELECTOR, "#chart-category title")]
    assert titles[2] == "III: 21,200,000 EUR"

    driver.find_element(By.ID, "download-csv").click()
    rows = list(csv.DictReader(_downloaded(downloads, ".csv").open(encoding="utf-8")))
    assert len(rows) == 5 and {row["partner_key"] for row in rows} == {"UKR"}
    assert [row["items"] for row in rows] == ["24", "20", "10", "4", "2"]  # as sorted on the page
    driver.find_element(By.ID, "download-xlsx").click()
    sheet = openpyxl.load_workbook(_downloaded(downloads, ".xlsx")).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 6 and values[1][values[0].index("items")] == 24

    driver.find_element(By.ID, "reset-filters").click()
    _settled(driver)
    assert driver.find_element(By.ID, "summary").text == "22 lines match the filters"
    assert driver.find_element(By.ID, "error").text == ""
    Select(driver.find_element(By.ID, "data")).select_by_value("customs")
    _settled(driver)
    assert driver.find_element(By.ID, "summary").text == "5 lines match the filters"
    assert driver.find_element(By.ID, "basis").get_attribute("disabled") is not None
    assert "hs6" in [th.get_attribute("data-column") for th in driver.find_elements(By.CSS_SELECTOR, "thead th")]
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []


LONG_NAME = (
    "Reporting State,Year,Flow,Basis,Category,Final importing State,Number of items,Value,Currency\n"
    "Slovakia,2024,export,actual,I,Democratic Republic of the Congo,3,123456789000,EUR\n"
    "Slovakia,2024,export,actual,II,Czechia,1,1000,EUR\n"
)
_CUT_TEXT = """return [...document.querySelectorAll('.chart svg')].flatMap((svg) => {
  const box = svg.viewBox.baseVal;
  return [...svg.querySelectorAll('text')].filter((t) => {
    const b = t.getBBox(); return b.x < -0.5 || b.x + b.width > box.width + 0.5;
  }).map((t) => t.textContent);
});"""


def test_the_page_keeps_its_filters_in_the_address_and_reads_plainly(
    server: StoreServer, browser, db: Path, kb, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, _ = browser
    driver.get(server.url + "?reporter=CZE&partner=UA&year=2024&sort=items&desc=1&limit=5")
    _settled(driver)
    assert driver.find_element(By.ID, "summary").text == "5 lines match the filters"
    assert Select(driver.find_element(By.ID, "reporter")).first_selected_option.get_attribute("value") == "CZE"
    assert driver.find_element(By.ID, "year-to").get_attribute("value") == "2024"
    assert _column(driver, "items") == ["24", "20", "10", "4", "2"]
    headers = {th.get_attribute("data-column"): th.text for th in driver.find_elements(By.CSS_SELECTOR, "#results th")}
    assert headers["reporter_iso3"] == "Reporting State" and headers["source_row"] == "Row in file"
    assert not [text for text in headers.values() if "_" in text]

    Select(driver.find_element(By.ID, "flow")).select_by_value("import")  # CZE imported nothing from Ukraine
    _settled(driver, rows=False)
    shared = driver.current_url
    assert "flow=import" in shared and "reporter=CZE" in shared and "sort=items" in shared
    Select(driver.find_element(By.ID, "flow")).select_by_value("export")
    _settled(driver)
    driver.get(shared)  # the link, opened again: the same filters, the same answer
    _settled(driver, rows=False)
    assert driver.find_element(By.ID, "flow").get_attribute("value") == "import"
    assert driver.find_element(By.ID, "partner").get_attribute("value") == "UA"
    assert driver.find_element(By.ID, "summary").text == "0 lines match the filters"

    driver.find_element(By.ID, "reset-filters").click()
    _settled(driver)
    driver.find_element(By.ID, "partner").send_keys("Narnia")
    driver.find_element(By.ID, "apply").click()
    _settled(driver, rows=False)
    assert driver.find_element(By.ID, "summary").text.startswith("“Narnia” is not a State or partner hsmap knows")
    assert "partner=Narnia" in driver.current_url

    report = tmp_path / "svk_2024.csv"
    report.write_text(LONG_NAME, encoding="utf-8")
    with Store(db, kb=kb) as store:
        store.load_report(report)
    driver.get(server.url + "?reporter=SVK&metric=value&mirror_status=mismatch")
    _settled(driver)
    labels = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#chart-partner svg text:not(.value)")]
    assert labels[0] == "Congo, The Democratic Republic of the"  # whole, not cut short
    assert driver.execute_script(_CUT_TEXT) == []  # no label or figure runs out of its chart
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 1400

    with Store(db, read_only=True, kb=kb) as store:
        mismatches = store.mirror(status="mismatch")
    pairs = driver.find_elements(By.CSS_SELECTOR, "#mirror tbody tr:not(.explained)")
    explained = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#mirror td.explanation")]
    assert len(pairs) == len(mismatches) > 0 and explained == mismatches["explanation"].tolist()
    assert driver.find_element(By.CSS_SELECTOR, "#mirror th[data-column='exporter_name']").text == "Exporter"
    assert [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"] == []
