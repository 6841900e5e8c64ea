"""A local web page over the store: filters, a sortable paged table, totals charts and downloads.

One self-contained HTML page (inline CSS and script, no CDN, no web font) and a small JSON API served by the
standard library's :class:`~http.server.ThreadingHTTPServer`, bound to 127.0.0.1 unless told otherwise. Each
request opens the store read-only and closes it again, so ``hsmap store load`` can add files while the page is
being served. Defences for a server on a shared machine: only GET, a ``Host`` check against DNS rebinding when
bound to loopback, a Content-Security-Policy with a per-page nonce, data shown with ``textContent`` (never as
HTML), and downloads neutralised against spreadsheet formulas.

API (every filter of :meth:`hsmap.store.Filters.parse` as a query parameter, plus ``data=report|customs``):
``/api/options``, ``/api/query`` (``sort``, ``desc``, ``offset``, ``limit``), ``/api/chart`` (``dim`` =
year/category/partner, ``metric`` = lines/items/value) and ``/api/download`` (``format`` = csv/xlsx).
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from hsmap.errors import HsmapError
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.spreadsheet import neutralise_formulas
from hsmap.store.database import Store
from hsmap.store.errors import StoreError
from hsmap.store.filters import Filters, split_values
from hsmap.store.names import country_name
from hsmap.store.output import write_xlsx
from hsmap.store.query import QUERY_COLUMNS
from hsmap.store.schema import DATA, Data

PAGE_SIZES = (25, 50, 100, 250)
MAX_PAGE = 1000
MAX_OFFSET = 2**53  # past any store's lines, and a number every layer (JSON, DuckDB's BIGINT) holds exactly
MAX_FILTER_VALUES = 300  # values one filter may list (there are fewer than 300 States)
MAX_XLSX_ROWS = 200_000  # an .xlsx download is built in memory: larger selections download as CSV
MAX_CONNECTIONS = 32  # requests served at once; more are refused with 503 rather than given a thread each
IDLE_SECONDS = 30  # a connection that sends or takes nothing for this long is closed
CHART_TOP = 15
CHART_DIMENSIONS = ("year", "category", "partner")
CHART_METRICS = ("lines", "items", "value")
_FILTER_NAMES = ("reporter", "partner", "category", "year", "flow", "basis", "text")
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass
class Response:
    """What the handler sends: a status, headers and a body (bytes, or chunks for a streamed download)."""

    status: int
    content_type: str
    body: bytes | Iterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)


def _json(payload: Any, status: int = HTTPStatus.OK) -> Response:
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, default=str)
    return Response(status, "application/json; charset=utf-8", text.encode("utf-8"))


def _records(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows as JSON-ready lists: NaN/NA → null, numpy scalars → Python, timestamps → ISO text."""
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                cells.append(None)
            elif isinstance(value, np.generic):
                item = value.item()
                cells.append(None if isinstance(item, float) and np.isnan(item) else item)
            elif isinstance(value, pd.Timestamp):
                cells.append(value.isoformat())
            else:
                cells.append(value)
        rows.append(cells)
    return rows


