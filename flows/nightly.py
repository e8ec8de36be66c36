"""The nightly flow: feeds -> new articles -> deal events -> warehouse -> deals -> alerts -> Parquet.

Fetching and extraction run as batch tasks (all feeds in one task, one task per host's new articles,
extraction in batches); the flow itself is the warehouse's single writer and keeps each connection
short, so an analyst's open DuckDB only delays the run at the moments it writes. Data is written before
the state that guards it: articles and events first, then the feeds' ETags (only for feeds whose entries
were all stored), then deals, the alert outbox and the run record. A run killed anywhere is caught up
by the next one with nothing doubled and nothing lost.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
from prefect import flow, get_run_logger
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from extractors.models import Article, DealEvent, FeedResult, FeedState
from flows import progress
from flows.config import Config, load_config
from flows.extraction import extraction_process, extractor_version, stop_extraction_process
from flows.report import new_deals_rows, publish_artifacts
from flows.tasks import fetch_all_feeds, fetch_and_extract_host
from warehouse.report import report_figures

log = logging.getLogger(__name__)

MAX_KNOWN_COMPANIES = 5000  # the extractor's memory of names; the most mentioned ones first
# Earlier nightly runs that may owe alerts: killed ("running") or ended before queueing them.
OWING_ALERTS = """
    SELECT run_id FROM runs WHERE kind = 'nightly'
      AND (status = 'running'
           OR NOT coalesce(try_cast(json_extract(stats, '$.alerts_queued') AS BOOLEAN), false))
    ORDER BY started_at"""
HEARTBEAT_VARIABLES = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")
PROCESS_THRESHOLD = 200  # new articles from which deal extraction gets its own process (starts in 1.3-2 s)


@dataclass
class RunState:
    """What one run has gathered so far (kept in the flow, handed to the writer at the end)."""

    config: Config
    run_id: str
    states: dict[str, FeedState]
    companies: list[str]
    interrupted: list[str] = field(
        default_factory=list
    )  # earlier runs that may owe alerts (see OWING_ALERTS)
    feeds: list[FeedResult] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    articles: list[Article] = field(default_factory=list)
    events_by_url: dict[str, list[DealEvent]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    extractor_version: str | None = None  # asked of the worker before it stops, when it extracted
    errors: list[str] = field(default_factory=list)


@flow(name="dealradar-nightly", task_runner=ThreadPoolTaskRunner(max_workers=16), log_prints=False)
def nightly(config_path: str = "config.yaml", extraction_process: bool | None = None) -> dict[str, Any]:
    """Fetch the configured feeds, store new articles and their deal events, cluster deals, send alerts.

    extraction_process: run deal extraction in a second process (True), in the task threads (False), or
    decide by the amount of new articles and the cores available (None, the default).

    Returns the run summary (also stored in the `runs` table and shown as Prefect artifacts).
    """
    started = time.monotonic()
    _freeze_long_lived_objects()
    config = load_config(config_path)
    run = _begin(config)
    timings = {"start": time.monotonic() - started}
    try:
        mark = time.monotonic()
        _fetch_feeds(run)
        timings["feeds"] = time.monotonic() - mark
        mark = time.monotonic()
        _fetch_and_extract(run, extraction_process)
        timings["articles"] = time.monotonic() - mark
        mark = time.monotonic()
        summary = _write(run)
        timings["write"] = time.monotonic() - mark
    except BaseException as exc:
        _mark_failed(config, run.run_id, exc)
        raise
    summary["elapsed_s"] = round(time.monotonic() - started, 2)
    summary["stage_s"] = {k: round(v, 2) for k, v in timings.items()}
    publish_artifacts(summary, summary.pop("_new_deals", []), summary.pop("_figures", []))
    get_run_logger().info("nightly run %s: %s", run.run_id, _one_line(summary))
    return summary


@functools.cache
def _freeze_long_lived_objects() -> None:
    """Keep the cyclic GC from walking the ~300,000 objects of the loaded modules (Prefect, pydantic,
    trafilatura) that live as long as the process: a full collection during a run took 0.45 s with
    every thread stopped, 0.05 s once they are frozen. Once per process; later garbage is collected
    as usual."""
    gc.freeze()


# --- stages ------------------------------------------------------------------------------------------------


@contextmanager
def writer(config: Config) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived writable connection (waits for an analyst's connection to go, within the timeout)."""
    from warehouse.db import open_warehouse

    with closing(open_warehouse(config.warehouse_settings())) as con:
        yield con


