"""Loopback web sites for the offline demo and the pipeline benchmark.

Each site is a real HTTP server on its own 127.x address (so per-host politeness limits apply as on
the internet). Pages are fixed bytes; conditional GETs (If-None-Match / If-Modified-Since) get 304,
the way well-behaved publishers answer, and an optional per-request latency stands in for the
internet's round trips.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the benchmark opens many connections at once


def loopback_hosts(n: int) -> list[str]:
    """n distinct loopback addresses (127.0.0.1, .2, ...); where only 127.0.0.1 binds, it is reused."""
    hosts = []
    for i in range(1, n + 1):
        host = f"127.0.0.{i}"
        try:
            with socket.socket() as s:
                s.bind((host, 0))
        except OSError:
            host = "127.0.0.1"
        hosts.append(host)
    return hosts


class LoopbackSites:
    """One HTTP server per host; `set_pages(i, {path: Page})` once the base URLs are known."""

    def __init__(self, hosts: list[str], latency_s: float = 0.0, port: int = 0):
        self.latency_s = latency_s
        self.last_modified = formatdate(time.time() - 3600, usegmt=True)
        self._pages: list[dict[str, Page]] = [{} for _ in hosts]
        self._requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._servers = [self._make_server(i, host, port) for i, host in enumerate(hosts)]
        self._threads: list[threading.Thread] = []

    def base_url(self, i: int) -> str:
        host, port = self._servers[i].server_address[:2]
        return f"http://{host}:{port}"

    def set_pages(self, i: int, pages: dict[str, Page]) -> None:
        self._pages[i] = dict(pages)

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """(host:port, path, headers) of every request served so far."""
        with self._lock:
            return list(self._requests)

    def _make_server(self, index: int, host: str, port: int) -> _Server:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm on, the client's delayed ACK
            # holds the body back ~40 ms per request on keep-alive connections (no real server does that).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with outer._lock:
                    outer._requests.append((self.headers.get("Host", ""), self.path, dict(self.headers)))
                if outer.latency_s:
                    time.sleep(outer.latency_s)
                page = outer._pages[index].get(self.path.split("?", 1)[0])
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(page)

            def _answer(self, page: Page | None) -> None:
                if page is None:
                    self._send(404, b"pagina non trovata", {"Content-Type": "text/plain; charset=utf-8"})
                    return
                headers = {
                    "Content-Type": page.content_type,
                    "ETag": page.etag,
                    "Last-Modified": outer.last_modified,
                }
                if self._not_modified(page):
                    self._send(304, b"", headers)
                else:
                    self._send(200, page.body, headers)

            def _not_modified(self, page: Page) -> bool:
                inm = self.headers.get("If-None-Match")
                if inm is not None:
                    return page.etag in [t.strip() for t in inm.split(",")]
                ims = self.headers.get("If-Modified-Since")
                if ims:
                    try:
                        return parsedate_to_datetime(ims) >= parsedate_to_datetime(outer.last_modified)
                    except (TypeError, ValueError):
                        return False
                return False

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        if port:
            try:  # a stable port keeps URLs (article identities) the same from one demo run to the next
                return _Server((host, port), Handler)
            except OSError:
                log.info("port %d on %s is taken; using a free one", port, host)
        return _Server((host, 0), Handler)

    def __enter__(self) -> LoopbackSites:
        for server in self._servers:
            t = threading.Thread(target=server.serve_forever, daemon=True, name="loopback-site")
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
