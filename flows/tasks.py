"""Prefect tasks of the nightly flow. Each works on a batch (all feeds, one host's new articles, a batch of
texts), never on one article: a task run costs milliseconds of bookkeeping, an article far less.

Tasks return plain records (extractors.models) so that they run the same in threads or on Dask workers;
none of them touches the warehouse (the flow is its single writer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from extractors.models import Article, DealEvent, FeedEntry, FeedResult, FeedSource, FeedState
from extractors.settings import ExtractionSettings, FetchSettings
from flows.extraction import extract_docs, extract_here

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


def _fetch_and_extract_host(
    host: str,
    entries: Sequence[FeedEntry],
    fetch: FetchSettings,
    extraction: ExtractionSettings,
    companies: Sequence[str],
    use_process: bool = False,
) -> tuple[list[Article], dict[str, list[DealEvent]]]:
    """Download one host's new articles (one fetcher: its per-host limit holds) and extract their deal
    events in batches as the batches arrive, so that CPU work overlaps the waiting on the network.

    Returns the articles and, for those extracted, their events by URL. A batch whose extraction fails
    is returned without events (stored with no extractor version; `dealradar reextract` catches up).
    """
    return asyncio.run(_host_pipeline(host, list(entries), fetch, extraction, list(companies), use_process))


async def _host_pipeline(
    host: str,
    entries: list[FeedEntry],
    fetch: FetchSettings,
    extraction: ExtractionSettings,
    companies: list[str],
    use_process: bool,
) -> tuple[list[Article], dict[str, list[DealEvent]]]:
    from extractors.articles import fetch_articles
    from extractors.http import SafeFetcher

    size = extraction.batch_size
    events: dict[str, list[DealEvent]] = {}

    async def batch(chunk: list[FeedEntry], fetcher: SafeFetcher) -> list[Article]:
        articles = await fetch_articles(chunk, fetch, fetcher)
        todo = [a for a in articles if a.extractable and not a.transient_failure]
        if todo:
            docs = [(a.title or "", a.text) for a in todo]
            try:
                found = await asyncio.to_thread(extract_docs, docs, extraction, companies, use_process)
            except Exception:
                log.exception("%s: deal extraction failed for a batch of %d articles", host, len(todo))
            else:
                events.update((a.url, evs) for a, evs in zip(todo, found, strict=True))
        return articles

    async with SafeFetcher(fetch) as fetcher:
        # Batches queue on the fetcher's per-host limit in order, so the first one is ready first.
        results = await asyncio.gather(
            *(batch(entries[i : i + size], fetcher) for i in range(0, len(entries), size))
        )
    articles = [a for chunk in results for a in chunk]
    log.info("%s: %d articles fetched, %d extracted", host, len(articles), len(events))
    return articles, events


def _extract_batch(
    docs: Sequence[tuple[str, str]], settings: ExtractionSettings, companies: Sequence[str]
) -> list[list[DealEvent]]:
    """Deal events of a batch of (title, text), with one spaCy pipeline cached per process."""
    return extract_here(docs, settings, companies)


# The plain functions keep their own module-level names so that Dask workers can unpickle them by
# reference (a decorated name would point at the Task object instead of the function).
fetch_all_feeds = task(name="fetch-feeds", cache_policy=NO_CACHE)(_fetch_all_feeds)
fetch_and_extract_host = task(
    name="fetch-and-extract",
    task_run_name="fetch-and-extract-{host}",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=2,
    retry_condition_fn=_transient_only,
)(_fetch_and_extract_host)
extract_batch = task(name="extract-deals", cache_policy=NO_CACHE)(_extract_batch)