class StoreApp:
    """The page and its API over one store file, independent of the HTTP plumbing (tests call it directly)."""

    def __init__(self, db: Path, kb: Knowledge | None = None) -> None:
        self.db = Path(db)
        self.kb = kb or load_knowledge()

    def open(self) -> Store:
        return Store(self.db, read_only=True, sandboxed=True, kb=self.kb)

    # routing -------------------------------------------------------------------------------------------
    def respond(self, target: str) -> Response:
        """Answer one GET request for ``target`` (path and query string)."""
        parts = urlsplit(target)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=False).items()}
        routes: dict[str, Callable[[dict[str, str]], Response]] = {
            "/": self.page,
            "/index.html": self.page,
            "/api/options": self.options,
            "/api/query": self.query,
            "/api/chart": self.chart,
            "/api/download": self.download,
        }
        route = routes.get(parts.path)
        if route is None:
            return _json({"error": f"no such page: {parts.path}"}, HTTPStatus.NOT_FOUND)
        try:
            return route(query)
        except StoreError as error:
            message = str(error)
            busy = "another hsmap process" in message
            return _json({"error": message}, HTTPStatus.SERVICE_UNAVAILABLE if busy else HTTPStatus.BAD_REQUEST)
        except HsmapError as error:
            return _json({"error": str(error)}, HTTPStatus.BAD_REQUEST)

    @staticmethod
    def _data(query: dict[str, str]) -> Data:
        data = query.get("data", "report")
        if data not in DATA:
            raise StoreError(f"data {data!r} is not one of {', '.join(DATA)}")
        return data  # type: ignore[return-value]

    def _filters(self, query: dict[str, str]) -> Filters:
        for name in _FILTER_NAMES:
            if len(split_values(query.get(name))) > MAX_FILTER_VALUES:
                raise StoreError(f"{name}: more than {MAX_FILTER_VALUES} values in one filter")
        return Filters.parse(kb=self.kb, **{name: query.get(name) for name in _FILTER_NAMES})

    # endpoints -----------------------------------------------------------------------------------------
    def page(self, query: dict[str, str]) -> Response:
        nonce = secrets.token_urlsafe(16)
        html = PAGE.replace("{{NONCE}}", nonce).replace("{{DB}}", _escape(str(self.db)))
        policy = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        return Response(
            HTTPStatus.OK, "text/html; charset=utf-8", html.encode("utf-8"), {"Content-Security-Policy": policy}
        )

    def options(self, query: dict[str, str]) -> Response:
        data = self._data(query)
        with self.open() as store:
            found = store.options(data)
            total = store.count(Filters(), data=data)
        labels = {cid: self.kb.label(cid) for cid in self.kb.categories}
        return _json(
            {
                "data": data,
                "total": total,
                "reporters": [[key, country_name(key)] for key in found["reporter"]],
                "partners": [[key, country_name(key)] for key in found["partner"]],
                "categories": [[cid, labels.get(cid, ""), len(self.kb.ancestors(cid)) - 1] for cid in labels],
                "years": found["year"],
                "flows": found["flow"],
                "bases": found.get("basis", []),
                "columns": list(QUERY_COLUMNS[data]),
            }
        )

    def query(self, query: dict[str, str]) -> Response:
        data = self._data(query)
        filters = self._filters(query)
        limit = min(max(_int(query.get("limit"), 50), 1), MAX_PAGE)
        offset = _int(query.get("offset"), 0)
        if not 0 <= offset <= MAX_OFFSET:
            raise StoreError(f"offset {offset} is not between 0 and {MAX_OFFSET}")
        sort = query.get("sort") or None
        descending = query.get("desc", "") in ("1", "true", "yes")
        with self.open() as store:
            total = store.count(filters, data=data)
            frame = store.query(filters, data=data, order_by=sort, descending=descending, limit=limit, offset=offset)
        return _json(
            {
                "columns": list(frame.columns),
                "rows": _records(frame),
                "total": total,
                "offset": offset,
                "limit": limit,
                "sort": sort,
                "desc": descending,
            }
        )

    def chart(self, query: dict[str, str]) -> Response:
        data = self._data(query)
        dim = query.get("dim", "year")
        metric = query.get("metric", "lines")
        if dim not in CHART_DIMENSIONS:
            raise StoreError(f"dim {dim!r} is not one of {', '.join(CHART_DIMENSIONS)}")
        if metric not in CHART_METRICS:
            raise StoreError(f"metric {metric!r} is not one of {', '.join(CHART_METRICS)}")
        with self.open() as store:
            totals = store.totals(self._filters(query), by=[dim], data=data)
        return _json(chart_series(totals, dim, metric, self.kb))

    def download(self, query: dict[str, str]) -> Response:
        data = self._data(query)
        kind = query.get("format", "csv")
        if kind not in ("csv", "xlsx"):
            raise StoreError(f"format {kind!r} is not csv or xlsx")
        filters = self._filters(query)
        sort = query.get("sort") or None
        descending = query.get("desc", "") in ("1", "true", "yes")
        name = f"hsmap-{data}-lines.{kind}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        if kind == "xlsx":
            with self.open() as store:
                rows = store.count(filters, data=data)
                if rows > MAX_XLSX_ROWS:  # counted first: the table is never built
                    raise StoreError(
                        f"{rows:,} lines are more than an .xlsx download holds ({MAX_XLSX_ROWS:,}); "
                        "download CSV, or narrow the filters"
                    )
                frame = store.query(filters, data=data, order_by=sort, descending=descending)
            buffer = io.BytesIO()
            write_xlsx(frame, buffer, sheet=f"{data} lines")
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return Response(HTTPStatus.OK, mime, buffer.getvalue(), disposition)
        store = self.open()
        try:
            store.count(filters, data=data)  # fail here, before the headers, on a bad filter
        except BaseException:
            store.close()
            raise
        return Response(
            HTTPStatus.OK, "text/csv; charset=utf-8", _csv_chunks(store, filters, data, sort, descending), disposition
        )


