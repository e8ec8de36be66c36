"""Fetched pages -> clean article text ready for deal extraction, or a stated reason why not. Pure: no
network, so that it runs in the extraction worker processes without loading the HTTP stack.

- trafilatura extracts text, title, author and date from the page, decoded here first (UTF-8 when the
  bytes are valid UTF-8, else the declared charset, else Windows-1252) so Italian accents survive wrong or
  missing charset declarations;
- when the page failed, is not HTML (PDF, image) or yields nothing, the feed's content/summary is used
  (extraction="feed");
- cookie-consent walls and paywall stubs are recognised by their vocabulary and never reach deal
  extraction (skip_reason "consent_wall" / "paywall"), unless the feed itself carries the full text;
- an article not in `settings.languages` is kept with skip_reason "language:xx";
- a transient failure with nothing to fall back on, or one the fetcher left to the next run
  (`FetchError.retry_later`), sets transient_failure=True: the flow does not store it, so the next run
  tries again.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from extractors.clock import utc_now
from extractors.dates import clamp_future, parse_date
from extractors.errors import FetchError
from extractors.language import detect_language
from extractors.models import Article, FeedEntry
from extractors.urls import site_of

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")
FULL_FEED_CHARS = 600  # a feed text this long is a whole article, usable even behind a wall

_CONSENT_WORDS = frozenset(
    {"cookie", "cookies", "consenso", "consensi", "acconsenti", "accetta", "accetto", "accettare",
     "rifiuta", "rifiuto", "rifiutare", "preferenze", "gestisci", "personalizza", "tracciamento",
     "profilazione", "informativa", "partner", "fornitori", "consent", "accept", "reject", "preferences",
     "vendors", "tracking", "privacy", "gdpr"}
)
_PAYWALL_WORDS = frozenset(
    {"abbonati", "abbonato", "abbonamento", "abbonamenti", "abbonarti", "abbonarsi", "abbonandoti",
     "riservato", "riservati", "riservata", "premium", "accedi", "registrati", "login", "subscribe",
     "subscription", "subscriber", "subscribers", "paywall", "sblocca", "prova", "gratis", "offerta",
     "mese"}
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


# ----------------------------------------------------------------------------------------- decoding


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    # As browsers do (WHATWG encoding standard): pages labelled Latin-1 or ASCII are really Windows-1252.
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def decode_html(html: bytes, content_type: str | None) -> str:
    """Text of an HTML page whose declared charset may be wrong or missing."""
    if html.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return html.decode("utf-16", "replace")
    try:
        # Valid UTF-8 with accents is almost never another encoding by accident: trust the bytes first.
        return html.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    header = _HEADER_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(html[:8192])
    for declared in (header.group(1) if header else None, meta.group(1).decode("ascii") if meta else None):
        codec = _codec(declared)
        if codec and codec != "utf-8":
            return html.decode(codec, "replace")
    return html.decode("cp1252", "replace")


# ----------------------------------------------------------------------------------------- walls


def _share(words: list[str], vocabulary: frozenset[str]) -> tuple[int, float]:
    hits = sum(1 for w in words if w in vocabulary)
    return hits, hits / max(1, len(words))


def wall_kind(text: str) -> str | None:
    """"consent_wall" or "paywall" when `text` is a short page dominated by that vocabulary, else None.

    Real articles about cookies or subscriptions are long or use the words sparingly; a wall is short
    and made of little else.
    """
    words = _WORD.findall(text.lower())
    if not words or len(words) > 400:
        return None
    consent_hits, consent_share = _share(words, _CONSENT_WORDS)
    paywall_hits, paywall_share = _share(words, _PAYWALL_WORDS)
    # Measured: the fixture walls run at 0.2+ of their words; an article about cookie fines at 0.09.
    if consent_hits >= 4 and consent_share >= 0.12 and consent_share >= paywall_share:
        return "consent_wall"
    if paywall_hits >= 3 and paywall_share >= 0.08:
        return "paywall"
    return None


# ----------------------------------------------------------------------------------------- extraction


def _is_html(content_type: str | None, html: bytes) -> bool:
    if content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        return mime in _HTML_TYPES
    return b"<html" in html[:4096].lower() or b"<!doctype html" in html[:4096].lower()


def _trafilatura(html: bytes, content_type: str | None, url: str | None) -> dict[str, str | None]:
    import trafilatura  # here, not at the top: a flow whose workers make the page text never loads it (24 MB)

    text = decode_html(html, content_type)
    try:
        doc = trafilatura.bare_extraction(
            text, url=url, with_metadata=True, include_comments=False, include_tables=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # hostile markup must not take the batch down
        log.info("trafilatura failed on %s: %s", url, exc)
        return {}
    if doc is None:
        return {}
    return {"text": doc.text, "title": doc.title, "author": doc.author, "date": doc.date}


def _feed_text(entry: FeedEntry) -> str:
    candidates = [entry.content or "", entry.summary or ""]
    return max(candidates, key=len).strip()


def extract_article(
    entry: FeedEntry,
    html: bytes | None,
    final_url: str | None,
    content_type: str | None,
    *,
    languages: Sequence[str] = ("it",),
) -> Article:
    """The article of `entry` from its page bytes (None when the fetch failed). Pure: no network."""
    page: dict[str, str | None] = {}
    if html and _is_html(content_type, html):
        page = _trafilatura(html, content_type, final_url or entry.url)
    elif html:
        log.info("%s is %s, not HTML: using the feed's text", entry.url, content_type)
    page_text = (page.get("text") or "").strip()
    feed_text = _feed_text(entry)
    skip_reason = wall_kind(page_text) if page_text else None

    if skip_reason and len(feed_text) >= FULL_FEED_CHARS:
        text, extraction, skip_reason = feed_text, "feed", None  # the feed carries the whole article
    elif skip_reason:
        text, extraction = feed_text, ("feed" if feed_text else "none")
    elif page_text and len(page_text) * 2 >= len(feed_text):
        text, extraction = page_text, "page"
    elif feed_text:  # the page gave a teaser at most: the feed's own text is the better copy
        text, extraction = feed_text, "feed"
    else:
        text, extraction = "", "none"

    title = entry.title or page.get("title") or None
    language = detect_language(f"{title or ''}\n{text}")
    if skip_reason is None and not text:
        skip_reason = "no_text"
    elif skip_reason is None and language is not None and language not in languages:
        skip_reason = f"language:{language}"
    published = entry.published or clamp_future(parse_date(page.get("date")))
    return Article(
        url=entry.url,
        final_url=final_url,
        site=site_of(final_url or entry.url),
        feed_name=entry.feed_name,
        feed_url=entry.feed_url,
        title=title,
        author=page.get("author") or entry.author,
        published=published,
        text=text,
        language=language,
        extraction=extraction,  # type: ignore[arg-type]
        skip_reason=skip_reason,
        fetched_at=utc_now(),
    )


@dataclass
class FetchedPage:
    """An entry's page as downloaded (html None when the fetch failed, with the error). Plain data that
    pickles, so that the CPU work on it (`page_article`) can run in another process."""

    entry: FeedEntry
    html: bytes | None = None
    final_url: str | None = None
    content_type: str | None = None
    error: FetchError | None = None


def page_article(page: FetchedPage, languages: Sequence[str] = ("it",)) -> Article:
    """The CPU half: the Article of a fetched page (trafilatura), or of the feed's text when the page
    failed; never raises."""
    entry, error = page.entry, page.error
    try:
        article = extract_article(entry, page.html, page.final_url, page.content_type, languages=languages)
    except Exception as exc:  # one bad page must never sink the batch
        log.exception("extracting %s failed", entry.url)
        article = extract_article(entry, None, page.final_url, None, languages=languages)
        article.skip_reason = article.skip_reason or f"extraction_failed:{type(exc).__name__}"
    if error is not None and (article.extraction == "none" or error.retry_later):
        # retry_later (out of time, server asked for a long pause): the page was not tried again in this
        # run, so it is not given up for the feed's teaser either; the next run fetches it.
        article.skip_reason = f"fetch_failed:{error.status or error.kind}"
        article.transient_failure = error.transient
    return article
