"""The CPU half of the nightly run: page text (trafilatura) and deal extraction (spaCy) of fetched pages,
in worker processes (`extraction.workers`, default one per core) or in the calling thread.

The flow's process keeps the I/O (downloads) and the warehouse's single writer; the workers take batches
of fetched pages as they arrive and return plain records. One spaCy pipeline is cached per process. Kept
free of Prefect so that a worker starts light.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from extractors.models import DealEvent, FeedEntry, WorkDone
from extractors.page_text import FetchedPage, page_article
from extractors.settings import ExtractionSettings

log = logging.getLogger(__name__)


def process_pages(
    pages: Sequence[FetchedPage],
    languages: Sequence[str],
    settings: ExtractionSettings,
    companies: Sequence[str],
    *,
    extract: bool = True,
    in_worker: bool = False,
) -> WorkDone:
    """Articles of fetched pages and the deal events of those worth extracting. A failed deal extraction
    leaves its articles without events (stored with no extractor version; `dealradar reextract` catches
    up); page text never raises."""
    mark = time.perf_counter()
    articles = [page_article(page, languages) for page in pages]
    page_text_s = time.perf_counter() - mark
    todo = [a for a in articles if a.extractable and not a.transient_failure]
    events: dict[str, list[DealEvent]] = {}
    failed = 0
    mark = time.perf_counter()
    if todo and extract:
        try:
            found = extract_here([(a.title or "", a.text) for a in todo], settings, companies)
            events = {a.url: evs for a, evs in zip(todo, found, strict=True)}
        except Exception:
            log.exception("deal extraction failed for a batch of %d articles", len(todo))
            failed = len(todo)
    costs = {"page text": page_text_s, "deal extraction": time.perf_counter() - mark}
    worker = (os.getpid(), time.process_time()) if in_worker else None
    return WorkDone(articles, events, failed, costs, worker)


def _process_pages_in_worker(
    pages: list[FetchedPage], languages: list[str], settings: ExtractionSettings, companies: list[str]
) -> WorkDone:
    try:
        return process_pages(pages, languages, settings, companies, in_worker=True)
    finally:
        give_back_free_memory()


@functools.cache
def _libc() -> Any:
    # glibc's name first: ctypes.util.find_library runs `ldconfig -p` in a child process, and a child
    # forked from a 160 MB flow process counted as another 160 MB in the run's peak memory (seen once)
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return ctypes.CDLL(ctypes.util.find_library("c"))


def give_back_free_memory() -> None:
    """Hand the heap's free pages back to the system (glibc keeps them otherwise): a worker's resident
    memory then stays near its pipeline's (measured 208 MB loaded, 232 MB after batches without this)."""
    with contextlib.suppress(OSError, AttributeError):
        _libc().malloc_trim(0)


def submit_pages(
    pages: Sequence[FetchedPage],
    languages: Sequence[str],
    settings: ExtractionSettings,
    companies: Sequence[str],
) -> Future[WorkDone]:
    """`process_pages` in the worker processes (started by `start_workers`)."""
    pool = _POOL or start_workers(settings, companies)
    return pool.submit(_process_pages_in_worker, list(pages), list(languages), settings, list(companies))


def extract_here(
    docs: Sequence[tuple[str, str]], settings: ExtractionSettings, companies: Sequence[str]
) -> list[list[DealEvent]]:
    """Deal events of (title, text) pairs with this process's cached pipeline."""
    from extractors.deals import extract_deals

    nlp = cached_pipeline(settings, companies)
    with _PIPELINE_LOCK:  # a Language object is not meant to be shared by threads at once
        events = extract_deals(list(docs), nlp=nlp)
    if settings.min_confidence > 0:
        events = [[e for e in evs if e.confidence >= settings.min_confidence] for evs in events]
    return events


_POOL: ProcessPoolExecutor | None = None


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. under taskset or a container's cpuset)."""
    with contextlib.suppress(AttributeError, OSError):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def worker_count(settings: ExtractionSettings) -> int:
    """`extraction.workers`, or one per core when unset; never more than the cores. A worker is CPU-bound
    and holds its own pipeline (~170 MB): past one per core more workers only add memory and switching."""
    cores = usable_cores()
    if settings.workers is None:
        return cores
    if settings.workers > cores:
        _warn_capped(settings.workers, cores)
        return cores
    return settings.workers


@functools.cache
def _warn_capped(asked: int, cores: int) -> None:
    log.warning("extraction.workers is %d but this machine gives the run %d cores: %d worker processes "
                "(more would only add ~170 MB each and slow the others down)",
                asked, cores, cores)  # fmt: skip


def extractor_version(in_worker: bool = False) -> str:
    """EXTRACTOR_VERSION of the extractor that ran; asked of a worker when they did the extraction, so
    that this process need not import spaCy (~50 MB) just for a version string."""
    if in_worker and _POOL is not None:
        try:
            return _POOL.submit(_version).result()
        except Exception:  # a worker that died: the same code answers here
            log.warning("the extraction worker did not answer; its version is read here", exc_info=True)
    return _version()


def _version() -> str:
    from extractors.deals import EXTRACTOR_VERSION

    return EXTRACTOR_VERSION


def start_workers(settings: ExtractionSettings, companies: Sequence[str]) -> ProcessPoolExecutor:
    """The spawned worker processes for page text and deal extraction, started once and kept until
    `stop_workers`.

    Downloads keep this process's interpreter busy with I/O; trafilatura and spaCy in other processes use
    the other cores instead of waiting for the GIL. Each worker is asked to load the pipeline at once, so
    that its start (1.5-2 s) overlaps the first downloads.
    """
    global _POOL
    with _PIPELINE_LOCK:
        if _POOL is None:
            n = max(1, worker_count(settings))
            _POOL = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
            with _main_module_left_out():  # each submit while all are busy spawns the next worker
                for _ in range(n):
                    _POOL.submit(_warm, settings, list(companies))
        return _POOL


@contextmanager
def _main_module_left_out() -> Iterator[None]:
    """Spawn re-imports the parent's __main__ in the child, for functions defined there. The workers run
    only functions of this module, and the parent's main can be heavy or impossible to import: a
    scheduled run's main is `python -m prefect.engine` (a worker took 236 MB and 1.9 s to start instead
    of 200 MB and 1.5 s), a script read from stdin has no file (the worker died at start). So the spawn
    sees an empty __main__ for the moment it reads it."""
    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


def stop_workers() -> None:
    """End the workers (each holds ~200 MB): a run stops them once its pages are done, so that the
    warehouse writes that follow do not add their memory to the workers'. A scheduled run is a process
    of its own anyway; the next run that needs workers starts them again."""
    global _POOL
    with _PIPELINE_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _warm(settings: ExtractionSettings, companies: list[str]) -> None:
    """Everything a batch needs loaded, while the first pages download: the deal pipeline, and page text's
    trafilatura with the tables it builds on first use (left to the first batch, ~0.2-0.5 s of it)."""
    url = "https://dealradar.invalid/warm-up"
    html = b"<html><body><article><p>Una pagina di prova, scritta in italiano.</p></article></body></html>"
    page_article(FetchedPage(FeedEntry("warm-up", url, url, url), html, url, "text/html"))
    cached_pipeline(settings, companies)
    give_back_free_memory()  # what loading the pipeline used and let go (~9 MB)


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
