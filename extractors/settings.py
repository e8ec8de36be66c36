"""Typed settings of the fetch and extraction stages (the `fetch:` and `extraction:` keys of config.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

BUNDLED_MODEL = Path(__file__).parent / "deals" / "trained"  # the deal model shipped with the package


class _Strict(BaseModel):
    # Unknown keys are typos; a typo in a timeout must not silently fall back to the default.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class FetchSettings(_Strict):
    connect_timeout_s: float = Field(10.0, gt=0)
    """Seconds to wait for a TCP/TLS connection before giving up on a host."""
    read_timeout_s: float = Field(20.0, gt=0)
    """Seconds to wait between two chunks of a response (a server that stalls is dropped)."""
    total_timeout_s: float = Field(60.0, gt=0)
    """Hard limit in seconds for one whole request, including a server that trickles bytes. A request
    that reaches it is not retried in the same run: its entry is deferred to the next run."""
    max_feed_bytes: int = Field(10_000_000, gt=0)
    """Largest feed accepted, after decompression; bigger ones are refused, never read whole."""
    max_page_bytes: int = Field(5_000_000, gt=0)
    """Largest article page accepted, after decompression."""
    max_entries_per_feed: int = Field(500, gt=0)
    """New entries of one feed fetched per run, newest first. More are not dropped: they are deferred to
    the next run (counted per feed in the run summary), where they get up to N more slots; entries older
    than `defer_horizon_days` are not kept for later."""
    defer_horizon_days: float = Field(14.0, gt=0)
    """How old (by publication date, else by when it was first deferred) an entry may be and still be kept
    for a later run when this run cannot fetch it (over `max_entries_per_feed`, out of time, server busy).
    Older ones are given up, counted in the summary as `expired`."""
    run_deadline_s: float = Field(1800.0, gt=0)
    """Time budget in seconds for the fetch stages of a whole run (feeds and pages). What is still being
    fetched then is stopped and deferred to the next run; what was fetched is stored as usual."""
    per_host_concurrency: int = Field(2, ge=1)
    """Requests in flight to one host at once (be polite to publishers)."""
    total_concurrency: int = Field(32, ge=1)
    """Requests in flight across all hosts at once."""
    max_redirects: int = Field(5, ge=0)
    """Redirects followed before a URL is given up as a loop."""
    retries: int = Field(2, ge=0)
    """Extra attempts for transient failures (timeouts, 429, 5xx), with back-off."""
    retry_backoff_s: float = Field(1.0, ge=0)
    """First back-off delay in seconds; doubles on each retry; Retry-After wins when given (capped)."""
    max_retry_after_s: float = Field(30.0, ge=0)
    """Longest Retry-After honoured within one run; longer waits are left to the next run."""
    allow_private_addresses: bool = False
    """Allow URLs that resolve to loopback, private, link-local or metadata addresses (tests, demo)."""
    user_agent: str = "dealradar/0.1 (+https://github.com/dealradar/dealradar; Italian tech-deal monitor)"
    """User-Agent sent with every request: names the project so publishers know who is calling."""
    respect_robots_txt: bool = True
    """Fetch /robots.txt per host and skip article URLs it disallows for our user agent."""
    per_host_delay_s: float = Field(0.0, ge=0)
    """Minimum seconds between two requests to the same host (robots.txt Crawl-delay raises it)."""
    languages: list[str] = ["it"]
    """Article languages kept for deal extraction; others are stored with a skip reason."""


class ExtractionSettings(_Strict):
    model: str = "bundled"
    """Deal model: "bundled" (the pipeline trained on the shared gold sets that ships with dealradar) or the
    folder of one rebuilt by `make train` (`python -m extractors.deals.train --out DIR`)."""

    @field_validator("model")
    @classmethod
    def _model_exists(cls, value: str) -> str:
        if value in {"bundled", "blank"}:  # "blank": older configs, before a trained model shipped
            return "bundled"
        if not (Path(value).expanduser() / "config.cfg").is_file():
            raise ValueError(f"{value!r} is not a trained deal model folder (no config.cfg): use 'bundled'")
        return value

    def model_path(self) -> Path:
        if self.model == "bundled":
            return BUNDLED_MODEL
        return Path(self.model).expanduser()
    min_confidence: float = Field(0.0, ge=0, le=1)
    """Events below this confidence are not stored."""
    aliases: dict[str, list[str]] = {}
    """Company name -> other names it goes by (e.g. "Intesa Sanpaolo": ["Intesa", "ISP"])."""
    batch_size: int = Field(32, ge=1)
    """Articles per extraction task (a worker batch); spaCy itself reads them 8 at a time (memory)."""
    workers: int | None = Field(None, ge=0)
    """Worker processes for the CPU work of a big run (page text and deal extraction), fed batches of
    pages as they arrive while the flow's process downloads and writes. None (default): one per core;
    0: none, the work runs in the flow's process (less memory, one core). Each worker holds ~170 MB; more
    than the cores the run may use are not started (the run logs a warning and uses one per core).
    Runs of fewer than 200 new articles never start workers (starting one takes 1.5-2 s)."""
