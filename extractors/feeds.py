"""Feeds: fetch them politely (conditional GET), parse them defensively, date them in Italian.

`fetch_feeds` never raises for one bad feed: each source gives a FeedResult with status "fetched",
"not_modified" or "failed" (and why). `parse_feed` turns bytes into FeedEntry records or raises
FeedParseError. Decisions worth knowing:
- XML entity declarations are refused before feedparser sees the bytes (billion laughs, XXE): a feed
  never needs them. A plain DOCTYPE (RSS 0.91) is fine.
- bytes are handed to feedparser as a stream, never as a bare bytes object: feedparser treats bytes
  that happen to be a file path ("/etc/passwd") as a file name and would read that file.
- entries without a usable http(s) link are skipped (logged); duplicate links keep the newest entry;
  entries come newest first, all of them: the per-feed cap is applied to the *new* ones by
  extractors.crawl, which defers the rest to the next run instead of dropping them.
- dates up to a day in the future are clamped to now (publishers' clocks and zones are sloppy); dates
  further ahead are dropped (None) because they are wrong, and a wrong date would sort the entry first.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import logging
import re
import time
import xml.parsers.expat
from collections.abc import Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser

from extractors.dates import clamp_future, parse_date, plausible_year
from extractors.errors import FetchError
from extractors.http import SafeFetcher
from extractors.models import FeedEntry, FeedResult, FeedSource, FeedState
from extractors.settings import FetchSettings
from extractors.urls import canonical_url, redact_url

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.1"
)


class FeedParseError(ValueError):
    """The bytes are not a feed we can read (HTML, garbage, empty, entity declarations). Terminal."""


# ------------------------------------------------------------------------------------------ plain text

_BLOCK_TAGS = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "table",
     "section", "article", "figure", "figcaption", "pre", "hr"}
)
_SKIP_TAGS = frozenset(["script", "style", "noscript", "template", "iframe", "svg", "head", "object"])
_C1_CONTROLS = re.compile("[\x80-\x9f]")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _fix_c1(text: str) -> str:
    # A Windows-1252 feed declared as ISO-8859-1 decodes its curly quotes and euro sign into C1
    # control characters; they are never meant as such in news text, so map them back.
    return _C1_CONTROLS.sub(lambda m: bytes([ord(m.group())]).decode("cp1252", "ignore"), text)


def html_to_text(markup: object) -> str:
    """Plain text of an HTML fragment (feed summaries, content:encoded): tags out, entities decoded,
    one paragraph per line, no scripts or styles. Never raises."""
    if not isinstance(markup, str) or not markup:
        return ""
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
        text = "".join(collector.parts)
    except Exception:  # HTMLParser is lenient, but this runs on anything a feed sends
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = (" ".join(line.split()) for line in _fix_c1(text).splitlines())
    return "\n".join(line for line in lines if line)


# ------------------------------------------------------------------------------------- XML prolog scan


class _PrologSeen(Exception):
    """Stops expat once the prolog has told us what we need."""


def _scan_prolog(content: bytes) -> tuple[str | None, bool]:
    """(root element name, entities declared?) read with expat up to the root element only.

    Root is None when expat cannot get that far (malformed prolog); the caller then falls back to
    conservative byte checks.
    """
    found: dict[str, Any] = {"root": None, "entities": False}

    def on_root(name: str, attrs: object) -> None:
        found["root"] = name
        raise _PrologSeen

    def on_entity(*args: object) -> None:
        found["entities"] = True
        raise _PrologSeen

    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = on_root
    parser.EntityDeclHandler = on_entity
    parser.UnparsedEntityDeclHandler = on_entity
    try:
        for start in range(0, len(content), 65536):
            parser.Parse(content[start:start + 65536], False)
        parser.Parse(b"", True)
    except _PrologSeen:
        pass
    except (xml.parsers.expat.ExpatError, ValueError, LookupError):
        if re.search(rb"<!ENTITY", content.replace(b"\x00", b""), re.IGNORECASE):
            found["entities"] = True
    return found["root"], found["entities"]


_XML_DECL_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._-]+)(["'])""")
_SINGLE_BYTE = {b"iso-8859-1", b"iso8859-1", b"latin1", b"latin-1", b"windows-1252", b"cp1252", b"us-ascii",
                b"ascii", b"iso-8859-15"}


