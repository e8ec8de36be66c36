"""The hostile web of issue 7, each case against a real server on loopback.

Every test names the bad input, serves it for real, and asserts what a user would notice: the run
survives, the caps and timeouts hold, nothing private is reached, nothing is retried that should not be.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gc
import ipaddress
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psutil
import pytest
from support.server import LoopbackServer, Response, serve

from extractors.articles import fetch_articles
from extractors.crawl import crawl
from extractors.errors import FetchError
from extractors.feeds import fetch_feeds
from extractors.http import SafeFetcher, is_public_address
from extractors.models import FeedEntry, FeedSource
from extractors.settings import FetchSettings

WEB = Path(__file__).resolve().parent / "fixtures" / "web"
MB = 1 << 20
RSS_GROWTH_LIMIT = 100 * MB


def hostile_settings(**overrides: object) -> FetchSettings:
    base: dict[str, object] = {
        "allow_private_addresses": True,
        "connect_timeout_s": 1,
        "read_timeout_s": 1,
        "total_timeout_s": 3,
        "retries": 0,
        "retry_backoff_s": 0.01,
        "max_page_bytes": 5_000_000,
        "max_feed_bytes": 10_000_000,
    }
    base.update(overrides)
    return FetchSettings(**base)  # type: ignore[arg-type]


async def fetch(url: str, settings: FetchSettings, **kwargs: object):
    async with SafeFetcher(settings) as fetcher:
        return await fetcher.get(url, max_bytes=kwargs.pop("max_bytes", settings.max_page_bytes), **kwargs)  # type: ignore[arg-type]


def fetch_error(url: str, settings: FetchSettings, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as err:
        asyncio.run(fetch(url, settings, **kwargs))
    return err.value


def feed_results(server: LoopbackServer, paths: list[str], settings: FetchSettings | None = None):
    sources = [FeedSource(path, server.url(path)) for path in paths]
    return asyncio.run(fetch_feeds(sources, {}, settings or hostile_settings()))


def an_entry(
    url: str, summary: str | None = "Riassunto dal feed: Alfa compra Beta per 10 milioni."
) -> FeedEntry:
    return FeedEntry("feed", "http://feed.example/rss", url, url, title="Alfa compra Beta", summary=summary)


def rss(items: str) -> bytes:
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    return f"{head}{items}</channel></rss>".encode()


def rss_status(
    web: LoopbackServer, server_path: str, body: bytes, content_type: str = "application/rss+xml"
) -> tuple[str, object]:
    server = serve(web, {server_path: Response(200, body, {"Content-Type": content_type})})
    (result,) = feed_results(server, [server_path])
    return result.status, result


def rss_memory() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


# --------------------------------------------------------------------------------------- bad feeds


def test_malformed_xml_feed_is_read_leniently(web: LoopbackServer) -> None:
    broken = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Rotto & malformato</title>'
        b"<item><title>Primo & unico</title><link>http://e.it/uno</link></item>"
        b"<item><title>Secondo</title><link>http://e.it/due</link></item><item><title>tronc"
    )
    status, result = rss_status(web, "/broken.xml", broken)
    assert status == "fetched"
    assert [e.url for e in result.entries][:2] == ["http://e.it/uno", "http://e.it/due"]  # type: ignore[attr-defined]


def test_garbage_served_as_feed_fails_that_feed_only(web: LoopbackServer) -> None:
    routes = {
        "/garbage": Response(200, bytes(range(256)) * 40, {"Content-Type": "application/rss+xml"}),
        "/good": Response(200, rss("<item><link>http://e.it/a</link></item>")),
    }
    server = serve(web, routes)
    garbage, good = feed_results(server, ["/garbage", "/good"])
    assert garbage.status == "failed" and "not a feed" in (garbage.error or "")
    assert good.status == "fetched" and len(good.entries) == 1


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/rss+xml"])
def test_html_served_as_feed_fails_clearly(web: LoopbackServer, content_type: str) -> None:
    status, result = rss_status(web, "/feed", (WEB / "article_it.html").read_bytes(), content_type)
    assert status == "failed" and "HTML page" in result.error  # type: ignore[attr-defined]


def test_empty_body_fails_and_empty_channel_is_zero_entries(web: LoopbackServer) -> None:
    status, result = rss_status(web, "/empty", b"")
    assert status == "failed" and "empty document" in result.error  # type: ignore[attr-defined]
    status, result = rss_status(web, "/channel", rss(""))
    assert status == "fetched" and result.entries == []  # type: ignore[attr-defined]


def test_ten_thousand_entry_feed_fetches_the_newest_and_defers_the_rest(web: LoopbackServer) -> None:
    now = time.time()
    # Entries 0-4999 are from 2023 (older than the defer horizon), 5000-9999 from the last three hours.
    items = "".join(
        f"<item><title>Notizia {i}</title><link>{web.url(f'/n/{i}')}?utm_source=rss</link>"
        f"<pubDate>{email.utils.formatdate(1_700_000_000 + i if i < 5000 else now - (10_000 - i))}</pubDate>"
        "</item>"
        for i in range(10_000)
    )
    server = serve(web, {"/huge": Response(200, rss(items), {"Content-Type": "application/rss+xml"})})
    source = FeedSource("huge", server.url("/huge"))
    result = asyncio.run(crawl([source], {}, hostile_settings(), known=lambda urls: set()))
    newest = {web.url(f"/n/{i}") for i in range(9500, 10_000)}
    # The newest 500 (max_entries_per_feed) were tried: stored (a 404 here, kept as skipped) or, for the
    # odd connection the loopback server drops under load, deferred as a transient failure.
    deferred = {d.entry.url for d in result.deferred if d.reason == "over_max_entries"}
    failed = {d.entry.url for d in result.deferred if d.reason != "over_max_entries"}
    assert {a.url for a in result.articles} | failed == newest
    assert len(deferred) == 4500 and not deferred & newest  # kept for the next runs
    assert result.skipped["expired"] == 5000  # older than fetch.defer_horizon_days: given up, counted
    assert result.feeds[0].status == "fetched" and result.feeds[0].deferred == 4500


def test_windows_1252_feed_with_a_wrong_utf8_header_decodes_right(web: LoopbackServer) -> None:
    status, result = rss_status(
        web, "/latin", (WEB / "feed_cp1252.xml").read_bytes(), "application/xml; charset=utf-8"
    )
    assert status == "fetched"
    assert result.entries[0].title == "Più capitali per l’innovazione a Genova"  # type: ignore[attr-defined]


def test_utf8_feed_labelled_latin1_decodes_right(web: LoopbackServer) -> None:
    body = rss("<item><title>Perché la città è più forte</title><link>http://e.it/a</link></item>")
    body = body.replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"')
    status, result = rss_status(web, "/mislabelled", body, "text/xml; charset=iso-8859-1")
    assert result.entries[0].title == "Perché la città è più forte"  # type: ignore[attr-defined]


def test_entries_without_link_duplicates_future_and_missing_dates(web: LoopbackServer) -> None:
    body = (WEB / "feed_rss_it.xml").read_bytes().replace(b"{base}", b"https://tecno.example")
    status, result = rss_status(web, "/rss", body)
    entries = result.entries  # type: ignore[attr-defined]
    urls = [e.url for e in entries]
    assert (
        status == "fetched" and len(urls) == len(set(urls)) == 4
    )  # no-link + javascript: skipped, dup merged
    assert all(u.startswith("https://tecno.example/") for u in urls)
    dates = {e.url.rsplit("/", 1)[-1]: e.published for e in entries}
    assert dates["futuro"] is None and dates["senza-data"] is None


def test_billion_laughs_feed_is_refused_without_expanding(web: LoopbackServer) -> None:
    lol = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">' for i in range(10)
        )
        + ']><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        "<link>http://e.it/a</link></item></channel></rss>"
    ).encode()
    before = rss_memory()
    status, result = rss_status(web, "/lol", lol)
    assert status == "failed" and "entities" in result.error  # type: ignore[attr-defined]
    assert rss_memory() - before < RSS_GROWTH_LIMIT


def test_external_entity_feed_is_refused(web: LoopbackServer) -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><item><title>&xxe;</title><link>http://e.it/a</link></item></channel></rss>'
    )
    status, result = rss_status(web, "/xxe", xxe)
    assert status == "failed" and "entities" in result.error  # type: ignore[attr-defined]


def test_body_that_is_a_local_path_is_never_opened_as_a_file(web: LoopbackServer, tmp_path: Path) -> None:
    # feedparser.parse(bytes) opens bytes that name an existing file; the parser must never do that.
    secret = tmp_path / "secret.xml"
    secret.write_text(rss("<item><title>SEGRETO</title><link>http://e.it/segreto</link></item>").decode())
    status, result = rss_status(web, "/path", str(secret).encode())
    assert status == "failed"
    assert "SEGRETO" not in repr(result)


# ------------------------------------------------------------------------------------- size caps


def fifty_megabytes(handler: BaseHTTPRequestHandler) -> None:
    """Streams 50 MB of HTML without a Content-Length (so only a streaming cap can stop it)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Connection", "close")
    handler.end_headers()
    chunk = b"<p>" + b"riempitivo " * 5950 + b"</p>\n"  # ~64 KiB
    sent = 0
    try:
        while sent < 50 * MB:
            handler.wfile.write(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    handler.close_connection = True


def test_fifty_megabyte_page_is_cut_at_the_cap_and_memory_stays_low(web: LoopbackServer) -> None:
    server = serve(web, {"/big": fifty_megabytes})
    before = rss_memory()
    error = fetch_error(server.url("/big"), hostile_settings())
    growth = rss_memory() - before
    assert error.kind == "too_large" and not error.transient
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / MB:.0f} MB"
    # through the article stage: the feed's summary stands in for the page
    (article,) = asyncio.run(fetch_articles([an_entry(server.url("/big"))], hostile_settings()))
    assert article.extraction == "feed" and article.text.startswith("Riassunto dal feed")


