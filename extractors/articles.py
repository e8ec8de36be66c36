"""Article pages downloaded through the SafeFetcher (concurrent, polite, capped); `page_text` makes the
article of each. `fetch_articles` does both for a list of entries (the page text in a thread, so that
the other downloads keep moving); the nightly flow fetches with `fetch_page` and sends the pages to its
extraction workers instead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from extractors.errors import FetchError
from extractors.http import SafeFetcher
from extractors.models import Article, FeedEntry
from extractors.page_text import FetchedPage, page_article
from extractors.settings import FetchSettings

log = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


@functools.cache
def _page_threads() -> ThreadPoolExecutor:
    """Two threads for page text in the whole process, shared by every host's event loop. The work holds
    the GIL, so more threads only add switching; one default pool per loop (six threads each, ten hosts)
    also gave each thread its own malloc arena, ~40 MB more memory for nothing."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="page-text")


# A forked child inherits the pool but not its threads: it starts its own.
os.register_at_fork(after_in_child=_page_threads.cache_clear)


async def fetch_articles(
    entries: Sequence[FeedEntry],
    settings: FetchSettings,
    fetcher: SafeFetcher | None = None,
) -> list[Article]:
    """One Article per entry, in order; pages fetched concurrently within the fetcher's limits."""
    if fetcher is None:
        async with SafeFetcher(settings) as own:
            return await fetch_articles(entries, settings, own)
    jobs = [_fetch_one(entry, settings, fetcher) for entry in entries]
    return list(await asyncio.gather(*jobs))


async def fetch_page(entry: FeedEntry, settings: FetchSettings, fetcher: SafeFetcher) -> FetchedPage:
    """The I/O half of an article: its page downloaded within the fetcher's limits, never raising."""
    try:
        response = await fetcher.get(entry.url, max_bytes=settings.max_page_bytes, accept=PAGE_ACCEPT)
    except FetchError as exc:
        log.info("article %s not fetched: %s", entry.url, exc)
        return FetchedPage(entry, error=exc)
    return FetchedPage(entry, response.content, response.final_url, response.content_type)


async def _fetch_one(entry: FeedEntry, settings: FetchSettings, fetcher: SafeFetcher) -> Article:
    page = await fetch_page(entry, settings, fetcher)
    # trafilatura is CPU work: a worker thread keeps the other downloads moving meanwhile.
    job = functools.partial(page_article, page, settings.languages)
    return await asyncio.get_running_loop().run_in_executor(_page_threads(), job)