def _trust_valid_utf8(content: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """A feed labelled Latin-1/Windows-1252 whose bytes are valid UTF-8 with accents is UTF-8 mislabelled
    (decoding it as labelled gives "PerchÃ©"). Relabel it so feedparser decodes it right."""
    if content.isascii():
        return content, content_type
    declared = _XML_DECL_ENCODING.match(content[:300])
    header = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", content_type or "", re.IGNORECASE)
    labels = {declared.group(2).lower() if declared else b"",
              header.group(1).lower().encode() if header else b""}
    if not labels & _SINGLE_BYTE:
        return content, content_type
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return content, content_type  # really single-byte: the label is right
    if declared:
        content = declared.group(1) + b"utf-8" + declared.group(3) + content[declared.end():]
    if header and content_type:
        content_type = content_type[: header.start(1)] + "utf-8" + content_type[header.end(1):]
    return content, content_type


def _looks_like_html(content: bytes) -> bool:
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:1024]


# ------------------------------------------------------------------------------------------- parsing


def parse_feed(source: FeedSource, content: bytes, content_type: str | None, *,
               max_entries: int | None = None) -> list[FeedEntry]:
    """Entries of an RSS/Atom/RDF document, newest first (at most `max_entries` when given; the size cap
    on feeds bounds them otherwise). Raises FeedParseError."""
    if not isinstance(content, bytes | bytearray) or not content.strip():
        raise FeedParseError("empty document")
    content = bytes(content)
    root, declares_entities = _scan_prolog(content)
    if declares_entities:
        raise FeedParseError("document declares XML entities (refused: entity expansion attacks)")
    is_html_root = root is not None and root.rsplit(":", 1)[-1].lower() == "html"
    if is_html_root or (root is None and _looks_like_html(content)):
        raise FeedParseError("an HTML page, not a feed")
    content, content_type = _trust_valid_utf8(content, content_type)
    headers = {"content-location": source.url}
    if content_type:
        headers["content-type"] = content_type
    try:
        # No warnings.catch_warnings() here: it is not thread-safe and parsing runs in worker threads.
        parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    except Exception as exc:  # feedparser on hostile bytes: anything may break inside it
        raise FeedParseError(f"feed parser failed: {type(exc).__name__}: {exc}") from exc
    raw_entries = parsed.get("entries") or []
    if not raw_entries and not parsed.get("version"):
        reason = parsed.get("bozo_exception") or "unknown format"
        raise FeedParseError(f"not a feed ({reason})")
    if parsed.get("bozo") and raw_entries:
        log.info("feed %s is not well-formed (%s); read leniently", source.name, parsed.get("bozo_exception"))
    return _select(source, raw_entries, max_entries)


def _select(source: FeedSource, raw_entries: Sequence[Any], max_entries: int | None) -> list[FeedEntry]:
    by_url: dict[str, FeedEntry] = {}
    now = datetime.now(UTC)
    for raw in raw_entries:
        entry = _entry(source, raw, now)
        if entry is None:
            continue
        kept = by_url.get(entry.url)
        if kept is None or _newer(entry, kept):
            by_url[entry.url] = entry
    duplicates = sum(1 for _ in raw_entries) - len(by_url)
    entries = sorted(by_url.values(), key=_newest_first)  # stable: undated entries keep feed order
    if duplicates > 0:
        log.debug("feed %s: %d entries skipped or merged as duplicates", source.name, duplicates)
    return entries if max_entries is None else entries[:max_entries]


def _newest_first(entry: FeedEntry) -> tuple[int, float]:
    return (0, -entry.published.timestamp()) if entry.published else (1, 0.0)


def _newer(a: FeedEntry, b: FeedEntry) -> bool:
    return a.published is not None and (b.published is None or a.published > b.published)


def _link_of(raw: Any) -> str | None:
    link = raw.get("link")
    if isinstance(link, str) and link.strip():
        return link.strip()
    for candidate in raw.get("links") or []:
        href = candidate.get("href")
        if isinstance(href, str) and href.strip() and candidate.get("rel", "alternate") == "alternate":
            return href.strip()
    guid = raw.get("id")
    if raw.get("guidislink") and isinstance(guid, str):
        return guid.strip()
    return None