def test_declared_oversize_page_is_refused_before_reading(web: LoopbackServer) -> None:
    def declared(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(50 * MB))
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(b"x" * 1024)

    server = serve(web, {"/declared": declared})
    error = fetch_error(server.url("/declared"), hostile_settings())
    assert error.kind == "too_large"


def test_fifty_megabyte_feed_fails_that_feed(web: LoopbackServer) -> None:
    server = serve(web, {"/big.xml": fifty_megabytes})
    (result,) = feed_results(server, ["/big.xml"], hostile_settings(max_feed_bytes=2_000_000))
    assert result.status == "failed" and "cap" in (result.error or "")


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """~1.1 MB of valid gzip that inflates to 1100 MiB of zeros.

    Deflate blocks after a full flush do not depend on earlier data, so one compressed MiB is repeated;
    the trailer carries the true CRC and size, so the stream is a complete, valid gzip member.
    """
    block = bytes(MB)
    count = 1100
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    bomb = head + repeat * (count - 1) + end[:-8] + struct.pack("<II", crc, (count * MB) & 0xFFFFFFFF)
    assert len(bomb) < 3 * MB
    return bomb


def test_gzip_bomb_page_is_cut_and_memory_stays_low(web: LoopbackServer, gzip_bomb: bytes) -> None:
    routes = {"/bomb": Response(200, gzip_bomb, {"Content-Encoding": "gzip", "Content-Type": "text/html"})}
    server = serve(web, routes)
    before = rss_memory()
    error = fetch_error(server.url("/bomb"), hostile_settings())
    growth = rss_memory() - before
    assert error.kind == "too_large"
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / MB:.0f} MB"
    (result,) = feed_results(server, ["/bomb"])
    assert result.status == "failed" and "cap" in (result.error or "")


