"""Shared helpers of the warehouse tests: building articles/events and loading the small known dataset."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from extractors.models import Article, DealEvent

DATASET = Path(__file__).resolve().parent / "fixtures" / "warehouse" / "small_dataset.json"
VERSION = "test-1.0"


def article(url: str, site: str, published: datetime | str, title: str = "", text: str = "testo") -> Article:
    if isinstance(published, str):
        published = datetime.fromisoformat(published)
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return Article(
        url=url, final_url=url, site=site, feed_name="feed", feed_url=f"https://{site}/feed", title=title,
        author=None, published=published, text=text, language="it", extraction="page",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def event(deal_type: str, acquirer: str | None, target: str | None, **fields) -> DealEvent:
    parties = fields.pop("parties", [p for p in (target, acquirer) if p])
    return DealEvent(deal_type=deal_type, acquirer=acquirer, target=target, parties=parties, **fields)


def load_dataset() -> tuple[list[Article], dict[str, list[DealEvent]]]:
    data = json.loads(DATASET.read_text(encoding="utf-8"))
    articles = [article(a["url"], a["site"], a["published"], a["title"], a["text"]) for a in data["articles"]]
    events = {url: [DealEvent(**e) for e in items] for url, items in data["events"].items()}
    return articles, events


def store_and_cluster(con: duckdb.DuckDBPyConnection, articles, events, kind: str = "nightly") -> str:
    from warehouse.cluster import cluster_new_events
    from warehouse.load import finish_run, start_run, store_articles

    run_id = start_run(con, kind)
    store_articles(con, run_id, articles, events, VERSION)
    cluster_new_events(con, run_id)
    finish_run(con, run_id, "ok", {})
    return run_id
