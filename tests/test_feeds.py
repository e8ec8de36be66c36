"""Feeds: parsing real-looking Italian RSS/Atom, Italian dates, and fetching over loopback HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.fetch import fetch_settings
from support.server import LoopbackServer, Response, serve

from extractors.dates import parse_date
from extractors.feeds import FeedParseError, fetch_feeds, html_to_text, parse_feed
from extractors.models import FeedSource, FeedState

WEB = Path(__file__).resolve().parent / "fixtures" / "web"
BASE = "https://www.tecnoeconomia.example"


def fixture(name: str, base: str = BASE) -> bytes:
    return (WEB / name).read_bytes().replace(b"{base}", base.encode())


SOURCE = FeedSource("TecnoEconomia", f"{BASE}/feed.xml")


def test_rss_entries_are_canonical_deduplicated_and_dated() -> None:
    entries = parse_feed(SOURCE, fixture("feed_rss_it.xml"), "application/rss+xml; charset=utf-8")
    urls = [e.url for e in entries]
    # no-link and javascript: entries are skipped; the two tracking variants of one story are one entry
    assert len(entries) == 4
    assert urls[0] == f"{BASE}/economia/nuvolaria-dataponte"
    assert urls.count(f"{BASE}/startup/fintech-bologna-round?page=2") == 1
    round_entry = next(e for e in entries if "fintech" in e.url)
    assert round_entry.title == "Fintech bolognese chiude un round da 5 milioni (aggiornato)"  # newest kept
    first = entries[0]
    assert first.published == datetime(2024, 3, 12, 8, 30, tzinfo=UTC)
    assert first.author == "Giulia Ferraris"
    assert first.guid == "tecnoeconomia-48211"
    assert first.link.startswith(f"{BASE}/economia/nuvolaria-dataponte?utm_source=rss")
    assert (
        first.summary == "Il gruppo milanese Nuvolaria acquisisce il 100% di DataPonte. Prezzo: 42 milioni €."
    )
    assert first.content is not None and "Il prezzo concordato è di 42 milioni di euro." in first.content
    assert "alert" not in first.content and "<p>" not in first.content
    # a date in 2099 is wrong, not news from the future: kept as undated, sorted after dated entries
    future = next(e for e in entries if e.url.endswith("/eventi/futuro"))
    assert future.published is None
    assert [e.published is None for e in entries] == [False, False, True, True]


def test_atom_entries_and_relative_links() -> None:
    source = FeedSource("Innovazione Quotidiana", "https://innovazione.example/atom.xml")
    entries = parse_feed(
        source, fixture("feed_atom_it.xml", "https://innovazione.example"), "application/atom+xml"
    )
    assert [e.url for e in entries] == [
        "https://innovazione.example/articoli/lumenia-banca-accordo",
        "https://innovazione.example/articoli/relativo",
    ]
    lumenia = entries[0]
    assert lumenia.author == "Luca Martini"
    assert lumenia.published == datetime(2024, 3, 12, 7, 45, tzinfo=UTC)
    assert lumenia.summary == "Lumenia e la banca firmano una partnership pluriennale."
    assert lumenia.content is not None and lumenia.content.startswith("La scaleup padovana Lumenia")


def test_italian_dates_feed() -> None:
    entries = parse_feed(SOURCE, fixture("feed_dates_it.xml"), "text/xml")
    by_title = {e.title: e.published for e in entries}
    assert by_title["Abbreviata"] == datetime(2023, 1, 7, 9, 0, tzinfo=UTC)
    assert by_title["Estesa"] == datetime(2023, 1, 6, 11, 0, tzinfo=UTC)  # a bare date: noon in Rome
    assert by_title["Numerica"] == datetime(2023, 1, 5, 9, 0, tzinfo=UTC)
    assert by_title["Con giorno esteso"] == datetime(2023, 1, 4, 17, 30, tzinfo=UTC)
    assert by_title["Illeggibile"] is None
    assert [e.title for e in entries][0] == "Abbreviata"  # newest first


def test_windows_1252_feed_declared_as_latin1_keeps_accents_quotes_and_euro() -> None:
    entries = parse_feed(SOURCE, (WEB / "feed_cp1252.xml").read_bytes(), "text/xml")
    assert entries[0].title == "Più capitali per l’innovazione a Genova"
    assert (
        entries[0].summary
        == "Portofino Analytics raccoglie 3,5 milioni di € per crescere: la città punta sull’IA."
    )
    assert entries[0].url == "https://www.notizieliguri.example/economia/portofino-analytics-round"


def test_cap_keeps_the_newest_entries() -> None:
    items = "".join(
        f"<item><title>n{i}</title><link>{BASE}/n{i}</link><pubDate>{i % 28 + 1:02d} Feb 2024 10:00:00 +0000"
        "</pubDate></item>"
        for i in range(60)
    )
    doc = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    entries = parse_feed(SOURCE, doc, "application/rss+xml", max_entries=5)
    assert len(entries) == 5
    assert all(e.published == datetime(2024, 2, 28, 10, tzinfo=UTC) for e in entries[:2])
    assert entries == sorted(entries, key=lambda e: e.published, reverse=True)  # type: ignore[arg-type, return-value]


def test_empty_channel_is_a_feed_with_no_entries() -> None:
    doc = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Vuoto</title></channel></rss>'
    assert parse_feed(SOURCE, doc, "application/rss+xml") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sab, 07 gen 2023 10:00:00 +0100", datetime(2023, 1, 7, 9, tzinfo=UTC)),
        ("Sat, 07 Jan 2023 10:00:00 GMT", datetime(2023, 1, 7, 10, tzinfo=UTC)),
        ("Sat, 07 Jan 2023 10:00:00 -0000", datetime(2023, 1, 7, 10, tzinfo=UTC)),
        ("2023-01-07T10:00:00Z", datetime(2023, 1, 7, 10, tzinfo=UTC)),
        ("2023-01-07T10:00:00+01:00", datetime(2023, 1, 7, 9, tzinfo=UTC)),
        ("2023-07-07T10:00:00", datetime(2023, 7, 7, 8, tzinfo=UTC)),  # no zone: Rome, summer time
        ("7 gennaio 2023", datetime(2023, 1, 7, 11, tzinfo=UTC)),
        ("2023-01-07", datetime(2023, 1, 7, 11, tzinfo=UTC)),
        ("07/01/2023 10:00", datetime(2023, 1, 7, 9, tzinfo=UTC)),
        ("7.1.2023 ore 10.00", datetime(2023, 1, 7, 9, tzinfo=UTC)),
        ("lunedì, 9 ott 2023 08:05:00 +0200", datetime(2023, 10, 9, 6, 5, tzinfo=UTC)),
        ("12 Settembre 2024, 18:45", datetime(2024, 9, 12, 16, 45, tzinfo=UTC)),
        ("ieri", None),
        ("", None),
        ("31/02/2023", None),
        ("0001-01-01T00:00:00+01:00", None),
        ("Thu, 01 Jan 1970 00:00:00 +0000", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@given(st.text(max_size=120))
def test_parse_date_never_raises(text: str) -> None:
    result = parse_date(text)
    assert result is None or (result.tzinfo is not None and result.utcoffset().total_seconds() == 0)


@given(
    st.from_regex(
        r"(lun|mar|sab|dom)?,? ?\d{1,2} (gen|feb|mag|giugno|dicembre|ott) \d{4}( \d{1,2}:\d{2}(:\d{2})?)?"
        r"( [+-]\d{4})?",
        fullmatch=True,
    )
)
def test_parse_date_on_italian_shapes_never_raises(text: str) -> None:
    result = parse_date(text)
    assert result is None or result.tzinfo is not None


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_parse_feed_on_any_bytes_returns_entries_or_feed_parse_error(content: bytes) -> None:
    try:
        entries = parse_feed(SOURCE, content, None)
    except FeedParseError:
        return
    assert isinstance(entries, list)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.text(max_size=80))
def test_parse_feed_on_feed_shaped_text_never_fails_otherwise(body: str, title: str) -> None:
    item = f"<item><title>{title}</title><link>{BASE}/x</link>{body}</item>"
    doc = f'<rss version="2.0"><channel>{item}</channel></rss>'
    try:
        entries = parse_feed(SOURCE, doc.encode("utf-8", "surrogatepass"), "application/rss+xml")
    except FeedParseError:
        return
    assert all(e.url.startswith(BASE) for e in entries)


def test_html_to_text() -> None:
    assert html_to_text("<p>Ciao <b>mondo</b> &amp; amici</p><p>Secondo&nbsp;paragrafo</p>") == (
        "Ciao mondo & amici\nSecondo paragrafo"
    )
    assert html_to_text("<script>x()</script><style>p{}</style>Testo") == "Testo"
    assert html_to_text(None) == ""
    assert html_to_text("prezzo \x80 10") == "prezzo € 10"


# ------------------------------------------------------------------------------------------ fetching


def test_fetch_feeds_fetches_then_gets_304_with_saved_validators(web: LoopbackServer) -> None:
    def feed(handler):  # type: ignore[no-untyped-def]
        if handler.headers.get("If-None-Match") == '"rss-1"':
            return Response(304, b"", {"ETag": '"rss-1"'})
        body = fixture("feed_rss_it.xml")
        return Response(
            200,
            body,
            {
                "Content-Type": "application/rss+xml; charset=utf-8",
                "ETag": '"rss-1"',
                "Last-Modified": "Tue, 12 Mar 2024 09:31:00 GMT",
            },
        )

    atom_body = fixture("feed_atom_it.xml")
    routes = {"/rss": feed, "/atom": Response(200, atom_body, {"Content-Type": "application/atom+xml"})}
    server = serve(web, routes)
    sources = [FeedSource("rss", server.url("/rss")), FeedSource("atom", server.url("/atom"))]
    first = asyncio.run(fetch_feeds(sources, {}, fetch_settings()))
    assert [r.status for r in first] == ["fetched", "fetched"]
    assert [len(r.entries) for r in first] == [4, 2]
    assert first[0].etag == '"rss-1"' and first[0].last_modified == "Tue, 12 Mar 2024 09:31:00 GMT"
    assert first[0].http_status == 200 and first[0].source == sources[0]

    states = {r.source.url: FeedState(r.source.url, r.etag, r.last_modified) for r in first}
    second = asyncio.run(fetch_feeds(sources, states, fetch_settings()))
    assert second[0].status == "not_modified" and second[0].entries == []
    assert second[0].etag == '"rss-1"' and second[0].last_modified == "Tue, 12 Mar 2024 09:31:00 GMT"
    assert second[1].status == "fetched"  # no validators from that server: fetched again
    conditional = [h for _, p, h in server.requests if p == "/rss"][1]
    assert conditional["If-None-Match"] == '"rss-1"'
    assert "/robots.txt" not in server.paths_requested()  # listed feeds are fetched regardless


def test_one_bad_feed_does_not_stop_the_others(web: LoopbackServer) -> None:
    routes = {
        "/good": Response(200, fixture("feed_rss_it.xml"), {"Content-Type": "application/rss+xml"}),
        "/error": Response(500, b"boom"),
        "/html": Response(200, fixture("article_it.html"), {"Content-Type": "text/html"}),
        "/gone": Response(410, b"gone"),
    }
    server = serve(web, routes)
    sources = [FeedSource(p.strip("/"), server.url(p)) for p in ["/error", "/good", "/html", "/gone"]]
    states = {server.url("/error"): FeedState(server.url("/error"), '"old"', "Mon, 01 Jan 2024 00:00:00 GMT")}
    results = asyncio.run(fetch_feeds(sources, states, fetch_settings()))
    assert [r.status for r in results] == ["failed", "fetched", "failed", "failed"]
    error, good, html, gone = results
    assert error.http_status == 500 and "500" in (error.error or "")
    assert error.etag == '"old"'  # a failure keeps the validators it had
    assert len(good.entries) == 4
    assert html.error is not None and "HTML" in html.error
    assert gone.http_status == 410