def _begin(config: Config) -> RunState:
    from warehouse.load import known_companies, load_feed_states, start_run

    with writer(config) as con:
        interrupted = [row[0] for row in con.execute(OWING_ALERTS).fetchall()]
        run_id = start_run(con, "nightly")
        states = load_feed_states(con)
        companies = known_companies(con)[:MAX_KNOWN_COMPANIES]
    return RunState(config=config, run_id=run_id, states=states, companies=companies, interrupted=interrupted)


def _fetch_feeds(run: RunState) -> None:
    sources = run.config.sources()
    progress.start("feeds", len(sources))
    try:
        run.feeds = fetch_all_feeds.submit(sources, run.states, run.config.fetch).result()
    except Exception as exc:  # a bug in the fetch stage: report every feed failed, keep their state
        log.exception("fetching feeds failed")
        run.errors.append(f"fetch-feeds: {exc}")
        run.feeds = [
            FeedResult(source=s, status="failed", error=f"fetch task failed: {exc}") for s in sources
        ]
    progress.advance("feeds", len(sources))  # each failed feed was logged once, by extractors.feeds


def _new_entries(run: RunState) -> dict[str, list]:
    """Entries not stored before and not already taken from another feed, grouped by host."""
    from warehouse.load import seen_urls

    candidates = {}
    for result in run.feeds:
        for entry in result.entries:
            if entry.url in candidates:
                run.skipped["duplicate_in_run"] += 1
            else:
                candidates[entry.url] = entry
    if candidates:  # a quiet night (every feed 304) does not open the warehouse here
        with writer(run.config) as con:
            run.seen = seen_urls(con, candidates)
    if run.seen:
        run.skipped["already_stored"] += len(run.seen)
    by_host: dict[str, list] = defaultdict(list)
    for url, entry in candidates.items():
        if url not in run.seen:
            by_host[urlsplit(url).hostname or "?"].append(entry)
    return by_host


def _fetch_and_extract(run: RunState, use_process: bool | None = None) -> None:
    """One task per host: hosts in parallel, politeness per host, extraction pipelined with fetching."""
    by_host = _new_entries(run)
    if use_process is None:
        use_process = _worth_a_process(run, sum(len(e) for e in by_host.values()))
    if not use_process:
        _collect_hosts(run, by_host, use_process)
        return
    extraction_process(run.config.extraction, run.companies)  # starts loading spaCy while we download
    try:
        _collect_hosts(run, by_host, use_process)
        run.extractor_version = extractor_version(in_worker=True)
    finally:
        stop_extraction_process()


def _collect_hosts(run: RunState, by_host: dict[str, list], use_process: bool) -> None:
    config = run.config
    futures = {
        fetch_and_extract_host.submit(
            host, entries, config.fetch, config.extraction, run.companies, use_process
        ): host
        # The biggest hosts first: their task is the longest, and each later start is a little later.
        for host, entries in sorted(by_host.items(), key=lambda item: -len(item[1]))
    }
    progress.start("articles", sum(len(entries) for entries in by_host.values()))
    for future in as_completed(list(futures)):
        host = futures[future]
        progress.advance("articles", len(by_host[host]))
        try:
            articles, events = future.result()
        except Exception as exc:  # that host's entries stay unstored and are retried next run
            log.warning("fetching articles from %s failed: %s", host, exc)
            run.errors.append(f"fetch-and-extract {host}: {exc}")
            continue
        run.articles.extend(articles)
        run.events_by_url.update(events)
        missing = sum(
            1 for a in articles if a.extractable and not a.transient_failure and a.url not in events
        )
        if missing:
            # Stored without events (extractor_version NULL): `dealradar reextract` picks them up.
            run.errors.append(f"extract-deals {host}: {missing} articles not extracted")


