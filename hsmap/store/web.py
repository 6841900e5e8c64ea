"""A local web page over the store: filters, a sortable paged table, totals charts, downloads and the mirror
comparison (exporters' reports against importers' reports).

One self-contained HTML page (the template ``hsmap/templates/store.html.j2``: inline CSS and script, no CDN, no
web font; the filters are kept in the address, so a page can be reloaded or shared) and a small JSON API served by the
standard library's :class:`~http.server.ThreadingHTTPServer`, bound to 127.0.0.1 unless told otherwise. Each
request opens the store read-only and closes it again, so ``hsmap store load`` can add files while the page is
being served. Defences for a server on a shared machine: only GET, a ``Host`` check against DNS rebinding when
bound to loopback, a Content-Security-Policy with a per-page nonce, data shown with ``textContent`` (never as
HTML), and downloads neutralised against spreadsheet formulas.

API (every filter of :meth:`hsmap.store.Filters.parse` as a query parameter, plus ``data=report|customs``):
``/api/options``, ``/api/query`` (``sort``, ``desc``, ``offset``, ``limit``; ``unknown_partners`` lists the
partners typed that hsmap cannot identify and no stored line names), ``/api/chart`` (``dim`` =
year/category/partner, ``metric`` = lines/items/value), ``/api/download`` (``format`` = csv/xlsx) and
``/api/mirror`` (``exporter``, ``importer``, ``category``, ``year``, ``status``, ``offset``, ``limit``: the
filters of :meth:`hsmap.store.Store.mirror`).
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
from hsmap.render.html import render_page
from hsmap.spreadsheet import neutralise_formulas
from hsmap.store.database import Store
from hsmap.store.errors import StoreError
from hsmap.store.filters import Filters, split_values, state_keys
from hsmap.store.mirror import MirrorSelection
from hsmap.store.names import country_name
from hsmap.store.output import write_xlsx
from hsmap.store.query import QUERY_COLUMNS
from hsmap.store.schema import DATA, MIRROR_STATUSES, Data

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
_MIRROR_FILTER_NAMES = ("exporter", "importer", "category", "year", "status")
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
# the page's column headers; a column not named here is shown as its name in words ("nil_report" → "Nil report")
COLUMN_LABELS = {
    "reporter_iso3": "Reporting State",
    "reporting_state": "Reporting State as written",
    "partner_key": "Partner (identified)",
    "partner": "Partner as written",
    "partner_status": "Partner status",
    "hs6": "HS code",
    "kg": "Kilograms",
    "state_of_origin": "State of origin",
    "source_row": "Row in file",
    "source_id": "Source no.",
    "exporter_name": "Exporter",
    "importer_name": "Importer",
    "side": "Reported by",
    "export_items": "Export items",
    "import_items": "Import items",
    "export_value": "Export value",
    "export_currency": "Export currency",
    "import_value": "Import value",
    "import_currency": "Import currency",
    "items_rel_diff": "Items Δ",
    "value_rel_diff": "Value Δ",
}
# the mirror comparison's columns on the page (every column is in `hsmap store mirror -o`)
MIRROR_SHOWN = (
    "status",
    "side",
    "year",
    "exporter_name",
    "importer_name",
    "category",
    "export_items",
    "import_items",
    "items_rel_diff",
    "export_value",
    "export_currency",
    "import_value",
    "import_currency",
    "value_rel_diff",
    "gaps",
    "explanation",
)


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
        self._mirror: tuple[tuple[int, int, int], pd.DataFrame] | None = None  # (the file's version, comparison)
        self._mirror_lock = threading.Lock()

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
            "/api/mirror": self.mirror,
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
        _check_lengths(query, _FILTER_NAMES)
        return Filters.parse(kb=self.kb, **{name: query.get(name) for name in _FILTER_NAMES})

    # endpoints -----------------------------------------------------------------------------------------
    def page(self, query: dict[str, str]) -> Response:
        nonce = secrets.token_urlsafe(16)
        html = render_page(
            "store.html.j2",
            nonce=nonce,
            db=str(self.db),
            page_sizes=PAGE_SIZES,
            labels=COLUMN_LABELS,
            mirror_statuses=MIRROR_STATUSES,
        )
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
        offset, limit = _window(query)
        sort = query.get("sort") or None
        descending = query.get("desc", "") in ("1", "true", "yes")
        with self.open() as store:
            total = store.count(filters, data=data)
            frame = store.query(filters, data=data, order_by=sort, descending=descending, limit=limit, offset=offset)
            unknown = _unknown_partners(store, query.get("partner"), data)
        return _json(
            {
                "columns": list(frame.columns),
                "rows": _records(frame),
                "total": total,
                "offset": offset,
                "limit": limit,
                "sort": sort,
                "desc": descending,
                "unknown_partners": unknown,
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

    def mirror(self, query: dict[str, str]) -> Response:
        """A page of :meth:`Store.mirror` under the mirror's filters; ``statuses`` counts the selection."""
        offset, limit = _window(query)
        _check_lengths(query, _MIRROR_FILTER_NAMES)
        selection = MirrorSelection.of(
            self.kb,
            exporter=query.get("exporter"),
            importer=query.get("importer"),
            category=query.get("category"),
            year=query.get("year"),
            status=query.get("status"),
        )
        table = selection.rows_of(self._whole_mirror())
        statuses = table["status"].value_counts()
        return _json(
            {
                "columns": list(MIRROR_SHOWN),
                "rows": _records(table.loc[:, list(MIRROR_SHOWN)].iloc[offset : offset + limit]),
                "total": len(table),
                "offset": offset,
                "limit": limit,
                "statuses": {status: int(statuses[status]) for status in MIRROR_STATUSES if status in statuses},
            }
        )

    def _whole_mirror(self) -> pd.DataFrame:
        """The whole mirror comparison of the store as it is on disk, computed once per version of the file
        (``store load`` and ``store remove`` put a new file in place): on a store of 200,000 report lines it
        takes about 20 s, and every change of the page's mirror filters or page would pay it again."""
        with self._mirror_lock:  # one request computes it; the others wait for it rather than compute it too
            if not self.db.is_file():
                self.open().close()  # says what is wrong, as every other request does
            found = self.db.stat()
            version = (found.st_ino, found.st_mtime_ns, found.st_size)
            if self._mirror is None or self._mirror[0] != version:
                with self.open() as store:  # opened after its version was read: never older than that version
                    self._mirror = (version, store.mirror())
            return self._mirror[1]