def test_corrupt_and_unknown_encodings_are_refused(web: LoopbackServer) -> None:
    routes = {
        "/corrupt": Response(200, b"\x1f\x8b\x08\x00garbage-not-gzip", {"Content-Encoding": "gzip"}),
        "/br": Response(200, b"\x00\x01", {"Content-Encoding": "br"}),
        "/stacked": Response(200, b"\x00", {"Content-Encoding": "gzip, gzip"}),
    }
    server = serve(web, routes)
    for path in routes:
        error = fetch_error(server.url(path), hostile_settings())
        assert error.kind == "encoding" and not error.transient, path


# ------------------------------------------------------------------------------------- time caps


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # let hanging handler threads finish


def test_server_that_accepts_and_never_answers_times_out(
    web: LoopbackServer, release: threading.Event
) -> None:
    def hang(handler: BaseHTTPRequestHandler) -> None:
        release.wait(30)

    server = serve(web, {"/hang": hang})
    error = fetch_error(server.url("/hang"), hostile_settings(read_timeout_s=0.5, retries=1))
    assert error.kind == "timeout" and error.transient
    assert server.paths_requested().count("/hang") == 2  # retried once, then given up


def test_socket_that_never_reads_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
        error = fetch_error(url, hostile_settings(read_timeout_s=0.5, respect_robots_txt=False))
        assert error.kind == "timeout" and error.transient
    finally:
        listener.close()