def _entry(source: FeedSource, raw: Any, now: datetime) -> FeedEntry | None:
    title = html_to_text(raw.get("title")) or None
    link = _link_of(raw)
    if not link:
        log.info("feed %s: entry %r has no link; skipped", source.name, title)
        return None
    absolute = urljoin(source.url, link)
    url = canonical_url(absolute)
    if url is None:
        log.info("feed %s: entry %r links to %r, not a web page; skipped", source.name, title, link[:200])
        return None
    contents = [html_to_text(c.get("value")) for c in raw.get("content") or [] if isinstance(c, dict)]
    content = max(contents, key=len, default="")
    guid = raw.get("id")
    return FeedEntry(
        feed_name=source.name,
        feed_url=source.url,
        url=url,
        link=absolute,
        title=title,
        summary=html_to_text(raw.get("summary")) or None,
        content=content or None,
        published=_entry_date(raw, now),
        author=html_to_text(raw.get("author")) or None,
        guid=guid if isinstance(guid, str) and guid else None,
    )


def _entry_date(raw: Any, now: datetime) -> datetime | None:
    when = None
    for key in ("published", "updated", "created"):
        # dict.get, not raw.get: FeedParserDict maps a missing "updated" to "published" with a warning.
        when = parse_date(dict.get(raw, key))
        parsed = dict.get(raw, f"{key}_parsed")
        if when is None and parsed:
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                value = datetime(*parsed[:6], tzinfo=UTC)
                when = value if plausible_year(value.year) else None
        if when is not None:
            break
    return clamp_future(when, now)


# ------------------------------------------------------------------------------------------- fetching


async def fetch_feeds(
    sources: Sequence[FeedSource],
    states: dict[str, FeedState],
    settings: FetchSettings,
    fetcher: SafeFetcher | None = None,
) -> list[FeedResult]:
    """One FeedResult per source, in order, fetched concurrently. Never raises for a bad feed."""
    if fetcher is None:
        async with SafeFetcher(settings) as own:
            return await fetch_feeds(sources, states, settings, own)
    jobs = [fetch_feed(source, states.get(source.url), settings, fetcher) for source in sources]
    return list(await asyncio.gather(*jobs))


async def fetch_feed(source: FeedSource, state: FeedState | None, settings: FetchSettings,
                     fetcher: SafeFetcher) -> FeedResult:
    """One feed, conditionally (ETag / Last-Modified of `state`), parsed. Never raises for a bad feed:
    its failure is logged here (once) and returned as a "failed" result."""
    started = time.monotonic()
    old_etag = state.etag if state else None
    old_modified = state.last_modified if state else None
    # A failed fetch keeps the validators we had, so saving its state cannot wipe them.
    failed = {"status": "failed", "etag": old_etag, "last_modified": old_modified}
    try:
        response = await fetcher.get(source.url, max_bytes=settings.max_feed_bytes, etag=old_etag,
                                     last_modified=old_modified, accept=FEED_ACCEPT, check_robots=False)
        if response.not_modified:
            return FeedResult(source, "not_modified", etag=response.etag or old_etag,
                              last_modified=response.last_modified or old_modified, http_status=304,
                              elapsed_s=time.monotonic() - started)
        entries = await asyncio.to_thread(parse_feed, source, response.content, response.content_type)
    except FetchError as exc:
        log.warning("feed %s (%s) failed: %s", source.name, redact_url(source.url), exc)
        return FeedResult(source, http_status=exc.status, error=str(exc),
                          elapsed_s=time.monotonic() - started, **failed)  # type: ignore[arg-type]
    except FeedParseError as exc:
        log.warning("feed %s (%s) is not a usable feed: %s", source.name, redact_url(source.url), exc)
        return FeedResult(source, http_status=response.status, error=f"not a feed: {exc}",
                          elapsed_s=time.monotonic() - started, **failed)  # type: ignore[arg-type]
    except Exception as exc:  # one broken feed must never stop the others
        log.exception("feed %s (%s) failed unexpectedly", source.name, redact_url(source.url))
        return FeedResult(source, error=f"unexpected error: {type(exc).__name__}: {exc}",
                          elapsed_s=time.monotonic() - started, **failed)  # type: ignore[arg-type]
    return FeedResult(source, "fetched", entries, etag=response.etag, last_modified=response.last_modified,
                      http_status=response.status, elapsed_s=time.monotonic() - started)
