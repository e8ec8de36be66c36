"""The fetch stages as one loop (extractors/crawl.py) against real loopback servers, and the backlog of
deferred entries in a real DuckDB file (warehouse/pending.py).

What a user notices: a hanging feed or a trickling page never holds back the good pages; a run stops
fetching at its deadline and keeps what it fetched; nothing the run could not fetch is dropped without a
count, and it is fetched by a later run.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from support.server import LoopbackServer, Response

from extractors.crawl import crawl
from extractors.models import DeferredEntry, FeedEntry, FeedSource
from extractors.settings import FetchSettings
from warehouse.db import open_warehouse
from warehouse.pending import load_pending, save_pending

ARTICLE = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    + "<p>Alfa Software ha annunciato l'acquisizione di Beta Cloud per dieci milioni di euro, con "
    "l'obiettivo di crescere in Italia e in Europa nei prossimi anni.</p>" * 4
    + "</article></body></html>"
)


def settings(**overrides: object) -> FetchSettings:
    base: dict[str, object] = {
        "allow_private_addresses": True, "connect_timeout_s": 1, "read_timeout_s": 1.5,
        "total_timeout_s": 2, "retries": 2, "retry_backoff_s": 0.1,
    }  # fmt: skip
    return FetchSettings(**{**base, **overrides})  # type: ignore[arg-type]


def page(title: str) -> Response:
    return Response(200, ARTICLE.format(title=title).encode(), {"Content-Type": "text/html"})


def rss(base: str, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Notizia {p}</title><link>{base}{p}</link>"
        f"<pubDate>{(datetime.now(UTC) - timedelta(minutes=i)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        "</pubDate></item>"
        for i, p in enumerate(paths)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}'
            "</channel></rss>").encode()  # fmt: skip


class Stamps:
    """When each path was requested (monotonic clock), across servers."""

    def __init__(self) -> None:
        self.at: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wrap(self, route: Response | object) -> object:
        def handle(request: BaseHTTPRequestHandler) -> Response | None:
            with self._lock:
                self.at.setdefault(request.path, []).append(time.monotonic())
            return route if isinstance(route, Response) else route(request)  # type: ignore[operator]

        return handle


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # lets hanging handler threads end


def hang(release: threading.Event):  # type: ignore[no-untyped-def]
    def handler(request: BaseHTTPRequestHandler) -> None:
        release.wait(30)

    return handler


def trickle(release: threading.Event):  # type: ignore[no-untyped-def]
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", "1000")
        request.end_headers()
        try:
            for _ in range(1000):
                request.wfile.write(b"x")
                request.wfile.flush()
                if release.wait(0.5):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass

    return handler


def run(sources: list[FeedSource], fetch: FetchSettings, pending: list[FeedEntry] | None = None,
        known: set[str] | None = None):  # type: ignore[no-untyped-def]  # fmt: skip
    return asyncio.run(crawl(sources, {}, fetch, known=lambda urls: set(urls) & (known or set()),
                             pending=pending or []))  # fmt: skip


def test_a_hanging_feed_holds_back_no_page_and_a_trickling_page_is_tried_once(
    release: threading.Event,
) -> None:
    stamps = Stamps()
    with LoopbackServer(host="127.0.0.1") as good, LoopbackServer(host="127.0.0.3") as bad:
        good_pages = ["/a", "/b", "/c"]
        good.routes.update({p: stamps.wrap(page(p)) for p in good_pages})
        good.routes["/trickle"] = stamps.wrap(trickle(release))
        good.routes["/feed"] = stamps.wrap(Response(200, rss(good.url(""), [*good_pages, "/trickle"])))
        bad.routes["/hang"] = stamps.wrap(hang(release))
        # The hanging feed comes first in the config, as it did in the night that took 268 s.
        sources = [FeedSource("appeso", bad.url("/hang")), FeedSource("buono", good.url("/feed"))]
        started = time.monotonic()
        result = run(sources, settings())
        elapsed = time.monotonic() - started

    hung, fine = result.feeds
    assert hung.status == "failed" and len(stamps.at["/hang"]) == 3  # tried three times (read timeouts)
    assert fine.status == "fetched"
    # Every good page was fetched while the hanging feed was still on its first try.
    first_hang = stamps.at["/hang"][0]
    assert all(stamps.at[p][0] < first_hang + 1.5 for p in good_pages)
    assert sorted(a.url for a in result.articles) == [good.url(p) for p in good_pages]
    assert all(a.extraction == "page" for a in result.articles)
    # The trickling page used its whole 2 s budget once and was left for the next run, not retried.
    assert len(stamps.at["/trickle"]) == 1
    assert result.deferred_counts() == {"fetch_failed:time_budget": 1} and fine.deferred == 1
    # The night lasted as long as its slowest feed (3 x 1.5 s + back-off), not the sum of the waits.
    assert elapsed < 3 * 1.5 + 0.3 + 2


def test_the_run_deadline_stops_fetching_and_keeps_what_was_fetched(release: threading.Event) -> None:
    with LoopbackServer(host="127.0.0.1") as good, LoopbackServer(host="127.0.0.3") as bad:
        good.routes.update({p: page(p) for p in ("/a", "/b")})
        good.routes["/slow"] = hang(release)
        good.routes["/feed"] = Response(200, rss(good.url(""), ["/a", "/b", "/slow"]))
        bad.routes["/hang"] = hang(release)
        sources = [FeedSource("buono", good.url("/feed")), FeedSource("appeso", bad.url("/hang"))]
        started = time.monotonic()
        result = run(sources, settings(read_timeout_s=20, total_timeout_s=30, run_deadline_s=1.5))
        elapsed = time.monotonic() - started

    assert 1.5 <= elapsed < 3.5 and result.deadline_reached
    fine, hung = result.feeds
    assert fine.status == "fetched" and fine.deferred == 1
    assert hung.status == "failed" and "deadline" in (hung.error or "")
    assert sorted(a.url for a in result.articles) == [good.url("/a"), good.url("/b")]
    assert [(d.entry.url, d.reason) for d in result.deferred] == [(good.url("/slow"), "run_deadline")]


def test_entries_deferred_earlier_are_fetched_even_when_their_feed_is_down() -> None:
    with LoopbackServer(host="127.0.0.1") as site:
        site.routes["/feed"] = Response(500, b"down")
        site.routes["/old"] = page("/old")
        entry = FeedEntry("sito", site.url("/feed"), site.url("/old"), site.url("/old"), title="Notizia old")
        result = run([FeedSource("sito", site.url("/feed"))], settings(retries=0), pending=[entry])
    assert result.feeds[0].status == "failed"
    assert [a.url for a in result.articles] == [site.url("/old")] and result.deferred == []


def test_known_urls_are_not_fetched_and_a_link_in_two_feeds_is_fetched_once() -> None:
    with LoopbackServer(host="127.0.0.1") as site:
        for p in ("/a", "/b", "/c"):
            site.routes[p] = page(p)
        site.routes["/one"] = Response(200, rss(site.url(""), ["/a", "/b"]))
        site.routes["/two"] = Response(200, rss(site.url(""), ["/b", "/c"]))
        sources = [FeedSource("uno", site.url("/one")), FeedSource("due", site.url("/two"))]
        result = run(sources, settings(), known={site.url("/a")})
        pages = [p for p in site.paths_requested() if p in ("/a", "/b", "/c")]
    assert sorted(pages) == ["/b", "/c"]
    assert result.seen == {site.url("/a")} and result.skipped["duplicate_in_run"] == 1


# ------------------------------------------------------------------------------------- the backlog


def entry(url: str, published: datetime | None) -> FeedEntry:
    return FeedEntry("feed", "http://f.example/rss", url, url, title=f"titolo {url}", summary="riassunto",
                     published=published)  # fmt: skip


def test_the_backlog_keeps_deferred_entries_until_stored_or_too_old(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    fresh = entry("http://e.it/fresh", now - timedelta(hours=1))
    undated = entry("http://e.it/undated", None)
    old = entry("http://e.it/old", now - timedelta(days=3))
    con = open_warehouse(tmp_path / "w.duckdb")
    try:
        deferred = [DeferredEntry(e, "over_max_entries") for e in (fresh, undated, old)]
        assert save_pending(con, "run1", deferred, resolved=[]) == 3
        # Deferred again in a second run, and one of them stored by it.
        assert save_pending(con, "run2", deferred[:2], resolved=[old.url]) == 2
        rows = con.execute("SELECT url, deferrals, run_id FROM pending_entries ORDER BY url").fetchall()
        assert rows == [(fresh.url, 2, "run2"), (undated.url, 2, "run2")]

        loaded, expired = load_pending(con, horizon_days=14)
        assert [e.url for e in loaded] == [undated.url, fresh.url] and expired == 0  # newest first
        assert loaded[1] == fresh  # every field back as it was (the feed's text is the page's fallback)

        save_pending(con, "run3", [DeferredEntry(old, "run_deadline")], resolved=[])
        loaded, expired = load_pending(con, horizon_days=2)  # the 3-day-old entry is past the horizon
        assert expired == 1 and old.url not in {e.url for e in loaded}
        assert con.execute("SELECT count(*) FROM pending_entries").fetchone()[0] == 2
    finally:
        con.close()
