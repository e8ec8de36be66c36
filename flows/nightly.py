"""The nightly flow: feeds -> new articles -> deal events -> warehouse -> deals -> alerts -> Parquet.

Fetching runs in one event loop (flows.tasks.fetch_and_extract: each feed's pages start as soon as it is
parsed, within `fetch.run_deadline_s`), extraction in batches as pages arrive; the flow itself is the
warehouse's single writer and keeps each connection short, so an analyst's open DuckDB only delays the
run at the moments it writes. Data is written before the state that guards it: articles and events
first, then the entries deferred to the next run, then the feeds' ETags (not moved on for feeds with
deferred entries), then deals, the alert outbox and the run record. A run killed anywhere is caught up
by the next one with nothing doubled and nothing lost.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from extractors.crawl import CrawlResult
from extractors.models import Article, DealEvent, DeferredEntry, FeedEntry, FeedResult, FeedState
from flows import progress
from flows.config import Config, load_config
from flows.extraction import extractor_version, stop_workers, usable_cores
from flows.report import new_deals_rows, publish_artifacts
from flows.tasks import Extraction, fetch_and_extract
from warehouse.report import report_figures

log = logging.getLogger(__name__)

MAX_KNOWN_COMPANIES = 5000  # the extractor's memory of names; the most mentioned ones first
# Earlier nightly runs that may owe alerts: killed ("running") or ended before queueing them.
HEARTBEAT_VARIABLES = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


@dataclass
class RunState:
    """What one run has gathered so far (kept in the flow, handed to the writer at the end)."""

    config: Config
    run_id: str
    states: dict[str, FeedState]
    companies: list[str]
    interrupted: list[str] = field(
        default_factory=list
    )  # earlier runs that may owe alerts (warehouse.load.runs_owing_alerts)
    pending: list[FeedEntry] = field(default_factory=list)  # deferred by earlier runs
    expired: int = 0  # entries earlier runs deferred, now older than fetch.defer_horizon_days: given up
    feeds: list[FeedResult] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    articles: list[Article] = field(default_factory=list)
    events_by_url: dict[str, list[DealEvent]] = field(default_factory=dict)
    deferred: list[DeferredEntry] = field(default_factory=list)
    deadline_reached: bool = False
    skipped: Counter[str] = field(default_factory=Counter)
    extractor_version: str | None = None  # asked of the worker before it stops, when it extracted
    errors: list[str] = field(default_factory=list)
    stage_s: dict[str, float] = field(default_factory=dict)  # see STAGES
    worker_cpu_s: dict[int, float] = field(default_factory=dict)  # CPU seconds per worker process
    workers: int = 0  # worker processes this run started for page text and deal extraction
    started: float = 0.0  # time.monotonic() and time.process_time() when the flow began
    cpu_started: float = 0.0


@flow(name="dealradar-nightly", task_runner=ThreadPoolTaskRunner(max_workers=16), log_prints=False)
def nightly(config_path: str = "config.yaml", extraction_process: bool | None = None) -> dict[str, Any]:
    """Fetch the configured feeds, store new articles and their deal events, cluster deals, send alerts.

    extraction_process: run page text and deal extraction in worker processes (True, `extraction.workers`
    of them), in the flow's threads (False), or decide by the number of pages to fetch (None, the default).

    Returns the run summary (also stored in the `runs` table and shown as Prefect artifacts).
    """
    started, cpu_started = time.monotonic(), time.process_time()
    _freeze_long_lived_objects()
    config = load_config(config_path)
    run = _begin(config)
    run.started, run.cpu_started = started, cpu_started
    try:
        _fetch_and_extract(run, extraction_process)
        summary = _write(run)
    except BaseException as exc:
        _mark_failed(config, run.run_id, exc)
        raise
    publish_artifacts(summary, summary.pop("_new_deals", []), summary.pop("_figures", []))
    get_run_logger().info("nightly run %s: %s", run.run_id, _one_line(summary))
    return summary


# Where a run's time goes. Fetching is wall time from the start of the fetch stage (feeds and pages overlap:
# a feed's pages start as soon as it is parsed); page text and deal extraction are busy seconds summed over
# the workers (they overlap the downloads and each other); the warehouse is the writes, clustering and
# export; alerts the queueing and sending.
STAGES = ("fetch feeds", "fetch pages", "page text", "deal extraction", "warehouse", "alerts")


def _timings(run: RunState) -> dict[str, Any]:
    """elapsed_s, stage_s and cpu of the run so far: taken as its record is written, so that the summary
    shown and the one stored in `runs.stats` are the same numbers."""
    elapsed = time.monotonic() - run.started
    return {
        "elapsed_s": round(elapsed, 2),
        "stage_s": {stage: round(run.stage_s.get(stage, 0.0), 2) for stage in STAGES},
        "cpu": _cpu_use(run, time.process_time() - run.cpu_started, elapsed),
    }


def _cpu_use(run: RunState, flow_cpu_s: float, elapsed_s: float) -> dict[str, Any]:
    """CPU seconds of the flow's process and of its workers, and the share of the machine's cores they
    kept busy over the run."""
    workers_s = sum(run.worker_cpu_s.values())
    cores = usable_cores()
    return {
        "flow_s": round(flow_cpu_s, 2),
        "workers_s": round(workers_s, 2),
        "workers": run.workers,
        "workers_used": len(run.worker_cpu_s),
        "cores": cores,
        "utilisation_pct": round(100 * (flow_cpu_s + workers_s) / max(elapsed_s * cores, 1e-9), 1),
    }


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
    from warehouse.load import known_companies, load_feed_states, runs_owing_alerts, start_run
    from warehouse.pending import load_pending

    with writer(config) as con:
        interrupted = runs_owing_alerts(con)
        run_id = start_run(con, "nightly")
        states = load_feed_states(con)
        companies = known_companies(con)[:MAX_KNOWN_COMPANIES]
        pending, expired = load_pending(con, config.fetch.defer_horizon_days)
    if expired:
        log.warning("%d entries deferred by earlier runs are older than %g days: given up", expired,
                    config.fetch.defer_horizon_days)  # fmt: skip
    return RunState(config=config, run_id=run_id, states=states, companies=companies, interrupted=interrupted,
                    pending=pending, expired=expired)  # fmt: skip


def _known_urls(config: Config, urls: list[str]) -> set[str]:
    """Those of `urls` stored before (a short read on the warehouse, from the fetch loop's thread)."""
    from warehouse.load import seen_urls

    with writer(config) as con:
        return seen_urls(con, urls)


def _fetch_and_extract(run: RunState, use_process: bool | None = None) -> None:
    """Feeds and pages in one event loop, extraction pipelined with fetching (flows.tasks)."""
    runner = nightly_runner()
    on_cluster = runner is not None and type(runner).__name__ != "ThreadPoolTaskRunner"  # Dask extracts
    extraction = Extraction(run.config.extraction, run.companies, use_process, run.config.fetch.languages,
                            on_cluster)  # fmt: skip
    sources = run.config.sources()
    progress.start("feeds", len(sources))
    progress.start("articles")  # the total grows as the feeds are parsed
    try:
        result = fetch_and_extract(sources, run.states, run.pending, run.config.fetch, extraction,
                                   functools.partial(_known_urls, run.config), progress.advance)  # fmt: skip
        if extraction.in_process:
            run.extractor_version = extractor_version(in_worker=True)
            run.workers = extraction.workers
    except Exception as exc:  # a bug in the fetch stage: every feed failed, their state and pending kept
        log.exception("the fetch stage failed")
        run.errors.append(f"fetch: {exc}")
        failed = [FeedResult(s, "failed", error=f"fetch stage failed: {exc}") for s in sources]
        result = CrawlResult(feeds=failed)
    finally:
        if extraction.in_process:
            stop_workers()
    run.feeds, run.seen, run.articles = result.feeds, result.seen, result.articles
    run.events_by_url, run.deferred = result.events_by_url, result.deferred
    run.deadline_reached = result.deadline_reached
    run.stage_s.update({"fetch feeds": result.feeds_s, "fetch pages": result.pages_s, **result.costs})
    run.worker_cpu_s = result.worker_cpu_s
    run.skipped.update(result.skipped)
    if result.seen:
        run.skipped["already_stored"] += len(result.seen)
    if run.expired:
        run.skipped["expired"] += run.expired
    if result.extraction_failures:
        # Stored without events (extractor_version NULL): `dealradar reextract` picks them up.
        run.errors.append(f"extract-deals: {result.extraction_failures} articles not extracted")
    if result.deadline_reached:
        run.errors.append(
            f"fetch.run_deadline_s ({run.config.fetch.run_deadline_s:g} s) reached: "
            f"{result.deferred_counts().get('run_deadline', 0)} pages deferred to the next run"
        )


def nightly_runner() -> Any:
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    return ctx.task_runner if ctx else None


def _write(run: RunState) -> dict[str, Any]:
    from warehouse.load import finish_run, save_feed_states, store_articles
    from warehouse.pending import save_pending

    started = time.monotonic()
    with writer(run.config) as con:
        stored = {"articles_new": 0, "events_new": 0}
        if run.articles:
            version = run.extractor_version or extractor_version()
            stored = store_articles(con, run.run_id, run.articles, run.events_by_url, version)
        # After the articles: an entry leaves the backlog only once it is stored.
        backlog = save_pending(con, run.run_id, run.deferred, run.seen | {a.url for a in run.articles})
        save_feed_states(con, run.feeds)  # feeds with deferred entries keep their old validators
        clustered = _optional(run, "cluster", _cluster, run, con) or {}
        alerts_started = time.monotonic()
        alerts = _optional(run, "alerts", _alerts, run, con) or {}
        run.stage_s["alerts"] = time.monotonic() - alerts_started
        # Nothing new and the export already there: skip it, a quiet night should stay cheap.
        if stored["articles_new"] or not _parquet_exists(run.config):
            _optional(run, "export", _export, run, con)
        summary = _summary(run, stored, clustered, alerts)
        summary["pending_entries"] = backlog
        summary["alerts_queued"] = bool(alerts)  # False: the next run queues this run's alerts
        summary["_new_deals"] = _optional(run, "new-deals", new_deals_rows, con, run.run_id) or []
        if summary["deals_new"] or summary["deals_updated"]:  # the report's figures moved: publish them
            summary["_figures"] = _optional(run, "figures", report_figures, con) or []
        status = "partial" if summary["feeds_failed"] or run.errors else "ok"
        summary["status"] = status
        run.stage_s["warehouse"] = time.monotonic() - started - run.stage_s.get("alerts", 0.0)
        summary.update(_timings(run))  # stored with the run: `dealradar sql` reads where time went
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
    from warehouse.load import mark_alerts_caught_up

    enqueued = held_back = 0
    for run_id in [*run.interrupted, run.run_id]:
        enqueued += enqueue_alerts(con, run.config.alerts, run_id)
        held_back += held_back_count(con, run_id)
    for run_id in run.interrupted:
        mark_alerts_caught_up(con, run_id, by_run_id=run.run_id)
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
        if article.skip_reason:
            skipped[article.skip_reason] += 1
    deferred = Counter(d.reason for d in run.deferred)
    by_feed: dict[str, Counter[str]] = {}
    for item in run.deferred:
        by_feed.setdefault(item.entry.feed_name, Counter())[item.reason] += 1
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
        # Entries left for the next run, and why: over_max_entries, run_deadline, fetch_failed:<why>.
        "deferred": dict(deferred),
        "deferred_by_feed": {name: dict(reasons) for name, reasons in by_feed.items()},
        "deadline_reached": run.deadline_reached,
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
