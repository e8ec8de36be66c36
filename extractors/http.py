"""The one door to the network: every feed, page and robots.txt goes through `SafeFetcher.get`.

What it guarantees, whatever the server does:
- only http/https; each redirect is followed by hand (at most `max_redirects`) and re-checked;
- SSRF: the host is resolved here and the connection goes to the very address that was checked
  (a guarded network backend under httpx), so a DNS answer cannot change between check and connect;
  loopback, private, link-local (cloud metadata), multicast, reserved and unspecified addresses are refused
  unless `allow_private_addresses`;
- time: connect and read timeouts, plus a total deadline per request, started once the host slot is ours
  (a server trickling bytes is cut; waiting politely in a host queue is not counted);
- size: the body is streamed and decompressed here in bounded steps, counted after decompression, and
  dropped as soon as it passes `max_bytes` (a 50 MB page or a gzip bomb never sits in memory);
- politeness: a global and a per-host concurrency limit, a per-host minimum delay (raised by robots.txt
  Crawl-delay), robots.txt honoured for pages (`check_robots=True`);
- retries with exponential back-off for transient failures (timeouts, connection errors, 429 with
  Retry-After, 500/502/503/504); 404, 410 and other 4xx are terminal and never retried. A transfer that
  used up its whole time budget (a server trickling bytes) or a server asking for a longer pause than a run
  gives is not retried in this run either: `FetchError.retry_later` tells the caller to try next run.
  The loop is tenacity's (`AsyncRetrying`); the policy (what is retried, how long to wait) is ours.

Errors are `FetchError(reason, transient, status)`; `kind` is a short code for logs and skip reasons.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import ipaddress
import logging
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpcore
import httpx
import tenacity
from protego import Protego

from extractors.errors import FetchError
from extractors.settings import FetchSettings
from extractors.urls import redact_url

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_ROBOTS_MAX_BYTES = 512_000
_DECODE_STEP = 64 * 1024  # most bytes inflated per step: bounds memory against decompression bombs


class BlockedAddressError(Exception):
    """Raised inside the network backend when a host resolves to an address we refuse to reach."""


class UnknownHostError(Exception):
    """The host name does not exist in DNS: terminal, retrying tonight or tomorrow will not help."""


_NO_SUCH_HOST = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)}


@dataclass
class FetchResponse:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]  # lower-case names
    content: bytes
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


# ---------------------------------------------------------------------------------------------- SSRF


def is_public_address(ip: IPAddress) -> bool:
    """True for an address on the public internet; False for anything an attacker could use to reach
    the machine itself or its private network (IPv4-mapped/6to4 IPv6 forms are unwrapped first)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
            return is_public_address(ip.ipv4_mapped)
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(embedded):
            return False
        if ip in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64: the real target is the embedded IPv4
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    refused = (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.IPv4Network("100.64.0.0/10"))
    )
    return not refused and ip.is_global


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host, checks every address, then connects to a checked address (DNS pinning).

    TLS still verifies the certificate against the URL's host name: httpcore passes the origin host as
    server_hostname to start_tls, not the address we connect to.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend, policy: AddressPolicy | None):
        self._inner = inner
        self._policy = policy  # None: every address allowed (allow_private_addresses)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        if self._policy is not None:
            refused = [a for a in addresses if not self._policy(a)]
            if refused:  # one bad answer is enough: a mixed answer is how rebinding attacks start
                raise BlockedAddressError(f"{host} resolves to a refused address ({refused[0]})")
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None):
        raise BlockedAddressError("unix sockets are never used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_HOST:
            raise UnknownHostError(f"{host} does not exist ({exc.strerror})") from exc
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc  # EAI_AGAIN & co: transient
    seen: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    if not seen:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return seen


@functools.cache
def _system_ssl_context() -> ssl.SSLContext:
    """The system CA store, loaded once per process: loading it costs ~13 ms of CPU under the GIL, and a
    run opens one fetcher per host. One context serves every connection (OpenSSL contexts are thread-safe;
    each connection gets its own SSL object) and verifies certificates and host names as before."""
    return httpx.create_ssl_context(trust_env=False)


def _pinned_transport(settings: FetchSettings, policy: AddressPolicy | None,
                      ssl_context: ssl.SSLContext | None) -> httpx.AsyncHTTPTransport:
    ssl_context = ssl_context or _system_ssl_context()
    # verify= hands over the context: without it httpx would load the CA store again for a pool
    # that is replaced just below.
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, trust_env=False)
    # httpx has no public hook for the network backend, so its pool is rebuilt around the guarded one
    # (same public httpcore constructor httpx itself uses). tests/test_hostile_web.py proves the guard
    # is on the path: a refused address never sees a single request.
    limits = httpx.Limits(max_connections=settings.total_concurrency, max_keepalive_connections=20)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(httpcore.AnyIOBackend(), policy),
    )
    return transport