def _worth_a_process(run: RunState, n_entries: int) -> bool:
    """Extraction moves to a second process when there is a core for it and enough work to repay its start;
    not under Dask, whose workers are the processes."""
    runner = type(nightly_runner()).__name__
    return n_entries >= PROCESS_THRESHOLD and (os.cpu_count() or 1) > 1 and runner == "ThreadPoolTaskRunner"


def nightly_runner() -> Any:
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    return ctx.task_runner if ctx else None


def feed_states_to_save(run: RunState) -> list[FeedResult]:
    """Feed results to remember. A feed with an entry not stored (fetch failed transiently, task lost)
    keeps its previous validators, so the next run gets the feed again and retries that entry."""
    stored = run.seen | {a.url for a in run.articles if not a.transient_failure}
    out = []
    for result in run.feeds:
        missing = [e.url for e in result.entries if e.url not in stored]
        if result.status == "fetched" and missing:
            old = run.states.get(result.source.url) or FeedState(url=result.source.url)
            # Recorded as not finished: save_feed_states then keeps the old validators.
            result = replace(
                result,
                status="failed",
                etag=old.etag,
                last_modified=old.last_modified,
                error=f"{len(missing)} entries to retry next run",
            )
        out.append(result)
    return out


def _write(run: RunState) -> dict[str, Any]:
    from warehouse.load import finish_run, save_feed_states, store_articles

    with writer(run.config) as con:
        stored = {"articles_new": 0, "events_new": 0}
        if run.articles:
            version = run.extractor_version or extractor_version()
            stored = store_articles(con, run.run_id, run.articles, run.events_by_url, version)
        save_feed_states(con, feed_states_to_save(run))
        clustered = _optional(run, "cluster", _cluster, run, con) or {}
        alerts = _optional(run, "alerts", _alerts, run, con) or {}
        # Nothing new and the export already there: skip it, a quiet night should stay cheap.
        if stored["articles_new"] or not _parquet_exists(run.config):
            _optional(run, "export", _export, run, con)
        summary = _summary(run, stored, clustered, alerts)
        summary["alerts_queued"] = bool(alerts)  # False: the next run queues this run's alerts
        summary["_new_deals"] = _optional(run, "new-deals", new_deals_rows, con, run.run_id) or []
        if summary["deals_new"] or summary["deals_updated"]:  # the report's figures moved: publish them
            summary["_figures"] = _optional(run, "figures", report_figures, con) or []
        status = "partial" if summary["feeds_failed"] or run.errors else "ok"
        summary["status"] = status
        finish_run(con, run.run_id, status, {k: v for k, v in summary.items() if not k.startswith("_")})
    return summary


def _optional(run: RunState, stage: str, fn: Any, *args: Any) -> Any:
    """Run a stage after the data is stored; its failure is reported and the next run catches up."""
    try:
        return fn(*args)
    except Exception as exc:
        log.exception("stage %s failed", stage)
        run.errors.append(f"{stage}: {exc}")
        return None