def test_one_byte_per_second_trickle_is_cut_by_the_total_deadline(
    web: LoopbackServer, release: threading.Event
) -> None:
    sent = []

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        try:
            for _ in range(100):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                sent.append(1)
                if release.wait(1.0):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass

    server = serve(web, {"/trickle": trickle})
    settings = hostile_settings(read_timeout_s=2, total_timeout_s=2.5, respect_robots_txt=False, retries=2)
    started = time.monotonic()
    error = fetch_error(server.url("/trickle"), settings)
    # each byte arrives within the read timeout: only the total deadline can end this
    assert error.kind == "time_budget" and "no complete answer within 2.5s" in error.reason
    assert len(sent) < 10  # far from the 100 bytes a patient client would have waited for
    # Not retried in this run although retries=2 (three tries took 3 x 60 s with the defaults): left to
    # the next run, as a transient failure.
    assert error.transient and error.retry_later
    assert server.paths_requested().count("/trickle") == 1 and time.monotonic() - started < 4


def test_hung_feed_does_not_hold_up_the_other_feeds(web: LoopbackServer, release: threading.Event) -> None:
    def hang(handler: BaseHTTPRequestHandler) -> None:
        release.wait(30)

    routes = {"/hang": hang, "/good": Response(200, rss("<item><link>http://e.it/a</link></item>"))}
    server = serve(web, routes)
    hung, good = feed_results(server, ["/hang", "/good"], hostile_settings(read_timeout_s=0.5))
    assert hung.status == "failed" and "timed out" in (hung.error or "")
    assert good.status == "fetched"


# ------------------------------------------------------------------------------ redirects, statuses


def test_redirect_loop_is_given_up(web: LoopbackServer) -> None:
    routes = {"/a": Response(302, b"", {"Location": "/b"}), "/b": Response(302, b"", {"Location": "/a"})}
    server = serve(web, routes)
    error = fetch_error(server.url("/a"), hostile_settings(retries=3))
    assert error.kind == "redirect" and not error.transient
    hits = [p for p in server.paths_requested() if p != "/robots.txt"]
    assert len(hits) == 6  # first request + max_redirects (5), never retried


def test_redirect_without_location_is_refused(web: LoopbackServer) -> None:
    server = serve(web, {"/r": Response(302, b"")})
    assert fetch_error(server.url("/r"), hostile_settings()).kind == "redirect"


@pytest.mark.parametrize("status", [404, 410, 403, 400])
def test_terminal_statuses_are_not_retried(web: LoopbackServer, status: int) -> None:
    server = serve(web, {"/x": Response(status, b"no")})
    error = fetch_error(server.url("/x"), hostile_settings(retries=3))
    assert error.status == status and not error.transient
    assert server.paths_requested().count("/x") == 1


class Flaky:
    """Fails `failures` times with `status` (and Retry-After), then serves the page; stamps each request."""

    def __init__(self, status: int, failures: int, retry_after: str | None = None):
        self.status, self.failures, self.retry_after = status, failures, retry_after
        self.stamps: list[float] = []

    def __call__(self, handler: BaseHTTPRequestHandler) -> Response:
        self.stamps.append(time.monotonic())
        if len(self.stamps) <= self.failures:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return Response(self.status, b"try later", headers)
        return Response(200, b"<html><body><p>ok</p></body></html>", {"Content-Type": "text/html"})


