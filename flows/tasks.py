"""The fetch stages, page text and deal extraction as the nightly flow runs them.

`fetch_and_extract` runs `extractors.crawl.crawl` (feeds, then each feed's pages as soon as it is parsed,
in one event loop, bounded by `fetch.run_deadline_s`) and hands the downloaded pages, in batches as they
arrive, to the CPU work (page text with trafilatura, then deal extraction): in this process's threads for
a small night, in `extraction.workers` worker processes once a run has enough pages to repay their start,
or, under another task runner (Dask), as `pages-to-deals` Prefect tasks the cluster takes. Nothing here
writes the warehouse (the flow is its single writer); `known` only asks it which URLs are stored already.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from extractors.crawl import CrawlResult, KnownUrls, crawl
from extractors.models import DealEvent, FeedEntry, FeedSource, FeedState, WorkDone
from extractors.page_text import FetchedPage
from extractors.settings import ExtractionSettings, FetchSettings
from flows.extraction import (
    extract_here,
    give_back_free_memory,
    process_pages,
    start_workers,
    submit_pages,
    worker_count,
)

log = logging.getLogger(__name__)

PROCESS_THRESHOLD = 200  # pages from which the CPU work gets worker processes (they start in 1.5-2 s)
CLUSTER_BATCHES = 8  # batches in flight at once on a Dask cluster


class Extraction:
    """Where the CPU work of one run goes: decided once, as the pages to fetch become known.

    use_process: True (worker processes from the start), False (threads), None (worker processes once
    PROCESS_THRESHOLD pages are planned and `extraction.workers` is not 0; batches before that run in
    threads). on_cluster: the task runner is not this process's thread pool (Dask): batches go to it as
    tasks.
    """

    def __init__(self, settings: ExtractionSettings, companies: Sequence[str], use_process: bool | None,
                 languages: Sequence[str] = ("it",), on_cluster: bool = False):  # fmt: skip
        self.settings = settings
        self.companies = list(companies)
        self.languages = list(languages)
        self.on_cluster = on_cluster
        self.workers = worker_count(settings)
        self.may_use_process = use_process is not False and not on_cluster and self.workers > 0
        self.in_process = False
        self._lock = threading.Lock()
        if use_process and not on_cluster:
            self._start_process()

    @property
    def parallel(self) -> int:
        """Batches worked on at once: one per worker process, a few on a cluster, two threads here."""
        if self.on_cluster:
            return CLUSTER_BATCHES
        return max(2, self.workers) if self.may_use_process else 2

    def planned(self, pages: int) -> None:
        if self.may_use_process and not self.in_process and pages >= PROCESS_THRESHOLD:
            self._start_process()

    def _start_process(self) -> None:
        with self._lock:
            if not self.in_process:
                start_workers(self.settings, self.companies)  # they load spaCy while pages download
                self.in_process = True

    def __call__(self, pages: list[FetchedPage]) -> WorkDone:
        if self.on_cluster:
            return pages_to_deals.submit(pages, self.languages, self.settings, self.companies).result()
        if self.in_process:
            done = submit_pages(pages, self.languages, self.settings, self.companies).result()
            give_back_free_memory()
            return done
        return process_pages(pages, self.languages, self.settings, self.companies)


def fetch_and_extract(
    sources: Sequence[FeedSource],
    states: dict[str, FeedState],
    pending: Sequence[FeedEntry],
    fetch: FetchSettings,
    extraction: Extraction,
    known: KnownUrls,
    on_done: Callable[[str, int], None] | None = None,
) -> CrawlResult:
    """Every feed, the pages of its new entries and of the entries earlier runs deferred, with their deal
    events. Never raises for a bad feed or page; see extractors.crawl. `on_done("feeds" | "articles", 1)`
    as each feed or page is downloaded (the CLI's progress)."""
    return asyncio.run(
        crawl(sources, states, fetch, known=known, pending=pending, work=extraction,
              parallel=extraction.parallel, batch_size=extraction.settings.batch_size,
              on_planned=extraction.planned, on_done=on_done)
    )  # fmt: skip


def _pages_to_deals(
    pages: Sequence[FetchedPage],
    languages: Sequence[str],
    settings: ExtractionSettings,
    companies: Sequence[str],
) -> WorkDone:
    """Page text and deal events of a batch of fetched pages, on whichever process the task runner picks."""
    return process_pages(pages, languages, settings, companies)


def _extract_batch(
    docs: Sequence[tuple[str, str]], settings: ExtractionSettings, companies: Sequence[str]
) -> list[list[DealEvent]]:
    """Deal events of a batch of (title, text), with one spaCy pipeline cached per process."""
    return extract_here(docs, settings, companies)


# The plain functions keep their own module-level names so that Dask workers can unpickle them by reference
# (a decorated name would point at the Task object instead of the function).
extract_batch = task(name="extract-deals", cache_policy=NO_CACHE)(_extract_batch)
pages_to_deals = task(name="pages-to-deals", cache_policy=NO_CACHE)(_pages_to_deals)