def _csv_chunks(store: Store, filters: Filters, data: Data, sort: str | None, descending: bool) -> Iterator[bytes]:
    """The selection as CSV, a batch at a time (a large selection never sits in memory whole)."""
    try:
        header = True
        for batch in store.query_batches(filters, data=data, order_by=sort, descending=descending):
            text = neutralise_formulas(batch).to_csv(index=False, header=header, lineterminator="\n")
            header = False
            yield text.encode("utf-8")
        if header:
            yield (",".join(QUERY_COLUMNS[data]) + "\n").encode("utf-8")
    finally:
        store.close()


def chart_series(totals: pd.DataFrame, dim: str, metric: str, kb: Knowledge) -> dict[str, Any]:
    """Bars for one chart from :meth:`Store.totals` grouped by ``dim``; never adds what must not be added.

    Items need one basis (authorized and actual are never summed); values need one basis and are charted in
    one currency (the one with the most lines), and the note says what was left out.
    """
    note = ""
    unit = {"lines": "lines", "items": "items"}.get(metric, "")
    if totals.empty:
        return {"labels": [], "keys": [], "values": [], "unit": unit, "note": "nothing matches the filters"}
    frame = totals.copy()
    if metric != "lines" and "basis" in frame and frame["basis"].nunique() > 1:
        return {
            "labels": [],
            "keys": [],
            "values": [],
            "unit": unit,
            "note": "authorized and actual transfers are never added: choose one basis to chart "
            + ("items" if metric == "items" else "values"),
        }
    if metric == "value":
        priced = frame[frame["value"].notna()]
        if priced.empty:
            return {"labels": [], "keys": [], "values": [], "unit": "", "note": "no values in the selection"}
        by_currency = priced.groupby("currency")["lines"].sum().sort_values(ascending=False, kind="stable")
        unit = str(by_currency.index[0])
        others = [str(currency) for currency in by_currency.index[1:]]
        if others:
            note = f"values in {unit} only; lines in {', '.join(others)} are not shown"
        frame = priced[priced["currency"] == unit]
    column = {"lines": "lines", "items": "items", "value": "value"}[metric]
    keys = frame[dim].astype("object").where(frame[dim].notna(), "")
    series = frame[column].astype("float64").fillna(0.0).groupby(keys.to_numpy()).sum()
    if dim == "year":
        series = series.sort_index()
    elif dim == "category":
        order = {cid: position for position, cid in enumerate(kb.categories)}
        series = series.loc[sorted(series.index, key=lambda cid: order.get(cid, len(order)))]
    else:
        series = series.sort_values(ascending=False, kind="stable")
        if len(series) > CHART_TOP:
            note = "; ".join(filter(None, [note, f"top {CHART_TOP} of {len(series)} partners"]))
            series = series.head(CHART_TOP)
    if dim == "partner":
        labels = [country_name(str(key)) or "(no partner)" for key in series.index]
    elif dim == "category":
        labels = [str(key) if key else "(no category)" for key in series.index]
    else:
        labels = [str(key) for key in series.index]
    return {
        "labels": labels,
        "keys": [str(key) for key in series.index],
        "values": [float(value) for value in series.to_numpy()],
        "unit": unit,
        "note": note,
    }


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        raise StoreError(f"{text!r} is not a whole number") from None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# --- HTTP ---------------------------------------------------------------------------------------------------


_GONE = (ConnectionError, TimeoutError)  # the client left or stalled: nothing to answer, nothing to report