def _cluster(run: RunState, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    from warehouse.cluster import cluster_new_events

    return cluster_new_events(con, run.run_id) or {}


def _alerts(run: RunState, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Queue the deals this run (and any earlier run that did not get to it) created or revised, then
    send all pending.

    A run killed (or failing) between clustering and queueing left deals whose alerts were never
    queued; queueing is idempotent per run, so catching up those runs here loses no alert and doubles none.
    """
    from alerts.outbox import enqueue_alerts, held_back_count, pending
    from alerts.send import send_pending

    enqueued = held_back = 0
    for run_id in [*run.interrupted, run.run_id]:
        enqueued += enqueue_alerts(con, run.config.alerts, run_id)
        held_back += held_back_count(con, run_id)
    for run_id in run.interrupted:
        con.execute(
            """UPDATE runs SET status = CASE WHEN status = 'running' THEN 'failed' ELSE status END,
                   finished_at = coalesce(finished_at, now()::TIMESTAMP),
                   stats = json_merge_patch(coalesce(stats, '{}'), json_object('alerts_queued', true,
                                            'alerts_caught_up_by', ?::VARCHAR))
               WHERE run_id = ?""",
            [run.run_id, run_id],
        )
    sent = send_pending(con, run.config.alerts) or {}
    return {
        "enqueued": enqueued,
        "sent": sent.get("sent", 0),
        "pending": len(pending(con)),
        "held_back": held_back,
    }


def _parquet_exists(config: Config) -> bool:
    folder = config.parquet_dir
    return folder is None or (folder.exists() and any(folder.iterdir()))


def _export(run: RunState, con: duckdb.DuckDBPyConnection) -> None:
    from warehouse.export import export_parquet

    if run.config.parquet_dir is not None:
        export_parquet(con, run.config.parquet_dir)


def _summary(
    run: RunState, stored: dict[str, int], clustered: dict[str, Any], alerts: dict[str, Any]
) -> dict:
    statuses = Counter(r.status for r in run.feeds)
    skipped = Counter(run.skipped)
    for article in run.articles:
        if article.transient_failure:
            skipped["retry_next_run"] += 1
        elif article.skip_reason:
            skipped[article.skip_reason] += 1
    return {
        "run_id": run.run_id,
        "feeds_fetched": statuses["fetched"],
        "feeds_not_modified": statuses["not_modified"],
        "feeds_failed": statuses["failed"],
        "feed_failures": {
            r.source.name: r.error or f"HTTP {r.http_status}" for r in run.feeds if r.status == "failed"
        },
        "articles_new": stored.get("articles_new", 0),
        "articles_skipped": {reason: n for reason, n in skipped.items() if n},
        "deal_events": stored.get("events_new", 0),
        "deals_new": int(clustered.get("deals_new", 0) or 0),
        "deals_updated": int(clustered.get("deals_updated", 0) or 0),
        "alerts_enqueued": int(alerts.get("enqueued", 0) or 0),
        "alerts_sent": int(alerts.get("sent", 0) or 0),
        "alerts_pending": int(alerts.get("pending", 0) or 0),
        "alerts_held_back": int(alerts.get("held_back", 0) or 0),
        "errors": list(run.errors),
    }


def _mark_failed(config: Config, run_id: str, exc: BaseException) -> None:
    from warehouse.db import open_warehouse
    from warehouse.load import finish_run

    try:
        # No second wait for a lock: if the file is held, the run stays "running" and the next run
        # treats it as interrupted (it catches up its alerts).
        with closing(open_warehouse(config.warehouse_settings(), lock_timeout_s=0)) as con:
            finish_run(con, run_id, "failed", {"error": f"{type(exc).__name__}: {exc}"})
    except Exception:  # the warehouse itself may be the problem; the next run starts afresh anyway
        log.warning("could not record the failure of run %s", run_id)


def _one_line(summary: dict[str, Any]) -> str:
    keys = (
        "feeds_fetched",
        "feeds_not_modified",
        "feeds_failed",
        "articles_new",
        "deal_events",
        "deals_new",
        "deals_updated",
        "alerts_sent",
        "alerts_pending",
        "elapsed_s",
    )
    return ", ".join(f"{k}={summary.get(k)}" for k in keys)


def run_nightly(
    config_path: str | Path, task_runner: Any = None, extraction_process: bool | None = None
) -> dict[str, Any]:
    """Run the flow once now (the CLI's `dealradar run`); `task_runner` swaps in e.g. a DaskTaskRunner.

    A run started here belongs to no deployment, so Prefect's flow-run heartbeats (events that let an
    automation spot crashed deployment runs) are off unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY is set:
    Prefect 3.9 ends a sync flow by joining its heartbeat thread, which sleeps in 1 s ticks, so every
    run would last at least a second. Scheduled runs (`dealradar serve`, workers) keep their heartbeats.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    target = nightly.with_options(task_runner=task_runner) if task_runner is not None else nightly
    if any(name in os.environ for name in HEARTBEAT_VARIABLES):  # the user asked for heartbeats
        return target(str(config_path), extraction_process)
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return target(str(config_path), extraction_process)
