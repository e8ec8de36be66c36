"""The nightly flow end to end on real parts: Prefect (test harness), loopback web sites, a DuckDB file,
a webhook receiver. What a user sees: the summary, the warehouse rows, the requests publishers get."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fixtures.flow.sites import Webhook, conditional, fixture_bytes, serve_demo_site, write_config
from support.db import rows
from support.server import LoopbackServer, Response

from flows.nightly import nightly, run_nightly

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]


def feed_requests(server: LoopbackServer, path: str) -> list[dict[str, str]]:
    return [headers for _, p, headers in server.requests if p == path]


def test_full_run_stores_deals_and_a_rerun_sends_conditional_requests_and_adds_nothing(
    tmp_path: Path,
) -> None:
    with serve_demo_site(0, "127.0.0.1") as site_a, serve_demo_site(1, "127.0.0.2") as site_b:
        config = write_config(
            tmp_path,
            [
                {"name": "TechEconomy", "url": site_a.feed_url},
                {"name": "StartupNews", "url": site_b.feed_url},
            ],
        )
        first = nightly(str(config))
        db = tmp_path / "wh" / "dealradar.duckdb"
        articles = rows(db, "SELECT url, site, extraction, title FROM articles ORDER BY url")
        events = rows(db, "SELECT event_id, article_url, deal_type FROM deal_events")
        deals = rows(
            db,
            "SELECT acquirer, n_sources FROM deals WHERE target = 'DataVela' AND deal_type = 'acquisition'",
        )

        assert first["feeds_fetched"] == 2 and first["feeds_failed"] == 0
        assert first["articles_new"] == site_a.n_articles + site_b.n_articles == len(articles)
        assert all(a[2] == "page" for a in articles), articles  # text came from the pages, not the feeds
        assert not any("utm_" in a[0] for a in articles)  # canonical URLs, tracking parameters dropped
        assert first["deal_events"] == len(events) > 0
        assert first["deals_new"] > 0
        # The same acquisition told by two sites is one deal with two sources.
        assert len(deals) == 1 and deals[0][1] == 2
        assert (tmp_path / "parquet" / "deals.parquet").exists()

        second = nightly(str(config))
        conditional_headers = (
            feed_requests(site_a, site_a.feed_path)[-1],
            feed_requests(site_b, site_b.feed_path)[-1],
        )

    assert all("If-None-Match" in h or "If-Modified-Since" in h for h in conditional_headers)
    assert second["feeds_not_modified"] == 2 and second["feeds_fetched"] == 0
    assert second["articles_new"] == 0 and second["deal_events"] == 0 and second["deals_new"] == 0
    assert rows(db, "SELECT count(*) FROM articles")[0][0] == len(articles)
    assert rows(db, "SELECT count(*) FROM deal_events")[0][0] == len(events)
    assert rows(db, "SELECT status FROM runs ORDER BY started_at") == [("ok",), ("ok",)]


def slow_feed(request: BaseHTTPRequestHandler) -> Response:
    time.sleep(6)  # longer than the configured total timeout
    return Response(200, b"<rss/>", {"Content-Type": "application/rss+xml"})


def test_feeds_that_time_out_fail_or_are_not_xml_are_reported_and_the_others_load(tmp_path: Path) -> None:
    broken = LoopbackServer(
        {
            "/slow.xml": slow_feed,
            "/error.xml": Response(500, b"Internal Server Error", {"Content-Type": "text/plain"}),
            "/page.xml": Response(
                200, fixture_bytes("not_a_feed.html"), {"Content-Type": "text/html; charset=utf-8"}
            ),
        },
        host="127.0.0.3",
    )
    with broken, serve_demo_site(2, "127.0.0.1") as good:
        feeds = [
            {"name": "Lento", "url": broken.url("/slow.xml")},
            {"name": "Guasto", "url": broken.url("/error.xml")},
            {"name": "Non un feed", "url": broken.url("/page.xml")},
            {"name": "Il Giornale", "url": good.feed_url},
        ]
        summary = nightly(str(write_config(tmp_path, feeds)))

    db = tmp_path / "wh" / "dealradar.duckdb"
    assert summary["feeds_failed"] == 3 and summary["feeds_fetched"] == 1
    assert set(summary["feed_failures"]) == {"Lento", "Guasto", "Non un feed"}
    assert summary["articles_new"] == good.n_articles
    assert rows(db, "SELECT count(*) FROM articles WHERE feed_name = 'Il Giornale'")[0][0] == good.n_articles
    states = dict(rows(db, "SELECT feed_name, last_status FROM feed_state"))
    assert states == {
        "Lento": "failed",
        "Guasto": "failed",
        "Non un feed": "failed",
        "Il Giornale": "fetched",
    }
    assert rows(db, "SELECT status FROM runs") == [("partial",)]


def test_an_article_that_fails_transiently_is_fetched_again_next_run(tmp_path: Path) -> None:
    page = fixture_bytes("one_entry_article.html")
    state = {"up": False}

    def article(request: BaseHTTPRequestHandler) -> Response:
        if not state["up"]:
            return Response(503, b"Service Unavailable", {"Content-Type": "text/plain", "Retry-After": "1"})
        return Response(200, page, {"Content-Type": "text/html; charset=utf-8"})

    server = LoopbackServer({"/articoli/quantica-labs-round/": article})
    with server:
        feed = fixture_bytes("one_entry_feed.xml", base=server.url("").rstrip("/"))
        server.routes["/feed.xml"] = conditional(feed, "application/rss+xml")
        config = write_config(tmp_path, [{"name": "Cronache", "url": server.url("/feed.xml")}])
        first = nightly(str(config))
        state["up"] = True
        second = nightly(str(config))
        feed_headers = [h for _, p, h in server.requests if p == "/feed.xml"]

    db = tmp_path / "wh" / "dealradar.duckdb"
    assert first["articles_new"] == 0 and first["deferred"] == {"fetch_failed:503": 1}
    # The feed's ETag was not saved, so the second run fetched the whole feed again and found the entry.
    assert "If-None-Match" not in feed_headers[1]
    assert second["articles_new"] == 1
    assert rows(db, "SELECT count(*), min(extraction) FROM articles") == [(1, "page")]
    assert rows(db, "SELECT etag IS NOT NULL FROM feed_state") == [(True,)]


def test_an_alert_is_sent_once_and_a_receiver_down_gets_it_next_run(tmp_path: Path) -> None:
    with serve_demo_site(2, "127.0.0.1") as site, Webhook(up=False) as hook:
        config = write_config(
            tmp_path,
            [{"name": "Il Giornale", "url": site.feed_url}],
            alerts={"urls": [hook.url], "retry_backoff_s": 0},
        )
        down = nightly(str(config))
        hook.up = True
        up = nightly(str(config))
        again = nightly(str(config))

    assert (
        down["deals_new"] > 0
        and down["alerts_sent"] == 0
        and down["alerts_pending"] == down["alerts_enqueued"] > 0
    )
    assert up["alerts_sent"] == down["alerts_enqueued"] and up["alerts_pending"] == 0
    assert again["alerts_sent"] == 0 and again["alerts_enqueued"] == 0
    ids = [headers["X-Dealradar-Alert-Id"] for headers, _ in hook.calls]
    assert len(ids) == len(set(ids)) == down["alerts_enqueued"]


def test_the_flow_runs_unchanged_on_a_dask_cluster_of_two_processes(tmp_path: Path) -> None:
    """Scale-out as in the README: a Dask cluster (here a LocalCluster of two worker processes) takes the
    CPU work (page text and deal extraction of each batch of pages) through prefect-dask, reporting to the
    real Prefect API; the flow's own process downloads and stays the warehouse's single writer."""
    import os

    from distributed import Client, LocalCluster, get_task_stream
    from prefect_dask import DaskTaskRunner

    with (
        LocalCluster(n_workers=2, processes=True, threads_per_worker=4, dashboard_address=None) as cluster,
        Client(cluster) as client,
        serve_demo_site(1, "127.0.0.2") as site_b,
        serve_demo_site(2, "127.0.0.3") as site_c,
    ):
        workers = client.run(os.getpid)
        feeds = [{"name": "Startup", "url": site_b.feed_url}, {"name": "Giornale", "url": site_c.feed_url}]
        config = write_config(tmp_path, feeds)
        with get_task_stream(client) as stream:
            summary = run_nightly(config, DaskTaskRunner(address=cluster.scheduler_address))
    assert len(set(workers.values()) - {os.getpid()}) == 2  # two processes, neither of them this one
    ran = [t for t in stream.data if t["key"].startswith("_pages_to_deals")]  # the batches' Dask tasks
    assert ran and {t["worker"] for t in ran} <= set(workers)
    db = tmp_path / "wh" / "dealradar.duckdb"
    stored = rows(db, "SELECT count(*) FROM articles")[0][0]
    assert summary["articles_new"] == site_b.n_articles + site_c.n_articles == stored
    assert summary["deal_events"] == rows(db, "SELECT count(*) FROM deal_events")[0][0] > 0
    assert not summary["errors"]


def test_extraction_in_a_second_process_stores_the_same_events(tmp_path: Path) -> None:
    # Big runs extract deals in a spawned worker process (the second core); small ones in threads.
    with serve_demo_site(0, "127.0.0.1") as site:
        feeds = [{"name": "TechEconomy", "url": site.feed_url}]
        (tmp_path / "threads").mkdir()
        (tmp_path / "process").mkdir()
        in_threads = run_nightly(write_config(tmp_path / "threads", feeds), extraction_process=False)
        in_process = run_nightly(write_config(tmp_path / "process", feeds), extraction_process=True)
    sql = "SELECT article_url, deal_type, acquirer, target, amount FROM deal_events ORDER BY ALL"
    assert in_process["deal_events"] == in_threads["deal_events"] > 0
    assert rows(tmp_path / "process" / "wh" / "dealradar.duckdb", sql) == rows(
        tmp_path / "threads" / "wh" / "dealradar.duckdb", sql
    )


def test_the_run_shows_its_new_deals_and_a_summary_as_prefect_artifacts(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with serve_demo_site(2, "127.0.0.1") as site:
        state = nightly(
            str(write_config(tmp_path, [{"name": "Il Giornale", "url": site.feed_url}])), return_state=True
        )
    summary = state.result()
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )
    by_key = {a.key: str(a.data) for a in artifacts}
    targets = [t for (t,) in rows(tmp_path / "wh" / "dealradar.duckdb", "SELECT target FROM deals") if t]
    assert summary["deals_new"] == len(rows(tmp_path / "wh" / "dealradar.duckdb", "SELECT 1 FROM deals")) > 0
    assert targets and all(t in by_key["new-deals"] for t in targets)
    assert "Feeds:    1 fetched" in by_key["nightly-summary"]
    assert f"{summary['articles_new']} new" in by_key["nightly-summary"]
    # where the run's time went, stage by stage, and how busy the cores were
    assert all(stage in by_key["nightly-summary"] for stage in summary["stage_s"])
    assert "page text" in by_key["nightly-summary"] and "% used" in by_key["nightly-summary"]
    # the report's figures, as the data `dealradar report` charts
    from warehouse.report import FIGURE_KEYS

    assert {f"report-{key}" for key in FIGURE_KEYS} <= set(by_key)
    by_type = rows(tmp_path / "wh" / "dealradar.duckdb", "SELECT deal_type, count(*) FROM deals GROUP BY 1")
    assert all(f'"deal_type": "{t}"' in by_key["report-deals-per-month"] for t, _ in by_type), by_key


def test_old_news_is_held_back_and_the_summary_says_how_many(tmp_path: Path) -> None:
    """Deals whose news is older than alerts.max_age_days are stored but not alerted; the run says so."""
    with serve_demo_site(2, "127.0.0.1") as site, Webhook() as hook:
        config = write_config(
            tmp_path,
            [{"name": "Il Giornale", "url": site.feed_url}],
            alerts={"urls": [hook.url], "retry_backoff_s": 0, "max_age_days": 0.0001},
        )
        summary = nightly(str(config))

    assert summary["deals_new"] > 0
    assert summary["alerts_enqueued"] == 0 and hook.calls == []
    assert summary["alerts_held_back"] == summary["deals_new"]
