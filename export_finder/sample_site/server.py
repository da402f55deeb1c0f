"""Serve the generated sample sites on 127.0.0.1, one port per site.

Why a small subclass of ``SimpleHTTPRequestHandler`` rather than nginx: tests and the demo must
start real HTTP servers with nothing but the standard library, on free loopback ports, in
background threads. The subclass speaks HTTP/1.1 (keep-alive, as real sites do), logs nothing,
sends ``application/xml`` for sitemaps, and rewrites the placeholder origin that robots.txt and
the sitemaps carry (``http://member-directory.invalid``) into the origin being served, so the
files on disk stay the same whatever port they are served on.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path

from . import SITES
from .render import DIRECTORY_PLACEHOLDER, MARKET_PLACEHOLDER

PLACEHOLDERS = {"member_directory": DIRECTORY_PLACEHOLDER, "ppe_marketplace": MARKET_PLACEHOLDER}


class SampleSiteHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    placeholder = ""
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".xml": "application/xml",
        ".txt": "text/plain; charset=utf-8",
        ".css": "text/css",
        ".html": "text/html",  # the page's own <meta charset> declares utf-8 or windows-1252
    }

    def log_message(self, format, *args):  # noqa: A002 - quiet: tests and crawls make thousands of requests
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if self.placeholder and (path.endswith(".xml") or path.endswith("robots.txt")) and Path(path).is_file():
            host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
            body = Path(path).read_bytes().replace(self.placeholder.encode(), f"http://{host}".encode())
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return _BytesFile(body)
        return super().send_head()


class _BytesFile:
    """The file-like object ``send_head`` returns, for a rewritten body."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, *_):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


def _server(root: Path, placeholder: str, port: int) -> http.server.ThreadingHTTPServer:
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist: run export-finder sample-site first")
    handler = type("Handler", (SampleSiteHandler,), {"placeholder": placeholder})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(root)))
    httpd.daemon_threads = True
    return httpd


@contextlib.contextmanager
def serving(out_dir, port: int = 0):
    """Serve both sites in background threads; yield {"member_directory": url, "ppe_marketplace": url}."""
    out = Path(out_dir)
    servers, threads = [], []
    try:
        for n, site in enumerate(SITES):
            httpd = _server(out / site, PLACEHOLDERS[site], port + n if port else 0)
            servers.append(httpd)
            t = threading.Thread(target=httpd.serve_forever, name=f"sample-site-{site}", daemon=True)
            t.start()
            threads.append(t)
        yield {site: f"http://127.0.0.1:{s.server_address[1]}" for site, s in zip(SITES, servers)}
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
        for t in threads:
            t.join(timeout=5)


def serve_forever(out_dir, port: int = 0) -> None:
    """Print both URLs and serve until interrupted (port given: P and P+1)."""
    with serving(out_dir, port=port) as urls:
        for site, url in urls.items():
            print(f"{site}: {url}/", flush=True)
        print("Serving on 127.0.0.1; press Ctrl+C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
