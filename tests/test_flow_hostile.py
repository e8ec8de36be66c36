"""A night on the hostile web through the real flow (Prefect test harness, loopback sites, a DuckDB file).

What a user sees: a hanging feed and a trickling page no longer make the night wait for them one after
the other; every good article is stored; what could not be fetched is counted in the summary, waits in
`pending_entries` and is stored by the next run; each failure is logged once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fixtures.flow.sites import serve_demo_site, write_config
from support.db import rows
from support.server import LoopbackServer, Response

from flows.nightly import nightly
from flows.report import format_summary

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

READ_S, BUDGET_S, RETRIES = 2.0, 3.0, 2


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # lets hanging handler threads end


def stamped(server: LoopbackServer, stamps: dict[str, float]) -> LoopbackServer:
    """Records when each path of `server` was first requested."""
    for path, route in list(server.routes.items()):

        def handle(request: BaseHTTPRequestHandler, route=route, path=path):  # type: ignore[no-untyped-def]
            stamps.setdefault(path, time.monotonic())
            return route if isinstance(route, Response) else route(request)

        server.routes[path] = handle
    return server


def test_a_hanging_feed_and_a_trickling_page_do_not_hold_back_the_good_articles(
    tmp_path: Path, release: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    def hang(request: BaseHTTPRequestHandler) -> None:
        release.wait(60)

    def trickle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", "1000")
        request.end_headers()
        try:
            while not release.wait(0.5):
                request.wfile.write(b"x")
                request.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    hang_stamps: dict[str, float] = {}
    hanging = stamped(LoopbackServer({"/feed.xml": hang}, host="127.0.0.3"), hang_stamps)
    slow = LoopbackServer({"/lenta": trickle}, host="127.0.0.4")
    one_item = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Lento</title>'
        f"<item><title>Pagina lenta</title><link>{slow.url('/lenta')}</link>"
        f"<pubDate>{format_datetime(datetime.now(UTC))}</pubDate></item>"
        "</channel></rss>"
    ).encode()
    slow.routes["/feed.xml"] = Response(200, one_item, {"Content-Type": "application/rss+xml"})
    stamps: dict[str, float] = {}
    with hanging, slow, stamped(serve_demo_site(0, "127.0.0.1"), stamps) as good:
        feeds = [
            {"name": "Appeso", "url": hanging.url("/feed.xml")},
            {"name": "Lento", "url": slow.url("/feed.xml")},
            {"name": "TechEconomy", "url": good.feed_url},
        ]
        fetch = {"read_timeout_s": READ_S, "total_timeout_s": BUDGET_S, "retries": RETRIES}
        with caplog.at_level(logging.WARNING):
            summary = nightly(str(write_config(tmp_path, feeds, fetch=fetch)))
        hang_requests = [p for p in hanging.paths_requested() if p == "/feed.xml"]
        trickle_requests = [p for p in slow.paths_requested() if p == "/lenta"]

    db = tmp_path / "wh" / "dealradar.duckdb"
    # Every good article is stored, from its page, and its pages were fetched while the hanging feed was
    # still on its first try (before: after its three tries and back-off).
    assert summary["articles_new"] == good.n_articles
    from_pages = "SELECT count(*) FROM articles WHERE feed_name = 'TechEconomy' AND extraction = 'page'"
    assert rows(db, from_pages) == [(good.n_articles,)]
    pages = [t for path, t in stamps.items() if path.count("/") > 2]  # /2/slug/: not the feed or robots.txt
    assert len(pages) == good.n_articles and max(pages) < hang_stamps["/feed.xml"] + READ_S
    # The hanging feed was tried 1 + retries times; the trickling page once (its whole budget), then left
    # for the next run: counted, waiting in pending_entries, its feed's validators not moved on.
    assert len(hang_requests) == 1 + RETRIES and len(trickle_requests) == 1
    assert summary["deferred"] == {"fetch_failed:time_budget": 1}
    assert summary["deferred_by_feed"] == {"Lento": {"fetch_failed:time_budget": 1}}
    assert rows(db, "SELECT reason FROM pending_entries") == [("fetch_failed:time_budget",)]
    assert rows(db, "SELECT last_status FROM feed_state WHERE feed_name = 'Lento'") == [("deferred",)]
    # Bounded by the slowest feed (3 tries x 2 s + back-off), not by the sum of the waits (~16 s before).
    assert summary["stage_s"]["fetch pages"] < RETRIES * READ_S + READ_S + 4
    # Each failure is logged once.
    about_hang = [r for r in caplog.records if r.levelno >= logging.WARNING and "Appeso" in r.getMessage()]
    assert len(about_hang) == 1, [r.getMessage() for r in about_hang]


def test_a_feed_over_the_entry_cap_is_stored_over_two_runs_and_the_first_says_how_many_wait(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with serve_demo_site(0, "127.0.0.1") as site:  # 5 articles
        config = write_config(tmp_path, [{"name": "TechEconomy", "url": site.feed_url}],
                              fetch={"max_entries_per_feed": 3})  # fmt: skip
        with caplog.at_level(logging.WARNING):
            state = nightly(str(config), return_state=True)
        first = state.result()
        db = tmp_path / "wh" / "dealradar.duckdb"
        after_first = rows(db, "SELECT count(*) FROM articles")[0][0]
        feed_after_first = rows(db, "SELECT last_status, etag IS NULL FROM feed_state")
        second = nightly(str(config))

    assert first["articles_new"] == after_first == 3
    assert first["deferred"] == {"over_max_entries": 2} and first["pending_entries"] == 2
    assert first["deferred_by_feed"] == {"TechEconomy": {"over_max_entries": 2}}
    assert "Deferred: 2 entries to the next run (over_max_entries 2)" in format_summary(first)
    overflow_logs = [r.getMessage() for r in caplog.records if "over max_entries_per_feed" in r.getMessage()]
    assert len(overflow_logs) == 1 and "2 deferred to the next run" in overflow_logs[0]
    assert feed_after_first == [("deferred", True)]  # validators not moved past the deferred entries
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )
    summary_artifact = next(str(a.data) for a in artifacts if a.key == "nightly-summary")
    assert "deferred from TechEconomy: over_max_entries 2" in summary_artifact

    assert second["articles_new"] == 2 and second["deferred"] == {} and second["pending_entries"] == 0
    assert rows(db, "SELECT count(*) FROM articles")[0][0] == site.n_articles
    assert rows(db, "SELECT count(*) FROM pending_entries") == [(0,)]
    assert rows(db, "SELECT last_status, etag IS NOT NULL FROM feed_state") == [("fetched", True)]