class _Handler(BaseHTTPRequestHandler):
    server_version = "hsmap-store"
    sys_version = ""

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Set on the socket: an idle or stalled client is dropped, not waited for forever."""
        return self.server.idle_seconds  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        server: StoreServer = self.server  # type: ignore[assignment]
        if not self._host_allowed(server):
            self._send(_json({"error": "unexpected Host header"}, HTTPStatus.FORBIDDEN))
            return
        try:
            response = server.app.respond(self.path)
        except Exception as error:  # a bug must not drop the connection without an answer
            self.log_error("%s: %s", type(error).__name__, str(error).splitlines()[0] if str(error) else "")
            response = _json({"error": f"internal error ({type(error).__name__})"}, HTTPStatus.INTERNAL_SERVER_ERROR)
        self._send(response)

    def do_POST(self) -> None:
        self._send(_json({"error": "only GET is served"}, HTTPStatus.METHOD_NOT_ALLOWED))

    do_PUT = do_DELETE = do_PATCH = do_POST

    def _host_allowed(self, server: StoreServer) -> bool:
        """On loopback, accept only loopback names in ``Host``: a rebinding DNS name must not read the data."""
        if server.bound_host not in _LOOPBACK:
            return True
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        return name in _LOOPBACK

    def _send(self, response: Response) -> None:
        try:
            self._write(response)
        except _GONE:
            self.close_connection = True
        finally:
            close = getattr(response.body, "close", None)
            if close is not None:
                close()

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers.items():
            self.send_header(name, value)
        if isinstance(response.body, bytes):
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for chunk in response.body:
            self.wfile.write(chunk)

    def log_message(self, format: str, *args: Any) -> None:
        server: StoreServer = self.server  # type: ignore[assignment]
        if server.log is not None:
            server.log(f"{self.address_string()} {format % args}")


class StoreServer(ThreadingHTTPServer):
    """The HTTP server of one :class:`StoreApp`; ``url`` is where the page is. At most ``max_connections``
    requests are served at once (a thread each), one more is answered 503 at once, and a connection idle
    for ``idle_seconds`` is closed."""

    daemon_threads = True

    def __init__(
        self,
        app: StoreApp,
        host: str = "127.0.0.1",
        port: int = 0,
        log: Callable[[str], None] | None = None,
        *,
        max_connections: int = MAX_CONNECTIONS,
        idle_seconds: float = IDLE_SECONDS,
    ):
        self.app, self.bound_host, self.log, self.idle_seconds = app, host, log, idle_seconds
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__((host.strip("[]"), port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that disconnects early is no error; anything else is one line in the log, no traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, _GONE) and self.log is not None:
            self.log(f"{client_address[0]} {type(error).__name__}: {error}")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/"

    def start_background(self) -> threading.Thread:
        """Serve from a daemon thread (for tests and embedding); stop with ``shutdown()`` + ``server_close()``."""
        thread = threading.Thread(target=self.serve_forever, name="hsmap-store-web", daemon=True)
        thread.start()
        return thread


def make_server(
    db: Path | str,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    kb: Knowledge | None = None,
    log: Callable[[str], None] | None = None,
    max_connections: int = MAX_CONNECTIONS,
    idle_seconds: float = IDLE_SECONDS,
) -> StoreServer:
    """A server for the store at ``db`` (which must exist); port 0 picks a free one."""
    db = Path(db)
    Store(db, read_only=True, kb=kb).close()  # fail now, with a clear message, if it is not a store
    return StoreServer(StoreApp(db, kb), host, port, log, max_connections=max_connections, idle_seconds=idle_seconds)


_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    b'{"error": "too many requests at once; try again"}'
)


# --- the page -----------------------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hsmap store</title>
<link rel="icon" href="data:,">
<style nonce="{{NONCE}}">
:root { --ink: #1d2733; --muted: #5b6673; --line: #d8dee6; --accent: #1565c0; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 12px 20px; display: flex;
         align-items: baseline; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
header .db { color: var(--muted); font-size: 12px; word-break: break-all; }
main { padding: 16px 20px; display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
h2 { font-size: 15px; margin: 0 0 10px; }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px 14px; }
label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 3px; }
select, input { font: inherit; padding: 5px 6px; border: 1px solid var(--line); border-radius: 4px; background: #fff;
                color: var(--ink); }
.years { display: flex; gap: 6px; } .years select { flex: 1; }
.actions { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
button, a.button { font: inherit; padding: 6px 12px; border-radius: 4px; border: 1px solid var(--accent);
                   background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button.plain { background: #fff; color: var(--accent); }
button:disabled { opacity: .45; cursor: default; }
#error { display: none; background: #fdecea; color: #8a1c12; border: 1px solid #f5c2bd; padding: 8px 12px;
         border-radius: 4px; }
#error.shown { display: block; }
.summary { color: var(--muted); margin: 0 0 8px; }
.table-wrap { overflow: auto; max-height: 70vh; border: 1px solid var(--line); border-radius: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
td.text { white-space: normal; min-width: 220px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead th { position: sticky; top: 0; background: #eef2f6; cursor: pointer; user-select: none; }
thead th[aria-sort="ascending"]::after { content: " \\25B2"; }
thead th[aria-sort="descending"]::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: #fafbfc; }
.pager { display: flex; gap: 10px; align-items: center; margin-top: 8px; flex-wrap: wrap; }
.pager label.inline { margin: 0; }
#results-title + .summary + .actions { margin-bottom: 8px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 14px; }
.chart h3 { font-size: 13px; margin: 0 0 4px; }
.chart .note { color: var(--muted); font-size: 12px; min-height: 1em; margin: 0 0 4px; }
.chart svg { width: 100%; max-width: 560px; height: auto; }
label.inline { display: inline-flex; flex-direction: row; align-items: center; gap: 6px; margin-bottom: 8px; }
.chart .bar { fill: var(--accent); }
.chart text { font-size: 11px; fill: var(--ink); }
.chart text.value { fill: var(--muted); }
</style>
</head>
<body>
<header><h1>hsmap store</h1><span class="db">{{DB}}</span><span id="loaded" class="db"></span></header>
<main>
<div id="error" role="alert"></div>
<section aria-labelledby="filters-title">
  <h2 id="filters-title">Filters</h2>
  <form class="filters" id="filters">
    <label>Data <select id="data" name="data">
      <option value="report">ATT annual reports</option><option value="customs">Customs lines</option></select></label>
    <label>Reporting State <select id="reporter" name="reporter"><option value="">any</option></select></label>
    <label>Partner <input id="partner" name="partner" list="partners" placeholder="any spelling, e.g. Ukraine">
      <datalist id="partners"></datalist></label>
    <label>Category <select id="category" name="category"><option value="">any</option></select></label>
    <label>Years <span class="years"><select id="year-from" aria-label="from year"><option value="">from</option>
      </select><select id="year-to" aria-label="to year"><option value="">to</option></select></span></label>
    <label>Flow <select id="flow" name="flow"><option value="">any</option></select></label>
    <label>Basis <select id="basis" name="basis"><option value="">any</option></select></label>
    <label>Text in description <input id="text" name="text" placeholder="e.g. howitzer"></label>
    <div class="actions"><button type="submit" id="apply">Apply</button>
      <button type="button" class="plain" id="reset-filters">Reset</button></div>
  </form>
</section>
<section aria-labelledby="results-title">
  <h2 id="results-title">Lines</h2>
  <p class="summary" id="summary">Loading …</p>
  <div class="actions">
    <a class="button" id="download-csv" href="#" download>Download CSV</a>
    <a class="button" id="download-xlsx" href="#" download>Download XLSX</a>
  </div>
  <div class="table-wrap"><table id="results"><thead></thead><tbody></tbody></table></div>
  <div class="pager">
    <button type="button" class="plain" id="prev">Previous</button>
    <span id="page-info"></span>
    <button type="button" class="plain" id="next">Next</button>
    <label class="inline">Rows per page <select id="page-size"></select></label>
  </div>
</section>
<section aria-labelledby="charts-title">
  <h2 id="charts-title">Totals</h2>
  <label class="inline">Measure <select id="metric"><option value="lines">lines</option>
    <option value="items">items</option><option value="value">value</option></select></label>
  <div class="charts">
    <div class="chart" id="chart-year"><h3>By year</h3><p class="note"></p><div class="plot"></div></div>
    <div class="chart" id="chart-category"><h3>By category</h3><p class="note"></p><div class="plot"></div></div>
    <div class="chart" id="chart-partner"><h3>By partner</h3><p class="note"></p><div class="plot"></div></div>
  </div>
</section>
</main>
<script nonce="{{NONCE}}">
"use strict";
const PAGE_SIZES = [25, 50, 100, 250];
const NUMERIC = new Set(["year", "month", "items", "value", "kg", "source_row", "source_id"]);
const TEXT = new Set(["description", "comments"]);
const state = { sort: null, desc: false, offset: 0, limit: 50, total: 0, busy: 0 };
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}
function fmt(value, column) {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "yes" : "";
  if (typeof value === "number" && column !== "year" && column !== "source_row" && column !== "source_id")
    return value.toLocaleString("en", { maximumFractionDigits: 2 });
  return String(value);
}
function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.classList.toggle("shown", Boolean(message));
}
async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}
function filterParams() {
  const params = new URLSearchParams();
  params.set("data", $("data").value);
  for (const name of ["reporter", "partner", "category", "flow", "basis", "text"]) {
    const value = $(name).value.trim();
    if (value && !$(name).disabled) params.set(name, value);
  }
  const from = $("year-from").value, to = $("year-to").value;
  if (from || to) params.set("year", (from || to) + "-" + (to || from));
  return params;
}
function fill(select, items, keep) {
  const first = select.options[0];
  select.replaceChildren(first);
  for (const [value, label] of items) select.append(new Option(label, value));
  if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
}
async function loadOptions() {
  const data = $("data").value;
  const options = await getJSON("/api/options?data=" + encodeURIComponent(data));
  fill($("reporter"), options.reporters.map(([k, n]) => [k, n && n !== k ? k + " – " + n : k]), $("reporter").value);
  $("partners").replaceChildren(...options.partners.map(([k, n]) => new Option(n && n !== k ? n : k, k)));
  fill($("category"), options.categories.map(([k, n, depth]) => [k, "\\u00a0".repeat(depth * 3) + k + " " + n]),
       $("category").value);
  const years = options.years.map((y) => [String(y), String(y)]);
  fill($("year-from"), years, $("year-from").value);
  fill($("year-to"), years, $("year-to").value);
  fill($("flow"), options.flows.map((f) => [f, f]), $("flow").value);
  fill($("basis"), options.bases.map((b) => [b, b]), $("basis").value);
  $("basis").disabled = data !== "report";
  $("loaded").textContent = options.total.toLocaleString("en") + " " + data + " lines stored";
}
function renderTable(result) {
  const head = $("results").tHead, body = $("results").tBodies[0];
  const row = document.createElement("tr");
  for (const column of result.columns) {
    const th = el("th", column, NUMERIC.has(column) ? "num" : "");
    th.dataset.column = column;
    th.scope = "col";
    if (result.sort === column) th.setAttribute("aria-sort", result.desc ? "descending" : "ascending");
    th.addEventListener("click", () => {
      if (state.sort === column) state.desc = !state.desc; else { state.sort = column; state.desc = false; }
      state.offset = 0;
      run(refreshTable);
    });
    row.append(th);
  }
  head.replaceChildren(row);
  body.replaceChildren(...result.rows.map((cells) => {
    const tr = document.createElement("tr");
    cells.forEach((value, i) => {
      const column = result.columns[i];
      tr.append(el("td", fmt(value, column), NUMERIC.has(column) ? "num" : TEXT.has(column) ? "text" : ""));
    });
    return tr;
  }));
  state.total = result.total;
  const first = result.total ? result.offset + 1 : 0;
  const last = Math.min(result.offset + result.limit, result.total);
  $("page-info").textContent = "rows " + first.toLocaleString("en") + "–" + last.toLocaleString("en") +
    " of " + result.total.toLocaleString("en");
  $("summary").textContent = result.total.toLocaleString("en") + " lines match the filters";
  $("prev").disabled = result.offset <= 0;
  $("next").disabled = last >= result.total;
}
async function refreshTable() {
  const params = filterParams();
  if (state.sort) params.set("sort", state.sort);
  if (state.desc) params.set("desc", "1");
  params.set("offset", String(state.offset));
  params.set("limit", String(state.limit));
  const download = filterParams();
  if (state.sort) download.set("sort", state.sort);
  if (state.desc) download.set("desc", "1");
  for (const kind of ["csv", "xlsx"]) {
    download.set("format", kind);
    $("download-" + kind).href = "/api/download?" + download.toString();
  }
  renderTable(await getJSON("/api/query?" + params.toString()));
}
function drawChart(box, series) {
  box.querySelector(".note").textContent = series.note || "";
  const plot = box.querySelector(".plot");
  const n = series.values.length;
  if (!n) { plot.replaceChildren(); return; }
  const labelWidth = 150, width = 460, barHeight = 18, gap = 4, valueWidth = 90;
  const height = n * (barHeight + gap) + gap;
  const max = Math.max(...series.values, 0) || 1;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", box.querySelector("h3").textContent + " (" + series.unit + ")");
  series.values.forEach((value, i) => {
    const y = gap + i * (barHeight + gap);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", labelWidth - 6); label.setAttribute("y", y + barHeight * 0.72);
    label.setAttribute("text-anchor", "end");
    const text = series.labels[i];
    label.textContent = text.length > 24 ? text.slice(0, 23) + "…" : text;
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("class", "bar");
    bar.setAttribute("x", labelWidth); bar.setAttribute("y", y); bar.setAttribute("height", barHeight);
    bar.setAttribute("width", Math.max(1, (width - labelWidth - valueWidth) * value / max));
    bar.dataset.key = series.keys[i];
    const title = document.createElementNS(SVG, "title");
    title.textContent = text + ": " + value.toLocaleString("en") + " " + series.unit;
    bar.append(title);
    const shown = document.createElementNS(SVG, "text");
    shown.setAttribute("class", "value");
    shown.setAttribute("x", width - valueWidth + 4); shown.setAttribute("y", y + barHeight * 0.72);
    shown.textContent = value.toLocaleString("en", { maximumFractionDigits: 0 }) +
      (series.unit && series.unit !== "lines" && series.unit !== "items" ? " " + series.unit : "");
    svg.append(label, bar, shown);
  });
  plot.replaceChildren(svg);
}
async function refreshCharts() {
  const metric = $("metric").value;
  await Promise.all(["year", "category", "partner"].map(async (dim) => {
    const params = filterParams();
    params.set("dim", dim);
    params.set("metric", metric);
    drawChart($("chart-" + dim), await getJSON("/api/chart?" + params.toString()));
  }));
}
async function run(task) {
  state.busy += 1;
  document.body.dataset.busy = "1";
  try { showError(""); await task(); }
  catch (error) { showError(error.message); }
  finally {
    state.busy -= 1;
    if (!state.busy) document.body.dataset.busy = "";
  }
}
function applyFilters() {
  state.offset = 0;
  return run(() => Promise.all([refreshTable(), refreshCharts()]));
}
function init() {
  const asked = Number(new URLSearchParams(location.search).get("limit"));
  if (Number.isInteger(asked) && asked > 0 && asked <= 1000) state.limit = asked;
  const sizes = PAGE_SIZES.includes(state.limit) ? PAGE_SIZES : [state.limit, ...PAGE_SIZES];
  for (const size of sizes) $("page-size").append(new Option(String(size), String(size)));
  $("page-size").value = String(state.limit);
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); applyFilters(); });
  for (const id of ["reporter", "category", "year-from", "year-to", "flow", "basis"])
    $(id).addEventListener("change", applyFilters);
  $("data").addEventListener("change", () => {
    state.sort = null; state.desc = false;
    run(async () => { await loadOptions(); await Promise.all([refreshTable(), refreshCharts()]); });
  });
  $("reset-filters").addEventListener("click", () => {
    $("filters").reset();
    state.sort = null; state.desc = false;
    run(async () => { await loadOptions(); await applyFilters(); });
  });
  $("metric").addEventListener("change", () => run(refreshCharts));
  $("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit); run(refreshTable);
  });
  $("next").addEventListener("click", () => {
    if (state.offset + state.limit < state.total) state.offset += state.limit;
    run(refreshTable);
  });
  $("page-size").addEventListener("change", () => {
    state.limit = Number($("page-size").value); state.offset = 0; run(refreshTable);
  });
  run(async () => { await loadOptions(); await Promise.all([refreshTable(), refreshCharts()]); });
}
init();
</script>
</body>
</html>
"""