def _unknown_partners(store: Store, typed: str | None, data: Data) -> list[str]:
    """The partners typed that hsmap cannot identify as a State and no stored line names (a misspelling, or a
    place that is not a State, such as "Narnia"): the page says so instead of showing 0 lines."""
    values = split_values(typed)
    unknown = [(value, key) for value, key in zip(values, state_keys(values), strict=True) if key.startswith("?")]
    return [value for value, key in unknown if store.count(Filters(partner=(key,)), data=data) == 0]


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


def _window(query: dict[str, str]) -> tuple[int, int]:
    """The rows a table page asks for: ``offset`` and ``limit`` (1 to :data:`MAX_PAGE`, 50 unless given)."""
    limit = min(max(_int(query.get("limit"), 50), 1), MAX_PAGE)
    offset = _int(query.get("offset"), 0)
    if not 0 <= offset <= MAX_OFFSET:
        raise StoreError(f"offset {offset} is not between 0 and {MAX_OFFSET}")
    return offset, limit


def _check_lengths(query: dict[str, str], names: tuple[str, ...]) -> None:
    """Refuse a filter listing more values than any honest question needs (each one costs the query)."""
    for name in names:
        if len(split_values(query.get(name))) > MAX_FILTER_VALUES:
            raise StoreError(f"{name}: more than {MAX_FILTER_VALUES} values in one filter")


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        raise StoreError(f"{text!r} is not a whole number") from None


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
