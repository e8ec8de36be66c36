"""Hostile-web benchmark: one `dealradar run` with the default fetch settings against one good feed among
broken ones, and hostile pages linked from a feed. Prints the run's wall time and whether every good
article was stored.

    .venv/bin/python benchmarks/hostile.py

The web (in its own process, on loopback):
- 127.0.0.1: a good Italian news site (the demo's first site: feed + article pages);
- 127.0.0.2: feeds that hang (accept, never answer), answer 500, serve HTML, redirect in a loop, and a
  malformed feed whose entries link to a page that trickles one byte a second, a 50 MB page, a gzip bomb
  and a 410.

The only setting changed from the defaults is `allow_private_addresses` (the sites are on loopback).
Issue 13's target: the run ends in < 120 s with every good article stored.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
import zlib
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1 << 20


def _gzip_bomb(megabytes: int = 1100) -> bytes:
    """Valid gzip of ~1 MB inflating to `megabytes` MiB of zeros."""
    block = bytes(MB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)]
    repeat = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    out.extend([repeat] * (megabytes - 1))
    out.append(compressor.flush())
    return b"".join(out)


def _hostile_routes(base: str) -> dict[str, Any]:
    items = "".join(
        f"<item><title>Pagina ostile {name}</title><link>{base}/{name}</link>"
        f"<pubDate>{formatdate(time.time() - 3600)}</pubDate></item>"
        for name in ("trickle", "big", "bomb", "gone")
    )
    malformed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Rotto & malformato</title>'
        f"{items}<item><title>tronc"
    ).encode()
    html = b"<!doctype html><html><head><title>Non un feed</title></head><body><p>ciao</p></body></html>"
    return {
        "/robots.txt": (404, {}, b""),
        "/hang.xml": "hang",
        "/500.xml": (500, {"Content-Type": "text/plain"}, b"Internal Server Error"),
        "/html.xml": (200, {"Content-Type": "text/html"}, html),
        "/loop-a.xml": (302, {"Location": "/loop-b.xml"}, b""),
        "/loop-b.xml": (302, {"Location": "/loop-a.xml"}, b""),
        "/malformed.xml": (200, {"Content-Type": "application/rss+xml"}, malformed),
        "/trickle": "trickle",
        "/big": "big",
        "/bomb": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, _gzip_bomb()),
        "/gone": (410, {"Content-Type": "text/plain"}, b"gone"),
    }


def _handler(routes: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            route = routes.get(self.path.split("?", 1)[0])
            try:
                if route is None:
                    self._send(404, {}, b"not found")
                elif route == "hang":
                    time.sleep(3600)
                elif route == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(100000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(1)
                elif route == "big":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    chunk = b"<p>" + b"riempitivo " * 5950 + b"</p>\n"
                    for _ in range(50 * MB // len(chunk)):
                        self.wfile.write(chunk)
                    self.close_connection = True
                else:
                    self._send(*route)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def _serve(conn: Any) -> None:
    import threading

    from flows.demo_pages import load_sites, render_site

    good = _Server(("127.0.0.1", 0), _handler({}))
    good_base = f"http://127.0.0.1:{good.server_address[1]}"
    site = load_sites()[0]
    pages = render_site(site, good_base)
    good.RequestHandlerClass = _handler(
        {path: (200, {"Content-Type": page.content_type}, page.body) for path, page in pages.items()}
    )
    bad = _Server(("127.0.0.2", 0), _handler({}))
    bad_base = f"http://127.0.0.2:{bad.server_address[1]}"
    bad.RequestHandlerClass = _handler(_hostile_routes(bad_base))
    for server in (good, bad):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    feeds = [{"name": "Buono", "url": good_base + site["feed_path"]}] + [
        {"name": name, "url": bad_base + path}
        for name, path in [("Appeso", "/hang.xml"), ("Errore", "/500.xml"), ("Pagina", "/html.xml"),
                           ("Giro", "/loop-a.xml"), ("Malformato", "/malformed.xml")]
    ]  # fmt: skip
    conn.send((feeds, len(site["articles"])))
    conn.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the warehouse folder and print its path")
    args = parser.parse_args()
    parent, child = mp.get_context("spawn").Pipe()
    web = mp.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    web.start()
    feeds, n_good = parent.recv()
    folder = Path(tempfile.mkdtemp(prefix="dealradar-hostile-"))
    config = {
        "feeds": feeds,
        "warehouse": {"path": "dealradar.duckdb", "parquet_dir": None},
        "fetch": {"allow_private_addresses": True},  # loopback sites; every other fetch setting is default
        "alerts": {"urls": []},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    print(f"web: 1 good feed ({n_good} articles), 5 broken feeds, 4 hostile pages; default fetch settings")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--config", str(path)], cwd=ROOT,
                          env=env, capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - started
    parent.send("done")
    web.join(timeout=5)
    con = duckdb.connect(str(folder / "dealradar.duckdb"), read_only=True)
    stored = con.execute("SELECT count(*) FROM articles WHERE feed_name = 'Buono'").fetchone()[0]
    con.close()
    print(done.stdout.strip())
    if done.returncode:
        print(done.stderr.strip()[-2000:])
    print(f"wall time:   {wall:6.1f} s for `dealradar run` (target < 120 s), exit code {done.returncode}")
    print(f"good feed:   {stored}/{n_good} articles stored")
    print(f"warehouse:   {folder}" if args.keep else "")


if __name__ == "__main__":
    main()
