"""SafeFetcher over real HTTP on loopback: compression, conditional GET, redirects, politeness, robots.

The hostile cases (bombs, hangs, SSRF, retries) live in test_hostile_web.py.
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import ssl
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from support.server import LoopbackServer, Response, serve

from extractors.errors import FetchError
from extractors.http import SafeFetcher, is_public_address
from extractors.settings import FetchSettings

BODY = "Il gruppo milanese ha acquisito la società torinese. È un'operazione da 42 milioni di €.".encode()


def settings(**overrides: object) -> FetchSettings:
    base: dict[str, object] = {
        "allow_private_addresses": True,  # the test server is on loopback
        "connect_timeout_s": 2,
        "read_timeout_s": 2,
        "total_timeout_s": 5,
        "retries": 0,
        "retry_backoff_s": 0.01,
    }
    base.update(overrides)
    return FetchSettings(**base)  # type: ignore[arg-type]


async def fetch(url: str, s: FetchSettings | None = None, **kwargs: object):
    async with SafeFetcher(s or settings()) as fetcher:
        return await fetcher.get(url, max_bytes=kwargs.pop("max_bytes", 1_000_000), **kwargs)  # type: ignore[arg-type]


def test_plain_gzip_and_deflate_bodies_arrive_decoded(web: LoopbackServer) -> None:
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = raw_deflate.compress(BODY) + raw_deflate.flush()
    routes = {
        "/plain": Response(200, BODY, {"Content-Type": "text/plain; charset=utf-8"}),
        "/gzip": Response(200, gzip.compress(BODY), {"Content-Encoding": "gzip"}),
        "/deflate": Response(200, zlib.compress(BODY), {"Content-Encoding": "deflate"}),
        "/raw-deflate": Response(200, raw, {"Content-Encoding": "deflate"}),
    }
    server = serve(web, routes)
    for path in routes:
        response = asyncio.run(fetch(server.url(path)))
        assert response.content == BODY, path
        assert response.status == 200 and not response.not_modified
    accepted = {
        headers.get("Accept-Encoding") for _, path, headers in server.requests if path != "/robots.txt"
    }
    assert accepted == {"gzip, deflate"}


def test_user_agent_and_accept_are_sent(web: LoopbackServer) -> None:
    server = serve(web, {"/a": Response(200, BODY)})
    asyncio.run(fetch(server.url("/a"), settings(user_agent="dealradar-test/9 (+x)"), accept="text/html"))
    _, _, headers = next(r for r in server.requests if r[1] == "/a")
    assert headers["User-Agent"] == "dealradar-test/9 (+x)"
    assert headers["Accept"] == "text/html"


def test_conditional_get_turns_304_into_not_modified(web: LoopbackServer) -> None:
    def feed(handler: BaseHTTPRequestHandler) -> Response:
        if handler.headers.get("If-None-Match") == '"v1"':
            return Response(304, b"", {"ETag": '"v1"'})
        return Response(200, BODY, {"ETag": '"v1"', "Last-Modified": "Tue, 12 Mar 2024 09:30:00 GMT"})

    server = serve(web, {"/feed": feed})
    first = asyncio.run(fetch(server.url("/feed")))
    assert first.etag == '"v1"' and first.last_modified == "Tue, 12 Mar 2024 09:30:00 GMT"
    second = asyncio.run(fetch(server.url("/feed"), etag=first.etag, last_modified=first.last_modified))
    assert second.not_modified and second.status == 304 and second.content == b""
    sent = [h for _, p, h in server.requests if p == "/feed"][1]
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Tue, 12 Mar 2024 09:30:00 GMT"


def test_redirects_are_followed_by_hand_and_reported(web: LoopbackServer) -> None:
    routes = {
        "/old": Response(301, b"", {"Location": "/middle"}),
        "/middle": Response(302, b"", {"Location": "/final?x=1"}),
        "/final": Response(200, BODY),
    }
    server = serve(web, routes)
    response = asyncio.run(fetch(server.url("/old")))
    assert response.content == BODY
    assert response.final_url == server.url("/final?x=1")
    assert response.redirects == [server.url("/middle"), server.url("/final?x=1")]


def test_redirect_chain_longer_than_the_limit_is_refused(web: LoopbackServer) -> None:
    routes = {f"/r{i}": Response(302, b"", {"Location": f"/r{i + 1}"}) for i in range(5)}
    routes["/r5"] = Response(200, BODY)
    server = serve(web, routes)
    with pytest.raises(FetchError) as err:
        asyncio.run(fetch(server.url("/r0"), settings(max_redirects=3)))
    assert err.value.kind == "redirect" and not err.value.transient
    assert "/r5" not in server.paths_requested()
    assert asyncio.run(fetch(server.url("/r0"), settings(max_redirects=5))).content == BODY


class InFlight:
    """A handler that holds each request for a moment and records the most seen at once."""

    def __init__(self, hold_s: float = 0.3):
        self.hold_s = hold_s
        self.current = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler) -> Response:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        time.sleep(self.hold_s)
        with self.lock:
            self.current -= 1
        return Response(200, BODY)


def test_per_host_concurrency_limit_holds_and_is_used(web: LoopbackServer) -> None:
    counter = InFlight()
    server = serve(web, {"/slow": counter})

    async def many() -> None:
        async with SafeFetcher(settings(per_host_concurrency=2)) as fetcher:
            await asyncio.gather(*(fetcher.get(server.url("/slow"), max_bytes=10_000) for _ in range(6)))

    asyncio.run(many())
    assert counter.peak == 2


def test_total_concurrency_limit_spans_hosts() -> None:
    counter = InFlight()
    with (
        LoopbackServer({"/slow": counter}) as one,
        LoopbackServer({"/slow": counter}, host="127.0.0.2") as two,
    ):

        async def many() -> None:
            async with SafeFetcher(settings(per_host_concurrency=3, total_concurrency=2)) as fetcher:
                urls = [one.url("/slow"), two.url("/slow")] * 3
                await asyncio.gather(*(fetcher.get(u, max_bytes=10_000) for u in urls))

        asyncio.run(many())
    assert counter.peak == 2


class Stamps:
    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, handler: BaseHTTPRequestHandler) -> Response:
        self.times.append(time.monotonic())
        return Response(200, BODY)


def test_robots_txt_is_fetched_once_and_honoured_for_pages_not_for_feeds(web: LoopbackServer) -> None:
    robots = Response(200, b"User-agent: *\nDisallow: /private/\n\nUser-agent: otherbot\nDisallow: /\n")
    routes = {
        "/robots.txt": robots,
        "/public/a": Response(200, BODY),
        "/public/b": Response(200, BODY),
        "/private/x": Response(200, BODY),
        "/private/feed.xml": Response(200, BODY),
    }
    server = serve(web, routes)

    async def run() -> FetchError:
        async with SafeFetcher(settings()) as fetcher:
            await fetcher.get(server.url("/public/a"), max_bytes=10_000)
            await fetcher.get(server.url("/public/b"), max_bytes=10_000)
            # a feed the user listed is fetched even where robots.txt disallows pages
            await fetcher.get(server.url("/private/feed.xml"), max_bytes=10_000, check_robots=False)
            with pytest.raises(FetchError) as err:
                await fetcher.get(server.url("/private/x"), max_bytes=10_000)
            return err.value

    error = asyncio.run(run())
    assert error.kind == "robots" and not error.transient
    paths = server.paths_requested()
    assert paths.count("/robots.txt") == 1
    assert "/private/x" not in paths and "/private/feed.xml" in paths


def test_robots_txt_wildcards_and_longest_match_are_honoured(web: LoopbackServer) -> None:
    rules = b"User-agent: *\nDisallow: /*.pdf$\nDisallow: /news\nAllow: /news/economia/\n"
    paths = ["/report.pdf", "/report.pdf?v=2", "/news/sport/1", "/news/economia/1"]
    server = serve(web, {"/robots.txt": Response(200, rules), **{p: Response(200, BODY) for p in paths}})

    async def run() -> dict[str, str]:
        outcome = {}
        async with SafeFetcher(settings()) as fetcher:
            for path in paths:
                try:
                    await fetcher.get(server.url(path), max_bytes=10_000)
                    outcome[path] = "fetched"
                except FetchError as exc:
                    outcome[path] = exc.kind
        return outcome

    assert asyncio.run(run()) == {
        "/report.pdf": "robots", "/report.pdf?v=2": "fetched", "/news/sport/1": "robots",
        "/news/economia/1": "fetched",
    }  # fmt: skip
    assert "/report.pdf" not in server.paths_requested()


def test_robots_txt_switched_off_is_not_fetched(web: LoopbackServer) -> None:
    routes = {"/robots.txt": Response(200, b"User-agent: *\nDisallow: /\n"), "/a": Response(200, BODY)}
    server = serve(web, routes)
    assert asyncio.run(fetch(server.url("/a"), settings(respect_robots_txt=False))).content == BODY
    assert server.paths_requested() == ["/a"]


def test_crawl_delay_spaces_requests_to_one_host(web: LoopbackServer) -> None:
    stamps = Stamps()
    routes = {"/robots.txt": Response(200, b"User-agent: *\nCrawl-delay: 1\n"), "/a": stamps}
    server = serve(web, routes)

    async def run() -> None:
        async with SafeFetcher(settings(per_host_concurrency=4)) as fetcher:
            await asyncio.gather(*(fetcher.get(server.url("/a"), max_bytes=10_000) for _ in range(3)))

    asyncio.run(run())
    gaps = [b - a for a, b in zip(stamps.times, stamps.times[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.9


def test_per_host_delay_setting_spaces_requests_without_robots(web: LoopbackServer) -> None:
    stamps = Stamps()
    server = serve(web, {"/a": stamps})

    async def run() -> None:
        async with SafeFetcher(settings(per_host_concurrency=4, per_host_delay_s=0.5)) as fetcher:
            await asyncio.gather(*(fetcher.get(server.url("/a"), max_bytes=10_000) for _ in range(3)))

    asyncio.run(run())
    gaps = [b - a for a, b in zip(stamps.times, stamps.times[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.45


def test_robots_txt_unreachable_defers_pages_to_the_next_run(web: LoopbackServer) -> None:
    routes = {"/robots.txt": Response(503, b"busy"), "/a": Response(200, BODY)}
    server = serve(web, routes)
    with pytest.raises(FetchError) as err:
        asyncio.run(fetch(server.url("/a")))
    assert err.value.kind == "robots" and err.value.transient
    assert "/a" not in server.paths_requested()


def test_missing_robots_txt_allows_everything() -> None:
    with LoopbackServer({"/a": Response(200, BODY)}) as server:  # /robots.txt answers 404
        assert asyncio.run(fetch(server.url("/a"))).content == BODY


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("151.101.1.140", True),
        ("2a04:4e42::81", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_address_policy(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_fetcher_outside_its_context_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        asyncio.run(SafeFetcher(settings()).get("http://127.0.0.1/", max_bytes=10))


# ------------------------------------------------------------------------------------------- TLS
# The SSRF guard connects to the address it checked, not to the host name; these prove that TLS still
# verifies the certificate against the host name (SNI and hostname check survive the pinning).


def _certificate_authority(tmp_path: Path, server_name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(client context trusting a fresh CA, server context with a certificate for `server_name`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def build(subject: str, issuer: x509.Name | None, key, signer, *, ca: bool):  # type: ignore[no-untyped-def]
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            names = x509.SubjectAlternativeName([x509.DNSName(subject)])
            builder = builder.add_extension(names, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("dealradar test CA", None, ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(server_name, ca_cert.subject, key, ca_key, ca=False)
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca_cert.public_bytes(serialization.Encoding.PEM).decode())
    return client, server


def _https(server: LoopbackServer, context: ssl.SSLContext) -> LoopbackServer:
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    return server


@pytest.mark.parametrize(("cert_name", "ok"), [("localhost", True), ("other.example", False)])
def test_https_through_the_pinned_connection_verifies_the_host_name(
    tmp_path: Path, cert_name: str, ok: bool
) -> None:
    client_ctx, server_ctx = _certificate_authority(tmp_path, cert_name)
    server = _https(LoopbackServer({"/a": Response(200, BODY)}), server_ctx)
    with server:
        url = f"https://localhost:{server.port}/a"

        async def run() -> bytes:
            async with SafeFetcher(settings(respect_robots_txt=False), ssl_context=client_ctx) as fetcher:
                return (await fetcher.get(url, max_bytes=10_000)).content

        if ok:
            assert asyncio.run(run()) == BODY
        else:
            with pytest.raises(FetchError) as err:
                asyncio.run(run())
            assert err.value.kind == "tls" and not err.value.transient
            assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)


def test_the_system_ca_store_shared_by_all_fetchers_refuses_an_unknown_authority(tmp_path: Path) -> None:
    # Every fetcher of a run shares one system CA context (loaded once): it must verify just the same
    # for the second fetcher as for the first.
    _, server_ctx = _certificate_authority(tmp_path, "localhost")
    server = _https(LoopbackServer({"/a": Response(200, BODY)}), server_ctx)
    with server:
        url = f"https://localhost:{server.port}/a"

        async def run() -> None:
            async with SafeFetcher(settings(respect_robots_txt=False)) as fetcher:
                await fetcher.get(url, max_bytes=10_000)

        for _ in range(2):
            with pytest.raises(FetchError) as err:
                asyncio.run(run())
            assert err.value.kind == "tls" and "CERTIFICATE_VERIFY_FAILED" in str(err.value)
