"""The fetch stages and deal extraction as the nightly flow runs them.

`fetch_and_extract` runs `extractors.crawl.crawl` (feeds, then each feed's pages as soon as it is parsed,
in one event loop, bounded by `fetch.run_deadline_s`) and hands the pages to deal extraction as they
arrive: in this process's threads, in the extraction worker process (the second core) once a run has
enough pages to repay its start, or, under another task runner (Dask), as `extract-deals` Prefect tasks
the cluster takes. Nothing here writes the warehouse (the flow is its single writer); `known` only asks
it which URLs are stored already.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from extractors.crawl import CrawlResult, KnownUrls, crawl
from extractors.models import DealEvent, FeedEntry, FeedSource, FeedState
from extractors.settings import ExtractionSettings, FetchSettings
from flows.extraction import extract_docs, extract_here, extraction_process

log = logging.getLogger(__name__)

PROCESS_THRESHOLD = 200  # pages from which deal extraction gets its own process (starts in 1.3-2 s)


class Extraction:
    """Where deal extraction runs for one run: decided once, as the pages to fetch become known.

    use_process: True (worker process from the start), False (threads), None (the worker process once
    PROCESS_THRESHOLD pages are planned and a second core is there; batches before that run in threads).
    on_cluster: the task runner is not this process's thread pool (Dask): batches go to it as tasks.
    """

    def __init__(self, settings: ExtractionSettings, companies: Sequence[str], use_process: bool | None,
                 on_cluster: bool = False):  # fmt: skip
        self.settings = settings
        self.companies = list(companies)
        self.on_cluster = on_cluster
        self.may_use_process = use_process is not False and not on_cluster and (os.cpu_count() or 1) > 1
        self.in_process = False
        self._lock = threading.Lock()
        if use_process and not on_cluster:
            self._start_process()

    def planned(self, pages: int) -> None:
        if self.may_use_process and not self.in_process and pages >= PROCESS_THRESHOLD:
            self._start_process()

    def _start_process(self) -> None:
        with self._lock:
            if not self.in_process:
                extraction_process(self.settings, self.companies)  # loads spaCy while pages download
                self.in_process = True

    def __call__(self, docs: list[tuple[str, str]]) -> list[list[DealEvent]]:
        if self.on_cluster:
            return extract_batch.submit(docs, self.settings, self.companies).result()
        return extract_docs(docs, self.settings, self.companies, self.in_process)


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
    as each feed or page is done (the CLI's progress)."""
    return asyncio.run(
        crawl(sources, states, fetch, known=known, pending=pending, extract=extraction,
              batch_size=extraction.settings.batch_size, on_planned=extraction.planned, on_done=on_done)
    )  # fmt: skip


def _extract_batch(
    docs: Sequence[tuple[str, str]], settings: ExtractionSettings, companies: Sequence[str]
) -> list[list[DealEvent]]:
    """Deal events of a batch of (title, text), with one spaCy pipeline cached per process."""
    return extract_here(docs, settings, companies)


# The plain function keeps its own module-level name so that Dask workers can unpickle it by reference
# (a decorated name would point at the Task object instead of the function).
extract_batch = task(name="extract-deals", cache_policy=NO_CACHE)(_extract_batch)