def test_429_with_retry_after_is_honoured_then_succeeds(web: LoopbackServer) -> None:
    flaky = Flaky(429, 1, retry_after="1")
    server = serve(web, {"/x": flaky})
    response = asyncio.run(fetch(server.url("/x"), hostile_settings(retries=2)))
    assert response.status == 200 and len(flaky.stamps) == 2
    assert flaky.stamps[1] - flaky.stamps[0] >= 0.9  # waited as asked, not the 0.01 s back-off


def test_429_asking_for_too_long_a_wait_is_left_to_the_next_run(web: LoopbackServer) -> None:
    flaky = Flaky(429, 1, retry_after="3600")
    server = serve(web, {"/x": flaky})
    error = fetch_error(server.url("/x"), hostile_settings(retries=2, max_retry_after_s=30))
    assert error.status == 429 and error.transient and error.retry_later and len(flaky.stamps) == 1


def test_503_is_retried_with_back_off_then_succeeds(web: LoopbackServer) -> None:
    flaky = Flaky(503, 2)
    server = serve(web, {"/x": flaky})
    response = asyncio.run(fetch(server.url("/x"), hostile_settings(retries=2, retry_backoff_s=0.2)))
    assert response.status == 200 and len(flaky.stamps) == 3
    first_gap, second_gap = (b - a for a, b in zip(flaky.stamps, flaky.stamps[1:], strict=False))
    assert first_gap >= 0.18 and second_gap >= 0.38  # 0.2 s then doubled


def test_500_forever_gives_a_transient_error_after_the_retries(web: LoopbackServer) -> None:
    flaky = Flaky(500, 99)
    server = serve(web, {"/x": flaky})
    error = fetch_error(server.url("/x"), hostile_settings(retries=2))
    assert error.status == 500 and error.transient and len(flaky.stamps) == 3


# --------------------------------------------------------------------------- walls and languages


def test_consent_wall_paywall_and_english_pages_are_not_fed_to_deals(web: LoopbackServer) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    routes = {
        "/consent": Response(200, (WEB / "consent_wall.html").read_bytes(), html),
        "/paywall": Response(200, (WEB / "paywall.html").read_bytes(), html),
        "/english": Response(200, (WEB / "article_en.html").read_bytes(), html),
        "/cp1252": Response(200, (WEB / "page_cp1252.html").read_bytes(), html),
    }  # wrong charset
    server = serve(web, routes)
    entries = [an_entry(server.url(p), summary=None) for p in routes]
    consent, paywall, english, cp1252 = asyncio.run(fetch_articles(entries, hostile_settings()))
    assert consent.skip_reason == "consent_wall" and not consent.extractable
    assert paywall.skip_reason == "paywall" and not paywall.extractable
    assert english.skip_reason == "language:en" and not english.extractable
    assert cp1252.extractable and "3,5 milioni di €" in cp1252.text and "città" in cp1252.text


# -------------------------------------------------------------------------------------------- SSRF


def test_loopback_url_is_refused_by_default_and_never_reached(web: LoopbackServer) -> None:
    server = serve(web, {"/a": Response(200, b"secret")})
    port = server.port
    for url in (
        server.url("/a"),
        f"http://localhost:{port}/a",
        f"http://2130706433:{port}/a",
        f"http://0x7f.1:{port}/a",
        f"http://[::ffff:127.0.0.1]:{port}/a",
        f"http://127.1:{port}/a",
    ):
        error = fetch_error(url, FetchSettings(retries=0))
        assert error.kind == "blocked_address" and not error.transient, url
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_private_metadata_and_odd_addresses_are_refused_before_connecting(url: str) -> None:
    error = fetch_error(url, FetchSettings(retries=0, connect_timeout_s=1))
    assert error.kind == "blocked_address" and not error.transient


def allow_one_loopback(address: str):  # type: ignore[no-untyped-def]
    """The default policy, plus one loopback address standing in for a public web server."""
    trusted = ipaddress.ip_address(address)
    return lambda ip: ip == trusted or is_public_address(ip)


