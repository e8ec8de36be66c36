"""A real HTTP server on a loopback address, with routes a test defines.

Every test that needs "the web" starts one of these: the code under test talks real HTTP over
127.x, so timeouts, redirects, compression and size caps are exercised for real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[BaseHTTPRequestHandler], Response | None]
Route = Response | Handler


class LoopbackServer:
    """Serves `routes` (path -> Response or handler) on host:port; records every request.

    A handler may write the response itself (for trickling or hanging) and return None.
    """

    def __init__(self, routes: dict[str, Route] | None = None, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

            def _serve(self) -> None:
                with outer._lock:
                    outer.requests.append((self.command, self.path, dict(self.headers.items())))
                route = outer.routes.get(self.path) or outer.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    resp: Response | None = Response(404, b"not found", {"Content-Type": "text/plain"})
                elif isinstance(route, Response):
                    resp = route
                else:
                    resp = route(self)
                if resp is None:
                    return
                try:
                    self.send_response(resp.status)
                    headers = {"Content-Length": str(len(resp.body)), **resp.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(resp.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _serve
            do_HEAD = _serve
            do_POST = _serve

        class _Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                # Clients that hang up mid-body (size caps, timeouts) are expected here, not errors.
                pass

        self.httpd = _Server((host, port), _Handler)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def paths_requested(self) -> list[str]:
        with self._lock:
            return [p for _, p, _ in self.requests]

    def reset(self, routes: dict[str, Route] | None = None) -> None:
        """Forget recorded requests (and optionally replace the routes) so one server serves many tests."""
        with self._lock:
            self.requests.clear()
            if routes is not None:
                self.routes = dict(routes)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(server: LoopbackServer, routes: dict[str, Route]) -> LoopbackServer:
    """Add routes to a running server (tests chain it: `serve(web, {...}).url("/feed")`)."""
    server.routes.update(routes)
    return server