# ------------------------------------------------------------------------------------------- decoding


class _Inflater:
    """Streams gzip/deflate/identity bodies, never producing more than `_DECODE_STEP` bytes at a time."""

    def __init__(self, encoding: str):
        encoding = encoding.strip().lower()
        # "deflate" is meant as zlib-wrapped, but some servers send raw deflate: tried on the first error.
        self._raw_fallback = encoding == "deflate"
        self._first = True
        if encoding in ("", "identity"):
            self._obj = None
        elif encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._obj = zlib.decompressobj()
        else:
            raise FetchError(f"unsupported content-encoding {encoding!r}", False, kind="encoding")

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The inflated form of `data`, in bounded pieces, so the caller can stop before the next one."""
        if self._obj is None:
            yield data
            return
        try:
            yield self._obj.decompress(data, _DECODE_STEP)
        except zlib.error:
            if not (self._first and self._raw_fallback):
                raise
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            yield self._obj.decompress(data, _DECODE_STEP)
        self._first = False
        while self._obj.unconsumed_tail:
            yield self._obj.decompress(self._obj.unconsumed_tail, _DECODE_STEP)


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    encoding = response.headers.get("content-encoding", "")
    if "," in encoding:
        raise FetchError(f"stacked content-encodings {encoding!r} refused", False, kind="encoding")
    inflater = _Inflater(encoding)
    declared = response.headers.get("content-length", "")
    if not encoding.strip() and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"body of {declared} bytes exceeds the cap of {max_bytes}", False, kind="too_large")
    body = bytearray()
    try:
        async for raw in response.aiter_raw():
            for piece in inflater.pieces(raw):
                if len(body) + len(piece) > max_bytes:
                    raise FetchError(f"body exceeds the cap of {max_bytes} bytes", False, kind="too_large")
                body += piece
    except zlib.error as exc:
        raise FetchError(f"corrupt {encoding} body: {exc}", False, kind="encoding") from exc
    return bytes(body)


# ------------------------------------------------------------------------------------------- helpers


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _worth_retrying_now(exc: BaseException) -> bool:
    return isinstance(exc, FetchError) and exc.transient and not exc.retry_later


def _log_retry(url: str, state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    log.info("retrying %s in %.1fs after: %s", url, delay, exc)


def _check_scheme(url: httpx.URL) -> None:
    if url.scheme not in ("http", "https"):
        scheme = url.scheme or "(none)"
        raise FetchError(f"scheme {scheme!r} refused: only http and https", False, kind="scheme")
    if not url.host:
        raise FetchError("URL has no host", False, kind="invalid_url")


def _parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"invalid URL: {exc}", False, kind="invalid_url") from exc
    _check_scheme(parsed)
    return parsed


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


@dataclass
class _Host:
    """Politeness state of one host: its semaphore, its minimum delay and when it was last hit."""

    semaphore: asyncio.Semaphore
    delay_s: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_request: float = 0.0


class SafeFetcher:
    """Async context manager over one httpx.AsyncClient; see the module docstring for its guarantees.

    `address_policy` decides which resolved addresses may be reached; the default refuses every
    non-public address. Tests pass a policy that also admits one extra loopback address, so that a
    "public" origin can be simulated without weakening the default. `ssl_context` replaces the system
    CA store (tests use it to trust their own certificate authority).

    One fetcher belongs to one event loop (its client, semaphores and robots cache live there): create
    it inside the coroutine that uses it, e.g. one per `asyncio.run`.
    """

    def __init__(self, settings: FetchSettings, *, address_policy: AddressPolicy | None = None,
                 ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        self._ssl_context = ssl_context  # None: the system's CA store (tests pass one trusting their own CA)
        if settings.allow_private_addresses:
            self._policy: AddressPolicy | None = None
        else:
            self._policy = address_policy or is_public_address
        self._client: httpx.AsyncClient | None = None
        self._global: asyncio.Semaphore | None = None
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, Protego | FetchError] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> SafeFetcher:
        s = self.settings
        timeout = httpx.Timeout(connect=s.connect_timeout_s, read=s.read_timeout_s,
                                write=s.read_timeout_s, pool=s.total_timeout_s)
        self._client = httpx.AsyncClient(
            transport=_pinned_transport(s, self._policy, self._ssl_context),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the SSRF guard must see the real target
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._global = asyncio.Semaphore(s.total_concurrency)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- public ---------------------------------------------------------------------------------------

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        check_robots: bool = True,
    ) -> FetchResponse:
        """GET `url` within every limit; retries transient failures with back-off. Raises FetchError.

        `check_robots=False` is for feeds the user listed in config.yaml (they asked for them by name);
        article pages are always checked against robots.txt when `respect_robots_txt` is on.
        """
        if self._client is None:
            raise RuntimeError("SafeFetcher must be used as 'async with SafeFetcher(settings) as f'")
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(1 + self.settings.retries),
            retry=tenacity.retry_if_exception(_worth_retrying_now),
            wait=self._retry_delay,
            before_sleep=functools.partial(_log_retry, redact_url(url)),
            reraise=True,  # the caller sees the last FetchError itself, not tenacity's RetryError
        )
        return await retrying(self._follow, url, max_bytes, etag, last_modified, accept, check_robots)

    # -- retries --------------------------------------------------------------------------------------

    def _retry_delay(self, state: tenacity.RetryCallState) -> float:
        """Exponential back-off from `retry_backoff_s`; a server's Retry-After wins when it is longer."""
        backoff = self.settings.retry_backoff_s * (2 ** (state.attempt_number - 1))
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        return max(retry_after or 0.0, backoff)

    # -- one attempt: a chain of redirects, each hop checked and within its own deadline ----------------

    async def _follow(self, url: str, max_bytes: int, etag: str | None, last_modified: str | None,
                      accept: str | None, check_robots: bool) -> FetchResponse:
        current = _parse_url(url)
        hops: list[str] = []
        headers = {"Accept": accept} if accept else {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        while True:
            if check_robots and self.settings.respect_robots_txt:
                await self._check_robots(current)
            async with self._slot(current):
                # The deadline starts once the slot is ours: waiting politely in a host's queue
                # (Crawl-delay, per-host limit) is not the server being slow.
                status, resp_headers, body = await self._request_within_deadline(current, headers, max_bytes)
            if status in _REDIRECT_STATUSES:
                current = self._next_hop(current, resp_headers, hops, url)
                continue
            return self._finish(url, current, status, resp_headers, body, hops)

    async def _request_within_deadline(self, url: httpx.URL, headers: dict[str, str],
                                       max_bytes: int) -> tuple[int, dict[str, str], bytes]:
        try:
            async with asyncio.timeout(self.settings.total_timeout_s):
                return await self._request_once(url, headers, max_bytes)
        except TimeoutError as exc:
            # A server that kept us the whole budget (trickling bytes) would keep us as long again: trying
            # it twice more tripled the night's longest wait. The next run tries it once more.
            raise FetchError(f"no complete answer within {self.settings.total_timeout_s}s from {url}", True,
                             kind="time_budget", retry_later=True) from exc

    def _next_hop(self, current: httpx.URL, headers: dict[str, str], hops: list[str],
                  start: str) -> httpx.URL:
        location = headers.get("location")
        if not location:
            raise FetchError("redirect without a Location header", False, kind="redirect")
        try:
            target = current.join(location.strip())
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"bad redirect target {location!r}", False, kind="redirect") from exc
        _check_scheme(target)
        hops.append(str(target))
        if len(hops) > self.settings.max_redirects:
            raise FetchError(f"more than {self.settings.max_redirects} redirects from {start}", False,
                             kind="redirect")
        return target

    def _finish(self, url: str, final: httpx.URL, status: int, headers: dict[str, str], body: bytes,
                hops: list[str]) -> FetchResponse:
        if status == 304:
            return FetchResponse(url, str(final), status, headers, b"", not_modified=True, redirects=hops)
        if 200 <= status < 300:
            return FetchResponse(url, str(final), status, headers, body, redirects=hops)
        retry_after = _parse_retry_after(headers.get("retry-after")) if status in (429, 503) else None
        # A server asking for a longer pause than a run can give: the next run asks again.
        too_long = retry_after is not None and retry_after > self.settings.max_retry_after_s
        raise FetchError(f"HTTP {status} from {final}", status in _TRANSIENT_STATUSES, status,
                         kind="http_status", retry_after=retry_after, retry_later=too_long)

    async def _request_once(self, url: httpx.URL, headers: dict[str, str],
                            max_bytes: int) -> tuple[int, dict[str, str], bytes]:
        assert self._client is not None
        try:
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                resp_headers = {k.lower(): v for k, v in response.headers.items()}
                status = response.status_code
                if status in _REDIRECT_STATUSES or status == 304 or not 200 <= status < 300:
                    body = b""  # never read error or redirect bodies: they can be as hostile as any other
                else:
                    body = await _read_capped(response, max_bytes)
            finally:
                await response.aclose()
        except BlockedAddressError as exc:
            raise FetchError(f"refused: {exc}", False, kind="blocked_address") from exc
        except UnknownHostError as exc:
            raise FetchError(str(exc), False, kind="dns") from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__}) on {url}", True, kind="timeout") from exc
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):  # a wrong certificate will be as wrong tomorrow
                raise FetchError(f"TLS certificate refused for {url}: {exc}", False, kind="tls") from exc
            raise FetchError(f"connection failed on {url}: {exc or type(exc).__name__}", True,
                             kind="connect") from exc
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
            raise FetchError(f"connection failed on {url}: {exc or type(exc).__name__}", True,
                             kind="connect") from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError) as exc:
            raise FetchError(f"cannot request {url}: {exc}", False, kind="invalid_url") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"HTTP error on {url}: {exc or type(exc).__name__}", True,
                             kind="connect") from exc
        return status, resp_headers, body

    # -- politeness -----------------------------------------------------------------------------------

    def _host(self, url: httpx.URL) -> _Host:
        key = url.host  # politeness is per machine: http and https of one host share the limits
        host = self._hosts.get(key)
        if host is None:
            semaphore = asyncio.Semaphore(self.settings.per_host_concurrency)
            host = _Host(semaphore, self.settings.per_host_delay_s)
            self._hosts[key] = host
        return host

    @contextlib.asynccontextmanager
    async def _slot(self, url: httpx.URL) -> AsyncIterator[None]:
        host = self._host(url)
        assert self._global is not None
        async with host.semaphore:
            if host.delay_s > 0:
                async with host.lock:  # serialise the spacing so two tasks cannot start together
                    wait = host.last_request + host.delay_s - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    host.last_request = time.monotonic()
            async with self._global:
                yield

    async def _check_robots(self, url: httpx.URL) -> None:
        rules = await self._robots_for(url)
        if isinstance(rules, FetchError):
            raise rules
        if not rules.can_fetch(str(url), self.settings.user_agent):
            raise FetchError(f"robots.txt disallows {url}", False, kind="robots")

    async def _robots_for(self, url: httpx.URL) -> Protego | FetchError:
        origin = _origin(url)
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:  # one fetch of robots.txt per host, however many pages wait for it
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(url)
            return self._robots[origin]

    async def _load_robots(self, url: httpx.URL) -> Protego | FetchError:
        """RFC 9309: a missing robots.txt (4xx) allows everything; an unreachable one (5xx, network)
        disallows everything for this run, as a transient error so the pages are tried again next run.
        Parsed by protego: wildcards, "$" and longest-match precedence, which urllib.robotparser lacks
        (it read 5 of 9 wildcard rules right, protego 9: benchmarks/libraries.py)."""
        robots_url = str(url.copy_with(path="/robots.txt", query=None, fragment=None))
        try:
            response = await self._follow(robots_url, _ROBOTS_MAX_BYTES, None, None, None, False)
            parser = Protego.parse(response.content.decode("utf-8", "replace"))
        except FetchError as exc:
            if exc.transient:
                return FetchError(f"robots.txt of {_origin(url)} unreachable: {exc}", True, exc.status,
                                  kind="robots")
            parser = Protego.parse("")  # 404/410/other 4xx, too large, bad redirect: no rules, all allowed
        delay = parser.crawl_delay(self.settings.user_agent)
        if delay:
            host = self._host(url)
            host.delay_s = max(host.delay_s, min(float(delay), self.settings.max_retry_after_s))
        return parser
