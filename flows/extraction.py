"""Deal extraction for the flow: one spaCy pipeline cached per process, run in the calling thread or in
one spawned worker process (the second core). Kept free of Prefect so that the worker starts light."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import sys
import threading
import types
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from extractors.models import DealEvent
from extractors.settings import ExtractionSettings

log = logging.getLogger(__name__)


def extract_docs(
    docs: Sequence[tuple[str, str]], settings: ExtractionSettings, companies: Sequence[str], use_process: bool
) -> list[list[DealEvent]]:
    """Deal events of (title, text) pairs: in this process, or in the extraction process (other core)."""
    if use_process:
        worker = _PROCESS or extraction_process(settings, companies)
        return worker.submit(extract_here, list(docs), settings, list(companies)).result()
    return extract_here(docs, settings, companies)


def extract_here(
    docs: Sequence[tuple[str, str]], settings: ExtractionSettings, companies: Sequence[str]
) -> list[list[DealEvent]]:
    from extractors.deals import extract_deals

    nlp = cached_pipeline(settings, companies)
    with _PIPELINE_LOCK:  # a Language object is not meant to be shared by threads at once
        events = extract_deals(list(docs), nlp=nlp)
    if settings.min_confidence > 0:
        events = [[e for e in evs if e.confidence >= settings.min_confidence] for evs in events]
    return events


_PROCESS: ProcessPoolExecutor | None = None


def extractor_version(in_worker: bool = False) -> str:
    """EXTRACTOR_VERSION of the extractor that ran; asked of the worker when it did the extraction, so
    that this process need not import spaCy (~50 MB) just for a version string."""
    if in_worker and _PROCESS is not None:
        try:
            return _PROCESS.submit(_version).result()
        except Exception:  # a worker that died: the same code answers here
            log.warning("the extraction worker did not answer; its version is read here", exc_info=True)
    return _version()


def _version() -> str:
    from extractors.deals import EXTRACTOR_VERSION

    return EXTRACTOR_VERSION


def extraction_process(settings: ExtractionSettings, companies: Sequence[str]) -> ProcessPoolExecutor:
    """One spawned worker process for deal extraction, started once and kept until `stop_extraction_process`.

    Fetching and trafilatura keep this process's interpreter busy; spaCy in a second process uses the
    second core instead of waiting for the GIL. The first call starts the worker and has it load the
    pipeline at once, so that its start overlaps the downloads.
    """
    global _PROCESS
    with _PIPELINE_LOCK:
        starting = _PROCESS is None
        if starting:
            _PROCESS = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        # the first submit spawns the process; later ones are a no-op once this pipeline is loaded
        with _main_module_left_out() if starting else contextlib.nullcontext():
            _PROCESS.submit(_warm, settings, list(companies))
        return _PROCESS


@contextmanager
def _main_module_left_out() -> Iterator[None]:
    """Spawn re-imports the parent's __main__ in the child, for functions defined there. The worker runs
    only functions of this module, and the parent's main can be heavy or impossible to import: a
    scheduled run's main is `python -m prefect.engine` (the worker took 236 MB and 1.9 s to start instead
    of 200 MB and 1.5 s), a script read from stdin has no file (the worker died at start). So the spawn
    sees an empty __main__ for the moment it reads it."""
    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


def stop_extraction_process() -> None:
    """End the worker (it holds ~200 MB): a run stops it once its articles are extracted, so that the
    warehouse writes that follow do not add their memory to the worker's. A scheduled run is a process
    of its own anyway; the next one that needs a worker starts it again."""
    global _PROCESS
    with _PIPELINE_LOCK:
        worker, _PROCESS = _PROCESS, None
    if worker is not None:
        worker.shutdown(wait=True, cancel_futures=True)


def _warm(settings: ExtractionSettings, companies: list[str]) -> None:
    cached_pipeline(settings, companies)


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
