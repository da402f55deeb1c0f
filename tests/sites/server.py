"""A loopback HTTP server for crawler tests: static files plus the bad inputs a crawl must survive.

Static files come from a folder (``/x`` also finds ``x.html``; files under ``/legacy/`` are sent
as ``text/html`` with no charset, like old CMS sites). Routes under ``/bad/`` misbehave on
purpose: HTTP errors, a slow page, a truncated body, an oversized page, redirect loops, a 429
that passes on retry. ``/calendar`` is an infinite month-by-month link trap.
Runs in a thread of the test process; the crawl itself runs in a child process.
"""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SITES = Path(__file__).resolve().parent


def _month_after(month: str, step: int) -> str:
    year, mon = (int(x) for x in month.split("-"))
    index = year * 12 + (mon - 1) + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class Handler(BaseHTTPRequestHandler):
    root: Path = SITES / "chamber"
    hits: dict[str, int] = {}
    lock = threading.Lock()
    slow_seconds = 3.0

    def log_message(self, *args):  # quiet tests
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        with self.lock:
            self.hits[self.path] = self.hits.get(self.path, 0) + 1
            hits = self.hits[self.path]
            self.times.append((time.monotonic(), self.path))
        if path.startswith("/bad/"):
            return self.bad(path[5:], query, hits)
        if path == "/calendar":
            month = (query.get("month") or ["2026-11"])[0]
            body = (f"<html><body><h1>Events in {month}</h1><p>No events this month.</p>"
                    f"<a href='/calendar?month={_month_after(month, -1)}'>previous</a> "
                    f"<a href='/calendar?month={_month_after(month, 1)}'>next</a></body></html>").encode()
            return self._send(200, body)
        target = (self.root / path.lstrip("/")).resolve()
        if self.root.resolve() not in target.parents and target != self.root.resolve():
            return self._send(404, b"not found")
        if target.is_dir():
            target = target / "index.html"
        if not target.exists() and target.with_suffix(target.suffix + ".html").exists():
            target = target.with_suffix(target.suffix + ".html")
        if not target.is_file():
            return self._send(404, b"<html><body>not found</body></html>")
        data = target.read_bytes()
        if target.suffix in (".xml", ".txt"):
            data = data.replace(b"{BASE}", f"http://{self.headers.get('Host')}".encode())
        if target.suffix == ".xml":
            ctype = "application/xml"
        elif target.suffix == ".txt":
            ctype = "text/plain"
        elif "legacy" in target.parts:
            ctype = "text/html"
        else:
            ctype = "text/html; charset=utf-8"
        self._send(200, data, ctype)

    def bad(self, name: str, query, hits: int):
        org = ('<script type="application/ld+json">{"@type": "LocalBusiness", "name": "%s", '
               '"telephone": "(209) 555-0147", "address": {"@type": "PostalAddress", "streetAddress": "1 Test Way", '
               '"addressLocality": "Modesto", "addressRegion": "CA", "postalCode": "95354"}}</script>')
        if name == "404":
            return self._send(404, b"<html><body>gone</body></html>")
        if name == "500":
            return self._send(500, b"<html><body>oops</body></html>")
        if name == "429":  # too many requests once, then fine: a retry must get the listing
            if hits == 1:
                return self._send(429, b"slow down", headers={"Retry-After": "0"})
            return self._send(200, f"<html><head>{org % 'Patient Retry Supply'}</head><body>ok</body></html>".encode())
        if name == "slow":
            time.sleep(self.slow_seconds)
            return self._send(200, b"<html><body>late</body></html>")
        if name == "truncated":  # promises more bytes than it sends, then hangs up
            body = f"<html><head>{org % 'Half Page Fabrication'}</head><body><h1>Half Page Fabrication</h1><p>We make".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body) + 5000))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        if name == "huge":
            body = b"<html><body>" + b"<p>filler paragraph of a page that never ends</p>" * 120_000 + b"</body></html>"
            return self._send(200, body)
        if name == "loop":
            n = int((query.get("n") or ["0"])[0])
            return self._send(302, b"", headers={"Location": f"/bad/loop?n={n + 1}"})
        if name == "ping":
            return self._send(302, b"", headers={"Location": "/bad/pong"})
        if name == "pong":
            return self._send(302, b"", headers={"Location": "/bad/ping"})
        return self._send(404, b"no such bad page")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A crawler hanging up on a slow or huge page is expected here, not an error."""


@contextlib.contextmanager
def serving(root: Path | str = SITES / "chamber", slow_seconds: float = 3.0, host: str = "127.0.0.1", times=None):
    """Serve ``root`` on a free port of ``host``; yield its base URL and the hit counter.

    ``times``, a list, receives (monotonic time, path) for every request."""
    handler = type("SiteHandler", (Handler,), {"root": Path(root), "hits": {}, "slow_seconds": slow_seconds,
                                               "times": times if times is not None else []})
    server = _QuietServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", handler.hits
    finally:
        server.shutdown()
        server.server_close()