def test_redirect_from_an_allowed_origin_to_private_addresses_is_refused() -> None:
    with LoopbackServer({"/secret": Response(200, b"secret")}) as private:
        routes = {
            "/to-private": Response(302, b"", {"Location": private.url("/secret")}),
            "/to-metadata": Response(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}),
            "/to-file": Response(302, b"", {"Location": "file:///etc/passwd"}),
            "/ok": Response(200, b"public page"),
        }
        with LoopbackServer(routes, host="127.0.0.2") as public:

            async def run() -> dict[str, FetchError | bytes]:
                outcome: dict[str, FetchError | bytes] = {}
                async with SafeFetcher(
                    FetchSettings(retries=0), address_policy=allow_one_loopback("127.0.0.2")
                ) as f:
                    for path in routes:
                        try:
                            outcome[path] = (await f.get(public.url(path), max_bytes=10_000)).content
                        except FetchError as exc:
                            outcome[path] = exc
                return outcome

            outcome = asyncio.run(run())
        assert outcome["/ok"] == b"public page"  # the allowed origin itself works: the guard is not blanket
        for path, kind in (
            ("/to-private", "blocked_address"),
            ("/to-metadata", "blocked_address"),
            ("/to-file", "scheme"),
        ):
            error = outcome[path]
            assert isinstance(error, FetchError) and error.kind == kind, path
        assert private.requests == []


def test_private_article_links_fall_back_to_the_feed_by_default(web: LoopbackServer) -> None:
    server = serve(web, {"/a": Response(200, (WEB / "article_it.html").read_bytes())})
    entries = [an_entry(server.url("/a")), an_entry(server.url("/a") + "?x", summary=None)]
    with_summary, without = asyncio.run(fetch_articles(entries, FetchSettings(retries=0)))
    assert server.requests == []
    assert with_summary.extraction == "feed"
    assert without.skip_reason == "fetch_failed:blocked_address" and not without.transient_failure


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "data:text/html,<p>x</p>",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "//no-scheme.example/",
    ],
)
def test_other_schemes_are_refused(url: str) -> None:
    error = fetch_error(url, FetchSettings(retries=0))
    assert error.kind in ("scheme", "invalid_url") and not error.transient


def test_unknown_host_is_terminal_not_retried_forever() -> None:
    error = fetch_error("http://no-such-host.invalid/a", FetchSettings(retries=2, retry_backoff_s=0.01))
    assert error.kind == "dns" and not error.transient


def test_queueing_behind_a_crawl_delay_does_not_count_against_the_deadline(web: LoopbackServer) -> None:
    stamps = []

    def page(handler: BaseHTTPRequestHandler) -> Response:
        stamps.append(time.monotonic())
        return Response(200, b"<p>ok</p>")

    server = serve(web, {"/robots.txt": Response(200, b"User-agent: *\nCrawl-delay: 1\n"), "/p": page})

    async def run() -> list[int]:
        async with SafeFetcher(hostile_settings(total_timeout_s=1.5, per_host_concurrency=4)) as fetcher:
            jobs = (fetcher.get(server.url("/p"), max_bytes=1000) for _ in range(3))
            responses = await asyncio.gather(*jobs)
        return [r.status for r in responses]

    # the third request waits ~2 s for its turn, longer than the 1.5 s deadline, and still succeeds
    assert asyncio.run(run()) == [200, 200, 200]
    assert stamps[-1] - stamps[0] >= 1.9


def test_credentials_in_a_feed_url_never_reach_the_error_message(web: LoopbackServer) -> None:
    server = serve(web, {"/private-feed": Response(500, b"boom")})
    url = server.url("/private-feed").replace("http://", "http://reader:hunter2@")
    (result,) = asyncio.run(fetch_feeds([FeedSource("private", url)], {}, hostile_settings()))
    assert result.status == "failed" and "500" in (result.error or "")
    assert "hunter2" not in (result.error or "")
    _, _, headers = next(r for r in server.requests if r[1] == "/private-feed")
    assert headers["Authorization"].startswith("Basic ")  # the credentials were used, just never shown
