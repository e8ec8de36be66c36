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
    events while the downloads go on, so that CPU work overlaps the waiting on the network.

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
    """Each page is handed to deal extraction as soon as its text is out; extraction takes whatever has
    arrived (at most `batch_size`) each time it is free. Fixed batches kept the extractor idle until a
    whole batch per host had been downloaded, then left it a backlog after the last download; this way it
    starts with the first article and the batches grow only while it is busy."""
    from extractors.articles import fetch_articles
    from extractors.http import SafeFetcher

    ready: asyncio.Queue[Article | None] = asyncio.Queue()
    events: dict[str, list[DealEvent]] = {}

    async def fetch_one(entry: FeedEntry, fetcher: SafeFetcher) -> Article:
        (article,) = await fetch_articles([entry], fetch, fetcher)
        if article.extractable and not article.transient_failure:
            ready.put_nowait(article)
        return article

    async def fetch_all() -> list[Article]:
        try:
            async with SafeFetcher(fetch) as fetcher:
                # Pages queue on the fetcher's per-host limit in feed order.
                return list(await asyncio.gather(*(fetch_one(e, fetcher) for e in entries)))
        finally:
            ready.put_nowait(None)  # no more pages: the extractor finishes what is queued

    async def extract_arrivals() -> None:
        while True:
            batch: list[Article] = []
            item = await ready.get()
            while item is not None:
                batch.append(item)
                if len(batch) == extraction.batch_size or ready.empty():
                    break
                item = ready.get_nowait()
            if batch:
                await _extract_into(events, host, batch, extraction, companies, use_process)
            if item is None:
                return

    articles, _ = await asyncio.gather(fetch_all(), extract_arrivals())
    log.info("%s: %d articles fetched, %d extracted", host, len(articles), len(events))
    return articles, events


async def _extract_into(
    events: dict[str, list[DealEvent]],
    host: str,
    todo: list[Article],
    extraction: ExtractionSettings,
    companies: list[str],
    use_process: bool,
) -> None:
    """Deal events of `todo` into `events`; a failed batch is left out (stored without an extractor
    version, `dealradar reextract` catches up)."""
    docs = [(a.title or "", a.text) for a in todo]
    try:
        found = await asyncio.to_thread(extract_docs, docs, extraction, companies, use_process)
    except Exception:
        log.exception("%s: deal extraction failed for a batch of %d articles", host, len(todo))
    else:
        events.update((a.url, evs) for a, evs in zip(todo, found, strict=True))


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
