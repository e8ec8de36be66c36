"""Prefect tasks of the nightly flow. Each works on a batch (all feeds, one host's articles, a batch of
texts), never on one article: a task run costs milliseconds of bookkeeping, an article far less.

Tasks return plain records (extractors.models) so that they run the same in threads or on Dask workers;
none of them touches the warehouse (the flow is its single writer).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from extractors.models import Article, DealEvent, FeedEntry, FeedResult, FeedSource, FeedState
from extractors.settings import ExtractionSettings, FetchSettings

log = logging.getLogger(__name__)


def _transient_only(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a task only when it failed for a reason that may pass (timeouts, 5xx, a locked file)."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - we only classify it
        return bool(getattr(exc, "transient", False)) or isinstance(exc, TimeoutError | ConnectionError)
    return False


def _fetch_all_feeds(
    sources: Sequence[FeedSource], states: dict[str, FeedState], settings: FetchSettings
) -> list[FeedResult]:
    """Fetch every feed concurrently (conditional GETs; per-host limits in SafeFetcher).

    One bad feed gives a "failed" result, never an exception; retries of transient HTTP failures
    happen inside the fetcher, so the task itself is not retried.
    """
    from extractors.feeds import fetch_feeds

    return asyncio.run(fetch_feeds(list(sources), states, settings))


def _fetch_host_articles(host: str, entries: Sequence[FeedEntry], settings: FetchSettings) -> list[Article]:
    """Download and extract the new articles of one host (one fetcher, so its per-host limit holds)."""
    from extractors.articles import fetch_articles

    articles = asyncio.run(fetch_articles(list(entries), settings))
    log.info("%s: %d articles fetched", host, len(articles))
    return articles


def _extract_batch(
    docs: Sequence[tuple[str, str]], settings: ExtractionSettings, companies: Sequence[str]
) -> list[list[DealEvent]]:
    """Deal events of a batch of (title, text), with one spaCy pipeline cached per process."""
    from extractors.deals import extract_deals

    nlp = cached_pipeline(settings, companies)
    with _PIPELINE_LOCK:  # a Language object is not meant to be shared by threads at once
        events = extract_deals(list(docs), nlp=nlp)
    if settings.min_confidence > 0:
        events = [[e for e in evs if e.confidence >= settings.min_confidence] for evs in events]
    return events


# The plain functions keep their own module-level names so that Dask workers can unpickle them by
# reference (a decorated name would point at the Task object instead of the function).
fetch_all_feeds = task(name="fetch-feeds", cache_policy=NO_CACHE)(_fetch_all_feeds)
fetch_host_articles = task(
    name="fetch-articles",
    task_run_name="fetch-articles-{host}",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=2,
    retry_condition_fn=_transient_only,
)(_fetch_host_articles)
extract_batch = task(name="extract-deals", cache_policy=NO_CACHE)(_extract_batch)

_PIPELINE_LOCK = threading.RLock()
_PIPELINE: dict[str, Any] = {}


def cached_pipeline(settings: ExtractionSettings, companies: Sequence[str]) -> Any:
    """The spaCy pipeline for these settings and known companies, built once per process."""
    key = hashlib.sha1(
        json.dumps([settings.model_dump(mode="json"), list(companies)], sort_keys=True).encode()
    ).hexdigest()
    with _PIPELINE_LOCK:
        if key not in _PIPELINE:
            from extractors.deals import load_pipeline

            _PIPELINE.clear()  # keep only the newest: yesterday's company list is stale
            _PIPELINE[key] = load_pipeline(settings, known_companies=companies)
        return _PIPELINE[key]
