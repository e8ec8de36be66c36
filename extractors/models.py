"""Records that flow between the stages: feeds -> entries -> articles -> deal events.

Plain dataclasses so that every stage can be tested without Prefect or DuckDB, and so that
batches pickle cleanly when a Dask cluster runs the extraction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

FeedStatus = Literal["fetched", "not_modified", "failed"]
Extraction = Literal["page", "feed", "none"]
DealType = Literal["acquisition", "investment", "funding_round", "partnership", "merger", "ipo", "exit"]
DealStatus = Literal["rumor", "announced", "completed"]
DEAL_TYPES: tuple[str, ...] = get_args(DealType)


@dataclass(frozen=True)
class FeedSource:
    """One feed from config.yaml."""

    name: str
    url: str


@dataclass
class FeedState:
    """Conditional-GET validators remembered from the last successful fetch of a feed."""

    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FeedEntry:
    """One item of a feed, its link already canonicalised."""

    feed_name: str
    feed_url: str
    url: str  # canonical: no tracking parameters, no fragment
    link: str  # as the feed wrote it
    title: str | None = None
    summary: str | None = None  # plain text
    content: str | None = None  # plain text of content:encoded, when the feed carries it
    published: datetime | None = None  # timezone-aware UTC
    author: str | None = None
    guid: str | None = None


@dataclass
class FeedResult:
    """What fetching one feed gave: its entries, or why there are none."""

    source: FeedSource
    status: FeedStatus
    entries: list[FeedEntry] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    error: str | None = None
    elapsed_s: float = 0.0
    # Entries of this feed left for a later run (over the per-feed cap, out of time): while there are any,
    # its conditional-GET validators are not moved on, so the next run reads the whole feed again.
    deferred: int = 0


@dataclass
class DeferredEntry:
    """An entry this run could not fetch, kept for the next run, and why (reasons: extractors.crawl)."""

    entry: FeedEntry
    reason: str


@dataclass
class Article:
    """An article as stored: extracted text plus why it was skipped, if it was."""

    url: str  # canonical URL, the article's identity
    final_url: str | None
    site: str  # host without "www."
    feed_name: str | None
    feed_url: str | None
    title: str | None
    author: str | None
    published: datetime | None
    text: str
    language: str | None
    extraction: Extraction  # where text came from: the page, the feed's summary/content, or nowhere
    skip_reason: str | None = None  # set when the article is not fed to deal extraction
    transient_failure: bool = False  # fetch failed in a way worth retrying next run: do not store
    fetched_at: datetime | None = None

    @property
    def extractable(self) -> bool:
        return self.skip_reason is None and bool(self.text.strip())


@dataclass
class DealEvent:
    """One deal event, in the fields of the deal-event contract (shared/deals/GUIDELINES.md)."""

    deal_type: DealType
    acquirer: str | None
    target: str | None
    parties: list[str]
    amount: float | None = None
    currency: str | None = None
    stake_pct: float | None = None
    valuation: float | None = None
    status: DealStatus = "announced"
    evidence: str = ""
    confidence: float = 0.5
    background: bool = False  # a past deal mentioned as context: stored, never alerted
    flags: list[str] = field(default_factory=list)  # e.g. "inconsistent_valuation"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WorkDone:
    """What the CPU work (page text and deal extraction: `extractors.crawl.Work`) made of a batch of
    fetched pages."""

    articles: list[Article]  # one per page, in the batch's order
    events: dict[str, list[DealEvent]]  # by URL, for the articles extracted
    failures: int = 0  # extractable articles whose deal extraction failed (stored without events)
    costs: dict[str, float] = field(default_factory=dict)  # busy seconds per stage (page text, ...)
    worker: tuple[int, float] | None = None  # (pid, CPU seconds so far) of the process that did it
