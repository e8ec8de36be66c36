"""The fetch stages of a night in one event loop: feeds, and each feed's new pages as soon as it is parsed.

`crawl` never raises for a bad feed or page, and never drops an entry without saying so:
- one SafeFetcher serves feeds and pages, so per-host limits and robots.txt hold across both; a feed
  that hangs holds only its own slot while the pages of the feeds that answered download;
- entries an earlier run deferred (`pending`) start at once, without waiting for their feed;
- of a feed's entries, those not stored before (`known`) and not taken from another feed this run are
  fetched, newest first, at most `max_entries_per_feed`; the rest are deferred ("over_max_entries");
- a page the fetcher left for later (its transfer used the whole time budget, or the server asked for a
  longer pause than a run gives) and a transient failure with no feed text to fall back on are deferred
  (their skip reason, e.g. "fetch_failed:time_budget");
- `run_deadline_s` bounds the whole: what is still running then is cancelled and deferred
  ("run_deadline"); a feed that had not answered is reported failed; what was fetched is returned;
- an entry older than `defer_horizon_days` is not deferred but given up (counted as "expired");
- page text and deal extraction (`work`) take the pages that arrived, in batches, while the downloads go
  on (the flow's worker processes do it; the loop only downloads).

The caller stores the articles and the deferred entries (warehouse.pending); a fetched feed with deferred
entries keeps its old validators, so the next run reads all of it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from extractors.articles import fetch_articles, fetch_page
from extractors.clock import utc_now
from extractors.feeds import fetch_feed
from extractors.http import SafeFetcher
from extractors.models import (
    Article,
    DealEvent,
    DeferredEntry,
    FeedEntry,
    FeedResult,
    FeedSource,
    FeedState,
    WorkDone,
)
from extractors.page_text import FetchedPage, page_article
from extractors.settings import FetchSettings
from extractors.urls import redact_url

log = logging.getLogger(__name__)

OVER_MAX_ENTRIES = "over_max_entries"
RUN_DEADLINE = "run_deadline"

KnownUrls = Callable[[list[str]], set[str]]  # which of these URLs are stored already (runs in a thread)



# Page text and deal extraction of a batch of fetched pages; called in a thread, it may hand the batch to
# another process.
Work = Callable[[list[FetchedPage]], WorkDone]


@dataclass
class CrawlResult:
    feeds: list[FeedResult]  # one per source, in order
    articles: list[Article] = field(default_factory=list)  # to store (transient failures are deferred)
    events_by_url: dict[str, list[DealEvent]] = field(default_factory=dict)
    deferred: list[DeferredEntry] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # URLs the feeds carried that were stored before
    skipped: Counter[str] = field(default_factory=Counter)  # duplicate_in_run, expired
    deadline_reached: bool = False
    extraction_failures: int = 0  # extractable articles left without events (reextract catches up)
    feeds_s: float = 0.0  # seconds until every feed had answered (or failed)
    pages_s: float = 0.0  # seconds until every page was downloaded
    costs: dict[str, float] = field(default_factory=dict)  # busy seconds of the CPU work, per stage
    worker_cpu_s: dict[int, float] = field(default_factory=dict)  # CPU seconds per worker process

    def deferred_counts(self) -> dict[str, int]:
        return dict(Counter(d.reason for d in self.deferred))


def _nothing(stage: str, n: int) -> None:
    pass


def select_new(entries: Sequence[FeedEntry], cap: int) -> tuple[list[FeedEntry], list[FeedEntry]]:
    """(to fetch now, to defer): the newest `cap` entries, and the rest. Entries come newest first."""
    return list(entries[:cap]), list(entries[cap:])


def is_expired(entry: FeedEntry, horizon_days: float, now: datetime | None = None,
               first_deferred: datetime | None = None) -> bool:
    """An entry too old to keep for a later run: published (else first deferred) before the horizon."""
    when = entry.published or first_deferred
    if when is None:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when < (now or utc_now()) - timedelta(days=horizon_days)


async def crawl(
    sources: Sequence[FeedSource],
    states: dict[str, FeedState],
    settings: FetchSettings,
    *,
    known: KnownUrls,
    pending: Sequence[FeedEntry] = (),
    work: Work | None = None,
    parallel: int = 1,
    batch_size: int = 32,
    on_planned: Callable[[int], None] | None = None,
    on_done: Callable[[str, int], None] | None = None,
    fetcher: SafeFetcher | None = None,
) -> CrawlResult:
    """Fetch every feed and the pages of their new entries (and of `pending`); see the module docstring.

    `work`: the CPU half of the pages (page text, deal extraction), given batches of downloaded pages as
    they arrive (at most `batch_size`) by `parallel` consumers; without it, page text is made here and no
    deals are extracted. `on_planned(n)` is told the running total of pages to fetch (the flow starts its
    worker processes once there are enough); `on_done("feeds" | "articles", 1)` as each feed or page is
    downloaded (progress).
    """
    if fetcher is None:
        async with SafeFetcher(settings) as own:
            return await crawl(sources, states, settings, known=known, pending=pending, work=work,
                               parallel=parallel, batch_size=batch_size, on_planned=on_planned,
                               on_done=on_done, fetcher=own)  # fmt: skip
    night = _Night(settings, fetcher, known, work, parallel, batch_size, on_planned, on_done or _nothing)
    return await night.run(list(sources), states, list(pending))


class _Night:
    def __init__(self, settings: FetchSettings, fetcher: SafeFetcher, known: KnownUrls,
                 work: Work | None, parallel: int, batch_size: int,
                 on_planned: Callable[[int], None] | None, on_done: Callable[[str, int], None]):  # fmt: skip
        self.settings = settings
        self.fetcher = fetcher
        self.known = known
        self.work = work
        self.parallel = max(1, parallel)
        self.batch_size = batch_size
        self.on_planned = on_planned
        self.on_done = on_done
        self.now = utc_now()
        self.claimed: dict[str, str] = {}  # URL -> feed URL that took it (pending entries included)
        self.pages: dict[str, tuple[FeedEntry, asyncio.Task[None]]] = {}
        self.known_waiting: list[tuple[list[str], asyncio.Future[set[str]]]] = []
        self.known_lookup: asyncio.Task[None] | None = None  # one warehouse look-up at a time
        self.ready: asyncio.Queue[FetchedPage | None] = asyncio.Queue()  # downloaded, for `work`
        self.result = CrawlResult(feeds=[])

    async def run(self, sources: list[FeedSource], states: dict[str, FeedState],
                  pending: list[FeedEntry]) -> CrawlResult:
        n_consumers = self.parallel if self.work else 0
        consumers = [asyncio.create_task(self._work_arrivals()) for _ in range(n_consumers)]
        feeds = [asyncio.create_task(self._feed(s, states.get(s.url))) for s in sources]
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.run_deadline_s):
                await self._start_pending(pending)
                if feeds:
                    await asyncio.wait(feeds)  # every feed answered or failed
                self.result.feeds_s = time.monotonic() - started
                while any(not task.done() for _, task in self.pages.values()):
                    await asyncio.wait([task for _, task in self.pages.values()])
        except TimeoutError:
            self.result.deadline_reached = True
            await self._stop_at_deadline(feeds, time.monotonic() - started)
        finally:
            self.result.pages_s = time.monotonic() - started
            for _ in consumers:
                self.ready.put_nowait(None)  # the consumers finish what has arrived, then end
            await asyncio.gather(*consumers)
        self.result.feeds = [self._feed_result(s, task) for s, task in zip(sources, feeds, strict=True)]
        return self.result

    # -- feeds ------------------------------------------------------------------------------------------

    async def _feed(self, source: FeedSource, state: FeedState | None) -> FeedResult:
        result = await fetch_feed(source, state, self.settings, self.fetcher)
        if result.status == "fetched" and result.entries:
            await self._take(source, result.entries)
        self.on_done("feeds", 1)
        return result

    async def _take(self, source: FeedSource, entries: list[FeedEntry]) -> None:
        seen = await self._known([e.url for e in entries if e.url not in self.claimed])
        self.result.seen |= seen
        new = []
        for entry in entries:  # claimed is read after the look-up: another feed may have taken some meanwhile
            owner = self.claimed.get(entry.url)
            if owner is None and entry.url not in seen:
                new.append(entry)
            elif owner not in (None, source.url, "pending"):
                self.result.skipped["duplicate_in_run"] += 1
        now, later = select_new(new, self.settings.max_entries_per_feed)
        if later:
            deferred = self._defer_all(later, OVER_MAX_ENTRIES)
            log.warning(
                "feed %s: %d new entries over max_entries_per_feed (%d): %d deferred to the next run, "
                "%d older than %g days given up", source.name, len(later), self.settings.max_entries_per_feed,
                deferred, len(later) - deferred, self.settings.defer_horizon_days,
            )  # fmt: skip
        self._start_pages(now, source.url)

    async def _known(self, urls: list[str]) -> set[str]:
        """Those of `urls` stored before. Feeds parsed while a look-up runs share the next one: each
        look-up opens the warehouse (~40 ms), and twenty feeds often answer within the same moment."""
        if not urls:
            return set()
        answer: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
        self.known_waiting.append((urls, answer))
        if self.known_lookup is None or self.known_lookup.done():
            self.known_lookup = asyncio.create_task(self._look_up_known())
        return await answer

    async def _look_up_known(self) -> None:
        while self.known_waiting:
            waiting, self.known_waiting = self.known_waiting, []
            wanted = list(dict.fromkeys(url for urls, _ in waiting for url in urls))
            try:
                seen = await asyncio.to_thread(self.known, wanted)
            except Exception as exc:  # the warehouse is locked or broken: those feeds fail, not the run
                for _, answer in waiting:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            for urls, answer in waiting:
                if not answer.done():
                    answer.set_result(seen.intersection(urls))

    def _feed_result(self, source: FeedSource, task: asyncio.Task[FeedResult]) -> FeedResult:
        if task.done() and not task.cancelled() and task.exception() is None:
            result = task.result()
        else:
            error = (f"not fetched: the run's fetch deadline ({self.settings.run_deadline_s:g} s) came first"
                     if task.cancelled() else f"unexpected error: {task.exception()!r}")  # fmt: skip
            result = FeedResult(source, "failed", error=error)
            log.warning("feed %s (%s) %s", source.name, redact_url(source.url), error)
        result.deferred = sum(1 for d in self.result.deferred if d.entry.feed_url == source.url)
        return result

    # -- pages ------------------------------------------------------------------------------------------

    async def _start_pending(self, pending: list[FeedEntry]) -> None:
        """Entries deferred by earlier runs: up to the cap per feed, at once (their feed may be down)."""
        seen = await self._known([e.url for e in pending])
        per_feed: Counter[str] = Counter()
        todo = []
        for entry in pending:
            if entry.url in seen or entry.url in self.claimed:
                continue
            per_feed[entry.feed_url] += 1
            if per_feed[entry.feed_url] <= self.settings.max_entries_per_feed:
                todo.append(entry)  # the rest stay pending, untouched, for a later run
        self._start_pages(todo, "pending")

    def _start_pages(self, entries: list[FeedEntry], owner: str) -> None:
        for entry in entries:
            self.claimed[entry.url] = owner
            self.pages[entry.url] = (entry, asyncio.create_task(self._page(entry)))
        if entries and self.on_planned is not None:
            self.on_planned(len(self.pages))

    async def _page(self, entry: FeedEntry) -> None:
        try:
            if self.work is not None:  # the CPU half goes to `work`, in batches
                self.ready.put_nowait(await fetch_page(entry, self.settings, self.fetcher))
                self.on_done("articles", 1)
                return
            (article,) = await fetch_articles([entry], self.settings, self.fetcher)
            self.on_done("articles", 1)
        except Exception as exc:  # a bug, not the web: the entry is kept for the next run, not lost
            log.exception("fetching %s failed unexpectedly", entry.url)
            self._defer_all([entry], f"unexpected_error:{type(exc).__name__}")
            return
        self._keep(entry, article)

    def _keep(self, entry: FeedEntry, article: Article) -> None:
        if article.transient_failure:
            self._defer_all([entry], article.skip_reason or "fetch_failed")
        else:
            self.result.articles.append(article)

    def _defer_all(self, entries: list[FeedEntry], reason: str) -> int:
        """Defer what is young enough; give up (count, log) what is older than the horizon."""
        kept = 0
        for entry in entries:
            if is_expired(entry, self.settings.defer_horizon_days, self.now):
                self.result.skipped["expired"] += 1
                log.info("%s (%s) not deferred: older than %g days", entry.url, reason,
                         self.settings.defer_horizon_days)  # fmt: skip
            else:
                self.result.deferred.append(DeferredEntry(entry, reason))
                kept += 1
        return kept

    async def _stop_at_deadline(self, feeds: list[asyncio.Task[FeedResult]], elapsed: float) -> None:
        running = [task for task in feeds if not task.done()]
        unfinished = [entry for entry, task in self.pages.values() if not task.done()]
        for task in running + [task for _, task in self.pages.values() if not task.done()]:
            task.cancel()
        await asyncio.gather(*feeds, *(task for _, task in self.pages.values()), return_exceptions=True)
        deferred = self._defer_all(unfinished, RUN_DEADLINE)
        log.warning(
            "the run's fetch deadline (%g s) was reached after %.0f s: %d feeds not fetched, %d pages "
            "deferred to the next run", self.settings.run_deadline_s, elapsed, len(running), deferred,
        )  # fmt: skip

    # -- page text and deal extraction ------------------------------------------------------------------

    async def _work_arrivals(self) -> None:
        """Each time a consumer is free it takes whatever pages arrived (at most `batch_size`): the work
        starts with the first page and its batches grow only while the consumers are busy."""
        while True:
            batch: list[FetchedPage] = []
            item = await self.ready.get()
            while item is not None:
                batch.append(item)
                if len(batch) == self.batch_size or self.ready.empty():
                    break
                item = self.ready.get_nowait()
            if batch:
                await self._work_batch(batch)
            if item is None:
                return

    async def _work_batch(self, batch: list[FetchedPage]) -> None:
        assert self.work is not None
        try:
            done = await asyncio.to_thread(self.work, batch)
        except Exception:  # stored without events (no extractor version): `dealradar reextract` catches up
            log.exception("page text and deal extraction failed for a batch of %d pages", len(batch))
            languages = self.settings.languages
            articles = await asyncio.to_thread(lambda: [page_article(page, languages) for page in batch])
            failures = sum(1 for a in articles if a.extractable and not a.transient_failure)
            done = WorkDone(articles, {}, failures)
        for page, article in zip(batch, done.articles, strict=True):
            self._keep(page.entry, article)
        result = self.result
        result.events_by_url.update(done.events)
        result.extraction_failures += done.failures
        for stage, seconds in done.costs.items():
            result.costs[stage] = result.costs.get(stage, 0.0) + seconds
        if done.worker is not None:
            pid, cpu = done.worker
            result.worker_cpu_s[pid] = max(cpu, result.worker_cpu_s.get(pid, 0.0))
