"""`dealradar reextract`: run the current deal extractor over stored articles extracted by an older
version, replacing their events (no refetching: the article text is in the warehouse).

Re-extraction does not send alerts: it revisits old news, and a better extractor finding a deal of
last year is not an alert. Deals are re-clustered, so `deals` and the trend views reflect the new events.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from extractors.clock import utc_now
from flows import progress
from flows.config import load_config
from flows.nightly import MAX_KNOWN_COMPANIES, writer
from flows.tasks import extract_batch

log = logging.getLogger(__name__)


def since_date(since: str | None) -> date | None:
    """--since as a date: "2025-01-01", or a duration back from today ("30d", "2w", "3m")."""
    if not since:
        return None
    from warehouse.trends import parse_since

    value = parse_since(since)
    if isinstance(value, timedelta):
        return (utc_now() - value).date()
    return value


@flow(name="dealradar-reextract", task_runner=ThreadPoolTaskRunner(max_workers=2), log_prints=False)
def reextract(config_path: str = "config.yaml", since: str | None = None) -> dict[str, Any]:
    """Replace the events of articles extracted by an older extractor version with fresh ones."""
    from extractors.deals import EXTRACTOR_VERSION
    from warehouse.load import (
        articles_for_reextraction,
        finish_run,
        known_companies,
        replace_events,
        start_run,
    )

    started = time.monotonic()
    config = load_config(config_path)
    cutoff = since_date(since)
    with writer(config) as con:
        run_id = start_run(con, "reextract")
        todo = articles_for_reextraction(con, cutoff, EXTRACTOR_VERSION)
        companies = known_companies(con)[:MAX_KNOWN_COMPANIES]
    size = config.extraction.batch_size
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    futures = [
        extract_batch.submit([(title or "", text) for _, title, text in batch], config.extraction, companies)
        for batch in batches
    ]
    totals = {"events_new": 0, "events_removed": 0, "deals_new": 0, "deals_updated": 0}
    progress.start("articles", len(todo))
    with writer(config) as con:
        for batch, future in zip(batches, futures, strict=True):
            for (url, _, _), events in zip(batch, future.result(), strict=True):
                stats = replace_events(con, url, events, EXTRACTOR_VERSION, run_id=run_id)
                for key in totals:
                    totals[key] += int(stats.get(key, 0) or 0)
            progress.advance("articles", len(batch))
        summary = {
            "run_id": run_id,
            "articles": len(todo),
            "extractor_version": EXTRACTOR_VERSION,
            "since": cutoff.isoformat() if cutoff else None,
            **totals,
            "elapsed_s": round(time.monotonic() - started, 2),
        }
        finish_run(con, run_id, "ok", summary)
    log.info("re-extraction: %s", summary)
    return summary


def run_reextract(config_path: str | Path, since: str | None = None) -> dict[str, Any]:
    return reextract(str(config_path), since)
