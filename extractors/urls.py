"""URL identity: one canonical form per article, so the same story is never stored twice.

Feeds add tracking parameters (utm_*, fbclid...) and fragments that change from feed to feed and from day
to day; the canonical URL drops them. Everything here is pure and never raises: a URL that cannot be made
canonical gives None and the caller skips it with a log line.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

# Query keys that only say where a click came from; they never change the page served.
_TRACKING_KEYS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "twclid", "ttclid",
        "mc_cid", "mc_eid", "mkt_tok", "_hsenc", "_hsmi", "hsctatracking", "_ga", "_gl",
        "ref", "ref_src", "ref_url", "referrer", "source", "cmpid", "xtor", "ncid", "sr_share", "ito",
        "wt_mc", "wt_zmc", "refresh_ce", "__twitter_impression", "spm", "s_cid", "at_medium", "at_campaign",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(raw_pair: str) -> bool:
    key = unquote_plus(raw_pair.split("=", 1)[0]).strip().lower()
    return key in _TRACKING_KEYS or key.startswith(_TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    # Work on the raw pairs so that the parameters we keep are byte-for-byte what the site wrote.
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    return "&".join(kept)


def canonical_url(url: str | None) -> str | None:
    """The article's identity: http(s) only, lower-case scheme and host, no default port, no credentials,
    no fragment, no tracking parameters (other parameters kept in order). None when not a web URL."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        if scheme not in _DEFAULT_PORTS or not host or any(c.isspace() for c in host):
            return None
        port = parts.port  # raises ValueError for a port that is not a number or out of range
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
        path = parts.path or "/"
        return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))
    except (ValueError, TypeError, UnicodeError):
        return None


def site_of(url: str | None) -> str:
    """The publisher's host without "www." ("" when the URL has no host)."""
    if not isinstance(url, str):
        return ""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except (ValueError, TypeError, UnicodeError):
        return ""
    return host.removeprefix("www.")


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def redact_url(text: str) -> str:
    """`text` with the credentials of any URL in it removed ("https://user:pw@host/" -> "https://host/"):
    URLs end up in logs and in the warehouse's error columns, passwords must not."""
    return _USERINFO.sub(r"\1", text)
